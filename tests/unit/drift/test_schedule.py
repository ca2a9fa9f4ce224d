"""drift.schedule: the dates a scheduled event means to the weekly drift job (its window) and
the monthly outcomes job (its as-of date and lookback), from one reading of the event's time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from drift import schedule


def test_window_is_the_complete_days_before_the_event() -> None:
    window = schedule.window_for({"time": "2026-03-01T00:30:00Z"}, 7)
    assert (window.start, window.end) == (date(2026, 2, 22), date(2026, 2, 28))
    with pytest.raises(ValueError, match="ISO 8601"):
        schedule.window_for({"time": "yesterday"}, 7)


def test_event_time_is_utc_and_defaults_to_now() -> None:
    # 01:30 at UTC+2 is 23:30 UTC the day before: the window and the as-of date follow UTC.
    event = {"time": datetime(2026, 3, 1, 1, 30, tzinfo=timezone(timedelta(hours=2))).isoformat()}
    assert schedule.event_time(event) == datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    assert schedule.as_of_date(event) == date(2026, 2, 28)
    assert schedule.window_for(event, 1).end == date(2026, 2, 27)
    naive = schedule.event_time({"time": "2026-03-01T00:30:00"})
    assert naive == datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    now = datetime(2026, 5, 2, 6, tzinfo=UTC)
    assert schedule.event_time({}, now) == now == schedule.event_time("not a mapping", now)
    with pytest.raises(ValueError, match="ISO 8601"):
        schedule.as_of_date({"time": "first of the month"})


def test_the_as_of_date_and_lookback() -> None:
    assert schedule.as_of_date({"time": "2026-07-01T06:00:00Z"}) == date(2026, 7, 1)
    assert schedule.as_of_date({"time": "2026-07-01T06:00:00Z",
                                "detail": {"as_of": "2027-01-31"}}) == date(2027, 1, 31)
    assert schedule.first_day(date(2026, 7, 1), 25) == date(2024, 6, 1)
    assert schedule.first_day(date(2026, 7, 31), 1) == date(2026, 6, 1)
