"""Retrying, in one place: the backoff's delays (pure: a retry timer's in config.yaml, a wait for SWF's capacity, the
poll loop's pauses) and retry(), which runs a call again through passing trouble until a deadline, as stamina's retry()
does. The clock, the sleep and the jitter's dice come in one Timing: the real ones by default, a test's when it passes
its own."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .logs import log

T = TypeVar("T")


def doubling(attempt: int, base: float, cap: float) -> float:
    """base for attempt 1, doubled for each one after, never past cap."""
    return float(min(cap, base * 2 ** min(max(attempt, 1) - 1, 64)))


def jittered(attempt: int, *, base: float = 1.0, cap: float = 30.0, jitter: float = 0.0) -> float:
    """doubling(), plus up to half again by jitter (a number in [0, 1)) while under the cap: pollers spread out."""
    delay = doubling(attempt, base, cap)
    return delay * (1 + jitter / 2) if delay < cap else cap


@dataclass(frozen=True)
class Backoff:
    """Jittered doubling delays from base to cap (seconds)."""

    base: float = 1.0
    cap: float = 30.0

    def delay(self, attempt: int, jitter: float = 0.0) -> float:
        """The wait before the attempt after `attempt` (1 for the first), jitter in [0, 1)."""
        return jittered(attempt, base=self.base, cap=self.cap, jitter=jitter)


AFTER_ERROR = Backoff(base=1.0, cap=30.0)  # a report's retries, and the poll loop's pause after an error


@dataclass(frozen=True)
class Timing:
    """The clock, the sleep and the jitter's dice that retries and pauses use."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random

    def delay(self, attempt: int, backoff: Backoff = AFTER_ERROR) -> float:
        """backoff's delay after `attempt`, jittered by this timing's dice."""
        return backoff.delay(attempt, self.rand())


REAL = Timing()


def _class_name(exc: Exception) -> str:
    return type(exc).__name__


def retry(
    call: Callable[[], T],
    what: str,
    *,
    until: float,
    on: Callable[[Exception], bool],
    code: Callable[[Exception], str] = _class_name,
    backoff: Backoff = AFTER_ERROR,
    timing: Timing = REAL,
) -> T:
    """call() until it works, fails for good (an error `on` does not accept), or the next try would start past
    `until` (a timing.clock() time): the last error is raised then. Each retry is logged as `what: code; retrying in`."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return call()
        except Exception as exc:
            if not on(exc):
                raise
            delay = timing.delay(attempt, backoff)
            if timing.clock() + delay > until:
                raise
            # the code only: a message may quote the request, task token included
            log.warning(f"{what}: {code(exc)}; retrying in {delay:.1f} s")
            timing.sleep(delay)
