"""The durable embedded SWF (`swfagent local --data DIR`): what it answered survives a stop, a crash and kill -9."""

from __future__ import annotations

import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from swfagent.local import EmbeddedSWF
from swfagent.local.durable import JOURNAL_MAGIC, frame
from tests.swf import DOMAIN, TASK_LIST, WORKFLOW, FakeClock, Swf, client, code, decision, schedule

ROOT = Path(__file__).resolve().parent.parent


def durable(data: Path, clock: FakeClock | None = None, **extra: Any) -> EmbeddedSWF:
    """An embedded SWF on `data` (`with` starts it)."""
    return EmbeddedSWF(poll_seconds=0.5, data=data, **({"clock": clock} if clock else {}), **extra)


def crash_copy(data: Path, to: Path) -> Path:
    """The folder as a crash would leave it now: what is on disk, nothing more (the process goes on)."""
    shutil.copytree(data, to)
    return to


def everything(c: Any) -> dict[str, Any]:
    """All that a client can see of the domain: registrations, executions, histories, task lists."""
    seen: dict[str, Any] = {
        "domains": c.list_domains(registrationStatus="REGISTERED")["domainInfos"],
        "workflow types": c.list_workflow_types(domain=DOMAIN, registrationStatus="REGISTERED")["typeInfos"],
        "activity types": c.list_activity_types(domain=DOMAIN, registrationStatus="REGISTERED")["typeInfos"],
        "pending": [c.count_pending_activity_tasks(domain=DOMAIN, taskList={"name": TASK_LIST})["count"],
                    c.count_pending_decision_tasks(domain=DOMAIN, taskList={"name": TASK_LIST})["count"]],
    }
    for which, call in (("open", c.list_open_workflow_executions), ("closed", c.list_closed_workflow_executions)):
        infos = call(domain=DOMAIN, startTimeFilter={"oldestDate": 0})["executionInfos"]
        seen[which] = infos
        for info in infos:
            e = info["execution"]
            seen[f"history {e['workflowId']}"] = c.get_workflow_execution_history(domain=DOMAIN, execution=e)["events"]
            seen[f"describe {e['workflowId']}"] = {
                k: v for k, v in c.describe_workflow_execution(domain=DOMAIN, execution=e).items()
                if k != "ResponseMetadata"}
    for key in ("domains", "workflow types", "activity types"):
        for row in seen[key]:
            row.pop("ResponseMetadata", None)
    return seen


def some_of_everything(swf: Swf) -> str:
    """Executions in every state; the token of an activity task a worker holds."""
    swf.start("closed")
    swf.decide(decision("CompleteWorkflowExecution", result="done"))
    swf.start("held", input="in", tagList=["t1"])
    swf.decide(schedule("a1", input="x"), decision("StartTimer", timerId="t", startToFireTimeout="600"))
    token = str(swf.poll_activity()["taskToken"])
    swf.start("queued")
    swf.decide(schedule("a2"))
    swf.c.signal_workflow_execution(domain=DOMAIN, workflowId="queued", signalName="s", input="sig")
    swf.start("deciding")
    return token


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def caplog(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """pytest's caplog, hearing the embedded SWF's lines too (its logger does not propagate: local/server.py)."""
    server_log = logging.getLogger("swfagent.local")
    server_log.addHandler(caplog.handler)
    yield caplog
    server_log.removeHandler(caplog.handler)


def test_a_restart_serves_what_was_there(data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    first = durable(data, clock).start()
    try:
        swf = Swf(client(first.endpoint))
        token = some_of_everything(swf)
        before = everything(swf.c)
        crashed = crash_copy(data, tmp_path / "crashed")  # as kill -9 would leave it: the journal only
    finally:
        first.stop()
    assert sorted(p.name for p in data.iterdir()) == ["FORMAT", "lock", "snapshot-000002.pickle"]
    with caplog.at_level(logging.INFO, logger="swfagent.local"):
        for folder in (data, crashed):  # after a stop (its snapshot), and after a crash (its journal replayed)
            again = durable(folder, clock).start()
            try:
                c = client(again.endpoint)
                assert everything(c) == before
                c.respond_activity_task_completed(taskToken=token, result="r")  # the held task's token still works
                assert swf_on(c, swf.runs).types("held")[-2:] == ["ActivityTaskCompleted", "DecisionTaskScheduled"]
            finally:
                again.stop()
    assert not [r for r in caplog.records if "replaying" in r.getMessage()]  # every record ran again as it first did


def swf_on(c: Any, runs: dict[str, str]) -> Swf:
    """A driver of executions already started (their run ids), on a client (nothing registered again)."""
    other = Swf.__new__(Swf)
    other.c, other.runs = c, runs
    return other


def test_read_only_requests_are_not_journaled(data: Path) -> None:
    with durable(data, FakeClock()) as server:
        swf = Swf(client(server.endpoint))
        swf.start()
        journal = server.engine.journal
        appended = journal.appended
        everything(swf.c)
        swf.c.poll_for_activity_task(domain=DOMAIN, taskList={"name": "nothing-here"})  # an empty poll
        assert journal.appended == appended
        swf.decide()  # a take and a respond: two records
        assert journal.appended == appended + 2


def test_a_reset_and_the_faults_set_on_a_running_server_are_kept(data: Path) -> None:
    import json
    import urllib.request

    def settings(endpoint: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(endpoint + "/swfagent-api/settings", json.dumps(body).encode(), method="POST")
        urllib.request.urlopen(request, timeout=10).read()

    with durable(data, FakeClock(), test_api=True) as server:
        swf = Swf(client(server.endpoint))
        swf.start("gone")
        urllib.request.urlopen(urllib.request.Request(server.endpoint + "/moto-api/reset", b"", method="POST"),
                               timeout=10).read()
        swf = Swf(client(server.endpoint))
        settings(server.endpoint, {"faults": "open-activities=1"})
        swf.start("kept")
        swf.decide(schedule("a1"), schedule("a2"))  # the second refused by the fault
        before = everything(swf.c)
    with durable(data, FakeClock()) as server:
        after = everything(client(server.endpoint))
    assert after == before and "history gone" not in after
    assert "ScheduleActivityTaskFailed" in [e["eventType"] for e in after["history kept"]]


def test_timers_and_timeouts_due_while_down_fire_at_once_in_time_order(data: Path) -> None:
    clock = FakeClock()
    with durable(data, clock) as server:
        swf = Swf(client(server.endpoint))
        swf.start()
        swf.decide(decision("StartTimer", timerId="late", startToFireTimeout="300"),
                   decision("StartTimer", timerId="soon", startToFireTimeout="100"),
                   schedule("a", startToCloseTimeout="200"))
        swf.poll_activity()
        runs = swf.runs
    clock.advance(1000)  # down meanwhile
    with durable(data, clock) as server:
        swf = swf_on(client(server.endpoint), runs)
        deadline = time.monotonic() + 10
        while "TimerFired" not in swf.types() or swf.types().count("TimerFired") < 2:
            assert time.monotonic() < deadline, swf.types()
            time.sleep(0.05)
        fired = [(e["eventType"], e.get("timerFiredEventAttributes", {}).get("timerId"))
                 for e in swf.events() if e["eventType"] in ("TimerFired", "ActivityTaskTimedOut")]
    assert fired == [("TimerFired", "soon"), ("ActivityTaskTimedOut", None), ("TimerFired", "late")]


def test_a_task_held_before_a_crash_stays_started_its_token_works_in_time_or_it_times_out(data: Path,
                                                                                           tmp_path: Path) -> None:
    clock = FakeClock()
    with durable(data, clock) as server:
        swf = Swf(client(server.endpoint))
        swf.start("w")
        swf.decide(schedule("a", startToCloseTimeout="60"), schedule("b", startToCloseTimeout="60"))
        tokens = [swf.poll_activity()["taskToken"], swf.poll_activity()["taskToken"]]
        crashed = crash_copy(data, tmp_path / "crashed")
        runs = swf.runs
    clock.advance(30)
    with durable(crashed, clock) as server:
        swf = swf_on(client(server.endpoint), runs)
        assert swf.pending("activity") == 0  # not re-queued: still started
        swf.c.respond_activity_task_completed(taskToken=tokens[0], result="in time")
        clock.advance(31)  # the other's START_TO_CLOSE passes
        deadline = time.monotonic() + 10
        while "ActivityTaskTimedOut" not in swf.types():
            assert time.monotonic() < deadline, swf.types()
            time.sleep(0.05)
        with pytest.raises(botocore.exceptions.ClientError) as info:
            swf.c.respond_activity_task_completed(taskToken=tokens[1], result="too late")
        assert code(info.value) == ("UnknownResourceFault", 400)
        assert swf.types().count("ActivityTaskStarted") == 2  # neither handed out again
        assert swf.pending("decision") == 1  # the decider is asked, and retries it


def test_retention_drops_closed_executions_after_a_restart(data: Path) -> None:
    clock = FakeClock()
    with durable(data, clock) as server:
        swf = Swf(client(server.endpoint), retention="1")
        swf.start("old")
        swf.decide(decision("CompleteWorkflowExecution"))
    clock.advance(2 * 86_400)
    with durable(data, clock) as server:
        c = client(server.endpoint)
        deadline = time.monotonic() + 10
        while c.list_closed_workflow_executions(domain=DOMAIN, startTimeFilter={"oldestDate": 0})["executionInfos"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def one_execution_crashed(data: Path, copy: Path) -> tuple[FakeClock, Any, Path]:
    """A folder holding one execution, copied as a crash would leave it; its clock and what it served."""
    clock = FakeClock()
    with durable(data, clock) as server:
        swf = Swf(client(server.endpoint))
        swf.start()
        return clock, everything(swf.c), crash_copy(data, copy)


def test_a_torn_last_write_is_dropped_never_served(data: Path, tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    clock, before, pristine = one_execution_crashed(data, tmp_path / "pristine")
    torn = frame([clock(), 1, "req", "StartWorkflowExecution", "", b"{}", 200, 0])
    for i, damage in enumerate((torn[: len(torn) // 2], torn[:-1] + bytes([torn[-1] ^ 1]), torn[:3])):
        crashed = crash_copy(pristine, tmp_path / f"crashed{i}")
        segment = next(crashed.glob("journal-*.log"))
        whole = segment.read_bytes()
        segment.write_bytes(whole + damage)
        with caplog.at_level(logging.INFO, logger="swfagent.local"), durable(crashed, clock) as server:
            assert everything(client(server.endpoint)) == before
            assert server.durable.dropped == len(damage)
            assert segment.read_bytes() == whole  # cut off on disk too
        assert any("a torn last write" in r.getMessage() for r in caplog.records)


def test_a_segment_whose_header_was_torn_leaves_the_folder_usable_for_every_start_after(data: Path,
                                                                                       tmp_path: Path) -> None:
    clock, before, crashed = one_execution_crashed(data, tmp_path / "crashed")
    numbers = sorted(int(p.stem.split("-")[1]) for p in crashed.glob("*-*.*"))
    journals = sorted(int(p.stem.split("-")[1]) for p in crashed.glob("journal-*.log"))
    after = journals[-1] + 1 if journals else numbers[-1]  # the segment the next start would create
    (crashed / f"journal-{after:06d}.log").write_bytes(b"")  # created, killed before its header was written
    for i in range(3):  # each start, after a crash, must find its segments numbered without a gap
        with durable(crashed, clock) as server:
            c = client(server.endpoint)
            assert everything(c) == before
            c.start_workflow_execution(domain=DOMAIN, workflowId=f"w{i}", workflowType={"name": "W", "version": "1"})
            before = everything(c)
            crashed = crash_copy(crashed, tmp_path / f"crashed-again{i}")


def test_snapshots_bound_what_a_restart_replays(data: Path, tmp_path: Path) -> None:
    clock = FakeClock()
    with durable(data, clock, snapshot_every=10) as server:
        swf = Swf(client(server.endpoint))
        for i in range(6):
            swf.start(f"w{i}")
            swf.decide(schedule(f"a{i}"))
        deadline = time.monotonic() + 20
        while len(list(data.glob("snapshot-*.pickle"))) < 1 or len(list(data.glob("journal-*.log"))) > 2:
            assert time.monotonic() < deadline, sorted(p.name for p in data.iterdir())
            time.sleep(0.05)
        before = everything(swf.c)
        crashed = crash_copy(data, tmp_path / "crashed")
    again = durable(crashed, clock).start()
    try:
        assert everything(client(again.endpoint)) == before
        assert again.durable.snapshot is not None and again.durable.replayed < 12
    finally:
        again.stop()


# ---- the command line: one process per folder, one line for what it cannot use -----------------------------------


def local(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "swfagent", "local", "--port", "0", "--no-console", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, **kw)


def test_a_second_process_on_the_same_folder_is_refused_in_one_line(data: Path) -> None:
    with durable(data):
        done = local("--data", str(data))
    assert done.returncode == 2
    assert done.stderr == (f"swfagent local: error: --data {data} is in use by another swfagent local "
                           f"(pid {os.getpid()}): one process per folder\n")


def test_a_folder_it_cannot_use_is_one_line_never_a_traceback(data: Path, tmp_path: Path) -> None:
    with durable(data):
        pass
    (data / "FORMAT").write_text("swfagent embedded SWF data, format 0, moto 1.0\n")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    for folder, said in ((data, "was written in another format ('swfagent embedded SWF data, format 0, moto 1.0')"),
                         (a_file, "not a folder"), (a_file / "sub", "cannot write there: Not a directory"),
                         (other, "holds other files (notes.txt), not an embedded SWF's data")):
        done = local("--data", str(folder))
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"swfagent local: error: --data {folder}")
        assert said in done.stderr and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_the_first_line_says_where_the_state_is_kept(data: Path) -> None:
    for args, first in (((), "Persistence: in memory (everything is lost when it stops)"),
                        (("--data", str(data)), f"Persistence: {data}")):
        proc = subprocess.Popen([sys.executable, "-m", "swfagent", "local", "--port", "0", "--no-console", *args],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline()]
            while not lines[-1].startswith("Stop it with Ctrl-C"):
                lines.append(proc.stdout.readline())
                assert lines[-1], lines
            assert lines[0] == first + "\n"
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)


# ---- kill -9 under load, at random points: every history event by event --------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """`swfagent local --data` as a process of its own, on a fixed port (the clients go on across restarts)."""

    def __init__(self, data: Path, port: int, every: int = 40):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "swfagent", "local", "--port", str(port), "--no-console", "--poll-seconds", "1",
             "--data", str(data)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True, env={**os.environ, "SWFAGENT_SNAPSHOT_EVERY": str(every)})  # kills mid-snapshot too
        self.lines: list[str] = []  # what it said before its endpoint (what it restored, if anything)
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.startswith("export AWS_ENDPOINT_URL_SWF="):
                return
        raise AssertionError(self.proc.stderr.read() if self.proc.stderr else "no endpoint")

    def kill(self, group: bool = True) -> str:
        """kill -9 (its snapshot's process too, if one is writing, unless not `group`); what it wrote on stderr."""
        if group:
            os.killpg(self.proc.pid, signal.SIGKILL)
        else:  # a snapshot being written outlives it, and must then put nothing in place
            self.proc.kill()
        return self.proc.communicate(timeout=30)[1]

    def stop(self) -> str:
        """A clean stop (SIGTERM, as Ctrl-C): what it wrote on stderr."""
        self.proc.send_signal(signal.SIGTERM)
        out = self.proc.communicate(timeout=60)[1]
        assert self.proc.returncode == 0, out
        return out


def load(endpoint: str, stop: threading.Event, seen: dict[str, list[dict[str, Any]]], lock: threading.Lock,
         who: int) -> None:
    """Executions through a decider and a worker, one after the other; each history read is kept as seen."""
    c = client(endpoint)
    swf = swf_on(c, {})
    n = 0
    while not stop.is_set():
        n += 1
        workflow_id = f"load-{who}-{n}"
        try:
            swf.start(workflow_id)
            for _ in range(6):
                task = swf.poll_decision()
                if task.get("taskToken"):
                    done = any(e["eventType"] == "ActivityTaskCompleted" for e in task["events"])
                    c.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[
                        decision("CompleteWorkflowExecution") if done else schedule(f"a{n}", input="x")])
                work = swf.poll_activity()
                if work.get("taskToken"):
                    c.respond_activity_task_completed(taskToken=work["taskToken"], result="ok")
                events = swf.events(workflow_id)
                with lock:
                    seen[f"{workflow_id} {swf.runs[workflow_id]}"] = events
                if events[-1]["eventType"] == "WorkflowExecutionCompleted":
                    break
        except (botocore.exceptions.ClientError, botocore.exceptions.EndpointConnectionError,
                botocore.exceptions.ConnectionClosedError, botocore.exceptions.ReadTimeoutError):
            time.sleep(0.1)  # the server is down, or a token died with a timeout: on to the next
        except KeyError:  # an answer without SWF's members, once in about ten runs beside four copies of this test:
            # not from this server, or a bug; the load goes on, and the histories are checked after
            time.sleep(0.1)


def test_kill_9_at_random_points_under_load_loses_and_duplicates_no_event(data: Path) -> None:
    port = free_port()
    rand = random.Random(os.getpid())
    seen: dict[str, list[dict[str, Any]]] = {}
    lock = threading.Lock()
    served = Served(data, port)
    Swf(client(f"http://127.0.0.1:{port}"))
    stop = threading.Event()
    clients = [threading.Thread(target=load, args=(f"http://127.0.0.1:{port}", stop, seen, lock, i)) for i in range(4)]
    for t in clients:
        t.start()
    try:
        for i in range(4):
            time.sleep(rand.uniform(0.5, 2.5))
            said = served.kill(group=i % 2 == 0)  # at a random point: requests in flight, records half written, a
            # snapshot being written maybe
            assert "replaying" not in said and "Traceback" not in said, said
            served = Served(data, port)
        time.sleep(1)
    finally:
        stop.set()
        for t in clients:
            t.join(timeout=60)
    try:
        c = client(f"http://127.0.0.1:{port}")
        assert len(seen) > 5
        for key, before in seen.items():
            workflow_id, run_id = key.split()
            after = c.get_workflow_execution_history(domain=DOMAIN, execution={
                "workflowId": workflow_id, "runId": run_id}, maximumPageSize=1000)["events"]
            assert [e["eventId"] for e in after] == list(range(1, len(after) + 1))  # contiguous
            assert after[:len(before)] == before, key  # every event answered before is there, as it was
        completed = sum(1 for events in seen.values() if events[-1]["eventType"] == "WorkflowExecutionCompleted")
        assert completed > 5 and sum(len(events) for events in seen.values()) > 100
    finally:
        said = served.kill()
    assert "replaying" not in said and "Traceback" not in said, said


def test_the_names_rebound_in_moto_are_pinned() -> None:
    """moto_adapter.REBOUND: each of moto's module-level names it rebinds is there, and is the adapter's now."""
    import importlib

    from swfagent.local import moto_adapter

    for name in moto_adapter.REBOUND:
        module, _, attr = name.rpartition(".")
        assert hasattr(importlib.import_module(module), attr), f"moto moved {name}: see moto_adapter.REBOUND"
    with moto_adapter.pinned(1234.5, 7):
        from moto.swf.models import workflow_execution

        first = (workflow_execution.unix_time(), workflow_execution.mock_random.uuid4())
    with moto_adapter.pinned(1234.5, 7):
        assert (workflow_execution.unix_time(), workflow_execution.mock_random.uuid4()) == first
    assert first[0] == 1234.5 and workflow_execution.unix_time() != 1234.5


def test_group_commit_one_sync_serves_many_concurrent_requests(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syncs = []
    real = os.fdatasync

    def counted(fd: int) -> None:
        syncs.append(fd)
        time.sleep(0.05)  # a slow disk: the other clients' requests pile up behind one sync, even on a busy machine
        real(fd)

    with durable(data) as server:
        Swf(client(server.endpoint))
        monkeypatch.setattr(os, "fdatasync", counted)
        journal = server.engine.journal
        appended = journal.appended

        def starts(who: int) -> None:
            c = client(server.endpoint)
            for i in range(15):
                c.start_workflow_execution(domain=DOMAIN, workflowId=f"w{who}-{i}", workflowType={"name": "W",
                                                                                               "version": "1"})

        threads = [threading.Thread(target=starts, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        records = journal.appended - appended
        assert records >= 120 and journal.durable == journal.appended
        assert len(syncs) < records / 2, (len(syncs), records)  # each sync wrote the records of several requests


# ---- children, ContinueAsNew, external signals and cancels: their links across a stop and a kill -9 ----------------


def attrs(event: dict[str, Any]) -> dict[str, Any]:
    return next(v for k, v in event.items() if k.endswith("EventAttributes"))


def answer(c: Any, task_list: str, workflow_id: str, *decisions: dict[str, Any]) -> dict[str, Any]:
    """Take the decision task waiting on `task_list` (it must be `workflow_id`'s) and answer it; the task taken."""
    task = c.poll_for_decision_task(domain=DOMAIN, taskList={"name": task_list}, identity="d")
    assert task.get("taskToken") and task["workflowExecution"]["workflowId"] == workflow_id, task_list
    c.respond_decision_task_completed(taskToken=task["taskToken"], decisions=list(decisions))
    return dict(task)


def child(workflow_id: str, **extra: Any) -> dict[str, Any]:
    """A StartChildWorkflowExecution decision, the child on a task list of its own (named as it)."""
    return decision("StartChildWorkflowExecution", workflowType=WORKFLOW, workflowId=workflow_id,
                    taskList={"name": workflow_id}, **extra)


LISTS = ("p", "c0", "c1", "c2", "w", "a", "b", "q", "qc")  # each execution's task list (named as its workflow id)


def linked(c: Any) -> dict[str, Any]:
    """Every run, listed, its history event by event and its description (by workflow and run id: a workflow id has
    several runs here); the decision tasks waiting on each task list."""
    seen: dict[str, Any] = {"pending": {n: c.count_pending_decision_tasks(domain=DOMAIN, taskList={"name": n})["count"]
                                        for n in LISTS}}
    for which, call in (("open", c.list_open_workflow_executions), ("closed", c.list_closed_workflow_executions)):
        infos = call(domain=DOMAIN, startTimeFilter={"oldestDate": 0})["executionInfos"]
        seen[which] = sorted(infos, key=lambda i: (i["execution"]["workflowId"], i["execution"]["runId"]))
        for info in infos:
            e = info["execution"]
            key = f"{e['workflowId']} {e['runId']}"
            pages = c.get_paginator("get_workflow_execution_history").paginate(domain=DOMAIN, execution=e)
            seen[f"history {key}"] = [ev for page in pages for ev in page["events"]]
            seen[f"describe {key}"] = {k: v for k, v in c.describe_workflow_execution(domain=DOMAIN, execution=e).items()
                                       if k != "ResponseMetadata"}
    return seen


def families(swf: Swf) -> dict[str, Any]:
    """Parent "p": child c0 completed, c1 open (its first decision task waiting), c2 continued as new (its second run
    open, a decision task waiting), p's own decision tasks all answered; "w" continued as new (a chain of two runs);
    "a" signalled "b" and asked it to cancel; "q" terminated, its child "qc" terminated by the TERMINATE policy.
    The ids the checks need."""
    c = swf.c
    swf.start("p", taskList={"name": "p"})
    answer(c, "p", "p", child("c0"), child("c1", control="k1"), child("c2", childPolicy="ABANDON"))
    events = swf.events("p")
    ids: dict[str, Any] = {}
    for e in events:
        if e["eventType"] == "StartChildWorkflowExecutionInitiated":
            ids[f"{attrs(e)['workflowId']} initiated"] = e["eventId"]
        elif e["eventType"] == "ChildWorkflowExecutionStarted":
            run = attrs(e)["workflowExecution"]
            swf.runs[run["workflowId"]] = run["runId"]
            ids[f"{run['workflowId']} started"] = e["eventId"]
    answer(c, "c0", "c0", decision("CompleteWorkflowExecution", result="r0"))
    answer(c, "c2", "c2", decision("ContinueAsNewWorkflowExecution", taskList={"name": "c2"}, input="again"))
    ids["c2 first run"] = swf.runs["c2"]
    swf.runs["c2"] = attrs(swf.events("c2")[-1])["newExecutionRunId"]
    answer(c, "p", "p")  # its task for the children started and c0 completed: nothing more scheduled for it
    assert swf.types("p")[-3:] == ["ChildWorkflowExecutionCompleted", "DecisionTaskStarted", "DecisionTaskCompleted"]

    first = swf.start("w", taskList={"name": "w"})
    answer(c, "w", "w", decision("ContinueAsNewWorkflowExecution", taskList={"name": "w"}, input="next"))
    ids["w first run"] = first
    swf.runs["w"] = attrs(swf.events("w")[-1])["newExecutionRunId"]
    assert attrs(swf.events("w")[0])["continuedExecutionRunId"] == first

    swf.start("a", taskList={"name": "a"})
    swf.start("b", taskList={"name": "b"})
    answer(c, "a", "a", decision("SignalExternalWorkflowExecution", workflowId="b", signalName="s", input="i"),
           decision("RequestCancelExternalWorkflowExecution", workflowId="b", runId=swf.runs["b"]))
    assert {"ExternalWorkflowExecutionSignaled", "ExternalWorkflowExecutionCancelRequested"} <= set(swf.types("a"))
    assert {"WorkflowExecutionSignaled", "WorkflowExecutionCancelRequested"} <= set(swf.types("b"))

    swf.start("q", taskList={"name": "q"})
    answer(c, "q", "q", child("qc", childPolicy="TERMINATE"))
    swf.runs["qc"] = attrs(swf.events("q")[-2])["workflowExecution"]["runId"]
    c.terminate_workflow_execution(domain=DOMAIN, workflowId="q")
    assert attrs(swf.events("qc")[-1]) == {"cause": "CHILD_POLICY_APPLIED", "childPolicy": "TERMINATE"}

    assert swf.describe("p")["openCounts"]["openChildWorkflowExecutions"] == 2
    assert swf.describe("c1")["executionInfo"]["parent"] == swf.execution("p")
    assert swf.describe("c2")["executionInfo"]["parent"] == swf.execution("p")
    return ids


def child_completes(swf: Swf, ids: dict[str, Any], workflow_id: str, open_after: int) -> None:
    """`workflow_id` (a child of "p") completes: p hears it, with the ids of its start, and gets a decision task."""
    answer(swf.c, workflow_id, workflow_id, decision("CompleteWorkflowExecution", result=f"r {workflow_id}"))
    events = swf.events("p")
    assert [e["eventType"] for e in events][-2:] == ["ChildWorkflowExecutionCompleted", "DecisionTaskScheduled"]
    assert attrs(events[-2]) == {"workflowExecution": swf.execution(workflow_id), "workflowType": WORKFLOW,
                                 "initiatedEventId": ids[f"{workflow_id} initiated"],
                                 "startedEventId": ids[f"{workflow_id} started"], "result": f"r {workflow_id}"}
    task = answer(swf.c, "p", "p")
    assert task["events"][-3]["eventId"] == events[-2]["eventId"]  # the task is for it (...Completed, Scheduled, Started)
    assert swf.describe("p")["openCounts"]["openChildWorkflowExecutions"] == open_after


def forked(pid: int) -> list[int]:
    """The processes `pid` forked that are there still (a snapshot being written, or not yet reaped)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(proc.name))
    return found


def settled(data: Path, served: Served) -> None:
    """Wait until one snapshot is there, written whole: no snapshot process forked (it forks before the answer to the
    request that asked for it leaves), none in place but the newest, the files before it dropped."""
    for _ in range(200):
        if (not forked(served.proc.pid) and not list(data.glob("snapshot-*.tmp"))
                and len(list(data.glob("snapshot-*.pickle"))) == 1):
            return
        time.sleep(0.1)
    raise AssertionError(sorted(p.name for p in data.iterdir()))


@pytest.mark.parametrize("every", [3, 10])
def test_children_continues_and_external_decisions_survive_a_kill_9_and_a_stop(data: Path, every: int) -> None:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    served = Served(data, port, every=every)  # snapshots every few changes: a kill -9 finds a snapshot and a journal
    try:
        swf = Swf(client(endpoint))
        ids = families(swf)
        for _ in range(5):  # a snapshot written whole (its process done, the older files dropped), changes after it
            settled(data, served)
            swf.c.signal_workflow_execution(domain=DOMAIN, workflowId="w", signalName="after the snapshot")
            settled(data, served)
            if sorted(data.glob("journal-*.log"))[-1].stat().st_size > len(JOURNAL_MAGIC):
                break
        before = linked(swf.c)
    finally:
        said = served.kill()
    assert "Traceback" not in said, said
    [snapshot] = sorted(data.glob("snapshot-*.pickle"))
    segments = sorted(data.glob("journal-*.log"))
    assert segments[-1].stem.split("-")[1] >= snapshot.stem.split("-")[1]  # the segments after it: replayed
    assert segments[-1].stat().st_size > len(JOURNAL_MAGIC)

    served = Served(data, port, every=every)  # (b) after kill -9: the snapshot loaded, the journal after it replayed
    try:
        restored = "".join(served.lines)
        assert "snapshot" in restored and "journaled changes replayed" in restored, restored
        c = client(endpoint)
        swf.c = c
        assert linked(c) == before
        child_completes(swf, ids, "c1", open_after=1)  # the links work: the open child's close reaches its parent
        before = linked(c)
    finally:
        said = served.stop()
    assert "replaying" not in said and "Traceback" not in said, said
    assert all(p.stat().st_size == len(JOURNAL_MAGIC) for p in data.glob("journal-*.log")), \
        sorted((p.name, p.stat().st_size) for p in data.iterdir())  # a clean stop: all in its snapshot

    served = Served(data, port, every=every)  # (a) after a clean stop: its snapshot only
    try:
        restored = "".join(served.lines)
        assert "snapshot" in restored and "journaled changes replayed" not in restored, restored
        c = client(endpoint)
        swf.c = c
        assert linked(c) == before
        child_completes(swf, ids, "c2", open_after=0)  # the continued child's second run: still p's child
        assert swf.execution("c2")["runId"] != ids["c2 first run"]
        assert swf.describe("c2")["executionInfo"]["parent"] == swf.execution("p")
    finally:
        said = served.kill()
    assert "replaying" not in said and "Traceback" not in said, said


@pytest.mark.parametrize("text", ["²", "0", "-5", "abc", ""])
def test_a_snapshot_count_that_is_not_a_plain_positive_number_is_the_default(text: str,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from swfagent.local.durable import EVERY_ENV, SNAPSHOT_EVERY, snapshot_every

    monkeypatch.setenv(EVERY_ENV, text)
    assert snapshot_every() == SNAPSHOT_EVERY
