"""The article's walkthrough, end to end, on the embedded SWF: what `make demo` runs.

Each step is the script's own main() with the arguments shown, run in this process: the same code
and output as typing the commands in a terminal, without eight interpreter start-ups.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from .cli import poller_main
from .client import make_client
from .config import PROJECT_DIR, load_config
from .console import show_data
from .register import main as register_main

WORKFLOW_ID = "Demo"


def _console(argv: list[str]) -> int:
    from .__main__ import main

    return main(argv)


Step = tuple[str, Callable[[list[str]], int], list[str]]


def _steps() -> list[Step]:
    """The commands of the walkthrough: what is shown, what runs, its arguments."""
    decider: Step = ("python decider.py", lambda argv: poller_main("decider", argv, signals=False), [])
    worker: Step = ("python worker.py", lambda argv: poller_main("worker", argv, signals=False), [])
    return [
        ("python register_swf.py", register_main, []),
        (f"python -m swfagent start --workflow-id {WORKFLOW_ID}", _console, ["start", "--workflow-id", WORKFLOW_ID]),
        decider, worker, decider, worker, decider,
        (f"python -m swfagent show {WORKFLOW_ID}", _console, ["show", WORKFLOW_ID]),
    ]


def run_demo(config_path: str | Path, endpoint: str) -> int:
    """Register, start, then decider/worker one task per run, five runs, then show; 0 if it COMPLETED.

    boto3 must already point at the embedded SWF at `endpoint` (the demo command sets that up).
    """
    config = load_config(config_path)
    cfg = ["--config", str(config_path)] if Path(config_path).resolve() != (PROJECT_DIR / "config.yaml") else []
    print(f"Embedded SWF on {endpoint} (moto, 127.0.0.1 only)\n", flush=True)
    for shown, run, args in _steps():
        print(f"$ {' '.join([shown, *cfg])}", flush=True)
        code = run([*args, *cfg])
        sys.stderr.flush()
        print(flush=True)
        if code != 0:
            print(f"demo: `{shown}` failed", file=sys.stderr)
            return 1
    data = show_data(make_client(), config, WORKFLOW_ID, None)
    summary = data["summary"]
    last = data["activities"][-1] if data["activities"] else None
    print(f"Execution {WORKFLOW_ID} closed {summary['close_status']}; "
          f"{last['type'] if last else '-'}'s result: {summary['result']}")
    return 0 if summary["close_status"] == "COMPLETED" else 1
