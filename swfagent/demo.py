"""The article's walkthrough, end to end, on the embedded SWF: what `make demo` runs.

Each step is the command shown, run by the command line's own code in this process: the same output as
typing it in a terminal, without eight interpreter start-ups.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import ARTICLE_CONFIG, PROJECT_DIR, load_config
from .executions import show_data
from .status import Closed

WORKFLOW_ID = "Demo"

# what is shown, the command's arguments, the script it stands for (None: swfagent)
STEPS: list[tuple[str, list[str], str | None]] = [
    ("python register_swf.py", [], "register_swf.py"),
    (f"python -m swfagent start --workflow-id {WORKFLOW_ID}", ["start", "--workflow-id", WORKFLOW_ID], None),
    ("python decider.py", [], "decider.py"),
    ("python worker.py", [], "worker.py"),
    ("python decider.py", [], "decider.py"),
    ("python worker.py", [], "worker.py"),
    ("python decider.py", [], "decider.py"),
    (f"python -m swfagent show {WORKFLOW_ID}", ["show", WORKFLOW_ID], None),
]


def run_demo(config_path: str | Path, endpoint: str, run: Callable[[list[str], str | None], int], client: Any) -> int:
    """Register, start, then decider/worker one task per run, five runs, then show; 0 if it COMPLETED.

    `run(argv, script)` runs one command against the embedded SWF at `endpoint`; `client` is one for it too.
    """
    config = load_config(config_path)
    cfg = ["--config", str(config_path)]
    article = Path(config_path).resolve() in (ARTICLE_CONFIG, (PROJECT_DIR / "config.yaml").resolve())
    print(f"Embedded SWF on {endpoint} (moto, 127.0.0.1 only)\n", flush=True)
    for shown, args, script in STEPS:
        print(f"$ {' '.join([shown, *([] if article else cfg)])}", flush=True)
        code = run([*args, *cfg], script)
        sys.stderr.flush()
        print(flush=True)
        if code != 0:
            print(f"demo: `{shown}` failed", file=sys.stderr)
            return 1
    data = show_data(client, config, WORKFLOW_ID, None)
    summary = data.summary
    last = data.activities[-1] if data.activities else None
    print(f"Execution {WORKFLOW_ID} closed {summary.close_status}; {last.type if last else '-'}'s result: {summary.result}")
    return 0 if summary.close_status == Closed.COMPLETED else 1
