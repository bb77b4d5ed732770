"""Delays that double and are capped: a retry's (from config.yaml), a wait for SWF's capacity (from the history),
and the poll loop's after an error (with jitter). Pure: the sleeping is the caller's."""

from __future__ import annotations


def doubling(attempt: int, base: float, cap: float) -> float:
    """base for attempt 1, doubled for each one after, never past cap."""
    return float(min(cap, base * 2 ** min(max(attempt, 1) - 1, 64)))


def jittered(attempt: int, *, base: float = 1.0, cap: float = 30.0, jitter: float = 0.0) -> float:
    """doubling(), plus up to half again by jitter (a number in [0, 1)) while under the cap: pollers spread out."""
    delay = doubling(attempt, base, cap)
    return delay * (1 + jitter / 2) if delay < cap else cap
