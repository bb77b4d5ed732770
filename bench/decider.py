#!/usr/bin/env python3
"""Benchmark fold + decide on built histories of 1,000, 10,000 and 25,000 events (prints numbers, asserts none)."""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from swfagent.decide import decide  # noqa: E402
from swfagent.history import fold  # noqa: E402
from tests.flows import ARTICLE, config_from  # noqa: E402
from tests.histories import History  # noqa: E402

LONG = config_from([{"activity": "A", "id": f"s{i}"} if i == 0 else
                    {"activity": "A", "id": f"s{i}", "after": [f"s{i - 1}"]} for i in range(40)],
                   {"A": {"retries": 100, "retry_delay": 1}}, max_history_events=25_000)


def build(n: int) -> list[dict]:
    """A history of n events: a chain of 40 steps, each failing and retried through timers, as SWF would record it."""
    h = History(input="x")
    h.decision()
    per_step = max(1, n // (40 * 9))
    for i in range(40):
        step = f"s{i}"
        for attempt in range(1, per_step + 1):
            if len(h.events) >= n - 20:
                break
            h.schedule(step, attempt, activity="A").fail(step, "exit code 1", attempt=attempt).decision()
            h.timer(f"{step}-{attempt + 1}", 1).fire(f"{step}-{attempt + 1}").decision()
        else:
            h.schedule(step, per_step + 1, activity="A").complete(step, "ok", attempt=per_step + 1).decision()
            continue
        break
    while len(h.events) < n:
        h.signal("noise")
    return h.events[:n]


def baseline(events: list[dict]) -> dict[int, str]:
    """The floor: a hand-written loop that only tracks activity states."""
    status: dict[int, str] = {}
    for e in events:
        t = e["eventType"]
        if t == "ActivityTaskScheduled":
            status[e["eventId"]] = "SCHEDULED"
        elif t == "ActivityTaskCompleted":
            status[e["activityTaskCompletedEventAttributes"]["scheduledEventId"]] = "COMPLETED"
        elif t == "ActivityTaskFailed":
            status[e["activityTaskFailedEventAttributes"]["scheduledEventId"]] = "FAILED"
    return status


def timed(func, *args, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        func(*args)
        best = min(best, time.perf_counter() - t)
    return best * 1000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args(argv)
    print(f"{'events':>7}  {'fold+decide ms':>14}  {'per 1k events':>13}  {'baseline ms':>11}  {'ratio':>5}  {'peak MB':>7}")
    for n in (1_000, 10_000, 25_000):
        events = build(n)
        workflow = LONG.workflow
        fd = timed(lambda ev, w=workflow: decide(w, fold(ev)), events, repeat=args.repeat)
        base = timed(baseline, events, repeat=args.repeat)
        tracemalloc.start()
        decide(workflow, fold(events))
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        print(f"{len(events):>7}  {fd:>14.2f}  {fd / len(events) * 1000:>13.3f}  {base:>11.2f}  {fd / base:>5.1f}  {peak:>7.2f}")
    _ = ARTICLE
    return 0


if __name__ == "__main__":
    sys.exit(main())
