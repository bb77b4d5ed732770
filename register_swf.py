#!/usr/bin/env python3
"""Register the SWF domain, workflow type and activity types that config.yaml names; safe to run again."""

import sys

from swfagent.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="register_swf.py"))
