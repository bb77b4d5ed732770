"""A cron schedule ("m h dom mon dow", UTC) and its next time after a given one. Pure."""

from __future__ import annotations

import datetime as dt

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
_DAYS_AHEAD = 366 * 5  # a schedule such as "0 0 29 2 1" matches rarely: look this far, no further


def _field(text: str, low: int, high: int) -> frozenset[int]:
    """One field's values: *, N, A-B, and any of them /STEP, joined by commas."""
    values: set[int] = set()
    for part in text.split(","):
        spec, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if spec == "*":
            start, end = low, high
        elif "-" in spec:
            a, _, b = spec.partition("-")
            start, end = int(a), int(b)
        else:
            start = int(spec)
            end = high if step_text else start
        if not (low <= start <= end <= high) or step < 1:
            raise ValueError(part)
        values.update(range(start, end + 1, step))
    return frozenset(values)


def parse_cron(text: str) -> tuple[frozenset[int], ...]:
    """The five fields' values; ValueError naming the field that is wrong."""
    parts = text.split()
    if len(parts) != len(_FIELDS):
        raise ValueError(f"must have 5 fields (minute hour day-of-month month day-of-week), not {len(parts)}")
    out = []
    for part, (name, low, high) in zip(parts, _FIELDS, strict=True):
        try:
            out.append(_field(part, low, high))
        except ValueError:
            raise ValueError(f"{name} {part[:20]!r} is not *, N, A-B or those with /STEP, within {low}-{high}") from None
    return tuple(out)


def cron_problem(text: str) -> str | None:
    """Why a cron schedule cannot be read, or None."""
    try:
        parse_cron(text)
    except ValueError as exc:
        return str(exc)
    return None


def next_time(text: str, after: dt.datetime) -> dt.datetime | None:
    """The first minute after `after` (UTC) the schedule matches; None when none within five years."""
    minutes, hours, days, months, weekdays = parse_cron(text)
    weekdays = weekdays | ({0} if 7 in weekdays else set())
    start = after.astimezone(dt.timezone.utc).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    day = start.replace(hour=0, minute=0)
    for _ in range(_DAYS_AHEAD):
        restricted = len(days) < 31 and len(weekdays) < 7  # cron: either matches when both are restricted
        day_ok = (day.day in days or (day.isoweekday() % 7) in weekdays) if restricted else \
            (day.day in days and (day.isoweekday() % 7) in weekdays)
        if day.month in months and day_ok:
            for hour in sorted(hours):
                for minute in sorted(minutes):
                    at = day.replace(hour=hour, minute=minute)
                    if at >= start:
                        return at
        day += dt.timedelta(days=1)
    return None
