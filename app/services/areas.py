"""Areas: local partnerships and their settings."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import rcrp, s136
from app.auth.actor import Actor
from app.errors import AppError, NotFound, Unprocessable
from app.models import Area
from app.schemas.area import AreaCreate, AreaUpdate
from app.services import audit


async def get_by_code(code: str, *, session: AsyncSession, field: str | None = None) -> Area:
    area = await session.scalar(select(Area).where(Area.code == code))
    if area is None:
        if field:
            raise Unprocessable("unknown_area", f"There is no area with code '{code}'.", field)
        raise NotFound(f"Area '{code}'")
    return area


def scope_of(area: Area) -> rcrp.Scope:
    categories = area.rcrp_scope.get("categories")
    return rcrp.Scope(
        categories=None if categories is None else frozenset(categories),
        min_age=int(area.rcrp_scope.get("min_age", 0)),
    )


def _check_rule_set(name: str) -> None:
    if name not in rcrp.list_rule_sets():
        raise Unprocessable(
            "unknown_rule_set",
            f"There is no rule set '{name}' (available: {', '.join(rcrp.list_rule_sets())}).",
            "rule_set",
        )


def _check_thresholds(goal: int, warning: int, by_place_type: dict | None) -> None:
    """Warnings precede goals at every level: the area's pair and each type of place's (a
    place-type warning after its goal once made every arrival there fail)."""
    problems = s136.config_problems(goal, warning, by_place_type)
    if problems:
        raise AppError(
            422,
            "invalid_thresholds",
            "A handover warning must come before its goal: " + problems[0][1],
            [{"field": field, "message": message} for field, message in problems],
        )


async def list_areas(*, session: AsyncSession) -> list[Area]:
    return list(await session.scalars(select(Area).order_by(Area.code)))


async def create_area(data: AreaCreate, *, session: AsyncSession, actor: Actor) -> Area:
    _check_rule_set(data.rule_set)
    _check_thresholds(
        data.handover_goal_minutes,
        data.handover_warning_minutes,
        data.model_dump()["handover_goals_by_place_type"],
    )
    if await session.scalar(select(Area.id).where(Area.code == data.code)) is not None:
        raise AppError(409, "area_exists", f"An area with code '{data.code}' already exists.")
    area = Area(
        **data.model_dump(exclude={"rcrp_scope", "handover_goals_by_place_type"}),
        rcrp_scope=data.rcrp_scope.model_dump(),
        handover_goals_by_place_type=data.model_dump()["handover_goals_by_place_type"],
    )
    session.add(area)
    await session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="area.create",
        subject_type="area",
        subject_id=area.code,
        detail=data.model_dump(mode="json"),
    )
    return area


async def update_area(code: str, data: AreaUpdate, *, session: AsyncSession, actor: Actor) -> Area:
    area = await get_by_code(code, session=session)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise Unprocessable("null_not_allowed", f"{name} cannot be null; leave it out.", name)
    if "rule_set" in changes:
        _check_rule_set(changes["rule_set"])
    _check_thresholds(
        changes.get("handover_goal_minutes", area.handover_goal_minutes),
        changes.get("handover_warning_minutes", area.handover_warning_minutes),
        # Only what is sent is checked: a stored bad setting must not block other changes.
        changes.get("handover_goals_by_place_type"),
    )
    before = {name: getattr(area, name) for name in changes}
    for name, value in changes.items():
        setattr(area, name, value)
    await session.flush()
    await session.refresh(area)
    audit.record(
        session=session,
        actor=actor,
        action="area.update",
        subject_type="area",
        subject_id=area.code,
        # Settings, not person data: what changed, from what to what.
        detail={
            "changed": {name: {"from": before[name], "to": getattr(area, name)} for name in changes}
        },
    )
    return area
