#!/usr/bin/env python3
"""Throughput of the article's workflow on the embedded SWF: N executions started at once, 1 decider, 2 workers.

    python bench/throughput.py                     # swfagent alone, 50 executions, 1 round
    python bench/throughput.py --peer              # swfagent and simpleflow, alternating, 3 rounds each
    python bench/throughput.py --executions 20 --rounds 2 --peer --logs /tmp/tp
    python bench/throughput.py --durable           # in memory and with --data DIR, alternating: the ratio

Each run has a fresh embedded SWF of its own (`python -m swfagent local`, its own process on
127.0.0.1), registers the types, starts the pollers in --loop (decider.py --stats, worker.py --stats
twice; for the peer `simpleflow decider.start -N 1` and `simpleflow worker.start -N 1` twice), starts
N executions back to back, waits for the N closes, stops everything, and reads the histories.

It prints, never asserts:
- executions per second, from the first WorkflowExecutionStarted to the last close (history timestamps);
- latency from start to close per execution: median, p95 (history timestamps);
- the decider's time per decision: its poll's answer received -> its respond handed to the socket;
- the worker's own overhead per task: the same span minus the task's subprocess run (Popen -> reaped);
- CPU seconds per execution of the decider and of the workers (/proc/PID/stat of each poller's
  process tree, utime+stime of the live processes plus cutime+cstime of the reaped ones, between the
  first start and the last close), the task scripts' own CPU apart;
- API calls per execution by operation, empty polls apart.

Timings come from a probe that runs each poller (bench/throughput_probe.py): it hooks
botocore's events on every SWF client the poller makes (before-parameter-build, before-send,
before-parse, after-call) and subprocess.Popen, and appends one JSON line per call and per subprocess
to FILE, with CLOCK_MONOTONIC times (time.perf_counter) that compare across processes. The poller's
own code runs unchanged. The probe costs a few tens of microseconds per API call, the same for both.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput_report import analyse, goals, med, ms, print_profile, report  # noqa: E402
from throughput_runs import HOST, OURS, PEER, PEER_REQUIREMENT, PEER_VENV, ROOT, one_run  # noqa: E402

DURABLE = "swfagent --data"  # the same, the embedded SWF durable: every change fsynced before its answer

# ---- the peer's venv ------------------------------------------------------------------------------


def ensure_peer_venv() -> None:
    python = PEER_VENV / "bin" / "python"
    check = [str(python), "-c", "import simpleflow, boto3"]
    if python.exists() and subprocess.run(check, capture_output=True, timeout=120).returncode == 0:
        return
    print(f"Installing {PEER_REQUIREMENT} into {PEER_VENV.relative_to(ROOT)} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True, timeout=300)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PEER_REQUIREMENT],
                   check=True, timeout=900)


# ---- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(prog="bench/throughput.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--executions", type=int, default=50, help="executions started at once (default 50)")
    p.add_argument("--rounds", type=int, help="runs of each (default: 3 with --peer, else 1)")
    p.add_argument("--peer", action="store_true", help="also run simpleflow, alternating, and print the ratio")
    p.add_argument("--durable", action="store_true",
                   help="also run swfagent on an embedded SWF with --data DIR, alternating, and print the ratio")
    p.add_argument("--timeout", type=float, help="seconds a run may take (default 120 + 2 per execution)")
    p.add_argument("--logs", help="keep each run's logs and probe files in this folder")
    p.add_argument("--poll-threads", type=int, default=1,
                   help="--concurrency of our decider and workers (default 1: one poll at a time per process)")
    p.add_argument("--profile", action="store_true",
                   help="CPU-profile swfagent's pollers (cProfile; slows them) and print where the time goes")
    args = p.parse_args(argv)
    rounds = args.rounds or (3 if args.peer or args.durable else 1)
    timeout = args.timeout or 120 + 2 * args.executions
    if args.peer:
        ensure_peer_venv()
    sys.path.insert(0, str(ROOT))
    logroot = Path(args.logs) if args.logs else Path(tempfile.mkdtemp(prefix="swfagent-throughput-"))
    print(f"{args.executions} executions at once, 1 decider, 2 workers, embedded SWF on {HOST}; "
          f"{rounds} round(s){' each, alternating with simpleflow' if args.peer else ''}; "
          f"{os.cpu_count()} CPUs", flush=True)
    results: dict[str, list[dict[str, Any]]] = {OURS: [], PEER: [], DURABLE: []}
    try:
        for r in range(rounds):
            order = [OURS] + ([PEER] if args.peer else []) + ([DURABLE] if args.durable else [])
            if r % 2 == 1:
                order.reverse()  # who goes first alternates, against drift
            for kind in order:
                profiled = " (profiled: cProfile inflates its timings)" if args.profile and kind == OURS else ""
                print(f"round {r + 1}: {kind}{profiled} ...", flush=True)
                folder = logroot / f"r{r + 1}-{kind.replace(' ', '')}"
                run = one_run(OURS if kind == DURABLE else kind, args.executions, folder, timeout,
                              profile=args.profile and kind == OURS, poll_threads=args.poll_threads,
                              data=folder / "data" if kind == DURABLE else None)
                a = analyse(run)
                a["kind"] = kind  # said in its report: with --data or not
                results[kind].append(a)
                report(a)
                for name, path in run.get("profiles", {}).items():
                    print_profile(name, path, args.executions)
                sys.stdout.flush()
    finally:
        if not args.logs:
            import shutil

            shutil.rmtree(logroot, ignore_errors=True)
        else:
            print(f"logs and probe files kept in {logroot}")
    ours = results[OURS]
    print("\nSummary (medians over rounds):")
    for kind in (OURS, PEER, DURABLE):
        rs = results[kind]
        if not rs:
            continue
        n = rs[0]["executions"]
        print(f"  {kind:15s} {med([a['eps'] for a in rs]):6.2f} executions/s (rounds: "
              f"{', '.join('%.2f' % a['eps'] for a in rs)}); latency median {med([a['lat_median'] for a in rs]):.2f} s, "
              f"p95 {med([a['lat_p95'] for a in rs]):.2f} s; decision {ms(med([med(a['decision'].get('total', [])) for a in rs]))} ms; "
              f"activity overhead {ms(med([med(a['activity'].get('overhead', [])) for a in rs]))} ms; "
              f"CPU/execution decider {ms(med([a['cpu_decider'] for a in rs]) / n)} ms, "
              f"workers' own {ms(med([a['cpu_workers'] - a['task_cpu'] for a in rs]) / n)} ms")
    ratio = None
    if results[PEER]:
        ratio = med([a["eps"] for a in ours]) / med([a["eps"] for a in results[PEER]])
        paired = [o["eps"] / q["eps"] for o, q in zip(ours, results[PEER])]
        print(f"  throughput ratio swfagent/simpleflow: {ratio:.2f}x (per round: "
              f"{', '.join(f'{x:.2f}' for x in paired)})")
    if results[DURABLE]:
        durable = med([a["eps"] for a in results[DURABLE]]) / med([a["eps"] for a in ours])
        paired = [d["eps"] / o["eps"] for o, d in zip(ours, results[DURABLE])]
        print(f"  throughput ratio --data/in memory: {durable:.0%} (per round: "
              f"{', '.join(f'{x:.0%}' for x in paired)}); goal >= 80% -> {'met' if durable >= 0.8 else 'MISSED'}")
    if ours:
        goals(ours[-1] if len(ours) == 1 else min(ours, key=lambda a: abs(a["eps"] - med([x["eps"] for x in ours]))),
              ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
