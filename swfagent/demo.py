"""The article's walkthrough, end to end, on the embedded SWF: what `make demo` runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .client import make_client
from .config import PROJECT_DIR, load_config
from .console import show_data
from .local import EmbeddedSWF

WORKFLOW_ID = "Demo"


def _run(argv: list[str], env: dict[str, str]) -> int:
    print(f"$ {' '.join(argv)}", flush=True)
    done = subprocess.run(
        [sys.executable, *argv[1:]], cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=120, check=False,
    )
    print(done.stdout, end="" if done.stdout.endswith("\n") or not done.stdout else "\n", flush=True)
    print(flush=True)
    return done.returncode


def run_demo(config_path: str | Path) -> int:
    """Start the embedded SWF, register, start, then decider/worker one task per run, five runs; 0 if it COMPLETED."""
    config = load_config(config_path)
    cfg = ["--config", str(config_path)] if Path(config_path).resolve() != (PROJECT_DIR / "config.yaml") else []
    with EmbeddedSWF() as swf:
        env = {**os.environ, **swf.env(), "PYTHONUNBUFFERED": "1"}
        print(f"Embedded SWF on {swf.endpoint} (moto, 127.0.0.1 only)\n", flush=True)
        steps = [
            ["python", "register_swf.py", *cfg],
            ["python", "-m", "swfagent", "start", "--workflow-id", WORKFLOW_ID, *cfg],
            ["python", "decider.py", *cfg],
            ["python", "worker.py", *cfg],
            ["python", "decider.py", *cfg],
            ["python", "worker.py", *cfg],
            ["python", "decider.py", *cfg],
            ["python", "-m", "swfagent", "show", WORKFLOW_ID, *cfg],
        ]
        for argv in steps:
            if _run(argv, env) != 0:
                print(f"demo: `{' '.join(argv)}` failed", file=sys.stderr)
                return 1
        os.environ.update(swf.env())
        data = show_data(make_client(), config, WORKFLOW_ID, None)
    summary = data["summary"]
    last = data["activities"][-1] if data["activities"] else None
    print(f"Execution {WORKFLOW_ID} closed {summary['close_status']}; "
          f"{last['type'] if last else '-'}'s result: {summary['result']}")
    return 0 if summary["close_status"] == "COMPLETED" else 1
