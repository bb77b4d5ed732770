#!/usr/bin/env python3
"""Poll SWF for activity tasks and run each one's command from config.yaml (the article's worker.py)."""

import sys

from swfagent.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="worker.py"))
