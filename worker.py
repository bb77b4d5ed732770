#!/usr/bin/env python3
"""Poll SWF for activity tasks and run each one's command from config.yaml (the article's worker.py)."""

from __future__ import annotations

import sys

from swfagent.cli import fail_line, install_signal_handlers, poller_parser, run_worker
from swfagent.errors import SwfAgentError
from swfagent.poller import Stop


def main(argv: list[str] | None = None) -> int:
    """Run the worker: one activity task by default, or --loop / --until-idle."""
    args = poller_parser("worker.py", __doc__ or "").parse_args(argv)
    stop = Stop()
    install_signal_handlers(stop)
    try:
        return run_worker(args, stop)
    except SwfAgentError as exc:
        return fail_line("worker.py", exc)


if __name__ == "__main__":
    sys.exit(main())
