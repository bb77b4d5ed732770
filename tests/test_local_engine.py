"""The embedded SWF's engine: one poller per task, long polls, and a clock that fires on time.

The one-poller test widens moto's check-then-act window (a sleep inside it, and a thread switch
interval of a microsecond in this process, where the server runs): without the engine's lock,
tasks are handed out twice every time, as the control on moto's own server shows; with it, never.
"""

from __future__ import annotations

import collections
import contextlib
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.swf.models.workflow_execution import WorkflowExecution

from swfagent.local import EmbeddedSWF
from tests.support import Server
from tests.swf import DOMAIN, TASK_LIST, Swf, client, decision, schedule

POLLERS = 8
TASKS = 200


@contextlib.contextmanager
def racy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's poll made as racy as it can be: a pause between choosing a task and marking it started."""

    def slow(original: Callable[..., None]) -> Callable[..., None]:
        def start(self: Any, token: str, identity: Any = None) -> None:
            time.sleep(0.002)
            original(self, token, identity=identity)
        return start

    monkeypatch.setattr(WorkflowExecution, "start_activity_task", slow(WorkflowExecution.start_activity_task))
    monkeypatch.setattr(WorkflowExecution, "start_decision_task", slow(WorkflowExecution.start_decision_task))
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def drain(endpoint: str, kind: str) -> collections.Counter[str]:
    """POLLERS threads polling until the task list is empty; how many times each task was handed out."""
    clients = [client(endpoint) for _ in range(POLLERS)]
    taken: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def poll(c: Any) -> None:
        while True:
            if kind == "activity":
                task = c.poll_for_activity_task(domain=DOMAIN, taskList={"name": TASK_LIST}, identity="p")
                key = task.get("activityId")
            else:
                task = c.poll_for_decision_task(domain=DOMAIN, taskList={"name": TASK_LIST}, identity="p")
                key = task.get("workflowExecution", {}).get("workflowId")
            if not task.get("taskToken"):
                return
            with lock:
                taken[str(key)] += 1

    threads = [threading.Thread(target=poll, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return taken


def schedule_many(swf: Swf) -> None:
    """TASKS activity tasks on one task list, and TASKS decision tasks (one per execution)."""
    swf.start("fan")
    swf.decide(*(schedule(f"a-{i}") for i in range(TASKS)))
    for i in range(TASKS):
        swf.start(f"w-{i}")


@pytest.mark.parametrize("round_", range(3))
def test_each_task_goes_to_one_poller(server: Server, monkeypatch: pytest.MonkeyPatch, round_: int) -> None:
    server.swf.engine.poll_seconds = 0.2
    swf = Swf(client(server.endpoint))
    schedule_many(swf)
    with racy(monkeypatch):
        activities = drain(server.endpoint, "activity")
        decisions = drain(server.endpoint, "decision")
    assert activities == collections.Counter({f"a-{i}": 1 for i in range(TASKS)})
    assert decisions == collections.Counter({f"w-{i}": 1 for i in range(TASKS)})
    assert all(swf.types(f"w-{i}").count("DecisionTaskStarted") == 1 for i in range(0, TASKS, 20))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_control_moto_alone_hands_a_task_to_two_pollers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same load on moto's own server: it does hand tasks out twice, so the test above can see it."""
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    moto.start()
    try:
        host, port = moto.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        swf = Swf(client(endpoint))
        swf.start("fan")
        swf.decide(*(schedule(f"a-{i}") for i in range(TASKS)))
        with racy(monkeypatch):
            taken = drain(endpoint, "activity")
    finally:
        moto.stop()
    assert sum(taken.values()) > TASKS, "moto handed no task out twice: has it gained a lock? see README's table"


# ---- long polls ----------------------------------------------------------------------------------


def test_an_empty_poll_is_held_and_answered_as_soon_as_a_task_is_scheduled(server: Server) -> None:
    server.swf.engine.poll_seconds = 5
    swf = Swf(client(server.endpoint))
    swf.start()
    swf.decide()  # nothing scheduled: the activity task list is empty
    answer: dict[str, Any] = {}

    def wait() -> None:
        answer["task"] = client(server.endpoint).poll_for_activity_task(domain=DOMAIN, taskList={"name": TASK_LIST})

    poller = threading.Thread(target=wait)
    poller.start()
    time.sleep(1.5)  # moto answers an empty poll after 1 s, whatever happens
    assert poller.is_alive()
    swf.c.signal_workflow_execution(domain=DOMAIN, workflowId="w", signalName="go")
    swf.decide(schedule("a-1"))
    poller.join(timeout=30)
    assert answer["task"]["activityId"] == "a-1"  # the poll made before the task existed got it

    server.swf.engine.poll_seconds = 0.5
    assert not swf.poll_activity().get("taskToken")  # held, then answered empty


def test_stopping_the_server_ends_waiting_polls_at_once() -> None:
    swf_server = EmbeddedSWF(poll_seconds=60).start()
    swf = Swf(client(swf_server.endpoint))
    done = threading.Event()

    def wait() -> None:
        with contextlib.suppress(Exception):
            swf.poll_activity()
        done.set()

    threading.Thread(target=wait, daemon=True).start()
    time.sleep(0.3)
    swf_server.stop()
    assert done.wait(30)  # not the 60 s the poll would be held


def test_the_clock_fires_timeouts_without_any_other_call(server: Server) -> None:
    """A decider waiting in a long poll gets the decision task an activity timeout makes, on time."""
    server.swf.engine.poll_seconds = 10
    swf = Swf(client(server.endpoint))
    swf.start()
    swf.decide(schedule("a-1", startToCloseTimeout="1"))
    assert swf.poll_activity()["activityId"] == "a-1"
    task = swf.poll_decision()  # the only call in flight: moto would notice the timeout on the next call
    assert [e["eventType"] for e in task["events"]][-3:] == [
        "ActivityTaskTimedOut", "DecisionTaskScheduled", "DecisionTaskStarted"]


def test_timers_fire_on_time(server: Server) -> None:
    server.swf.engine.poll_seconds = 10
    swf = Swf(client(server.endpoint))
    swf.start()
    swf.decide(decision("StartTimer", timerId="t", startToFireTimeout="1"))
    task = swf.poll_decision()  # waiting, with no other call: moto fires timers from a thread of their own
    assert "TimerFired" in [e["eventType"] for e in task["events"]]
