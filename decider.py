#!/usr/bin/env python3
"""Poll SWF for decision tasks, walk the whole history, and decide what runs next (the article's decider.py)."""

import sys

from swfagent.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="decider.py"))
