"""What a poll costs on the embedded SWF with no closed execution and with many: it must not grow.

    python bench/poll_cost.py [--closed 1000] [--polls 200] [--rounds 3] [--moto]

For each round: schedule --polls activity tasks, time the polls that take them one by one (and a
CountPendingActivityTasks and a decision-task poll each time), then close --closed executions and
measure again. Prints the median milliseconds per call and the ratio. --moto measures moto's own
server the same way, for comparison. Numbers only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.swf import DOMAIN, Swf, client, decision, schedule  # noqa: E402

SERVER_MS: dict[str, list[float]] = {}  # operation -> milliseconds inside the embedded SWF, per call


def serve(use_moto: bool) -> tuple[str, Any]:
    """An endpoint and a stop function: the embedded SWF (its time per call recorded), or moto's own server."""
    if use_moto:
        import socket

        from moto.server import ThreadedMotoServer

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        moto.start()
        return f"http://127.0.0.1:{port}", moto.stop
    from swfagent.local import EmbeddedSWF, api

    inner = api.Layer.swf

    def timed(self: Any, environ: dict[str, Any], operation: str) -> Any:
        started = time.perf_counter()
        try:
            return inner(self, environ, operation)
        finally:
            SERVER_MS.setdefault(operation, []).append((time.perf_counter() - started) * 1000)

    api.Layer.swf = timed  # type: ignore[method-assign]
    swf = EmbeddedSWF(poll_seconds=1).start()
    return swf.endpoint, swf.stop


def measure(swf: Swf, polls: int, tag: str) -> dict[str, float]:
    """Milliseconds per call: taking an activity task, counting, and taking a decision task."""
    swf.start(f"fan-{tag}")
    swf.decide(*(schedule(f"a-{i}") for i in range(polls)))
    for i in range(polls):
        swf.start(f"d-{tag}-{i}")
    timings: dict[str, list[float]] = {"activity poll": [], "count": [], "decision poll": []}
    SERVER_MS.clear()
    for _ in range(polls):
        for name, call in (("count", lambda: swf.pending()), ("activity poll", swf.poll_activity),
                           ("decision poll", swf.poll_decision)):
            started = time.perf_counter()
            call()
            timings[name].append((time.perf_counter() - started) * 1000)
    result = {name: statistics.median(values) for name, values in timings.items()}
    for name, operation in (("server: activity poll", "PollForActivityTask"), ("server: decision poll", "PollForDecisionTask"),
                            ("server: count", "CountPendingActivityTasks")):
        if SERVER_MS.get(operation):
            result[name] = statistics.median(SERVER_MS[operation])
    for wid in [f"fan-{tag}"] + [f"d-{tag}-{i}" for i in range(polls)]:
        swf.c.terminate_workflow_execution(domain=DOMAIN, workflowId=wid)
    return result


def close_many(swf: Swf, count: int) -> None:
    """`count` executions started and completed (with one activity each), so closed ones pile up."""
    for i in range(count):
        swf.start(f"closed-{i}")
        swf.decide(schedule(f"x-{i}"))
        task = swf.poll_activity()
        swf.c.respond_activity_task_completed(taskToken=task["taskToken"], result="done")
        swf.decide(decision("CompleteWorkflowExecution"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--closed", type=int, default=1000)
    parser.add_argument("--polls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--moto", action="store_true", help="measure moto's own server instead")
    args = parser.parse_args(argv)
    endpoint, stop = serve(args.moto)
    try:
        swf = Swf(client(endpoint))
        rows = []
        for r in range(args.rounds):
            empty = measure(swf, args.polls, f"e{r}")
            rows.append(("none", empty))
        started = time.perf_counter()
        close_many(swf, args.closed)
        fill = time.perf_counter() - started
        for r in range(args.rounds):
            rows.append((str(args.closed), measure(swf, args.polls, f"f{r}")))
        listed = time.perf_counter()
        swf.c.list_closed_workflow_executions(domain=DOMAIN, startTimeFilter={"oldestDate": 0}, maximumPageSize=100)
        list_ms = (time.perf_counter() - listed) * 1000
    finally:
        stop()
    server = "moto's own server" if args.moto else "the embedded SWF"
    print(f"{server}: {args.polls} polls per round, {args.rounds} rounds; closing {args.closed} executions took {fill:.1f} s")
    names = list(rows[0][1])
    print("median milliseconds per call, as the client sees it" + (" and inside the server" if len(names) > 3 else ""))
    print(f"{'closed executions':>18} " + " ".join(f"{n:>22}" for n in names))
    for closed, m in rows:
        print(f"{closed:>18} " + " ".join(f"{m[n]:>22.2f}" for n in names))
    base = {k: statistics.median(m[k] for c, m in rows if c == "none") for k in rows[0][1]}
    full = {k: statistics.median(m[k] for c, m in rows if c != "none") for k in rows[0][1]}
    print("ratio, with / without: " + ", ".join(f"{k} {full[k] / base[k]:.2f}x" for k in base))
    print(f"one page of 100 closed executions (of {args.closed}): {list_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
