"""The s136 clocks and report arithmetic on their own: every state boundary, late entries,
stopped clocks, announcements, time validation, detention extensions, London days across the
clock changes, report periods and statistics, and properties over any aware datetimes."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.clocks import (
    CLOCK_KINDS,
    DETENTION_LIMIT,
    LONDON,
    MAX_SKEW,
    RESOLUTION,
    ClockError,
    ClockSpec,
    Threshold,
    age_band,
    assessment_spec,
    check_extension,
    check_not_future,
    check_order,
    deadline,
    detention_limit,
    detention_spec,
    due_thresholds,
    elapsed_minutes,
    fired_after_change,
    handover_spec,
    london_date,
    london_day_bounds,
    median,
    next_due_at,
    parse_period,
    percentile,
    restarted,
    share,
    spec_from_minutes,
    state_at,
    thresholds,
    welfare_check_spec,
    with_agreed_goal,
)

ARRIVED = datetime(2026, 5, 14, 14, 2, tzinfo=UTC)
US = RESOLUTION


def at(minutes: float = 0, seconds: float = 0, base: datetime = ARRIVED) -> datetime:
    return base + timedelta(minutes=minutes, seconds=seconds)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def london(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=LONDON, fold=fold)  # type: ignore[misc]


@pytest.fixture
def handover() -> ClockSpec:
    return handover_spec(ARRIVED)


# --- thresholds and the running states ---------------------------------------------------------


def test_handover_defaults_and_thresholds(handover: ClockSpec) -> None:
    assert handover.goal_minutes == 60
    assert handover.warning_minutes == 45
    assert deadline(handover) == at(60)
    assert thresholds(handover) == [
        Threshold("warning", at(45)),
        Threshold("breached", at(60) + US),
    ]


def test_assessment_and_welfare_defaults() -> None:
    assessment = assessment_spec(ARRIVED)
    assert (assessment.goal_minutes, assessment.warning_minutes) == (180, 150)
    welfare = welfare_check_spec(ARRIVED)
    assert (welfare.goal_minutes, welfare.warning_minutes) == (30, 25)


@pytest.mark.parametrize(
    ("now", "state", "elapsed"),
    [
        (at(0), "waiting", 0),
        (at(0, 59), "waiting", 0),
        (at(45) - US, "waiting", 44),
        (at(45), "warning", 45),  # the warning instant is inclusive
        (at(45, 1), "warning", 45),
        (at(59, 59), "warning", 59),
        (at(60), "warning", 60),  # at the deadline the goal can still be met
        (at(60) + US, "breached", 60),  # breached strictly after the deadline
        (at(60, 1), "breached", 60),
        (at(61), "breached", 61),
        (at(600), "breached", 600),
    ],
)
def test_running_state_boundaries(
    handover: ClockSpec, now: datetime, state: str, elapsed: int
) -> None:
    result = state_at(handover, now)
    assert result.state == state
    assert result.elapsed_minutes == elapsed
    assert result.deadline_at == at(60)
    assert result.within_goal is None
    assert result.outcome is None


@pytest.mark.parametrize("now", [at(45) - US, at(45), at(60) - US, at(60), at(60) + US, at(61)])
def test_state_and_announcements_agree_at_every_boundary(
    handover: ClockSpec, now: datetime
) -> None:
    reached = [t.name for t in due_thresholds(handover, now, set())]
    assert state_at(handover, now).state == (reached[-1] if reached else "waiting")


def test_now_before_the_recorded_start_is_waiting_with_nothing_elapsed(handover: ClockSpec) -> None:
    # An arrival entered up to 2 minutes ahead of the server clock.
    result = state_at(handover, at(-1, -30))
    assert (result.state, result.elapsed_minutes) == ("waiting", 0)


def test_a_clock_without_warning_goes_from_waiting_to_breached() -> None:
    spec = handover_spec(ARRIVED, warning=None)
    assert thresholds(spec) == [Threshold("breached", at(60) + US)]
    assert state_at(spec, at(59)).state == "waiting"
    assert state_at(spec, at(60)).state == "waiting"
    assert state_at(spec, at(60) + US).state == "breached"


def test_area_goal_is_used_when_the_clock_starts() -> None:
    spec = spec_from_minutes("handover", ARRIVED, 90, 70)
    assert thresholds(spec) == [Threshold("warning", at(70)), Threshold("breached", at(90) + US)]
    assert state_at(spec, at(75)).state == "warning"


def test_elapsed_is_measured_across_a_clock_change_in_real_minutes() -> None:
    # 00:50 GMT to 02:50 BST on 29 March 2026 is one hour, not two.
    spec = handover_spec(london(2026, 3, 29, 0, 50))
    assert spec.started_at == utc(2026, 3, 29, 0, 50)
    result = state_at(spec, london(2026, 3, 29, 2, 50))
    assert (result.state, result.elapsed_minutes) == ("warning", 60)
    assert state_at(spec, london(2026, 3, 29, 2, 50, 1)).state == "breached"


def test_elapsed_minutes_rounds_down_and_never_goes_negative() -> None:
    assert elapsed_minutes(ARRIVED, at(59, 59)) == 59
    assert elapsed_minutes(ARRIVED, at(60)) == 60
    assert elapsed_minutes(ARRIVED, at(-1)) == 0
    # Both ends in London across the fall-back hour: 01:30 BST to 01:10 GMT is 40 minutes.
    start = london(2026, 10, 25, 1, 30)
    assert elapsed_minutes(start, london(2026, 10, 25, 1, 10, fold=1)) == 40


# --- late entries ------------------------------------------------------------------------------


def test_arrival_entered_twenty_minutes_late_counts_from_the_recorded_time() -> None:
    spec = handover_spec(ARRIVED)  # "arrived 14:02", entered at 14:22
    entered = at(20)
    assert state_at(spec, entered).elapsed_minutes == 20
    assert state_at(spec, entered).state == "waiting"
    assert due_thresholds(spec, entered, set()) == []
    assert next_due_at(spec, set()) == at(45)


def test_thresholds_already_passed_when_entered_are_due_at_once_in_order() -> None:
    spec = handover_spec(ARRIVED)
    entered = at(70)
    assert [t.name for t in due_thresholds(spec, entered, set())] == ["warning", "breached"]
    assert state_at(spec, entered).state == "breached"
    assert state_at(spec, entered).elapsed_minutes == 70


def test_handover_entered_late_still_owes_the_breach_it_crossed(handover: ClockSpec) -> None:
    # Handed over at 70 minutes, entered at 90, while no instance announced anything.
    due = due_thresholds(handover, at(90), set(), stopped_at=at(70))
    assert [t.name for t in due] == ["warning", "breached"]
    assert due[1].at == at(60) + US


# --- stopped clocks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stopped", "within", "outcome", "elapsed"),
    [
        (at(0), True, "met", 0),
        (at(50), True, "met", 50),
        (at(60), True, "met", 60),  # exactly 60:00 is within the hour
        (at(60) + US, False, "missed", 60),
        (at(60, 1), False, "missed", 60),
        (at(75), False, "missed", 75),
    ],
)
def test_stopped_handover(
    handover: ClockSpec, stopped: datetime, within: bool, outcome: str, elapsed: int
) -> None:
    result = state_at(handover, at(120), stopped_at=stopped)
    assert result.state == "handed_over"
    assert result.within_goal is within
    assert result.outcome == outcome
    assert result.elapsed_minutes == elapsed
    assert result.deadline_at == at(60)


def test_agreed_goal_is_reported_as_agreed_not_met(handover: ClockSpec) -> None:
    agreed = with_agreed_goal(handover, timedelta(minutes=90))
    assert agreed.agreed
    assert deadline(agreed) == at(90)
    assert agreed.warning_minutes == 75  # the warning keeps its 15-minute lead
    assert state_at(agreed, at(120), stopped_at=at(80)).outcome == "agreed"
    assert state_at(agreed, at(120), stopped_at=at(90)).outcome == "agreed"
    missed = state_at(agreed, at(120), stopped_at=at(95))
    assert (missed.within_goal, missed.outcome) == (False, "missed")
    assert state_at(agreed, at(70)).state == "waiting"


def test_agreement_only_lengthens_a_handover_goal(handover: ClockSpec) -> None:
    for goal in (timedelta(minutes=60), timedelta(minutes=30)):
        with pytest.raises(ClockError) as refused:
            with_agreed_goal(handover, goal)
        assert refused.value.field == "goal_minutes"
    with pytest.raises(ClockError):
        with_agreed_goal(assessment_spec(ARRIVED), timedelta(hours=4))
    no_warning = with_agreed_goal(handover_spec(ARRIVED, warning=None), timedelta(minutes=90))
    assert no_warning.warning is None


def test_other_clocks_stop_as_stopped() -> None:
    result = state_at(assessment_spec(ARRIVED), at(300), stopped_at=at(170))
    assert (result.state, result.within_goal, result.outcome) == ("stopped", True, "met")
    result = state_at(detention_spec(ARRIVED), at(2000), stopped_at=at(25 * 60))
    assert (result.state, result.outcome) == ("stopped", "missed")


def test_a_recorded_stop_is_final_whatever_now_is(handover: ClockSpec) -> None:
    # Handover entered within skew, a minute ahead of the server.
    result = state_at(handover, at(49), stopped_at=at(50))
    assert (result.state, result.elapsed_minutes, result.outcome) == ("handed_over", 50, "met")


# --- announcements -----------------------------------------------------------------------------


def test_due_thresholds_skip_those_already_fired(handover: ClockSpec) -> None:
    assert [t.name for t in due_thresholds(handover, at(46), set())] == ["warning"]
    assert due_thresholds(handover, at(46), {"warning"}) == []
    assert [t.name for t in due_thresholds(handover, at(61), {"warning"})] == ["breached"]
    assert due_thresholds(handover, at(61), frozenset({"warning", "breached"})) == []


def test_a_clock_stopped_before_its_warning_owes_nothing(handover: ClockSpec) -> None:
    assert due_thresholds(handover, at(500), set(), stopped_at=at(30)) == []
    assert next_due_at(handover, set(), stopped_at=at(30)) is None


def test_a_clock_stopped_within_goal_never_breaches(handover: ClockSpec) -> None:
    for stopped in (at(50), at(60)):
        due = due_thresholds(handover, at(500), set(), stopped_at=stopped)
        assert [t.name for t in due] == ["warning"]
        assert next_due_at(handover, {"warning"}, stopped_at=stopped) is None


def test_stopped_exactly_at_the_warning_instant_owes_the_warning(handover: ClockSpec) -> None:
    # The running clock showed `warning` at that instant, so it was a real crossing.
    due = due_thresholds(handover, at(50), set(), stopped_at=at(45))
    assert [t.name for t in due] == ["warning"]
    assert due_thresholds(handover, at(50), set(), stopped_at=at(45) - US) == []


def test_nothing_is_due_before_its_instant_even_if_the_stop_is_later(handover: ClockSpec) -> None:
    assert due_thresholds(handover, at(44), set(), stopped_at=at(46)) == []


def test_next_due_at(handover: ClockSpec) -> None:
    assert next_due_at(handover, set()) == at(45)
    assert next_due_at(handover, {"warning"}) == at(60) + US
    assert next_due_at(handover, {"warning", "breached"}) is None
    # Entered late: the owed warning is due in the past, so a worker picks it up at once.
    assert next_due_at(handover, set(), stopped_at=at(70)) == at(45)


def test_a_longer_goal_rearms_thresholds_it_moves_into_the_future(handover: ClockSpec) -> None:
    agreed = with_agreed_goal(handover, timedelta(minutes=120))  # warning now at 105
    assert fired_after_change(agreed, {"warning"}, at(50)) == frozenset()
    assert fired_after_change(agreed, {"warning", "breached"}, at(65)) == frozenset()
    # Agreed late: the new warning instant had already passed, it stays announced.
    assert fired_after_change(agreed, {"warning", "breached"}, at(110)) == {"warning"}


def test_a_welfare_check_restarts_its_clock() -> None:
    spec = welfare_check_spec(ARRIVED)
    assert state_at(spec, at(31)).state == "breached"
    checked = restarted(spec, at(28))
    assert checked.started_at == at(28)
    assert state_at(checked, at(31)).state == "waiting"
    assert [t.at for t in thresholds(checked)] == [at(53), at(58) + US]
    with pytest.raises(ClockError) as refused:
        restarted(spec, at(-1))
    assert refused.value.field == "at"


# --- specs and time validation -----------------------------------------------------------------


def test_clock_kinds() -> None:
    assert CLOCK_KINDS == ("handover", "assessment", "detention", "welfare_check")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "tea_break"}, "kind"),
        ({"goal": timedelta(0)}, "goal_minutes"),
        ({"warning": timedelta(minutes=60)}, "warning_minutes"),
        ({"warning": timedelta(minutes=61)}, "warning_minutes"),
        ({"warning": timedelta(0)}, "warning_minutes"),
        ({"started_at": datetime(2026, 5, 14, 14, 2)}, "started_at"),
        ({"kind": "assessment", "agreed": True}, "agreed"),
    ],
)
def test_bad_specs_are_refused(kwargs: dict, field: str) -> None:
    values = {
        "kind": "handover",
        "started_at": ARRIVED,
        "goal": timedelta(minutes=60),
        "warning": timedelta(minutes=45),
    }
    with pytest.raises(ClockError) as refused:
        ClockSpec(**{**values, **kwargs})
    assert refused.value.field == field


def test_started_at_is_kept_in_utc() -> None:
    spec = handover_spec(london(2026, 7, 1, 15, 0))
    assert spec.started_at == utc(2026, 7, 1, 14, 0)
    assert spec.started_at.tzinfo is UTC


def test_state_at_refuses_a_naive_now(handover: ClockSpec) -> None:
    with pytest.raises(ClockError):
        state_at(handover, datetime(2026, 5, 14, 15, 0))


def test_times_up_to_two_minutes_ahead_are_accepted() -> None:
    now = at(30)
    check_not_future(now + MAX_SKEW, now, "at")
    check_not_future(now + timedelta(seconds=30), now, "at")
    check_not_future(now - timedelta(days=3), now, "at")  # entered late: fine
    check_not_future((now + MAX_SKEW).astimezone(LONDON), now, "at")


@pytest.mark.parametrize("ahead", [MAX_SKEW + US, timedelta(minutes=3), timedelta(days=1)])
def test_times_further_ahead_are_refused(ahead: timedelta) -> None:
    with pytest.raises(ClockError) as refused:
        check_not_future(at(30) + ahead, at(30), "at")
    assert (refused.value.field, refused.value.code) == ("at", "time_in_future")
    assert "future" in refused.value.message
    assert isinstance(refused.value, ValueError)


def test_a_time_without_offset_is_refused() -> None:
    with pytest.raises(ClockError) as refused:
        check_not_future(datetime(2026, 5, 14, 14, 0), ARRIVED, "arrived_at")
    assert refused.value.field == "arrived_at"


def test_handover_before_arrival_is_refused() -> None:
    with pytest.raises(ClockError) as refused:
        check_order(ARRIVED, at(-1), "arrived_at", "at")
    assert (refused.value.field, refused.value.code) == ("at", "time_out_of_order")
    assert (
        refused.value.message == "'at' cannot be before 'arrived_at' (2026-05-14T14:02:00+00:00)."
    )
    check_order(ARRIVED, ARRIVED, "arrived_at", "at")
    check_order(ARRIVED, at(1), "arrived_at", "at")


def test_order_is_by_instant_in_the_repeated_hour() -> None:
    first = london(2026, 10, 25, 1, 30)  # BST, 00:30 UTC
    second = london(2026, 10, 25, 1, 10, fold=1)  # GMT, 01:10 UTC
    check_order(first, second, "arrived_at", "at")
    with pytest.raises(ClockError):
        check_order(second, first, "arrived_at", "at")


# --- detention (S2) ----------------------------------------------------------------------------


def test_detention_clock_is_24_hours_with_a_warning_2_hours_before() -> None:
    spec = detention_spec(ARRIVED)
    assert spec.kind == "detention"
    assert deadline(spec) == ARRIVED + DETENTION_LIMIT == detention_limit(ARRIVED)
    assert thresholds(spec)[0] == Threshold("warning", at(22 * 60))
    assert state_at(spec, at(23 * 60)).state == "warning"
    assert state_at(spec, at(24 * 60)).state == "warning"
    assert state_at(spec, at(24 * 60) + US).state == "breached"


def test_an_extension_moves_the_limit_and_the_warning() -> None:
    spec = detention_spec(ARRIVED, extension_hours=12)
    assert deadline(spec) == at(36 * 60) == detention_limit(ARRIVED, 12)
    assert thresholds(spec)[0].at == at(34 * 60)
    assert state_at(spec, at(25 * 60)).state == "waiting"
    # The warning announced before the extension is announced again before the new limit.
    assert fired_after_change(spec, {"warning"}, at(23 * 60)) == frozenset()


def test_detention_limit_is_24_real_hours_across_the_fall_back() -> None:
    started = london(2026, 10, 24, 12, 0)  # BST
    assert detention_limit(started) == london(2026, 10, 25, 11, 0)  # GMT: 25 wall-clock hours


@pytest.mark.parametrize("hours", [-1, 13, True])
def test_detention_spec_refuses_impossible_extensions(hours: int) -> None:
    with pytest.raises(ClockError) as refused:
        detention_spec(ARRIVED, hours)
    assert refused.value.field == "extension_hours"


def extend(
    requested_at: datetime,
    hours: int = 6,
    existing: int = 0,
    police_station: bool = False,
    superintendent: str | None = None,
    now: datetime | None = None,
) -> None:
    check_extension(
        ARRIVED,
        now or requested_at,
        requested_at,
        hours,
        existing,
        police_station,
        superintendent,
    )


def test_an_extension_before_the_limit_is_accepted() -> None:
    extend(at(20 * 60), hours=12)
    extend(at(24 * 60), hours=1)  # at the limit itself: not yet expired
    extend(at(20 * 60), hours=6, existing=6)
    extend(at(29 * 60), hours=2, existing=6)  # the earlier extension moved the limit to 30 h
    extend(at(20 * 60), police_station=True, superintendent="Supt Rao")
    # Decided before the limit, entered after it.
    extend(at(23 * 60), now=at(26 * 60))


@pytest.mark.parametrize("hours", [0, -2, 13, True])
def test_extension_hours_must_be_1_to_12(hours: int) -> None:
    with pytest.raises(ClockError) as refused:
        extend(at(20 * 60), hours=hours)
    assert (refused.value.field, refused.value.code) == ("hours", "extension_refused")


def test_extensions_total_at_most_12_hours() -> None:
    with pytest.raises(ClockError) as refused:
        extend(at(20 * 60), hours=5, existing=8)
    assert refused.value.field == "hours"
    assert "4 remain" in refused.value.message
    with pytest.raises(ClockError):
        extend(at(20 * 60), hours=1, existing=12)


def test_an_extension_after_expiry_is_refused() -> None:
    for requested, existing in ((at(24 * 60) + US, 0), (at(25 * 60), 0), (at(30 * 60, 1), 6)):
        with pytest.raises(ClockError) as refused:
            extend(requested, hours=1, existing=existing)
        assert refused.value.field == "at"
        assert "expired" in refused.value.message


def test_an_extension_in_the_future_is_refused_within_skew_accepted() -> None:
    now = at(20 * 60)
    extend(now + MAX_SKEW, now=now)
    with pytest.raises(ClockError) as refused:
        extend(now + timedelta(minutes=3), now=now)
    assert (refused.value.field, refused.value.code) == ("at", "time_in_future")


def test_an_extension_before_the_detention_started_is_refused() -> None:
    with pytest.raises(ClockError) as refused:
        extend(at(-5))
    assert refused.value.field == "at"


@pytest.mark.parametrize("superintendent", [None, "", "   "])
def test_at_a_police_station_a_superintendent_must_approve(superintendent: str | None) -> None:
    with pytest.raises(ClockError) as refused:
        extend(at(20 * 60), police_station=True, superintendent=superintendent)
    assert refused.value.field == "superintendent"
    extend(at(20 * 60), police_station=False, superintendent=superintendent)


# --- London days and report periods ------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "start", "end", "hours"),
    [
        (date(2026, 1, 15), utc(2026, 1, 15), utc(2026, 1, 16), 24),
        (date(2026, 7, 1), utc(2026, 6, 30, 23), utc(2026, 7, 1, 23), 24),
        (date(2026, 3, 29), utc(2026, 3, 29), utc(2026, 3, 29, 23), 23),  # spring forward
        (date(2026, 10, 25), utc(2026, 10, 24, 23), utc(2026, 10, 26), 25),  # fall back
        (date(2026, 3, 30), utc(2026, 3, 29, 23), utc(2026, 3, 30, 23), 24),
        (date(2026, 10, 26), utc(2026, 10, 26), utc(2026, 10, 27), 24),
    ],
)
def test_london_day_bounds(day: date, start: datetime, end: datetime, hours: int) -> None:
    assert london_day_bounds(day) == (start, end)
    assert end - start == timedelta(hours=hours)
    assert start.tzinfo is UTC


def test_just_after_midnight_in_bst_is_the_next_london_day() -> None:
    # 23:30 UTC on 1 July is 00:30 BST on 2 July.
    instant = utc(2026, 7, 1, 23, 30)
    assert london_date(instant) == date(2026, 7, 2)
    start, end = london_day_bounds(date(2026, 7, 2))
    assert start <= instant < end
    assert london_date(utc(2026, 7, 1, 22, 59, 59)) == date(2026, 7, 1)
    assert london_date(utc(2026, 1, 1, 23, 30)) == date(2026, 1, 1)  # GMT: same day


def test_period_defaults_to_today_in_london() -> None:
    now = utc(2026, 7, 1, 23, 30)  # already 2 July in London
    assert parse_period(None, None, now) == london_day_bounds(date(2026, 7, 2))


def test_period_of_dates_covers_whole_london_days_to_inclusive() -> None:
    start, end = parse_period(date(2026, 3, 1), date(2026, 3, 31), utc(2026, 5, 1))
    assert start == utc(2026, 3, 1)
    assert end == utc(2026, 3, 31, 23)  # 1 April 00:00 BST
    one_day = parse_period(date(2026, 10, 25), date(2026, 10, 25), utc(2026, 11, 1))
    assert one_day == london_day_bounds(date(2026, 10, 25))


def test_period_with_one_end_given() -> None:
    now = utc(2026, 5, 14, 10)
    assert parse_period(date(2026, 5, 1), None, now) == (utc(2026, 4, 30, 23), utc(2026, 5, 14, 23))
    assert parse_period(None, date(2026, 5, 3), now) == london_day_bounds(date(2026, 5, 3))
    assert parse_period(None, utc(2026, 5, 3, 12), now) == (
        utc(2026, 5, 2, 23),
        utc(2026, 5, 3, 12),
    )
    # A `to` at London midnight ends the day before: that whole day.
    assert parse_period(None, utc(2026, 5, 2, 23), now) == london_day_bounds(date(2026, 5, 2))


def test_period_datetimes_are_taken_as_given() -> None:
    start, end = parse_period(london(2026, 7, 1, 9, 0), utc(2026, 7, 1, 17, 0), utc(2026, 8, 1))
    assert (start, end) == (utc(2026, 7, 1, 8, 0), utc(2026, 7, 1, 17, 0))
    assert start.tzinfo is UTC
    mixed = parse_period(date(2026, 7, 1), utc(2026, 7, 1, 12), utc(2026, 8, 1))
    assert mixed == (utc(2026, 6, 30, 23), utc(2026, 7, 1, 12))


@pytest.mark.parametrize("field", ["from", "to"])
def test_period_refuses_naive_datetimes(field: str) -> None:
    naive = datetime(2026, 7, 1, 9, 0)
    args = {"from_": utc(2026, 6, 1), "to": utc(2026, 7, 2)}
    args["from_" if field == "from" else "to"] = naive
    with pytest.raises(ClockError) as refused:
        parse_period(args["from_"], args["to"], utc(2026, 8, 1))
    assert refused.value.field == field


def test_period_refuses_from_at_or_after_to() -> None:
    now = utc(2026, 8, 1)
    for from_, to in (
        (date(2026, 7, 2), date(2026, 7, 1)),
        (utc(2026, 7, 1, 12), utc(2026, 7, 1, 11)),
        (date(2026, 9, 1), None),  # from after the end of today
        (utc(2026, 7, 1), utc(2026, 7, 1)),  # empty
        (date(2026, 7, 2), utc(2026, 7, 1, 23)),  # from the start of 2 July to that instant
    ):
        with pytest.raises(ClockError) as refused:
            parse_period(from_, to, now)
        assert (refused.value.field, refused.value.code) == ("from", "invalid_period")


def test_period_may_cover_366_london_days_and_no_more() -> None:
    now = utc(2027, 1, 1)
    leap_year = parse_period(date(2024, 1, 1), date(2024, 12, 31), now)
    assert leap_year[1] - leap_year[0] == timedelta(days=366)
    # 366 days from BST into GMT last 366 days and an hour: still allowed.
    start, end = parse_period(date(2025, 10, 25), date(2026, 10, 25), now)
    assert end - start == timedelta(days=366, hours=1)
    for from_, to in (
        (date(2024, 1, 1), date(2025, 1, 1)),
        (date(2025, 10, 25), date(2026, 10, 26)),
        (utc(2024, 1, 1), utc(2025, 1, 1, 0, 0, 1)),
    ):
        with pytest.raises(ClockError) as refused:
            parse_period(from_, to, now)
        assert refused.value.field == "to"


# --- age bands and statistics ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (None, "not_known"),
        (0, "under_18"),
        (17, "under_18"),
        (18, "18_and_over"),
        (90, "18_and_over"),
    ],
)
def test_age_band(age: int | None, band: str) -> None:
    assert age_band(age) == band


def test_age_band_refuses_a_negative_age() -> None:
    with pytest.raises(ValueError):
        age_band(-1)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], None), ([7], 7.0), ([3, 1, 2], 2.0), ([4, 1, 3, 2], 2.5), ([10, 7, 4, 3, 2, 1], 3.5)],
)
def test_median(values: list[float], expected: float | None) -> None:
    assert median(values) == expected


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    # Expected values as numpy.percentile(values, p) gives them (method="linear").
    [
        (list(range(1, 11)), 90, 9.1),
        (list(range(1, 11)), 50, 5.5),
        ([15, 20, 35, 40, 50], 40, 29.0),
        ([15, 20, 35, 40, 50], 90, 46.0),
        ([15, 20, 35, 40, 50], 0, 15.0),
        ([15, 20, 35, 40, 50], 100, 50.0),
        ([50, 15, 40, 20, 35], 25, 20.0),
        ([42], 90, 42.0),
        ([10, 20], 90, 19.0),
        ([1.5, 2.5, 10.0], 75, 6.25),
    ],
)
def test_percentile_matches_numpy_linear(values: list[float], p: float, expected: float) -> None:
    assert percentile(values, p) == pytest.approx(expected)


def test_percentile_of_nothing_and_out_of_range() -> None:
    assert percentile([], 90) is None
    for p in (-1, 100.5):
        with pytest.raises(ValueError):
            percentile([1, 2], p)


def test_share() -> None:
    assert share(0, 0) is None
    assert share(3, 4) == 0.75


# --- properties --------------------------------------------------------------------------------

aware = st.datetimes(timezones=st.timezones())
utc_instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
zones = st.sampled_from([UTC, LONDON, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")])


@st.composite
def specs(draw: st.DrawFn) -> ClockSpec:
    kind = draw(st.sampled_from(CLOCK_KINDS))
    started = draw(utc_instants).astimezone(draw(zones))
    goal = draw(st.integers(min_value=1, max_value=36 * 60))
    warning = draw(
        st.none() | st.integers(min_value=1, max_value=goal - 1) if goal > 1 else st.none()
    )
    agreed = kind == "handover" and draw(st.booleans())
    return spec_from_minutes(kind, started, goal, warning, agreed)


STATE_ORDER = ("waiting", "warning", "breached")


@given(specs(), aware, st.none() | aware)
def test_state_at_never_raises_for_aware_datetimes(
    spec: ClockSpec, now: datetime, stopped_at: datetime | None
) -> None:
    result = state_at(spec, now, stopped_at)
    assert result.elapsed_minutes >= 0
    assert result.deadline_at == deadline(spec)
    if stopped_at is None:
        assert result.state in STATE_ORDER
        assert result.within_goal is None
        assert result.outcome is None
    else:
        assert result.state in ("handed_over", "stopped")
        assert result.outcome in (("agreed", "missed") if spec.agreed else ("met", "missed"))
        assert result.within_goal is (result.outcome != "missed")


@given(
    specs(), st.timedeltas(min_value=timedelta(hours=-2), max_value=timedelta(hours=48)), st.data()
)
def test_elapsed_and_state_are_monotonic_in_now(
    spec: ClockSpec, offset: timedelta, data: st.DataObject
) -> None:
    later_by = data.draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=30)))
    earlier = (spec.started_at + offset).astimezone(data.draw(zones))
    later = (spec.started_at + offset + later_by).astimezone(data.draw(zones))
    first, second = state_at(spec, earlier), state_at(spec, later)
    assert first.elapsed_minutes <= second.elapsed_minutes
    assert STATE_ORDER.index(first.state) <= STATE_ORDER.index(second.state)


@given(specs())
def test_thresholds_are_in_time_order(spec: ClockSpec) -> None:
    found = thresholds(spec)
    assert [t.at for t in found] == sorted(t.at for t in found)
    assert [t.name for t in found] == (["warning", "breached"] if spec.warning else ["breached"])
    assert found[-1].at == deadline(spec) + RESOLUTION
    assert all(t.at > spec.started_at for t in found)


@given(specs(), st.timedeltas(min_value=timedelta(hours=-1), max_value=timedelta(hours=40)))
def test_running_state_is_the_last_threshold_announced(spec: ClockSpec, offset: timedelta) -> None:
    now = spec.started_at + offset
    reached = [t.name for t in due_thresholds(spec, now, set())]
    assert state_at(spec, now).state == (reached[-1] if reached else "waiting")


@given(
    specs(),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=40)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=40)),
)
def test_a_stopped_clock_owes_a_breach_exactly_when_it_missed(
    spec: ClockSpec, stopped_after: timedelta, entered_after: timedelta
) -> None:
    stopped = spec.started_at + stopped_after
    now = stopped + entered_after
    owed = {t.name for t in due_thresholds(spec, now, set(), stopped_at=stopped)}
    assert ("breached" in owed) is (state_at(spec, now, stopped).outcome == "missed")
