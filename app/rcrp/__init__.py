"""Right Care, Right Person routing: a pure, deterministic engine over versioned rule sets.

    decide(Case(...), load_rule_set("default"), Scope()) -> Decision

The rules are data (app/rcrp/rule_sets/*.json), explained in docs/rcrp.md.
"""

from app.rcrp.engine import Case, Decision, Reason, Scope, decide
from app.rcrp.rule_set import (
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
    "decide",
    "list_rule_sets",
    "load_rule_set",
    "parse_rule_set",
]
