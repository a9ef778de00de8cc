"""What the call handler says to the caller: a sentence for the outcome, worded for who is calling.

An NHS 111 clinician, an ambulance clinician, the nurse in charge at A&E, an officer on scene and a
member of the public each need to hear something different for the same outcome (a health
professional is not told to "call NHS 111"). The sentences are data in the rule set; this module
only picks one. Pure: usable for the rules' outcome and for a person's override alike.
"""

from app.rcrp.rule_set import DEFAULT_ADVICE_KEY, OUTCOMES, SOURCES, RuleSet

# These sources are a service or an officer passing the call on: the source says who is on the line.
CALLER_TYPE_BY_SOURCE = {
    "nhs_111": "nhs_111",
    "ambulance_999": "ambulance_service",
    "health_setting": "health_setting",
    "officer_on_scene": "officer_on_scene",
}


def caller_type(source: str, caller_is_health_professional: bool | None) -> str:
    """Who is on the line, one of CALLER_TYPES.

    A police 999 or 101 call is from a member of the public unless the caller was confirmed to be
    a health professional; not asked (None) is treated as the public, whose advice suits anyone.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r} (known: {', '.join(SOURCES)})")
    if source in CALLER_TYPE_BY_SOURCE:
        return CALLER_TYPE_BY_SOURCE[source]
    return "health_professional" if caller_is_health_professional is True else "public"


def caller_advice(
    rule_set: RuleSet,
    outcome: str,
    *,
    source: str,
    caller_is_health_professional: bool | None,
) -> str:
    """The sentence to say to this caller for this outcome: the caller type's own, else the
    outcome's default. ValueError for an unknown outcome or source."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r} (known: {', '.join(OUTCOMES)})")
    by_caller = rule_set.caller_advice[outcome]
    caller = caller_type(source, caller_is_health_professional)
    return by_caller.get(caller, by_caller[DEFAULT_ADVICE_KEY])
