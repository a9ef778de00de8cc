"""The Right Care, Right Person engine on its own: every rule, their order, scope, unanswered
questions, rule-set checking, the public scenarios, and properties over any valid input."""

import builtins
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.rcrp import (
    CALLER_TYPES,
    CATEGORIES,
    CONTEXT_FLAGS,
    DEFAULT_RULE_SET_NAME,
    LOCATION_KINDS,
    OUTCOMES,
    POLICE_OUTCOMES,
    RESPONDERS,
    RISK_FLAGS,
    SOURCES,
    Case,
    Decision,
    RuleSet,
    Scope,
    caller_advice,
    caller_type,
    decide,
    list_rule_sets,
    load_rule_set,
    parse_rule_set,
)
from app.rcrp.rule_set import (
    ATTENDANCE_OPENINGS,
    MODIFIER_RULE_IDS,
    PRIMARY_RULE_IDS,
    RULE_SETS_DIR,
    read_rule_set,
)
from tests.factories import scenarios_path

SCENARIOS = scenarios_path()
RULES = load_rule_set()
RULES_VERSION = "default@2026-12-02"


def default_data() -> dict[str, Any]:
    return json.loads((RULE_SETS_DIR / "default.json").read_text(encoding="utf-8"))


MH_CATEGORIES = (
    "mental_health_crisis",
    "concern_for_welfare",
    "walkout_from_health_setting",
    "awol_detained_patient",
    "s136_handover",
)


def make_case(
    *risk_true: str,
    source: str = "police_101",
    category: str = "other",
    location_kind: str | None = "public_place",
    age: int | None = 40,
    context: tuple[str, ...] = (),
) -> Case:
    """A case with every question answered: the named flags true, the rest false."""
    return Case(
        source=source,
        category=category,
        location_kind=location_kind,
        age=age,
        risk={name: name in risk_true for name in RISK_FLAGS},
        context={name: name in context for name in CONTEXT_FLAGS},
    )


def rules_of(decision: Decision) -> list[str]:
    return [reason.rule for reason in decision.reasons]


def route(case: Case, scope: Scope | None = None) -> Decision:
    return decide(case, RULES, scope or Scope())


# --- primary rules: each fires when it should ----------------------------------------------

FIRES = [
    ("T1", make_case("crime_in_progress"), "police_immediate", ["police"]),
    ("T1", make_case("weapon"), "police_immediate", ["police"]),
    ("T1", make_case("violence_to_others"), "police_immediate", ["police"]),
    ("T2", make_case("immediate_risk_to_life"), "police_and_triage", ["police", "triage_car"]),
    ("T2", make_case("serious_harm"), "police_and_triage", ["police", "triage_car"]),
    (
        "T2",
        make_case("serious_harm", "medical_emergency"),
        "police_and_triage",
        ["police", "triage_car", "ambulance"],
    ),
    ("T3", make_case("medical_emergency"), "ambulance", ["ambulance"]),
    ("T4", make_case("crime_committed"), "police_investigation", ["police"]),
    (
        "T5",
        make_case(category="walkout_from_health_setting"),
        "health_referral",
        ["health_provider"],
    ),
    ("T5", make_case(category="awol_detained_patient"), "health_referral", ["health_provider"]),
    ("T6", make_case(category="transport_request"), "ambulance", ["ambulance"]),
    ("T7", make_case(category="s136_handover"), "health_referral", ["health_provider"]),
    (
        "T8",
        make_case(source="officer_on_scene", category="mental_health_crisis"),
        "nurse_advice",
        ["mh_nurse"],
    ),
    ("T8", make_case("suicidal", source="officer_on_scene"), "nurse_advice", ["mh_nurse"]),
    ("T9", make_case(category="mental_health_crisis"), "triage_car", ["triage_car"]),
    ("T9", make_case("self_harm"), "triage_car", ["triage_car"]),
    ("T9", make_case("suicidal", category="concern_for_welfare"), "triage_car", ["triage_car"]),
    # T10: the person's own care team when they have one, otherwise NHS 111's mental health option.
    ("T10", make_case(category="concern_for_welfare"), "health_referral", ["nhs_111"]),
    (
        "T10",
        make_case(context=("known_to_mh_services",)),
        "health_referral",
        ["health_provider"],
    ),
    (
        "T10",
        make_case(category="concern_for_welfare", context=("crisis_plan",)),
        "health_referral",
        ["health_provider"],
    ),
    ("T11", make_case(), "no_police_action", []),
    ("T11", make_case("intoxicated", source="police_999"), "no_police_action", []),
]


@pytest.mark.parametrize(("rule", "case", "outcome", "responders"), FIRES)
def test_primary_rule_fires(rule: str, case: Case, outcome: str, responders: list[str]) -> None:
    decision = route(case)
    assert rules_of(decision)[0] == rule
    assert decision.outcome == outcome
    assert decision.police_attendance is (outcome in POLICE_OUTCOMES)
    assert list(decision.responders) == responders


def test_out_of_scope_category_fires_t0() -> None:
    scope = Scope(categories=frozenset({"concern_for_welfare"}))
    decision = route(make_case(category="mental_health_crisis"), scope)
    assert rules_of(decision) == ["T0"]
    assert decision.outcome == "police_standard"
    assert decision.police_attendance is True
    assert decision.responders == ("police",)


def test_age_below_min_age_fires_t0() -> None:
    decision = route(make_case(category="mental_health_crisis", age=16), Scope(min_age=18))
    assert rules_of(decision)[0] == "T0"
    assert decision.outcome == "police_standard"


# --- primary rules: and not otherwise -------------------------------------------------------

DOES_NOT_FIRE = [
    # (rule that must not fire, case, the rule that decides instead)
    ("T1", make_case("crime_committed"), "T4"),
    ("T2", make_case("self_harm"), "T9"),
    ("T3", make_case("intoxicated"), "T11"),
    ("T4", make_case(), "T11"),
    ("T5", make_case(category="concern_for_welfare"), "T10"),
    ("T6", make_case(category="medical"), "T11"),
    ("T7", make_case(category="mental_health_crisis"), "T9"),
    # An officer on scene with no mental-health element: not a nurse-advice call.
    ("T8", make_case(source="officer_on_scene"), "T11"),
    ("T8", make_case(source="police_999", category="mental_health_crisis"), "T9"),
    # Concern for welfare is mh, but not urgent without self-harm, suicidality or crisis.
    ("T9", make_case(category="concern_for_welfare"), "T10"),
    # A crisis plan alone is not a mental-health element (the spec's `mh` leaves it out).
    ("T10", make_case(context=("crisis_plan",)), "T11"),
    ("T10", make_case("intoxicated"), "T11"),
    ("T11", make_case(category="concern_for_welfare"), "T10"),
]


@pytest.mark.parametrize(("rule", "case", "instead"), DOES_NOT_FIRE)
def test_primary_rule_does_not_fire(rule: str, case: Case, instead: str) -> None:
    decided = rules_of(route(case))
    assert rule not in decided
    assert decided[0] == instead


def test_t0_does_not_fire_in_scope() -> None:
    scope = Scope(categories=frozenset({"mental_health_crisis"}), min_age=18)
    decision = route(make_case(category="mental_health_crisis", age=18), scope)
    assert rules_of(decision)[0] == "T9"


# --- order: the first matching primary rule decides -----------------------------------------

OUT_OF_SCOPE = Scope(categories=frozenset({"concern_for_welfare"}))

ORDER = [
    # (winner, loser, case, scope)
    ("T1", "T2", make_case("weapon", "immediate_risk_to_life"), Scope()),
    ("T1", "T0", make_case("violence_to_others"), OUT_OF_SCOPE),
    ("T2", "T0", make_case("serious_harm"), OUT_OF_SCOPE),
    ("T0", "T3", make_case("medical_emergency"), OUT_OF_SCOPE),
    ("T3", "T4", make_case("medical_emergency", "crime_committed"), Scope()),
    ("T4", "T5", make_case("crime_committed", category="walkout_from_health_setting"), Scope()),
    ("T5", "T8", make_case(source="officer_on_scene", category="awol_detained_patient"), Scope()),
    (
        "T6",
        "T8",
        make_case("self_harm", source="officer_on_scene", category="transport_request"),
        Scope(),
    ),
    ("T5", "T9", make_case("self_harm", category="walkout_from_health_setting"), Scope()),
    ("T6", "T9", make_case("suicidal", category="transport_request"), Scope()),
    ("T7", "T8", make_case(source="officer_on_scene", category="s136_handover"), Scope()),
    ("T7", "T9", make_case("suicidal", category="s136_handover"), Scope()),
    ("T8", "T9", make_case("suicidal", source="officer_on_scene"), Scope()),
    ("T9", "T10", make_case("self_harm", context=("known_to_mh_services",)), Scope()),
    ("T10", "T11", make_case(context=("known_to_mh_services",)), Scope()),
]


@pytest.mark.parametrize(("winner", "loser", "case", "scope"), ORDER)
def test_rule_order(winner: str, loser: str, case: Case, scope: Scope) -> None:
    decided = rules_of(route(case, scope))
    assert decided[0] == winner
    assert loser not in decided


def test_default_rule_order_is_the_spec_order() -> None:
    assert [rule.id for rule in RULES.rules] == list(PRIMARY_RULE_IDS)
    assert [modifier.id for modifier in RULES.modifiers] == list(MODIFIER_RULE_IDS)


# --- modifiers ------------------------------------------------------------------------------


@pytest.mark.parametrize(("age", "fires"), [(0, True), (17, True), (18, False), (None, False)])
def test_m1_under_18(age: int | None, fires: bool) -> None:
    decision = route(make_case("self_harm", age=age))
    assert ("M1" in rules_of(decision)) is fires
    assert ("under_18" in decision.flags) is fires
    assert decision.outcome == "triage_car"  # modifiers never change the outcome
    if fires:
        text = decision.reasons[rules_of(decision).index("M1")].text
        assert "CAMHS" in text
        assert "custody is never a place of safety" in text


@pytest.mark.parametrize(
    ("context", "fires"),
    [(("known_to_mh_services",), True), (("crisis_plan",), True), ((), False)],
)
def test_m2_share_crisis_plan(context: tuple[str, ...], fires: bool) -> None:
    decision = route(make_case(context=context))
    assert ("M2" in rules_of(decision)) is fires
    assert ("share_crisis_plan" in decision.flags) is fires


@pytest.mark.parametrize(
    ("case", "fires"),
    [
        (make_case("intoxicated", "suicidal"), True),
        (make_case("intoxicated", category="concern_for_welfare"), True),
        (make_case("intoxicated"), False),  # no mental-health element
        (make_case("suicidal"), False),  # not intoxicated
    ],
)
def test_m3_intoxication_no_bar(case: Case, fires: bool) -> None:
    assert ("M3" in rules_of(route(case))) is fires


@pytest.mark.parametrize(
    ("case", "fires"),
    [
        (make_case(category="concern_for_welfare", location_kind="private_dwelling"), True),
        (make_case(location_kind="private_dwelling"), True),  # no_police_action is not police
        (
            make_case(
                source="officer_on_scene",
                category="mental_health_crisis",
                location_kind="private_dwelling",
            ),
            True,  # nurse_advice: police are there, but the outcome is not a police one
        ),
        (make_case("weapon", location_kind="private_dwelling"), False),
        (make_case("crime_committed", location_kind="private_dwelling"), False),
        (make_case(category="concern_for_welfare", location_kind="public_place"), False),
        (make_case(category="concern_for_welfare", location_kind=None), False),
    ],
)
def test_m4_private_dwelling(case: Case, fires: bool) -> None:
    assert ("M4" in rules_of(route(case))) is fires


def test_m4_not_for_police_standard() -> None:
    case = make_case(category="mental_health_crisis", location_kind="private_dwelling")
    assert rules_of(route(case, OUT_OF_SCOPE)) == ["T0"]


@pytest.mark.parametrize(
    ("case", "scope", "fires", "responders"),
    [
        (make_case("weapon", "suicidal"), Scope(), True, ["police", "mh_nurse"]),
        (
            make_case("crime_committed", context=("known_to_mh_services",)),
            Scope(),
            True,
            ["police", "health_provider"],
        ),
        (make_case("weapon"), Scope(), False, ["police"]),  # no mental-health element
        (make_case("crime_committed"), Scope(), False, ["police"]),
        # police_and_triage and police_standard already carry their own response.
        (make_case("serious_harm", "suicidal"), Scope(), False, ["police", "triage_car"]),
        (make_case("suicidal"), OUT_OF_SCOPE, False, ["police"]),
    ],
)
def test_m5_health_support_for_police(
    case: Case, scope: Scope, fires: bool, responders: list[str]
) -> None:
    decision = route(case, scope)
    assert ("M5" in rules_of(decision)) is fires
    assert list(decision.responders) == responders


def test_modifiers_fire_in_order_after_the_primary_rule() -> None:
    case = make_case(
        "intoxicated",
        "suicidal",
        category="concern_for_welfare",
        location_kind="private_dwelling",
        age=16,
        context=("crisis_plan",),
    )
    decision = route(case)
    assert rules_of(decision) == ["T9", "M1", "M2", "M3", "M4"]
    assert decision.flags == ("under_18", "share_crisis_plan")


def test_contract_example_decision() -> None:
    case = Case(
        source="police_999",
        category="concern_for_welfare",
        location_kind="public_place",
        age=34,
        risk={name: name in ("immediate_risk_to_life", "suicidal") for name in RISK_FLAGS},
        context={name: name == "known_to_mh_services" for name in CONTEXT_FLAGS},
    )
    assert route(case).as_dict() == {
        "outcome": "police_and_triage",
        "police_attendance": True,
        "responders": ["police", "triage_car"],
        "reasons": [
            {
                "rule": "T2",
                "text": "Real and immediate risk to life: police attend with the street triage "
                "car.",
            },
            {
                "rule": "M2",
                "text": "Known to mental health services: share need-to-know information and any "
                "crisis plan with responders.",
            },
        ],
        "flags": ["share_crisis_plan"],
        "caller_advice": "Police are on their way with the street triage team.",
        "unanswered": [],
        "rules_version": RULES_VERSION,
    }


def test_as_dict_is_json_ready() -> None:
    decision = route(make_case("weapon", "suicidal", age=None))
    assert json.loads(json.dumps(decision.as_dict())) == decision.as_dict()


# --- caller advice: by outcome and by who is calling ------------------------------------------

# (source, caller_is_health_professional) -> the caller type it stands for.
CALLERS = [
    ("police_999", False, "public"),
    ("police_999", None, "public"),  # not asked: the public's advice, which suits anyone
    ("police_101", False, "public"),
    ("police_999", True, "health_professional"),
    ("police_101", True, "health_professional"),
    ("nhs_111", True, "nhs_111"),
    ("nhs_111", False, "nhs_111"),  # a 111 health adviser: still 111's own pathway
    ("ambulance_999", True, "ambulance_service"),
    ("ambulance_999", None, "ambulance_service"),
    ("health_setting", True, "health_setting"),
    ("health_setting", False, "health_setting"),
    ("officer_on_scene", False, "officer_on_scene"),
    ("officer_on_scene", True, "officer_on_scene"),
]
SOURCE_OF_CALLER = {
    "public": ("police_999", False),
    "health_professional": ("police_101", True),
    "nhs_111": ("nhs_111", True),
    "ambulance_service": ("ambulance_999", True),
    "health_setting": ("health_setting", True),
    "officer_on_scene": ("officer_on_scene", False),
}


@pytest.mark.parametrize(("source", "professional", "expected"), CALLERS)
def test_caller_type_from_source_and_professional_flag(
    source: str, professional: bool | None, expected: str
) -> None:
    assert caller_type(source, professional) == expected


def test_every_caller_type_is_reachable() -> None:
    assert {expected for _, _, expected in CALLERS} == set(CALLER_TYPES)


def _own_sentences() -> list[Any]:
    return [
        pytest.param(outcome, caller, sentence, id=f"{outcome}-{caller}")
        for outcome, by_caller in default_data()["caller_advice"].items()
        for caller, sentence in by_caller.items()
        if caller != "default"
    ]


@pytest.mark.parametrize(("outcome", "caller", "sentence"), _own_sentences())
def test_each_caller_type_gets_its_own_sentence(outcome: str, caller: str, sentence: str) -> None:
    source, professional = SOURCE_OF_CALLER[caller]
    said = caller_advice(RULES, outcome, source=source, caller_is_health_professional=professional)
    assert said == sentence
    # Its own sentence, not the default said again under another name.
    assert said != RULES.caller_advice[outcome]["default"]


# The finding, outcome by outcome: what each caller must (and must not) be told.
WORDING = [
    # A member of the public with no police response is pointed to NHS 111's mental health option.
    ("health_referral", "public", ["call NHS 111 and choose the mental health option"], []),
    (
        "health_referral",
        "nhs_111",
        ["NHS 111 mental health pathway continues to lead", "crisis team or care team"],
        ["call NHS 111"],
    ),
    (
        "health_referral",
        "health_setting",
        ["the setting leads under its own procedures", "its own searches and contact attempts"],
        ["call NHS 111"],
    ),
    ("health_referral", "ambulance_service", ["crisis team or care team"], ["call NHS 111"]),
    ("health_referral", "health_professional", ["refer the person"], ["call NHS 111"]),
    ("health_referral", "officer_on_scene", ["health staff take responsibility"], []),
    ("nurse_advice", "officer_on_scene", ["speak with you now", "section 136"], []),
    ("nurse_advice", "public", ["call you back"], []),
    ("ambulance", "ambulance_service", ["stays with your service"], ["asking the ambulance"]),
    ("ambulance", "health_setting", ["conveyance of a patient is a health responsibility"], []),
    ("police_immediate", "officer_on_scene", ["Further police are on their way"], []),
]


@pytest.mark.parametrize(("outcome", "caller", "must", "must_not"), WORDING)
def test_caller_advice_wording(
    outcome: str, caller: str, must: list[str], must_not: list[str]
) -> None:
    source, professional = SOURCE_OF_CALLER[caller]
    said = caller_advice(RULES, outcome, source=source, caller_is_health_professional=professional)
    for words in must:
        assert words in said
    for words in must_not:
        assert words not in said


@pytest.mark.parametrize(
    ("source", "professional", "words"),
    [
        ("police_999", False, "call NHS 111 and choose the mental health option"),
        ("nhs_111", True, "NHS 111 mental health pathway continues to lead"),
        ("health_setting", True, "the setting leads under its own procedures"),
    ],
)
def test_decision_advice_depends_on_who_is_calling(
    source: str, professional: bool, words: str
) -> None:
    context = ("caller_is_health_professional",) if professional else ()
    decision = route(
        make_case(source=source, category="walkout_from_health_setting", context=context)
    )
    assert decision.outcome == "health_referral"  # who calls never changes the outcome
    assert words in decision.caller_advice


def test_caller_advice_for_an_outcome_the_rules_did_not_give() -> None:
    # An override to no_police_action on a police 999 call: the sentence of the new outcome.
    said = caller_advice(
        RULES, "no_police_action", source="police_999", caller_is_health_professional=False
    )
    assert said.startswith("Police will not attend")
    assert "on their way" not in said


@pytest.mark.parametrize(
    ("outcome", "source"), [("helicopter", "police_999"), ("ambulance", "pigeon")]
)
def test_caller_advice_refuses_unknown_outcome_or_source(outcome: str, source: str) -> None:
    with pytest.raises(ValueError, match="unknown"):
        caller_advice(RULES, outcome, source=source, caller_is_health_professional=False)


def test_caller_types_left_out_get_the_outcomes_default() -> None:
    data = default_data()
    data["name"] = "local"
    data["caller_advice"]["health_referral"] = {"default": "Police will not attend; local words."}
    local = parse_rule_set(data)
    for source, professional, _ in CALLERS:
        said = caller_advice(
            local, "health_referral", source=source, caller_is_health_professional=professional
        )
        assert said == "Police will not attend; local words."


def test_every_outcome_and_caller_gets_a_sentence_that_says_whether_police_attend() -> None:
    for outcome in OUTCOMES:
        for source in SOURCES:
            for professional in (True, False, None):
                said = caller_advice(
                    RULES, outcome, source=source, caller_is_health_professional=professional
                )
                assert said.strip()
                police_attend = outcome in POLICE_OUTCOMES
                assert said.startswith(ATTENDANCE_OPENINGS[police_attend]), (outcome, source)
                assert not said.startswith(ATTENDANCE_OPENINGS[not police_attend])


@given(
    st.sampled_from(OUTCOMES),
    st.sampled_from(SOURCES),
    st.sampled_from([True, False, None]),
)
def test_any_caller_is_told_whether_police_attend(
    outcome: str, source: str, professional: bool | None
) -> None:
    said = caller_advice(RULES, outcome, source=source, caller_is_health_professional=professional)
    assert said.strip()
    if outcome in POLICE_OUTCOMES:
        assert said.startswith(("Police are on their way", "Further police", "Police will attend"))
        assert "not attend" not in said and "No further police" not in said
    else:
        assert said.startswith(("Police will not attend", "No further police will be sent"))


def test_every_sentence_is_listed_in_the_docs() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "rcrp.md").read_text(encoding="utf-8")
    for by_caller in default_data()["caller_advice"].values():
        for sentence in by_caller.values():
            assert sentence in docs


# --- unanswered questions -------------------------------------------------------------------


def test_nothing_asked_lists_every_question_in_order() -> None:
    case = Case(
        source="police_101", category="other", location_kind=None, age=None, risk={}, context={}
    )
    decision = route(case)
    assert decision.unanswered == tuple(
        [f"risk.{name}" for name in RISK_FLAGS] + [f"context.{name}" for name in CONTEXT_FLAGS]
    )
    assert decision.outcome == "no_police_action"


def test_unanswered_routes_as_false_and_is_listed() -> None:
    risk: dict[str, bool | None] = {name: False for name in RISK_FLAGS}
    risk.update(weapon=None, immediate_risk_to_life=True)
    del risk["suicidal"]
    context: dict[str, bool | None] = {name: False for name in CONTEXT_FLAGS}
    context["crisis_plan"] = None
    case = Case(
        source="police_999",
        category="mental_health_crisis",
        location_kind=None,
        age=None,
        risk=risk,
        context=context,
    )
    decision = route(case)
    assert decision.outcome == "police_and_triage"
    assert decision.unanswered == ("risk.weapon", "risk.suicidal", "context.crisis_plan")
    assert "M2" not in rules_of(decision)


@pytest.mark.parametrize(
    ("risk", "message"),
    [({"wepon": True}, "unknown risk flag"), ({"weapon": "yes"}, "true, false or null")],
)
def test_case_refuses_misspelt_or_non_boolean_flags(risk: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Case(
            source="police_999",
            category="other",
            location_kind=None,
            age=None,
            risk=risk,
            context={},
        )


def test_case_cannot_change_after_creation() -> None:
    risk = {"weapon": False}
    case = Case(
        source="police_999", category="other", location_kind=None, age=None, risk=risk, context={}
    )
    risk["weapon"] = True
    assert case.risk["weapon"] is False
    with pytest.raises(TypeError):
        case.risk["weapon"] = True  # type: ignore[index]


# --- scope ----------------------------------------------------------------------------------


def test_every_category_in_scope_by_default() -> None:
    for category in CATEGORIES:
        assert rules_of(route(make_case(category=category, age=0)))[0] != "T0"


def test_unknown_age_is_not_out_of_scope() -> None:
    decision = route(make_case(category="mental_health_crisis", age=None), Scope(min_age=18))
    assert decision.outcome == "triage_car"


def test_category_in_scope_but_age_below_is_out_of_scope() -> None:
    scope = Scope(categories=frozenset({"mental_health_crisis"}), min_age=18)
    assert route(make_case(category="mental_health_crisis", age=17), scope).outcome == (
        "police_standard"
    )


def test_threshold_stands_out_of_scope() -> None:
    scope = Scope(categories=frozenset(), min_age=99)
    assert route(make_case("weapon", age=10), scope).outcome == "police_immediate"
    assert route(make_case("serious_harm", age=10), scope).outcome == "police_and_triage"


# --- the public scenarios -------------------------------------------------------------------


def _scenarios() -> list[Any]:
    if not SCENARIOS.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{SCENARIOS} not found"))]
    lines = SCENARIOS.read_text(encoding="utf-8").splitlines()
    scenarios = [json.loads(line) for line in lines if line.strip()]
    return [pytest.param(scenario, id=scenario["name"]) for scenario in scenarios]


@pytest.mark.parametrize("scenario", _scenarios())
def test_public_scenario(scenario: dict[str, Any]) -> None:
    incident, expect = scenario["incident"], scenario["expect"]
    case = Case(
        source=incident["source"],
        category=incident["category"],
        location_kind=incident["location"]["kind"],
        age=incident["person"]["age"],
        risk=incident["risk"],
        context=incident["context"],
    )
    decision = route(case)
    assert decision.outcome == expect["outcome"]
    assert decision.police_attendance is expect["police_attendance"]
    assert set(expect["responders_include"]) <= set(decision.responders)
    assert set(expect["flags_include"]) <= set(decision.flags)
    assert set(expect["rules_include"]) <= set(rules_of(decision))


# --- purity ---------------------------------------------------------------------------------


def test_decide_does_no_file_io(monkeypatch: pytest.MonkeyPatch) -> None:
    rule_set = load_rule_set()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("decide opened a file")

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(Path, "read_text", refuse)
    monkeypatch.setattr(Path, "open", refuse)
    assert decide(make_case("self_harm"), rule_set).outcome == "triage_car"


# --- loading rule sets ----------------------------------------------------------------------


def test_default_rule_set_loads_once() -> None:
    assert DEFAULT_RULE_SET_NAME in list_rule_sets()
    assert load_rule_set() is load_rule_set(DEFAULT_RULE_SET_NAME)
    assert RULES.rules_version == RULES_VERSION
    assert isinstance(RULES, RuleSet)


@pytest.mark.parametrize("name", ["nope", "../default", "default.json", ""])
def test_unknown_rule_set_name(name: str) -> None:
    with pytest.raises(KeyError):
        load_rule_set(name)


def rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(each for each in data["rules"] + data["modifiers"] if each["id"] == rule_id)


def _unknown_fact(data: dict[str, Any]) -> None:
    rule(data, "T9")["when"] = {"all": ["mh", "self_harn"]}


def _non_flag_named_alone(data: dict[str, Any]) -> None:
    rule(data, "T6")["when"] = "category"


def _unknown_operator(data: dict[str, Any]) -> None:
    rule(data, "T6")["when"] = {"equals": ["category", "transport_request"]}


def _two_operators(data: dict[str, Any]) -> None:
    rule(data, "T6")["when"] = {"any": ["weapon"], "all": ["weapon"]}


def _misspelt_category(data: dict[str, Any]) -> None:
    rule(data, "T6")["when"] = {"eq": ["category", "transport"]}


def _flag_compared_with_string(data: dict[str, Any]) -> None:
    rule(data, "T3")["when"] = {"eq": ["medical_emergency", "yes"]}


def _outcome_in_primary_rule(data: dict[str, Any]) -> None:
    rule(data, "T3")["when"] = {"eq": ["outcome", "ambulance"]}


def _unknown_outcome(data: dict[str, Any]) -> None:
    rule(data, "T3")["outcome"] = "helicopter"


def _unknown_responder(data: dict[str, Any]) -> None:
    rule(data, "T3")["responders"] = ["fire_service"]


def _unknown_added_responder(data: dict[str, Any]) -> None:
    rule(data, "M5")["add_responders"][0]["responders"] = ["vet"]


def _unknown_flag(data: dict[str, Any]) -> None:
    rule(data, "M1")["flag"] = "child"


def _rule_id_not_in_spec(data: dict[str, Any]) -> None:
    rule(data, "T9")["id"] = "T12"


def _primary_id_among_modifiers(data: dict[str, Any]) -> None:
    rule(data, "M3")["id"] = "T3"


def _duplicate_id(data: dict[str, Any]) -> None:
    rule(data, "T10")["id"] = "T9"


def _no_otherwise_rule(data: dict[str, Any]) -> None:
    data["rules"].pop()


def _otherwise_rule_not_last(data: dict[str, Any]) -> None:
    rule(data, "T9")["when"] = True


def _threshold_not_first(data: dict[str, Any]) -> None:
    data["rules"][0], data["rules"][2] = data["rules"][2], data["rules"][0]


def _threshold_without_police(data: dict[str, Any]) -> None:
    rule(data, "T2")["outcome"] = "triage_car"


def _caller_advice_missing(data: dict[str, Any]) -> None:
    del data["caller_advice"]["nurse_advice"]


def _caller_advice_unknown(data: dict[str, Any]) -> None:
    data["caller_advice"]["helicopter"] = {"default": "Police will not attend; look up."}


def _caller_type_misspelt(data: dict[str, Any]) -> None:
    data["caller_advice"]["health_referral"]["nhs111"] = "Police will not attend; 111 leads."


def _caller_advice_without_default(data: dict[str, Any]) -> None:
    del data["caller_advice"]["triage_car"]["default"]


def _caller_advice_as_a_bare_sentence(data: dict[str, Any]) -> None:
    data["caller_advice"]["triage_car"] = "Police will not attend."


def _caller_advice_silent_on_police(data: dict[str, Any]) -> None:
    data["caller_advice"]["ambulance"]["health_setting"] = "An ambulance is being arranged."


def _caller_advice_says_police_attend_when_they_do_not(data: dict[str, Any]) -> None:
    data["caller_advice"]["health_referral"]["public"] = "Police are on their way."


def _caller_advice_says_police_do_not_attend_when_they_do(data: dict[str, Any]) -> None:
    data["caller_advice"]["police_immediate"]["officer_on_scene"] = (
        "No further police will be sent."
    )


def _caller_advice_empty(data: dict[str, Any]) -> None:
    data["caller_advice"]["no_police_action"]["nhs_111"] = " "


def _misspelt_key(data: dict[str, Any]) -> None:
    rule(data, "T2")["add_responder"] = rule(data, "T2").pop("add_responders")


def _empty_text(data: dict[str, Any]) -> None:
    rule(data, "T4")["text"] = "  "


def _bad_name(data: dict[str, Any]) -> None:
    data["name"] = "Default Set"


def _empty_any(data: dict[str, Any]) -> None:
    rule(data, "T1")["when"] = {"any": []}


INVALID = [
    (_unknown_fact, "unknown fact 'self_harn'"),
    (_non_flag_named_alone, "not a yes/no fact"),
    (_unknown_operator, "unknown operator 'equals'"),
    (_two_operators, "exactly one of"),
    (_misspelt_category, "'transport' is not a possible value of 'category'"),
    (_flag_compared_with_string, "not a possible value of 'medical_emergency'"),
    (_outcome_in_primary_rule, "unknown fact 'outcome'"),
    (_unknown_outcome, "unknown outcome 'helicopter'"),
    (_unknown_responder, "unknown responder 'fire_service'"),
    (_unknown_added_responder, "unknown responder 'vet'"),
    (_unknown_flag, "unknown flag 'child'"),
    (_rule_id_not_in_spec, "'T12' is not one of"),
    (_primary_id_among_modifiers, "'T3' is not one of"),
    (_duplicate_id, "more than once: T9"),
    (_no_otherwise_rule, "otherwise-rule"),
    (_otherwise_rule_not_last, "rule T9 always applies"),
    (_threshold_not_first, "must start with T1 then T2"),
    (_threshold_without_police, "must lead to a police outcome"),
    (_caller_advice_missing, "missing: \\['nurse_advice'\\]"),
    (_caller_advice_unknown, "unknown: \\['helicopter'\\]"),
    (_caller_type_misspelt, "caller_advice.health_referral: unknown caller type 'nhs111'"),
    (_caller_advice_without_default, 'caller_advice.triage_car: needs a "default" sentence'),
    (_caller_advice_as_a_bare_sentence, "caller_advice.triage_car"),
    (_caller_advice_silent_on_police, "caller_advice.ambulance.health_setting: must open"),
    (
        _caller_advice_says_police_attend_when_they_do_not,
        "caller_advice.health_referral.public: must open by telling the caller that police "
        "will not attend",
    ),
    (
        _caller_advice_says_police_do_not_attend_when_they_do,
        "caller_advice.police_immediate.officer_on_scene: must open by telling the caller that "
        "police will attend",
    ),
    (_caller_advice_empty, "caller_advice.no_police_action.nhs_111"),
    (_misspelt_key, "add_responder"),
    (_empty_text, "text"),
    (_bad_name, "rule set name"),
    (_empty_any, "non-empty list"),
]


@pytest.mark.parametrize(("spoil", "message"), INVALID, ids=[s.__name__ for s, _ in INVALID])
def test_invalid_rule_set_is_refused(spoil: Any, message: str) -> None:
    data = default_data()
    spoil(data)
    with pytest.raises(ValueError, match=message):
        parse_rule_set(data)


def test_default_data_parses_to_the_loaded_rule_set() -> None:
    assert parse_rule_set(default_data()) == RULES


def test_rule_set_file_name_must_match(tmp_path: Path) -> None:
    path = tmp_path / "notts.json"
    path.write_text(json.dumps(default_data()), encoding="utf-8")
    with pytest.raises(ValueError, match="must match the file name"):
        read_rule_set(path)


def test_rule_set_file_must_be_json(tmp_path: Path) -> None:
    path = tmp_path / "default.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="rule set file"):
        read_rule_set(path)


def test_another_rule_set_version_routes_by_its_own_data() -> None:
    data = default_data()
    data["name"], data["version"] = "local", "2027-01-01"
    # A local protocol: walk-outs go to the triage car, and M5 also names the police.
    rule(data, "T5")["outcome"], rule(data, "T5")["responders"] = "triage_car", ["triage_car"]
    rule(data, "M5")["add_responders"].append({"when": "mh", "responders": ["police", "mh_nurse"]})
    local = parse_rule_set(data)
    decision = decide(make_case(category="walkout_from_health_setting"), local)
    assert (decision.outcome, decision.rules_version) == ("triage_car", "local@2027-01-01")
    decision = decide(make_case("weapon", "suicidal"), local)
    assert decision.responders == ("police", "mh_nurse")  # each responder once, in order
    assert RULES.rules_version == RULES_VERSION  # the default is untouched


def test_repeated_flag_is_listed_once() -> None:
    data = copy.deepcopy(default_data())
    rule(data, "M3")["flag"] = "share_crisis_plan"
    rule_set = parse_rule_set(data)
    case = make_case("intoxicated", "suicidal", context=("crisis_plan",))
    decision = decide(case, rule_set)
    assert rules_of(decision) == ["T9", "M2", "M3"]
    assert decision.flags == ("share_crisis_plan",)


# --- properties over any valid input --------------------------------------------------------

answers = st.sampled_from([True, False, None])


@st.composite
def cases(draw: st.DrawFn) -> Case:
    def flags(names: tuple[str, ...]) -> dict[str, bool | None]:
        # Some questions are left out entirely, some are null: both mean "not asked".
        asked = draw(st.lists(st.sampled_from(names), unique=True))
        return {name: draw(answers) for name in asked}

    return Case(
        source=draw(st.sampled_from(SOURCES)),
        category=draw(st.sampled_from(CATEGORIES)),
        location_kind=draw(st.sampled_from((*LOCATION_KINDS, None))),
        age=draw(st.none() | st.integers(min_value=0, max_value=120)),
        risk=flags(RISK_FLAGS),
        context=flags(CONTEXT_FLAGS),
    )


scopes = st.builds(
    Scope,
    categories=st.none() | st.frozensets(st.sampled_from(CATEGORIES)),
    min_age=st.integers(min_value=0, max_value=30),
)


def yes(case: Case, *names: str) -> bool:
    answers = {**case.risk, **case.context}
    return any(answers.get(name) is True for name in names)


def spec_outcome(case: Case, scope: Scope) -> tuple[str, list[str]]:
    """rcrp-routing.md written out by hand, to check the data-driven rule set against."""
    mh = case.category in MH_CATEGORIES or yes(
        case, "self_harm", "suicidal", "known_to_mh_services"
    )
    known_age = case.age is not None
    out_of_scope = (scope.categories is not None and case.category not in scope.categories) or (
        known_age and case.age < scope.min_age
    )
    if yes(case, "crime_in_progress", "weapon", "violence_to_others"):
        outcome = "T1", "police_immediate"
    elif yes(case, "immediate_risk_to_life", "serious_harm"):
        outcome = "T2", "police_and_triage"
    elif out_of_scope:
        outcome = "T0", "police_standard"
    elif yes(case, "medical_emergency"):
        outcome = "T3", "ambulance"
    elif yes(case, "crime_committed"):
        outcome = "T4", "police_investigation"
    elif case.category in ("walkout_from_health_setting", "awol_detained_patient"):
        outcome = "T5", "health_referral"
    elif case.category == "transport_request":
        outcome = "T6", "ambulance"
    elif case.category == "s136_handover":
        outcome = "T7", "health_referral"
    elif case.source == "officer_on_scene" and mh:
        outcome = "T8", "nurse_advice"
    elif mh and (yes(case, "self_harm", "suicidal") or case.category == "mental_health_crisis"):
        outcome = "T9", "triage_car"
    elif mh:
        outcome = "T10", "health_referral"
    else:
        outcome = "T11", "no_police_action"
    rule_id, name = outcome
    modifiers = [
        ("M1", known_age and case.age < 18),
        ("M2", yes(case, "known_to_mh_services", "crisis_plan")),
        ("M3", yes(case, "intoxicated") and mh),
        ("M4", case.location_kind == "private_dwelling" and name not in POLICE_OUTCOMES),
        ("M5", mh and name in ("police_immediate", "police_investigation")),
    ]
    return name, [rule_id] + [m for m, fires in modifiers if fires]


@given(cases(), scopes)
def test_never_raises_and_always_well_formed(case: Case, scope: Scope) -> None:
    decision = decide(case, RULES, scope)
    assert decision.outcome in OUTCOMES
    assert decision.police_attendance is (decision.outcome in POLICE_OUTCOMES)
    assert set(decision.responders) <= set(RESPONDERS)
    assert len(set(decision.responders)) == len(decision.responders)
    assert len(set(decision.flags)) == len(decision.flags)
    assert decision.caller_advice == caller_advice(
        RULES,
        decision.outcome,
        source=case.source,
        caller_is_health_professional=case.context.get("caller_is_health_professional"),
    )
    assert decision.caller_advice.startswith(ATTENDANCE_OPENINGS[decision.police_attendance])
    assert decision.rules_version == RULES_VERSION
    json.dumps(decision.as_dict())


@given(cases(), scopes)
def test_matches_the_spec_written_out_by_hand(case: Case, scope: Scope) -> None:
    decision = decide(case, RULES, scope)
    assert (decision.outcome, rules_of(decision)) == spec_outcome(case, scope)


@given(cases(), scopes)
def test_threshold_means_police_attend(case: Case, scope: Scope) -> None:
    decision = decide(case, RULES, scope)
    if yes(
        case,
        "crime_in_progress",
        "weapon",
        "violence_to_others",
        "immediate_risk_to_life",
        "serious_harm",
    ):
        assert decision.police_attendance is True
        assert "police" in decision.responders


@given(cases(), scopes)
def test_deterministic(case: Case, scope: Scope) -> None:
    again = Case(
        source=case.source,
        category=case.category,
        location_kind=case.location_kind,
        age=case.age,
        risk=dict(case.risk),
        context=dict(case.context),
    )
    assert decide(case, RULES, scope) == decide(case, RULES, scope) == decide(again, RULES, scope)


@given(cases(), scopes)
def test_reasons_follow_firing_order_with_one_primary_rule(case: Case, scope: Scope) -> None:
    fired = rules_of(decide(case, RULES, scope))
    order = [r.id for r in RULES.rules] + [m.id for m in RULES.modifiers]
    positions = [order.index(rule_id) for rule_id in fired]
    assert positions == sorted(positions)
    assert len(set(fired)) == len(fired)
    primary = [rule_id for rule_id in fired if rule_id.startswith("T")]
    assert len(primary) == 1
    assert fired[0] == primary[0]


@given(cases(), scopes)
def test_unanswered_routes_as_false(case: Case, scope: Scope) -> None:
    decision = decide(case, RULES, scope)
    for path in decision.unanswered:
        section, name = path.split(".")
        assert getattr(case, section).get(name) is None
    answered_false = Case(
        source=case.source,
        category=case.category,
        location_kind=case.location_kind,
        age=case.age,
        risk={name: case.risk.get(name) is True for name in RISK_FLAGS},
        context={name: case.context.get(name) is True for name in CONTEXT_FLAGS},
    )
    same = decide(answered_false, RULES, scope)
    assert same.unanswered == ()
    assert (same.outcome, same.reasons, same.responders, same.flags) == (
        decision.outcome,
        decision.reasons,
        decision.responders,
        decision.flags,
    )
