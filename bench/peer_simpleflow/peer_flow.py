"""The article's two-step workflow written for simpleflow, the peer in bench/throughput.py --peer.

Same work as swfagent's config.yaml: task_a (Test_Task_A there) runs tasks/a.py (a random letter),
then task_b (Test_Task_B) runs tasks/b.py with A's result on stdin (a fruit from that letter). Each activity
runs its script as a subprocess from the repository's root, its input on stdin, as swfagent's worker
does; the activity's return value is the script's stripped stdout. The scripts run with the
interpreter PEER_TASK_PYTHON names (the bench gives the one swfagent's tasks run with, so both run
the very same processes), else with the worker's own.
Imported by simpleflow's decider and worker (PYTHONPATH=bench/peer_simpleflow), never by swfagent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from simpleflow import Workflow, activity

ROOT = Path(__file__).resolve().parent.parent.parent
TASK_LIST = "PeerActivities"
DECISION_TASK_LIST = "PeerDecisions"
VERSION = "1.0"
PYTHON = os.environ.get("PEER_TASK_PYTHON") or sys.executable


def _run(script: str, stdin: str) -> str:
    done = subprocess.run(
        [PYTHON, str(ROOT / "tasks" / script)], input=stdin.encode(), cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{script}: exit code {done.returncode}: {done.stderr.decode(errors='replace')[-500:]}")
    return done.stdout.decode(errors="replace").strip()


# simpleflow's worker finds an activity by its type's name, "peer_flow.task_a": keep the default names.
# The same timeouts as config.yaml's activities: 300 s start to close, 60 s heartbeat.
@activity.with_attributes(version=VERSION, task_list=TASK_LIST,
                          start_to_close_timeout=300, heartbeat_timeout=60,
                          schedule_to_start_timeout=3600, schedule_to_close_timeout=3900,
                          raises_on_failure=True)
def task_a() -> str:
    """A random lowercase letter, from tasks/a.py."""
    return _run("a.py", "")


@activity.with_attributes(version=VERSION, task_list=TASK_LIST,
                          start_to_close_timeout=300, heartbeat_timeout=60,
                          schedule_to_start_timeout=3600, schedule_to_close_timeout=3900,
                          raises_on_failure=True)
def task_b(letter: str) -> str:
    """A fruit or vegetable starting with `letter`, from tasks/b.py."""
    return _run("b.py", letter)


class PeerWorkflow(Workflow):
    """Test_Task_A, then Test_Task_B with A's result."""

    name = "PeerWorkflow"
    version = VERSION
    task_list = DECISION_TASK_LIST

    def run(self) -> str:
        letter = self.submit(task_a)
        fruit = self.submit(task_b, letter)  # a pending future as argument: B waits for A
        return fruit.result
