"""The worker's memory while its task prints a lot: the output goes to a file, never to the worker's memory.

    python bench/worker_memory.py [--megabytes 1024]

Runs the embedded SWF, then one worker.py (single run) on an activity whose command prints --megabytes
of output; the task's result is too large for SWF, so it fails saying so. Prints the worker's peak RSS
(its VmHWM, read from /proc while it runs). Numbers only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from swfagent.client import make_client  # noqa: E402
from swfagent.config import load_config  # noqa: E402
from swfagent.executions import fetch_history as history  # noqa: E402
from swfagent.executions import start_execution  # noqa: E402
from swfagent.history import fold  # noqa: E402
from swfagent.local import EmbeddedSWF  # noqa: E402

CONFIG = """domain: {{name: MEMORY}}
workflow: {{name: Memory, version: "1.0", task_list: memory, steps: [{{activity: Loud}}]}}
activities:
  Loud:
    version: "1.0"
    command: [python, -c, "import sys\\nfor _ in range({mb}): sys.stdout.write('y' * 1048576)"]
    timeout: 600
"""


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=int, default=1024)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="swfagent-memory-"))
    path = folder / "config.yaml"
    path.write_text(CONFIG.format(mb=args.megabytes))
    with EmbeddedSWF() as swf:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **swf.env()}
        os.environ.update(swf.env())
        subprocess.run([sys.executable, "register_swf.py", "--config", str(path)], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        config = load_config(path)
        run_id, _ = start_execution(make_client(), config, "memory", None)
        subprocess.run([sys.executable, "decider.py", "--config", str(path)], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        started = time.monotonic()
        worker = subprocess.Popen([sys.executable, "worker.py", "--config", str(path)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        peak = 0
        while worker.poll() is None:
            try:
                peak = max(peak, peak_rss_kib(worker.pid))
            except (FileNotFoundError, ProcessLookupError):
                break
            time.sleep(0.05)
        output = worker.communicate()[0]
        seconds = time.monotonic() - started
        state = fold(history(make_client(), config, "memory", run_id))
    act = state.activities.get("Loud-1")
    print(f"a task printing {args.megabytes} MB: the worker's peak RSS {peak / 1024:.1f} MiB, {seconds:.1f} s")
    print(f"the task's outcome: {act.status if act else '?'}: {act.reason if act else output[-300:]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
