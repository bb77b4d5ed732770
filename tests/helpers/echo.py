"""Test task: print its arguments, or its stdin when it has none; record the run when RECORD_FILE is set."""

import os
import sys

if os.environ.get("RECORD_FILE"):
    with open(os.environ["RECORD_FILE"], "a") as f:
        f.write(f"{os.environ.get('SWF_WORKFLOW_ID')} {os.environ.get('SWF_ACTIVITY_ID')}\n")
print(" ".join(sys.argv[1:]) if len(sys.argv) > 1 else sys.stdin.read())
