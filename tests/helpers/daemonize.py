"""Test task: start a daemon (double fork, setsid) that sleeps, write its pid to argv[1], then sleep argv[2] seconds."""

import os
import sys
import time

if os.fork() == 0:
    os.setsid()  # out of the task's process group and session
    if os.fork() == 0:
        with open(sys.argv[1] + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.replace(sys.argv[1] + ".tmp", sys.argv[1])
        os.execvp("sleep", ["sleep", "300"])
    os._exit(0)  # the daemon's parent exits: the daemon is an orphan
os.wait()
time.sleep(float(sys.argv[2]))
