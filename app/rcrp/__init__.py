"""Right Care, Right Person routing: a pure, deterministic engine over versioned rule sets.

    decide(Case(...), load_rule_set("default"), Scope()) -> Decision
    caller_advice(rule_set, outcome, source=..., caller_is_health_professional=...) -> str

The rules are data (app/rcrp/rule_sets/*.json), explained in docs/rcrp.md.
"""

from app.rcrp.advice import caller_advice, caller_type
from app.rcrp.engine import Case, Decision, Reason, Scope, decide
from app.rcrp.rule_set import (
    CALLER_TYPES,
    CATEGORIES,
    CONTEXT_FLAGS,
    DECISION_FLAGS,
    DEFAULT_RULE_SET_NAME,
    LOCATION_KINDS,
    OUTCOMES,
    POLICE_OUTCOMES,
    RESPONDERS,
    RISK_FLAGS,
    SOURCES,
    RuleSet,
    list_rule_sets,
    load_rule_set,
    parse_rule_set,
)

__all__ = [
    "CALLER_TYPES",
    "CATEGORIES",
    "CONTEXT_FLAGS",
    "DECISION_FLAGS",
    "DEFAULT_RULE_SET_NAME",
    "LOCATION_KINDS",
    "OUTCOMES",
    "POLICE_OUTCOMES",
    "RESPONDERS",
    "RISK_FLAGS",
    "SOURCES",
    "Case",
    "Decision",
    "Reason",
    "RuleSet",
    "Scope",
    "caller_advice",
    "caller_type",
    "decide",
    "list_rule_sets",
    "load_rule_set",
    "parse_rule_set",
]
