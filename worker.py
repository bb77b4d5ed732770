#!/usr/bin/env python3
"""Poll SWF for activity tasks and run each one's command from config.yaml (the article's worker.py)."""

import sys

from swfagent.cli import poller_main


def main(argv: list[str] | None = None) -> int:
    """Run the worker: one task by default, or --loop / --until-idle."""
    return poller_main("worker", argv)


if __name__ == "__main__":
    sys.exit(main())
