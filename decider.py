#!/usr/bin/env python3
"""Poll SWF for decision tasks, walk the whole history, and decide what runs next (the article's decider.py)."""

import sys

from swfagent.cli import poller_main


def main(argv: list[str] | None = None) -> int:
    """Run the decider: one task by default, or --loop / --until-idle."""
    return poller_main("decider", argv)


if __name__ == "__main__":
    sys.exit(main())
