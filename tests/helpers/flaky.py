"""Test task: fail the first time (per marker file, which gets its pid), succeed after; sleep first if SLOW_FIRST is set."""

import os
import sys
import time

marker = sys.argv[1]
if not os.path.exists(marker):
    with open(marker + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(marker + ".tmp", marker)  # whole, or not there at all
    if os.environ.get("SLOW_FIRST"):
        time.sleep(float(os.environ["SLOW_FIRST"]))
    print("first attempt fails", file=sys.stderr)
    sys.exit(3)
print("ok on a later attempt")
