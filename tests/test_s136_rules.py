"""The s136 law as the pure package `app.s136`: the shared table of cases (the tablet's copy,
app/static/tablet/s136-rules.js, runs the same table in tests/test_s136_rules_browser.py), and
the rules that only the server applies: transfers, the handover goal and what "within goal"
means, welfare restarts, possible duplicates and re-sends."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import clocks, s136
from app.s136 import duplicates

CASES = json.loads((Path(__file__).parent / "data" / "s136_rule_cases.json").read_text("utf-8"))
DETENTION_CASES = [c for c in CASES if "facts" in c]
PLACE_CASES = [c for c in CASES if "places" in c]
T0 = datetime(2026, 5, 14, 14, 0, tzinfo=UTC)


def at(minutes: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes)


# --- the shared table -------------------------------------------------------------------------


@pytest.mark.parametrize("case", DETENTION_CASES, ids=[c["name"] for c in DETENTION_CASES])
def test_detention_case_table(case: dict) -> None:
    verdict = s136.check_detention(s136.DetentionFacts.from_json(case["facts"]))
    got = [{"rule": r.rule, "code": r.code, "field": r.field} for r in verdict.refusals]
    assert got == case["expect"]["refusals"]
    assert list(verdict.flags) == case["expect"]["flags"]
    assert all(r.message for r in verdict.refusals)


@pytest.mark.parametrize("case", PLACE_CASES, ids=[c["name"] for c in PLACE_CASES])
def test_place_ranking_case_table(case: dict) -> None:
    ranked = s136.rank_places(case["places"], case["person"])
    assert len(ranked) == len(case["places"])  # unsuitable places are never dropped
    got = [
        {
            "id": r.place["id"],
            "suitable": r.suitable,
            "reasons": [reason.code for reason in r.reasons],
        }
        for r in ranked
    ]
    expected = [{k: e[k] for k in ("id", "suitable", "reasons")} for e in case["expect"]["ranked"]]
    assert got == expected
    for r, e in zip(ranked, case["expect"]["ranked"], strict=True):
        if e["distance_km"] is None:
            assert r.distance_km is None
        else:
            assert r.distance_km == pytest.approx(e["distance_km"], abs=0.01)


def test_the_table_covers_every_rule_and_boundary() -> None:
    """The table is the contract between the two copies: it must keep covering each rule."""
    rules = {r["rule"] for c in DETENTION_CASES for r in c["expect"]["refusals"]}
    assert rules >= {"TIMES", "S1", "S3", "S4", "S5", "S6", "S9"}
    ages = {c["facts"]["age"] for c in DETENTION_CASES}
    assert {17, 18, None} <= ages
    codes = {r["code"] for c in DETENTION_CASES for r in c["expect"]["refusals"]}
    assert {
        "s136_in_private_dwelling",
        "warrant_required",
        "warrant_after_detention",
        "consultation_after_detention",
        "police_station_under_18",
        "age_unknown_at_police_station",
        "police_station_needs_authority",
        "under_18_place_reason_required",
        "ambulance_request_required",
        "police_vehicle_reason_required",
    } <= codes
    assert any(c["person"]["age"] == 17 for c in PLACE_CASES)
    assert any(c["person"]["age"] == 18 for c in PLACE_CASES)


def test_refusals_come_in_the_fixed_order_whatever_the_facts() -> None:
    everything = next(c for c in DETENTION_CASES if c["name"].startswith("everything wrong"))
    verdict = s136.check_detention(s136.DetentionFacts.from_json(everything["facts"]))
    assert [r.rule for r in verdict.refusals] == ["TIMES", "S9", "S1", "S3", "S6", "S6"]


def test_facts_in_another_offset_compare_as_instants() -> None:
    facts = s136.DetentionFacts.from_json(
        {
            "now": "2026-05-14T16:00:00+01:00",
            "detained_at": "2026-05-14T15:01:00+01:00",  # 14:01 UTC
            "consulted": {"who": "doctor", "at": "2026-05-14T14:00:30Z"},
            "vehicle": "ambulance",
        }
    )
    assert s136.check_detention(facts).accepted


# --- transfers (S10) --------------------------------------------------------------------------


def transfer_facts(**changes: object) -> s136.TransferFacts:
    values: dict = {
        "now": at(120),
        "at": at(90),
        "first_arrived_at": at(30),
        "current_since": at(30),
        "current_place_id": 1,
        "to_place_id": 2,
        "choice": s136.PlaceChoice(
            age=34, place=s136.Place("health_based_place_of_safety", accepts_under_18=True)
        ),
    }
    values.update(changes)
    return s136.TransferFacts(**values)


def refused(verdict: s136.Verdict) -> list[tuple[str, str, str]]:
    return [(r.rule, r.code, r.field) for r in verdict.refusals]


def test_transfer_to_another_suitable_place_is_accepted() -> None:
    assert s136.check_transfer(transfer_facts()).accepted


def test_transfer_arrival_before_the_first_arrival_is_refused() -> None:
    verdict = s136.check_transfer(transfer_facts(at=at(29)))
    assert refused(verdict) == [("S10", "time_out_of_order", "at")]
    assert s136.check_transfer(transfer_facts(at=at(30))).accepted  # at the arrival itself


def test_transfer_before_the_previous_transfer_is_refused() -> None:
    verdict = s136.check_transfer(transfer_facts(current_since=at(60), at=at(59)))
    assert refused(verdict) == [("S10", "time_out_of_order", "at")]


def test_transfer_in_the_future_is_refused() -> None:
    assert refused(s136.check_transfer(transfer_facts(at=at(122) + timedelta(seconds=1)))) == [
        ("TIMES", "time_in_future", "at")
    ]
    assert s136.check_transfer(transfer_facts(at=at(122))).accepted


def test_transfer_to_the_same_place_is_refused() -> None:
    verdict = s136.check_transfer(transfer_facts(to_place_id=1))
    assert refused(verdict) == [("S10", "same_place", "place_of_safety_id")]


def test_transfer_of_a_child_to_a_police_station_is_refused_s3() -> None:
    station = s136.Place("police_station", accepts_under_18=False)
    verdict = s136.check_transfer(
        transfer_facts(
            choice=s136.PlaceChoice(
                age=16, place=station, police_station_reason="r", authorised_by="Insp A"
            )
        )
    )
    assert refused(verdict) == [("S3", "police_station_under_18", "place_of_safety_id")]


def test_transfer_of_an_adult_to_a_police_station_needs_authority_s4() -> None:
    station = s136.Place("police_station", accepts_under_18=False)
    verdict = s136.check_transfer(transfer_facts(choice=s136.PlaceChoice(age=30, place=station)))
    assert [r.field for r in verdict.refusals] == ["police_station_reason", "authorised_by"]
    assert verdict.flags == ("police_station_review",)


# --- the handover goal and "within goal" ------------------------------------------------------


def test_handover_goal_uses_the_place_type_then_the_area() -> None:
    by_type = {"emergency_department": {"goal": 90, "warning": 70}, "police_station": None}
    ed = s136.handover_goal(60, 45, by_type, "emergency_department")
    assert ed == s136.Goal(timedelta(minutes=90), timedelta(minutes=70))
    suite = s136.handover_goal(60, 45, by_type, "health_based_place_of_safety")
    assert suite == s136.Goal(timedelta(minutes=60), timedelta(minutes=45))
    assert s136.handover_goal(60, 45, by_type, "police_station") is None


@pytest.mark.parametrize(
    ("area", "by_type", "expected"),
    [
        ((60, 45), {"emergency_department": {"goal": 30, "warning": 45}}, (30, None)),
        ((60, 45), {"emergency_department": {"goal": 30, "warning": 30}}, (30, None)),
        ((60, 45), {"emergency_department": {"goal": 0, "warning": 10}}, (60, 10)),
        ((60, 45), {"emergency_department": {"warning": 50}}, (60, 50)),
        ((60, 45), {"emergency_department": "nonsense"}, (60, 45)),
        ((30, 45), {}, (30, None)),
        ((0, 45), {}, (60, 45)),
    ],
)
def test_a_bad_stored_goal_never_stops_the_clock_starting(
    area: tuple[int, int], by_type: dict, expected: tuple[int, int | None]
) -> None:
    goal = s136.handover_goal(*area, by_type, "emergency_department")
    assert goal is not None
    assert goal.goal_minutes == expected[0]
    assert goal.warning == (None if expected[1] is None else timedelta(minutes=expected[1]))
    # and the clock can be built from it
    clocks.ClockSpec("handover", T0, goal.goal, goal.warning)


def test_config_problems_name_every_warning_not_before_its_goal() -> None:
    problems = s136.config_problems(
        60,
        60,
        {
            "emergency_department": {"goal": 30, "warning": 45},
            "health_based_place_of_safety": {"goal": 60, "warning": 45},
            "police_station": None,
            "other": {"goal": 20, "warning": 20},
        },
    )
    assert [field for field, _ in problems] == [
        "handover_warning_minutes",
        "handover_goals_by_place_type.emergency_department.warning",
        "handover_goals_by_place_type.other.warning",
    ]
    assert s136.config_problems(60, 45, {"emergency_department": {"goal": 30, "warning": 20}}) == []


def result(stopped: float | None, reason: str | None, now: float = 200, **kw: object) -> str:
    return s136.clock_result(
        started_at=at(0),
        goal_minutes=60,
        agreed=bool(kw.get("agreed", False)),
        stopped_at=None if stopped is None else at(stopped),
        stop_reason=reason,
        now=at(now),
    ).result


def test_clock_results() -> None:
    assert result(60, "handed_over") == "met"  # exactly at the goal is within it
    assert result(60.01, "handed_over") == "missed"
    assert result(80, "handed_over", agreed=True) == "missed"
    assert result(50, "handed_over", agreed=True) == "agreed"
    assert result(None, None, now=60) == "open"
    assert result(None, None, now=61) == "breached"


def test_an_outcome_before_any_handover_is_not_a_handover() -> None:
    early = s136.clock_result(
        started_at=at(0),
        goal_minutes=60,
        agreed=False,
        stopped_at=at(20),
        stop_reason=s136.ENDED,
        now=at(200),
    )
    assert early.result == "not_handed_over"
    assert not early.within and not early.counted
    late = s136.clock_result(
        started_at=at(0),
        goal_minutes=60,
        agreed=False,
        stopped_at=at(90),
        stop_reason=s136.ENDED,
        now=at(200),
    )
    assert late.result == "not_handed_over" and late.counted and late.missed


def test_an_open_handover_past_its_goal_counts_as_missed() -> None:
    breached = s136.clock_result(
        started_at=at(0),
        goal_minutes=60,
        agreed=False,
        stopped_at=None,
        stop_reason=None,
        now=at(61),
    )
    assert breached.counted and not breached.within and breached.missed


def test_a_detention_keeps_a_goal_missed_before_a_transfer() -> None:
    def r(name: str, counted: bool, within: bool) -> s136.GoalResult:
        return s136.GoalResult(name, counted, within)

    met = r("met", True, True)
    assert s136.detention_result([]) is None
    assert s136.detention_result([met]) == "met"
    left_late = r("not_handed_over", True, False)
    left_early = r("not_handed_over", False, False)
    assert s136.detention_result([left_late, met]) == "missed"
    assert s136.detention_result([left_early, met]) == "met"
    assert s136.detention_result([left_late, r("breached", True, False)]) == "breached"


def test_an_agreement_only_before_the_goal_passes_and_only_longer() -> None:
    assert s136.check_agreement(at(0), 60, 90, at(60)) is None  # at the deadline itself
    late = s136.check_agreement(at(0), 60, 90, at(60) + clocks.RESOLUTION)
    assert late is not None and (late.rule, late.code) == ("S8", "goal_passed")
    shorter = s136.check_agreement(at(0), 60, 60, at(10))
    assert shorter is not None and shorter.code == "goal_not_longer"


def test_goal_passed_is_strictly_after_the_deadline() -> None:
    assert not s136.goal_passed(at(0), 60, at(60))
    assert s136.goal_passed(at(0), 60, at(60) + clocks.RESOLUTION)


# --- welfare checks (S4) ----------------------------------------------------------------------


def test_a_welfare_check_restarts_the_clock_and_owes_the_misses_before_it() -> None:
    spec = clocks.welfare_check_spec(at(0))
    late = s136.welfare_restart(spec, set(), at(40), at(41))
    assert [t.name for t in late.owed] == ["warning", "breached"]
    assert late.restarted.started_at == at(40)
    on_time = s136.welfare_restart(spec, set(), at(20), at(41))
    assert on_time.owed == []
    already = s136.welfare_restart(spec, {"warning"}, at(28), at(29))
    assert already.owed == []


def test_a_welfare_check_in_the_future_or_before_the_clock_is_refused() -> None:
    spec = clocks.welfare_check_spec(at(10))
    with pytest.raises(clocks.ClockError) as future:
        s136.welfare_restart(spec, set(), at(20), at(17))
    assert future.value.code == "time_in_future"
    with pytest.raises(clocks.ClockError) as before:
        s136.welfare_restart(spec, set(), at(5), at(17))
    assert before.value.code == "time_out_of_order"


def test_welfare_checks_only_at_a_police_station() -> None:
    assert s136.needs_welfare_checks("police_station")
    assert not s136.needs_welfare_checks("emergency_department")


# --- possible duplicates ----------------------------------------------------------------------


def person(incident_id: int, minutes: float = 0, **kw: object) -> s136.Detained:
    values: dict = {
        "incident_id": incident_id,
        "detained_at": at(minutes),
        "sex": "male",
        "age": 34,
        "place_of_safety_id": 7,
        "description": "man, 30s, red coat",
    }
    values.update(kw)
    return s136.Detained(**values)


def test_same_person_same_place_within_24_hours_is_a_possible_duplicate() -> None:
    found = s136.possible_duplicates(person(15), [person(12, -60)])
    assert [m.other.incident_id for m in found] == [12]
    detail = duplicates.explain(15, found[0])
    assert detail == (
        "Detentions on incidents 12 and 15 may be the same person "
        "(within 24 h, same sex and age band, same place)"
    )
    assert "red coat" not in detail and "34" not in detail  # no person data on the wall
    assert duplicates.dedupe_key(15, 12) == duplicates.dedupe_key(12, 15)


@pytest.mark.parametrize(
    ("other", "matches"),
    [
        (person(12, 24 * 60), True),  # exactly 24 h apart
        (person(12, 24 * 60 + 1), False),
        (person(12, -(24 * 60 + 1)), False),
        (person(12, sex="female"), False),
        (person(12, sex="not_known"), True),  # unknown sex does not rule it out
        (person(12, sex=None), True),
        (person(12, age=36), True),  # within 2 years
        (person(12, age=37), False),
        (person(12, age=None), True),
        (person(12, place_of_safety_id=8, description="woman in a blue jacket"), False),
        (person(12, place_of_safety_id=8, description="Man in his 30s, red coat"), True),
        (person(12, place_of_safety_id=None, description=None), False),
        (person(15), False),  # the same incident
    ],
)
def test_duplicate_matching_rules(other: s136.Detained, matches: bool) -> None:
    assert bool(s136.possible_duplicates(person(15), [other])) is matches


def test_a_new_detention_with_no_place_matches_on_description_only() -> None:
    new = person(15, place_of_safety_id=None)
    assert s136.possible_duplicates(new, [person(12, place_of_safety_id=None)])
    assert not s136.possible_duplicates(
        new, [person(12, place_of_safety_id=None, description="older man, grey beard")]
    )


def test_similar_descriptions() -> None:
    assert s136.similar_descriptions("man, 30s, red coat", "a man in his 30s wearing a red coat")
    assert not s136.similar_descriptions("man, 30s, red coat", "woman, 60s, green hat")
    assert not s136.similar_descriptions("", "man")


# --- re-sends ---------------------------------------------------------------------------------


def test_a_resend_names_every_field_that_differs() -> None:
    recorded = {"place_of_safety_id": 3, "vehicle": "ambulance", "detained_at": at(0)}
    sent = {
        "place_of_safety_id": 5,
        "vehicle": "police_vehicle",
        "detained_at": at(0).astimezone(clocks.LONDON),  # the same instant
    }
    found = s136.differences(recorded, sent)
    assert [d.as_detail() for d in found] == [
        {"field": "place_of_safety_id", "message": "recorded 3, sent 5"},
        {"field": "vehicle", "message": "recorded 'ambulance', sent 'police_vehicle'"},
    ]
    assert s136.differences(recorded, dict(recorded)) == []


def test_a_resend_tells_false_from_nothing() -> None:
    found = s136.differences({"ambulance_requested": None}, {"ambulance_requested": False})
    assert [d.message for d in found] == ["recorded nothing, sent no"]
