"""The dates a scheduled event means to the monitor's jobs.

An EventBridge scheduled event carries its ``time``; a manual invoke with ``{}`` has none and
uses the current time. The weekly drift job reads the ``days`` complete UTC days before that
time (:func:`window_for`); the monthly outcomes job takes its UTC date, or ``detail.as_of``,
as the as-of date (:func:`as_of_date`) and reads captures from :func:`first_day` on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Window:
    event_time: datetime
    start: date
    end: date


def event_time(event: Any, now: datetime | None = None) -> datetime:
    """The event's ``time`` (else ``now``, else the current time), in UTC."""
    raw = event.get("time") if isinstance(event, Mapping) else None
    if raw:
        try:
            when = datetime.fromisoformat(str(raw))
        except ValueError:
            raise ValueError(f"event time is not an ISO 8601 timestamp: {raw!r}") from None
    else:
        when = now or datetime.now(UTC)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def window_for(event: Any, days: int, now: datetime | None = None) -> Window:
    """The window of a scheduled event: the ``days`` complete UTC days before its ``time``
    (an event at 2026-11-28T02:00Z with 7 days covers 2026-11-21 .. 2026-11-27)."""
    when = event_time(event, now)
    end = when.date() - timedelta(days=1)
    return Window(event_time=when, start=end - timedelta(days=days - 1), end=end)


def as_of_date(event: Any, now: datetime | None = None) -> date:
    """``detail.as_of`` if given, else the event's ``time`` (else now), as a UTC date."""
    event = event if isinstance(event, Mapping) else {}
    detail = event.get("detail") if isinstance(event.get("detail"), Mapping) else {}
    if detail.get("as_of"):
        return date.fromisoformat(str(detail["as_of"]))
    return event_time(event, now).date()


def first_day(as_of: date, lookback_months: int) -> date:
    """The first day of the month ``lookback_months`` before the as-of date's month."""
    from drift.cohorts import add_months

    return add_months(as_of.replace(day=1), -lookback_months)
