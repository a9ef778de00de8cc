"""The same person detained on two incidents within 24 hours: a possible duplicate record (or a
person detained again soon after), for a supervisor to look at. Pure: no I/O.

Two detentions match when they are within 24 hours of each other, nothing known about the
person contradicts (the same sex when both are known; ages within 2 years when both are
known), and they share the place of safety or the person's description is similar.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)
AGE_TOLERANCE = 2
# Share of the descriptions' significant words they have in common (Jaccard) to be "similar".
SIMILAR_DESCRIPTION = 0.5

# Words that say nothing about who a person is.
_FILLER = frozenset(
    (  # noqa: SIM905
        "a an and the in on of with wearing wears his her their he she they is was who aged "
        "about around approx approximately possibly maybe"
    ).split()
)
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Detained:
    """What is known of one detention for matching (never shown: see `explain`)."""

    incident_id: int
    detained_at: datetime
    sex: str | None  # female | male | other; None or "not_known" when not known
    age: int | None
    place_of_safety_id: int | None
    description: str | None


@dataclass(frozen=True)
class Match:
    other: Detained
    same_sex: bool  # both known and equal
    age_checked: bool  # both known (and within tolerance)
    same_place: bool
    similar_description: bool


def match(new: Detained, other: Detained) -> Match | None:
    """How `new` and `other` may be the same person, or None if they may not."""
    if new.incident_id == other.incident_id:
        return None
    if abs(new.detained_at - other.detained_at) > WINDOW:
        return None
    sexes_known = _known(new.sex) and _known(other.sex)
    if sexes_known and new.sex != other.sex:
        return None
    ages_known = new.age is not None and other.age is not None
    if ages_known and abs(new.age - other.age) > AGE_TOLERANCE:  # type: ignore[operator]
        return None
    same_place = new.place_of_safety_id is not None and (
        new.place_of_safety_id == other.place_of_safety_id
    )
    similar = similar_descriptions(new.description, other.description)
    if not (same_place or similar):
        return None
    return Match(other, sexes_known, ages_known, same_place, similar)


def possible_duplicates(new: Detained, others: list[Detained]) -> list[Match]:
    """Every other detention that may be the same person, oldest first."""
    found = [m for other in others if (m := match(new, other)) is not None]
    return sorted(found, key=lambda m: (m.other.detained_at, m.other.incident_id))


def similar_descriptions(first: str | None, second: str | None) -> bool:
    a, b = _words(first), _words(second)
    if not a or not b:
        return False
    return len(a & b) / len(a | b) >= SIMILAR_DESCRIPTION


def explain(new_incident_id: int, found: Match) -> str:
    """The escalation's detail: which incidents and why, with no person data (it is read on
    the wall display)."""
    first, second = sorted((new_incident_id, found.other.incident_id))
    why = ["within 24 h"]
    if found.same_sex and found.age_checked:
        why.append("same sex and age band")
    elif found.same_sex:
        why.append("same sex")
    elif found.age_checked:
        why.append("ages within 2 years")
    why.append("same place" if found.same_place else "similar description")
    return f"Detentions on incidents {first} and {second} may be the same person ({', '.join(why)})"


def dedupe_key(new_incident_id: int, other_incident_id: int) -> str:
    first, second = sorted((new_incident_id, other_incident_id))
    return f"possible_duplicate_detention:{first}:{second}"


def _known(sex: str | None) -> bool:
    return sex is not None and sex != "not_known"


def _words(text: str | None) -> set[str]:
    return {w for w in _WORD.findall((text or "").lower()) if w not in _FILLER}
