"""Rule sets: the vocabulary they may use, their model, and loading and checking the files.

A rule set is data (app/rcrp/rule_sets/<name>.json). It is checked completely when it loads, so a
mistake in a file stops the service at startup instead of misrouting a call later.
"""

import json
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from app.rcrp.conditions import Condition, FactSpec, validate

RISK_FLAGS = (
    "crime_in_progress",
    "crime_committed",
    "weapon",
    "violence_to_others",
    "immediate_risk_to_life",
    "serious_harm",
    "self_harm",
    "suicidal",
    "intoxicated",
    "medical_emergency",
)
CONTEXT_FLAGS = (
    "known_to_mh_services",
    "crisis_plan",
    "liable_to_detention_under_mha",
    "health_setting_checks_done",
    "caller_is_health_professional",
)
OUTCOMES = (
    "police_immediate",
    "police_and_triage",
    "police_investigation",
    "police_standard",
    "ambulance",
    "triage_car",
    "nurse_advice",
    "health_referral",
    "no_police_action",
)
# police_attendance is true exactly for these. nurse_advice is not among them: the officer is
# already there and no further police are sent.
POLICE_OUTCOMES = frozenset(
    {"police_immediate", "police_and_triage", "police_investigation", "police_standard"}
)
RESPONDERS = ("police", "triage_car", "mh_nurse", "ambulance", "nhs_111", "health_provider")
DECISION_FLAGS = ("under_18", "share_crisis_plan")

# The incident vocabulary of the contract, so that a misspelt value in a rule set is caught.
SOURCES = (
    "police_999",
    "police_101",
    "ambulance_999",
    "nhs_111",
    "health_setting",
    "officer_on_scene",
)
CATEGORIES = (
    "concern_for_welfare",
    "mental_health_crisis",
    "walkout_from_health_setting",
    "awol_detained_patient",
    "transport_request",
    "s136_handover",
    "medical",
    "other",
)
LOCATION_KINDS = ("public_place", "private_dwelling", "health_setting", "custody", "other")

# Who is on the line, for the sentence the call handler reads out (see app/rcrp/advice.py for how a
# case maps to one). "default" in a rule set's caller_advice covers every caller type it leaves out.
CALLER_TYPES = (
    "public",
    "health_professional",
    "nhs_111",
    "ambulance_service",
    "health_setting",
    "officer_on_scene",
)
DEFAULT_ADVICE_KEY = "default"
# The caller is told first whether police will attend (IOPC recommendation), in words a call
# handler can read aloud, so every sentence opens with one of these, matching the outcome.
ATTENDANCE_OPENINGS: dict[bool, tuple[str, ...]] = {
    True: ("Police are on their way", "Further police are on their way", "Police will attend"),
    False: ("Police will not attend", "No further police will be sent"),
}

# Rule ids are those of rcrp-routing.md; a rule set may leave some out but not invent any.
PRIMARY_RULE_IDS = ("T1", "T2", "T0", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11")
MODIFIER_RULE_IDS = ("M1", "M2", "M3", "M4", "M5")
# The police threshold stands in every area: these open every rule set, in this order.
THRESHOLD_RULE_IDS = ("T1", "T2")

DEFAULT_RULE_SET_NAME = "default"
RULE_SETS_DIR = Path(__file__).parent / "rule_sets"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")

_FLAG = FactSpec("flag")
PRIMARY_FACTS: dict[str, FactSpec] = {
    **{name: _FLAG for name in RISK_FLAGS + CONTEXT_FLAGS},
    "source": FactSpec("choice", SOURCES),
    "category": FactSpec("choice", CATEGORIES),
    "location_kind": FactSpec("choice", (*LOCATION_KINDS, None)),
    "age": FactSpec("number"),
    "mh": _FLAG,
    "minor": _FLAG,
    "out_of_scope": _FLAG,
}
# Modifiers run after the primary rule, so they may also look at its outcome.
MODIFIER_FACTS: dict[str, FactSpec] = {**PRIMARY_FACTS, "outcome": FactSpec("choice", OUTCOMES)}

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Model(BaseModel):
    # Unknown keys are refused, so a misspelt "add_responder" cannot be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class AddResponders(_Model):
    when: Condition
    responders: tuple[str, ...]


class PrimaryRule(_Model):
    id: str
    when: Condition
    outcome: str
    responders: tuple[str, ...]
    add_responders: tuple[AddResponders, ...] = ()
    text: Text


class Modifier(_Model):
    id: str
    when: Condition
    flag: str | None = None
    add_responders: tuple[AddResponders, ...] = ()
    text: Text


class RuleSet(_Model):
    name: str
    version: Text
    description: str = ""
    rules: tuple[PrimaryRule, ...]
    modifiers: tuple[Modifier, ...] = ()
    # outcome -> {"default": sentence, <caller type>: sentence, ...}
    caller_advice: dict[str, dict[str, Text]]

    @property
    def rules_version(self) -> str:
        return f"{self.name}@{self.version}"

    @model_validator(mode="after")
    def _check(self) -> "RuleSet":
        if not NAME_PATTERN.match(self.name):
            raise ValueError(
                f"rule set name {self.name!r} must be lower-case letters, digits, - or _"
            )
        self._check_primary_rules()
        self._check_modifiers()
        self._check_caller_advice()
        return self

    def _check_primary_rules(self) -> None:
        ids = [rule.id for rule in self.rules]
        _check_ids(ids, PRIMARY_RULE_IDS, "rules")
        if tuple(ids[:2]) != THRESHOLD_RULE_IDS:
            raise ValueError(
                "rules must start with T1 then T2: the police threshold is checked first everywhere"
            )
        for rule in self.rules:
            where = f"rule {rule.id}"
            validate(rule.when, PRIMARY_FACTS, where)
            if rule.outcome not in OUTCOMES:
                raise ValueError(
                    f"{where}: unknown outcome {rule.outcome!r} (known: {', '.join(OUTCOMES)})"
                )
            if rule.id in THRESHOLD_RULE_IDS and rule.outcome not in POLICE_OUTCOMES:
                raise ValueError(f"{where}: the police threshold must lead to a police outcome")
            _check_responders(rule.responders, where)
            _check_add_responders(rule.add_responders, PRIMARY_FACTS, where)
        # The last rule catches everything else, so every case gets exactly one primary rule.
        if not self.rules or self.rules[-1].when is not True:
            raise ValueError(
                'the last rule must be the otherwise-rule ("when": true), e.g. T11 no_police_action'
            )
        for rule in self.rules[:-1]:
            if rule.when is True:
                raise ValueError(
                    f"rule {rule.id} always applies, so the rules after it could never fire; "
                    'only the last rule may have "when": true'
                )

    def _check_modifiers(self) -> None:
        _check_ids([modifier.id for modifier in self.modifiers], MODIFIER_RULE_IDS, "modifiers")
        for modifier in self.modifiers:
            where = f"modifier {modifier.id}"
            validate(modifier.when, MODIFIER_FACTS, where)
            if modifier.flag is not None and modifier.flag not in DECISION_FLAGS:
                raise ValueError(
                    f"{where}: unknown flag {modifier.flag!r} (known: {', '.join(DECISION_FLAGS)})"
                )
            _check_add_responders(modifier.add_responders, MODIFIER_FACTS, where)

    def _check_caller_advice(self) -> None:
        missing = [outcome for outcome in OUTCOMES if outcome not in self.caller_advice]
        unknown = [outcome for outcome in self.caller_advice if outcome not in OUTCOMES]
        if missing or unknown:
            raise ValueError(
                f"caller_advice needs sentences for each outcome; "
                f"missing: {missing or 'none'}, unknown: {unknown or 'none'}"
            )
        known_keys = (DEFAULT_ADVICE_KEY, *CALLER_TYPES)
        for outcome, by_caller in self.caller_advice.items():
            where = f"caller_advice.{outcome}"
            if DEFAULT_ADVICE_KEY not in by_caller:
                raise ValueError(
                    f'{where}: needs a "default" sentence, said to every caller type without '
                    f"its own"
                )
            police_attend = outcome in POLICE_OUTCOMES
            openings = ATTENDANCE_OPENINGS[police_attend]
            for caller, sentence in by_caller.items():
                if caller not in known_keys:
                    raise ValueError(
                        f"{where}: unknown caller type {caller!r} (known: {', '.join(known_keys)})"
                    )
                if not sentence.startswith(openings):
                    raise ValueError(
                        f"{where}.{caller}: must open by telling the caller that police "
                        f"{'will' if police_attend else 'will not'} attend, with one of: "
                        + "; ".join(f'"{opening}"' for opening in openings)
                    )


def _check_ids(ids: list[str], allowed: tuple[str, ...], section: str) -> None:
    for rule_id in ids:
        if rule_id not in allowed:
            raise ValueError(
                f"{section}: rule id {rule_id!r} is not one of rcrp-routing.md's "
                f"({', '.join(allowed)})"
            )
    duplicates = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
    if duplicates:
        raise ValueError(f"{section}: rule ids appear more than once: {', '.join(duplicates)}")


def _check_responders(responders: tuple[str, ...], where: str) -> None:
    for responder in responders:
        if responder not in RESPONDERS:
            raise ValueError(
                f"{where}: unknown responder {responder!r} (known: {', '.join(RESPONDERS)})"
            )


def _check_add_responders(
    additions: tuple[AddResponders, ...], facts: dict[str, FactSpec], where: str
) -> None:
    for addition in additions:
        validate(addition.when, facts, f"{where} add_responders")
        _check_responders(addition.responders, f"{where} add_responders")


def parse_rule_set(data: Any) -> RuleSet:
    """A checked rule set from its JSON data; ValueError (pydantic's ValidationError is one)
    says what is wrong."""
    return RuleSet.model_validate(data)


def read_rule_set(path: Path) -> RuleSet:
    """Read and check one rule-set file; its "name" must match the file name."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        rule_set = parse_rule_set(data)
    except ValueError as error:  # json's and pydantic's errors are both ValueErrors
        raise ValueError(f"rule set file {path}: {error}") from error
    if rule_set.name != path.stem:
        raise ValueError(
            f"rule set file {path}: its name {rule_set.name!r} must match the file name"
        )
    return rule_set


@cache
def _rule_set_names() -> tuple[str, ...]:
    return tuple(
        sorted(path.stem for path in RULE_SETS_DIR.glob("*.json") if NAME_PATTERN.match(path.stem))
    )


def list_rule_sets() -> list[str]:
    """The names of the rule sets shipped with the service (read from disk once)."""
    return list(_rule_set_names())


def load_rule_set(name: str = DEFAULT_RULE_SET_NAME) -> RuleSet:
    """The named rule set, read and checked on first use and cached afterwards.

    KeyError for a name that is not shipped; ValueError for a file that is not a valid rule set.
    """
    if name not in _rule_set_names():
        raise KeyError(f"there is no rule set {name!r} (available: {', '.join(_rule_set_names())})")
    return _load(name)


@cache  # keyed by name alone, so load_rule_set() and load_rule_set("default") share one entry
def _load(name: str) -> RuleSet:
    return read_rule_set(RULE_SETS_DIR / f"{name}.json")
