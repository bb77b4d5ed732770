#!/usr/bin/env python3
"""Poll SWF for decision tasks, walk the whole history, and decide what runs next (the article's decider.py)."""

from __future__ import annotations

import sys

from swfagent.cli import fail_line, install_signal_handlers, poller_parser, run_decider
from swfagent.errors import SwfAgentError
from swfagent.poller import Stop


def main(argv: list[str] | None = None) -> int:
    """Run the decider: one decision task by default, or --loop / --until-idle."""
    args = poller_parser("decider.py", __doc__ or "").parse_args(argv)
    stop = Stop()
    install_signal_handlers(stop)
    try:
        return run_decider(args, stop)
    except SwfAgentError as exc:
        return fail_line("decider.py", exc)


if __name__ == "__main__":
    sys.exit(main())
