#!/usr/bin/env python3
"""An alert command for the tests: appends its stdin, as one line, to the file named by argv[1] or $ALERT_FILE."""

import os
import sys

path = sys.argv[1] if len(sys.argv) > 1 else os.environ["ALERT_FILE"]
with open(path, "a", encoding="utf-8") as f:
    f.write(sys.stdin.read().replace("\n", " ") + "\n")
