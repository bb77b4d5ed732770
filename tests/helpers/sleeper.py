"""Test task: write its pid to the file named by argv[1], then sleep argv[2] seconds (and its child as long)."""

import os
import subprocess
import sys
import time

child = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({float(sys.argv[2])})"])
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(float(sys.argv[2]))
print("slept")
