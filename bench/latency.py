"""One execution at a time through idle pollers: start -> close latency, and what an idle poller costs SWF.

    python bench/latency.py [--executions 8] [--idle 125]

Starts the embedded SWF (`python -m swfagent local`, its own process, polls held 60 s as on SWF), one
decider and one worker in --loop --stats on the shipped config.yaml (the article's A -> B), then
starts executions one after the other, each once the one before has closed, and reads each one's
start -> close from its history. Then it leaves the pollers idle for --idle seconds, stops them
with SIGTERM (they let their poll finish) and reads their empty polls from --stats.
Numbers only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from swfagent.client import make_client  # noqa: E402
from swfagent.config import load_config  # noqa: E402
from swfagent.executions import fetch_history as history  # noqa: E402
from swfagent.executions import list_executions, start_execution  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--executions", type=int, default=8)
    parser.add_argument("--idle", type=float, default=125.0, help="seconds the pollers are left idle (0: skip)")
    args = parser.parse_args(argv)
    server = subprocess.Popen([sys.executable, "-m", "swfagent", "local", "--port", "0", "--no-console"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    swf_env: dict[str, str] = {}
    assert server.stdout is not None
    for line in server.stdout:
        if line.startswith("export "):
            key, _, value = line[len("export "):].strip().partition("=")
            swf_env[key] = value
        if "AWS_ENDPOINT_URL_SWF" in swf_env:
            break
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **swf_env}
    os.environ.update(swf_env)
    pollers: list[subprocess.Popen[str]] = []
    try:
        subprocess.run([sys.executable, "register_swf.py"], cwd=ROOT, env=env, check=True, capture_output=True)
        for script in ("decider.py", "worker.py"):
            pollers.append(subprocess.Popen([sys.executable, script, "--loop", "--stats"], cwd=ROOT, env=env,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        config = load_config(ROOT / "config.yaml")
        client = make_client()
        time.sleep(2)  # the pollers are up and waiting in their polls
        latencies = []
        for i in range(args.executions):
            run_id, _ = start_execution(client, config, f"latency-{i}", None)
            while not list_executions(client, config, "closed", workflow_id=f"latency-{i}"):
                time.sleep(0.02)
            events = history(client, config, f"latency-{i}", run_id)
            latencies.append((events[-1]["eventTimestamp"] - events[0]["eventTimestamp"]).total_seconds())
        idle_start = time.monotonic()
        time.sleep(args.idle)
        for proc in pollers:
            proc.send_signal(signal.SIGTERM)
        stats = [proc.communicate(timeout=90)[1] for proc in pollers]
        idle = time.monotonic() - idle_start
    finally:
        for proc in pollers:
            if proc.poll() is None:
                proc.kill()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(f"one A -> B execution at a time, idle decider and worker, {args.executions} runs: start -> close "
          f"median {statistics.median(latencies):.3f} s (min {min(latencies):.3f}, max {max(latencies):.3f})")
    if args.idle:
        for name, err in zip(("decider", "worker"), stats, strict=True):
            found = re.search(r"empty polls: (\d+)", err)
            empty = int(found.group(1)) if found else -1
            print(f"{name}: {empty} empty polls in {idle:.0f} s idle (and its last poll): "
                  f"{empty / (idle / 60):.2f} a minute")
    return 0


if __name__ == "__main__":
    sys.exit(main())
