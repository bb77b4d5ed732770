"""Soak: many executions through 4 workers and 2 deciders on the embedded SWF, a poller kill -9'd every 10 s.

    python bench/soak.py [--executions 1000] [--workers 4] [--deciders 2] [--kill-every 10]
                         [--faults throttle=0.02] [--heartbeat 5] [--stall 180] [--kill-engine [--engine-every 30]]

The embedded SWF runs as `python -m swfagent local --port 0 --faults ...`; the pollers are the real
decider.py and worker.py in --loop; a chaos loop kill -9s a random poller every --kill-every seconds
and starts it again. With --kill-engine the embedded SWF runs with --data DIR on a fixed port, and every
--engine-every seconds it is killed (kill -9) with every poller, then all are started again. The workflow is A -> B; each task records its run (workflow id, activity id)
before it sleeps up to 0.3 s, so a kill can land mid-task. At the end it prints:

- completed, failed, and still open (lost) executions;
- activity runs, re-runs split into those explained by a timeout or failure of the attempt before
  in the history, and those that are not (the same activity id run twice, or a new attempt with no cause);
- throughput per 100 completions (the first block timed from the first completion, so start-up is
  left out), and the last 100's against the first 100's.

Numbers only: nothing is asserted. Stops only the processes it started.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from swfagent.client import make_client  # noqa: E402
from swfagent.config import load_config  # noqa: E402
from swfagent.executions import fetch_history as history  # noqa: E402
from swfagent.executions import list_executions, start_execution  # noqa: E402
from swfagent.history import fold  # noqa: E402
from swfagent.ids import parse_activity_id  # noqa: E402
from swfagent.status import ActivityStatus  # noqa: E402

TASK = '''import os, random, sys, time
with open(os.environ["SOAK_RECORD"], "a") as f:
    f.write(f"{os.environ['SWF_WORKFLOW_ID']} {os.environ['SWF_ACTIVITY_ID']}\\n")
time.sleep(random.random() * 0.3)
text = sys.stdin.read()
print(text or random.choice("abcdefghijklmnopqrstuvwxyz"))
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(folder: Path, heartbeat: int) -> Path:
    (folder / "task.py").write_text(TASK)
    activity = (f"    version: \"1.0\"\n    command: [python, {folder / 'task.py'}]\n    timeout: 60\n"
                f"    heartbeat_timeout: {heartbeat}\n    retries: 5\n    retry_delay: 1\n    retry_max_delay: 4\n")
    path = folder / "config.yaml"
    path.write_text(
        "domain: {name: SOAK}\n"
        "workflow:\n  name: Soak\n  version: \"1.0\"\n  task_list: soak\n  decision_timeout: 10\n"
        "  execution_timeout: 7200\n  steps:\n    - activity: A\n    - activity: B\n      after: [A]\n"
        f"activities:\n  A:\n{activity}  B:\n{activity}")
    return path


def start_server(faults: str, log: Path, data: Path | None = None, port: int = 0) -> tuple[subprocess.Popen[str], dict[str, str]]:
    argv = [sys.executable, "-m", "swfagent", "local", "--port", str(port), "--no-console"] + (
        ["--faults", faults] if faults else []) + (["--data", str(data)] if data else [])
    # a session of its own: a kill -9 of its group takes the snapshot it may be writing too
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=log.open("a"), text=True,
                            start_new_session=True)
    env: dict[str, str] = {}
    assert proc.stdout is not None
    while "AWS_ENDPOINT_URL_SWF" not in env:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"the embedded SWF did not start: see {log}")
        if line.startswith("export "):
            key, _, value = line[len("export "):].strip().partition("=")
            env[key] = value
    return proc, env


class Pollers:
    """The decider and worker processes, started again after each kill."""

    def __init__(self, config: Path, env: dict[str, str], logs: Path, workers: int, deciders: int):
        self.config, self.env, self.logs = config, env, logs
        self.slots = ["decider.py"] * deciders + ["worker.py"] * workers
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * len(self.slots)
        self.kills = 0

    def start(self, i: int) -> None:
        log = (self.logs / f"{i}-{self.slots[i]}.log").open("a")
        self.procs[i] = subprocess.Popen(
            [sys.executable, self.slots[i], "--loop", "--config", str(self.config)], cwd=ROOT, env=self.env,
            stdout=log, stderr=subprocess.STDOUT)

    def kill_one(self, rand: random.Random) -> None:
        i = rand.randrange(len(self.procs))
        proc = self.procs[i]
        if proc is not None and proc.poll() is None:
            proc.kill()  # kill -9 of the poller alone: its task, if any, runs on and its result is lost
            proc.wait()
            self.kills += 1
        self.start(i)

    def kill_all(self) -> None:
        """kill -9 every poller, then start each again."""
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
                self.kills += 1
        for i in range(len(self.procs)):
            self.start(i)

    def stop(self) -> None:
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            if proc is not None:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def reruns(config: Any, client: Any, record: Path, closed: list[dict[str, Any]]) -> tuple[int, int, int, int]:
    """(runs, first runs, re-runs explained by the history, re-runs unexplained)."""
    runs = collections.Counter(tuple(line.split()) for line in record.read_text().splitlines() if line.strip())
    explained = unexplained = first = 0
    states = {e["execution"]["workflowId"]: fold(history(client, config, e["execution"]["workflowId"],
                                                         e["execution"]["runId"])) for e in closed}
    for (workflow_id, activity_id), count in runs.items():
        unexplained += count - 1  # one activity id handed out twice
        step, attempt = parse_activity_id(activity_id)
        state = states.get(workflow_id)
        if attempt <= 1:
            first += 1
            continue
        before = state.activities.get(f"{step}-{attempt - 1}") if state else None
        if before is not None and before.status in (ActivityStatus.TIMED_OUT, ActivityStatus.FAILED):
            explained += 1
        else:
            unexplained += 1
    return sum(runs.values()), first, explained, unexplained


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--deciders", type=int, default=2)
    parser.add_argument("--kill-every", type=float, default=10.0, help="seconds between two kill -9 (0: none)")
    parser.add_argument("--faults", default="throttle=0.02", help="passed to python -m swfagent local --faults")
    parser.add_argument("--heartbeat", type=int, default=5, help="the activities' heartbeat_timeout")
    parser.add_argument("--stall", type=float, default=180.0, help="give up after this long without a completion")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kill-engine", action="store_true",
                        help="run the embedded SWF with --data, kill -9 it and every poller every --engine-every "
                             "seconds, and start them again")
    parser.add_argument("--engine-every", type=float, default=30.0, help="seconds between two kills of the engine")
    args = parser.parse_args(argv)
    rand = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="swfagent-soak-"))
    config_path = write_config(folder, args.heartbeat)
    record = folder / "runs.txt"
    data = folder / "data" if args.kill_engine else None
    port = free_port() if args.kill_engine else 0  # the same port after each restart
    server, swf_env = start_server(args.faults, folder / "server.log", data, port)
    engine_kills = 0
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **swf_env, "SOAK_RECORD": str(record)}
    os.environ.update(swf_env)
    pollers = Pollers(config_path, env, folder, args.workers, args.deciders)
    started = time.monotonic()
    try:
        config = load_config(config_path)
        client = make_client()
        assert subprocess.run([sys.executable, "register_swf.py", "--config", str(config_path)], cwd=ROOT, env=env,
                              capture_output=True).returncode == 0
        for i in range(len(pollers.slots)):
            pollers.start(i)
        for i in range(args.executions):
            start_execution(client, config, f"soak-{i}", None)
        print(f"soak: {args.executions} executions started in {time.monotonic() - started:.1f} s; "
              f"{args.workers} workers, {args.deciders} deciders; logs in {folder}", flush=True)
        done, last_change, next_kill = 0, time.monotonic(), time.monotonic() + args.kill_every
        next_engine_kill = time.monotonic() + args.engine_every
        while done < args.executions and time.monotonic() - last_change < args.stall:
            time.sleep(1)
            count = client.count_closed_workflow_executions(
                domain=config.domain.name, startTimeFilter={"oldestDate": 0})["count"]
            if count != done:
                done, last_change = count, time.monotonic()
                print(f"  {time.monotonic() - started:6.0f} s: {done} closed, {pollers.kills} poller kills, "
                      f"{engine_kills} engine kills", flush=True)
            if args.kill_every and time.monotonic() >= next_kill:
                pollers.kill_one(rand)
                next_kill += args.kill_every
            if args.kill_engine and time.monotonic() >= next_engine_kill and done < args.executions:
                os.killpg(server.pid, signal.SIGKILL)  # kill -9 of the embedded SWF (and a snapshot it writes)
                server.wait()
                engine_kills += 1
                began = time.monotonic()
                server, _ = start_server(args.faults, folder / "server.log", data, port)
                print(f"  {time.monotonic() - started:6.0f} s: the embedded SWF killed (kill -9) and started again "
                      f"in {time.monotonic() - began:.1f} s", flush=True)
                pollers.kill_all()
                next_engine_kill = time.monotonic() + args.engine_every
        elapsed = time.monotonic() - started
        pollers.stop()
        closed = list_executions(client, config, "closed")
        still_open = list_executions(client, config, "open")
        statuses = collections.Counter(e["closeStatus"] for e in closed)
        total, first, explained, unexplained = reruns(config, client, record, closed)
        times = sorted(e["closeTimestamp"].timestamp() for e in closed)
    finally:
        pollers.stop()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    print(f"\nsoak of {args.executions} executions, {args.workers} workers, {args.deciders} deciders, "
          f"kill -9 every {args.kill_every:g} s ({pollers.kills} kills), faults: {args.faults or 'none'}, {elapsed:.0f} s")
    if args.kill_engine:
        print(f"the embedded SWF (--data) and every poller killed (kill -9) every {args.engine_every:g} s: "
              f"{engine_kills} times")
    print(f"completed {statuses.get('COMPLETED', 0)}, failed {statuses.get('FAILED', 0)}, "
          f"other closes {sum(statuses.values()) - statuses.get('COMPLETED', 0) - statuses.get('FAILED', 0)}, "
          f"still open (lost) {len(still_open)}")
    print(f"activity runs {total}: first runs {first}, re-runs {total - first} "
          f"(explained by a timeout or failure in the history {explained}, unexplained {unexplained})")
    blocks = []  # block k: completions 100(k-1)+1 .. 100k, timed from the completion before it (the first: the first)
    for k in range(100, len(times) + 1, 100):
        previous = times[k - 100] if k == 100 else times[k - 101]
        blocks.append((100 if k > 100 else 99) / max(times[k - 1] - previous, 1e-9))
    if blocks:
        print("throughput per 100 completions (executions/s): " + " ".join(f"{b:.1f}" for b in blocks))
        print(f"last 100 at {blocks[-1] / blocks[0]:.0%} of the first 100's throughput")
    return 0


if __name__ == "__main__":
    sys.exit(main())
