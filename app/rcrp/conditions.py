"""The tiny condition language rule sets are written in (JSON values).

    "fact"                      the yes/no fact is true
    true / false                always / never ("when": true marks the otherwise-rule)
    {"any": [cond, ...]}        at least one holds
    {"all": [cond, ...]}        every one holds
    {"not": cond}               does not hold
    {"eq": ["fact", value]}     the fact equals value
    {"in": ["fact", [values]]}  the fact is one of values

`validate` checks a condition against the facts a rule may use, once, when a rule set loads;
`evaluate` then trusts it, so deciding never fails on a loaded rule set.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

# A condition as it comes out of JSON.
Condition = Any

OPERATORS = ("any", "all", "not", "eq", "in")


@dataclass(frozen=True)
class FactSpec:
    """What a fact holds, so that conditions can be checked before they are used.

    flag: True or False (may be named on its own); choice: one of `values`; number: an int or
    None (unknown).
    """

    kind: Literal["flag", "choice", "number"]
    values: tuple[object, ...] = ()


def evaluate(condition: Condition, facts: Mapping[str, object]) -> bool:
    """Whether a (validated) condition holds for these facts."""
    if isinstance(condition, bool):
        return condition
    if isinstance(condition, str):
        return facts[condition] is True
    (operator, argument), *_ = condition.items()
    if operator == "any":
        return any(evaluate(part, facts) for part in argument)
    if operator == "all":
        return all(evaluate(part, facts) for part in argument)
    if operator == "not":
        return not evaluate(argument, facts)
    name, value = argument
    if operator == "eq":
        return _same(facts[name], value)
    return any(_same(facts[name], each) for each in value)  # "in"


def _same(a: object, b: object) -> bool:
    # Python says True == 1; a rule set never means that.
    return type(a) is type(b) and a == b


def validate(condition: Condition, facts: Mapping[str, FactSpec], where: str) -> None:
    """Raise ValueError, naming `where`, unless the condition is well formed over `facts`."""
    if isinstance(condition, bool):
        return
    if isinstance(condition, str):
        spec = _fact(condition, facts, where)
        if spec.kind != "flag":
            raise ValueError(
                f"{where}: '{condition}' is not a yes/no fact; compare it with eq or in"
            )
        return
    if not isinstance(condition, dict) or len(condition) != 1:
        raise ValueError(
            f"{where}: a condition is a fact name, true/false, or an object with exactly one of "
            f"{', '.join(OPERATORS)}; got {condition!r}"
        )
    (operator, argument), *_ = condition.items()
    if operator in ("any", "all"):
        if not isinstance(argument, list) or not argument:
            raise ValueError(f"{where}: '{operator}' takes a non-empty list of conditions")
        for part in argument:
            validate(part, facts, where)
    elif operator == "not":
        validate(argument, facts, where)
    elif operator in ("eq", "in"):
        if not isinstance(argument, list) or len(argument) != 2:
            raise ValueError(f"{where}: '{operator}' takes [fact, value]")
        name, value = argument
        spec = _fact(name, facts, where)
        candidates = [value] if operator == "eq" else _list_of_values(value, where)
        for each in candidates:
            _check_value(name, spec, each, where)
    else:
        raise ValueError(f"{where}: unknown operator '{operator}' (known: {', '.join(OPERATORS)})")


def _fact(name: object, facts: Mapping[str, FactSpec], where: str) -> FactSpec:
    if not isinstance(name, str) or name not in facts:
        raise ValueError(f"{where}: unknown fact {name!r} (known: {', '.join(facts)})")
    return facts[name]


def _list_of_values(value: object, where: str) -> list[object]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where}: 'in' takes [fact, [value, ...]] with at least one value")
    return value


def _check_value(name: str, spec: FactSpec, value: object, where: str) -> None:
    if spec.kind == "flag":
        ok = isinstance(value, bool)
    elif spec.kind == "number":
        ok = value is None or (isinstance(value, int) and not isinstance(value, bool))
    else:
        ok = any(_same(value, allowed) for allowed in spec.values)
    if not ok:
        expected = {
            "flag": "true or false",
            "number": "a whole number or null",
            "choice": "one of " + ", ".join(repr(v) for v in spec.values),
        }[spec.kind]
        raise ValueError(f"{where}: {value!r} is not a possible value of '{name}' ({expected})")
