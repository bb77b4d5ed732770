"""Test task: sleep N seconds, then print 'slept N' (and what came on stdin)."""

import sys
import time

seconds = float(sys.argv[1])
data = sys.stdin.read()
time.sleep(seconds)
print(f"slept {sys.argv[1]} {data}".strip())
