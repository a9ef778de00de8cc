"""The routing decision: derive the facts of a case, let the first matching primary rule decide,
then apply every modifier that holds. Pure: no I/O, no clock, no randomness."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from app.rcrp.advice import caller_advice
from app.rcrp.conditions import evaluate
from app.rcrp.rule_set import CONTEXT_FLAGS, POLICE_OUTCOMES, RISK_FLAGS, RuleSet

# A mental-health element by the nature of the call (rcrp-routing.md, derived input `mh`).
MH_CATEGORIES = frozenset(
    {
        "mental_health_crisis",
        "concern_for_welfare",
        "walkout_from_health_setting",
        "awol_detained_patient",
        "s136_handover",
    }
)
ADULT_AGE = 18


@dataclass(frozen=True)
class Scope:
    """Which calls an area routes by RCRP. None: every category; min_age 0: every age."""

    categories: frozenset[str] | None = None
    min_age: int = 0


@dataclass(frozen=True)
class Case:
    """What the call handler knows. A risk or context flag that is missing or None was not asked.

    Raises ValueError for a flag name that is not in RISK_FLAGS / CONTEXT_FLAGS or a value other
    than True, False or None: a misspelt question must not pass as unanswered.
    """

    source: str
    category: str
    location_kind: str | None
    age: int | None
    risk: Mapping[str, bool | None] = field(default_factory=dict)
    context: Mapping[str, bool | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for section, known in (("risk", RISK_FLAGS), ("context", CONTEXT_FLAGS)):
            answers = getattr(self, section)
            for name, value in answers.items():
                if name not in known:
                    raise ValueError(f"unknown {section} flag {name!r}")
                if value is not None and not isinstance(value, bool):
                    raise ValueError(f"{section}.{name} must be true, false or null")
            # A private read-only copy, so a frozen Case really cannot change afterwards.
            object.__setattr__(self, section, MappingProxyType(dict(answers)))


@dataclass(frozen=True)
class Reason:
    rule: str
    text: str


@dataclass(frozen=True)
class Decision:
    outcome: str
    police_attendance: bool
    responders: tuple[str, ...]
    reasons: tuple[Reason, ...]
    flags: tuple[str, ...]
    caller_advice: str
    unanswered: tuple[str, ...]
    rules_version: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, in the shape of the contract's `decision` (without `overridden`)."""
        return {
            "outcome": self.outcome,
            "police_attendance": self.police_attendance,
            "responders": list(self.responders),
            "reasons": [{"rule": reason.rule, "text": reason.text} for reason in self.reasons],
            "flags": list(self.flags),
            "caller_advice": self.caller_advice,
            "unanswered": list(self.unanswered),
            "rules_version": self.rules_version,
        }


def derive_facts(case: Case, scope: Scope) -> dict[str, object]:
    """Every fact a primary rule may test. An unanswered flag routes as False."""
    risk = {name: case.risk.get(name) is True for name in RISK_FLAGS}
    context = {name: case.context.get(name) is True for name in CONTEXT_FLAGS}
    mh = (
        case.category in MH_CATEGORIES
        or risk["self_harm"]
        or risk["suicidal"]
        or context["known_to_mh_services"]
    )
    minor = case.age is not None and case.age < ADULT_AGE
    # An unknown age is never out of scope: the person gets the RCRP route.
    out_of_scope = (scope.categories is not None and case.category not in scope.categories) or (
        case.age is not None and case.age < scope.min_age
    )
    return {
        **risk,
        **context,
        "source": case.source,
        "category": case.category,
        "location_kind": case.location_kind,
        "age": case.age,
        "mh": mh,
        "minor": minor,
        "out_of_scope": out_of_scope,
    }


def unanswered(case: Case) -> tuple[str, ...]:
    """Dotted paths of the questions not answered, risk first, each in its fixed order."""
    return tuple(
        [f"risk.{name}" for name in RISK_FLAGS if case.risk.get(name) is None]
        + [f"context.{name}" for name in CONTEXT_FLAGS if case.context.get(name) is None]
    )


def decide(case: Case, rule_set: RuleSet, scope: Scope = Scope()) -> Decision:
    """The rule set's decision for a case in an area's scope."""
    facts = derive_facts(case, scope)
    # A loaded rule set always ends with an otherwise-rule, so some rule always matches.
    primary = next(rule for rule in rule_set.rules if evaluate(rule.when, facts))
    reasons = [Reason(primary.id, primary.text)]
    responders = list(primary.responders)
    flags: list[str] = []
    for addition in primary.add_responders:
        if evaluate(addition.when, facts):
            responders.extend(addition.responders)

    facts["outcome"] = primary.outcome
    for modifier in rule_set.modifiers:
        if not evaluate(modifier.when, facts):
            continue
        reasons.append(Reason(modifier.id, modifier.text))
        if modifier.flag is not None:
            flags.append(modifier.flag)
        for addition in modifier.add_responders:
            if evaluate(addition.when, facts):
                responders.extend(addition.responders)

    return Decision(
        outcome=primary.outcome,
        police_attendance=primary.outcome in POLICE_OUTCOMES,
        responders=_unique(responders),
        reasons=tuple(reasons),
        flags=_unique(flags),
        caller_advice=caller_advice(
            rule_set,
            primary.outcome,
            source=case.source,
            caller_is_health_professional=case.context.get("caller_is_health_professional"),
        ),
        unanswered=unanswered(case),
        rules_version=rule_set.rules_version,
    )


def _unique(items: list[str]) -> tuple[str, ...]:
    """First occurrences, in order."""
    return tuple(dict.fromkeys(items))
