"""The embedded SWF answers like SWF where moto does not: one test (or more) per row of the README's table.

Each test drives the embedded server over HTTP with boto3, on a clock the test moves (conftest's `clocked`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from swfagent.local.faults import parse_faults
from swfagent.local.models import Backend
from tests.support import ClockedSWF
from tests.swf import DOMAIN, TASK_LIST, WORKFLOW, Swf, client, code, decision, schedule


@pytest.fixture
def swf(clocked: ClockedSWF) -> Swf:
    return Swf(client(clocked.endpoint))


def attrs(event: dict[str, Any]) -> dict[str, Any]:
    return next(v for k, v in event.items() if k.endswith("EventAttributes"))


@contextlib.contextmanager
def server_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The embedded SWF's own log lines (they do not go up to the root logger) into caplog."""
    logger = logging.getLogger("swfagent.local")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level("INFO", logger="swfagent.local"):
            yield
    finally:
        logger.removeHandler(caplog.handler)


def refused(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    """The code, HTTP status and message of a call SWF refuses."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return (*code(info.value), info.value.response["Error"]["Message"])


# ---- tokens of tasks that are over -------------------------------------------------------------------


def test_a_timed_out_or_answered_task_gives_unknown_resource_fault(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    swf.decide(schedule("a-1", heartbeatTimeout="10"), schedule("a-2"))
    late, done = swf.poll_activity(), swf.poll_activity()
    clocked.clock.advance(11)
    for call in (swf.c.record_activity_task_heartbeat, swf.c.respond_activity_task_completed):
        assert refused(call, taskToken=late["taskToken"])[:2] == ("UnknownResourceFault", 400)  # moto: HTTP 500
    swf.c.respond_activity_task_completed(taskToken=done["taskToken"], result="ok")
    assert refused(swf.c.respond_activity_task_failed, taskToken=done["taskToken"])[:2] == ("UnknownResourceFault", 400)
    task = swf.decide()
    assert refused(swf.c.respond_decision_task_completed, taskToken=task["taskToken"])[:2] == ("UnknownResourceFault", 400)


# ---- activity timeouts as SWF runs them ------------------------------------------------------------


def test_a_queued_task_never_times_out_on_its_heartbeat(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    swf.decide(schedule("a-1", heartbeatTimeout="5"))
    clocked.clock.advance(60)  # moto times it out 5 s after scheduling, though nobody has it
    assert "ActivityTaskTimedOut" not in swf.types() and swf.pending() == 1
    task = swf.poll_activity()
    for _ in range(3):  # heartbeats keep it alive: the clock runs from the last one
        clocked.clock.advance(4)
        assert swf.c.record_activity_task_heartbeat(taskToken=task["taskToken"])["cancelRequested"] is False
    clocked.clock.advance(6)
    events = swf.events()
    timed_out = [e for e in events if e["eventType"] == "ActivityTaskTimedOut"]
    assert [attrs(e)["timeoutType"] for e in timed_out] == ["HEARTBEAT"]
    assert attrs(timed_out[0])["startedEventId"] == task["startedEventId"]
    assert events[-1]["eventType"] == "DecisionTaskScheduled"
    assert swf.describe()["openCounts"]["openActivityTasks"] == 0  # moto forgets to count it down


@pytest.mark.parametrize("kind, timeouts, start_after, then", [
    ("SCHEDULE_TO_START", {"scheduleToStartTimeout": "5"}, None, 6),
    ("START_TO_CLOSE", {"startToCloseTimeout": "5"}, 100, 6),
    ("SCHEDULE_TO_CLOSE", {"scheduleToCloseTimeout": "10"}, 6, 5),
])
def test_each_activity_timeout_type(clocked: ClockedSWF, swf: Swf, kind: str, timeouts: dict[str, str],
                                    start_after: float | None, then: float) -> None:
    swf.start()
    swf.decide(schedule("a-1", **timeouts))
    if start_after is not None:
        clocked.clock.advance(start_after)
        assert swf.poll_activity().get("taskToken")
    clocked.clock.advance(then)
    [timed_out] = [e for e in swf.events() if e["eventType"] == "ActivityTaskTimedOut"]
    assert attrs(timed_out)["timeoutType"] == kind
    assert swf.pending() == 0 and not swf.poll_activity().get("taskToken")


def test_a_decision_task_times_out_and_another_is_scheduled(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    task = swf.poll_decision()
    clocked.clock.advance(11)  # the type's task start-to-close is 10 s
    assert swf.types()[-2:] == ["DecisionTaskTimedOut", "DecisionTaskScheduled"]
    assert refused(swf.c.respond_decision_task_completed, taskToken=task["taskToken"])[:2] == ("UnknownResourceFault", 400)
    assert swf.decide(decision("CompleteWorkflowExecution"))["taskToken"] != task["taskToken"]
    assert swf.describe()["executionInfo"]["closeStatus"] == "COMPLETED"


def test_previous_started_event_id_is_the_last_decision_task_answered(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    first = swf.decide(schedule("a-1"))
    assert first.get("previousStartedEventId", 0) == 0
    swf.c.respond_activity_task_completed(taskToken=swf.poll_activity()["taskToken"], result="ok")
    lost = swf.poll_decision()
    assert lost["previousStartedEventId"] == first["startedEventId"]
    clocked.clock.advance(11)  # it times out unanswered: what came since `first` is still news
    again = swf.poll_decision()
    assert again["startedEventId"] > lost["startedEventId"]
    assert again["previousStartedEventId"] == first["startedEventId"]  # moto: lost's, though nobody answered it
    swf.c.respond_decision_task_completed(taskToken=again["taskToken"], decisions=[])
    swf.c.signal_workflow_execution(domain=DOMAIN, workflowId="w", signalName="s")
    assert swf.poll_decision()["previousStartedEventId"] == again["startedEventId"]


# ---- decision tasks ----------------------------------------------------------------------------------


def test_one_decision_task_is_scheduled_at_most(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    for i in range(3):
        swf.c.signal_workflow_execution(domain=DOMAIN, workflowId="w", signalName=f"s{i}")
    assert swf.types().count("DecisionTaskScheduled") == 1  # moto: one per signal
    assert swf.pending("decision") == 1
    task = swf.poll_decision()
    swf.c.signal_workflow_execution(domain=DOMAIN, workflowId="w", signalName="during")
    assert swf.pending("decision") == 1 and not swf.poll_decision().get("taskToken")  # it waits its turn
    swf.c.respond_decision_task_completed(taskToken=task["taskToken"])
    assert swf.poll_decision().get("taskToken")


def test_a_closing_decision_is_refused_when_events_came_in_meanwhile(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    task = swf.poll_decision()
    swf.c.signal_workflow_execution(domain=DOMAIN, workflowId="w", signalName="late news")
    swf.c.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[
        decision("CompleteWorkflowExecution", result="too soon")])
    events = swf.events()
    assert events[-1]["eventType"] == "CompleteWorkflowExecutionFailed"
    assert attrs(events[-1])["cause"] == "UNHANDLED_DECISION"
    assert swf.describe()["executionInfo"]["executionStatus"] == "OPEN"
    swf.decide(decision("CompleteWorkflowExecution", result="now"))
    assert swf.describe()["executionInfo"]["closeStatus"] == "COMPLETED"


def test_a_decision_the_embedded_swf_does_not_carry_out_is_refused_whole(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    task = swf.poll_decision()
    before = swf.types()
    status = refused(swf.c.respond_decision_task_completed, taskToken=task["taskToken"], decisions=[
        schedule("a-1"), decision("ScheduleLambdaFunction", id="l", name="f")])
    assert status[:2] == ("ValidationException", 400) and "ScheduleLambdaFunction" in status[2]
    assert swf.types() == before  # moto applies what comes before it, then answers 500
    swf.c.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[schedule("a-1")])


# ---- cancellation ----------------------------------------------------------------------------------


def test_request_cancel_workflow_execution(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    swf.decide()
    swf.c.request_cancel_workflow_execution(domain=DOMAIN, workflowId="w")  # moto: NotImplementedError, HTTP 500
    assert swf.describe()["executionInfo"]["cancelRequested"] is True
    task = swf.poll_decision()
    assert [e["eventType"] for e in task["events"]][-3:] == [
        "WorkflowExecutionCancelRequested", "DecisionTaskScheduled", "DecisionTaskStarted"]
    swf.c.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[decision("CancelWorkflowExecution")])
    assert swf.describe()["executionInfo"]["closeStatus"] == "CANCELED"
    assert refused(swf.c.request_cancel_workflow_execution, domain=DOMAIN, workflowId="w")[:2] == (
        "UnknownResourceFault", 400)


def test_request_cancel_activity_task_reaches_the_worker_through_its_heartbeat(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    swf.decide(schedule("a-1"), schedule("a-2"))
    running = swf.poll_activity()
    assert running["activityId"] == "a-1"
    swf.c.signal_workflow_execution(domain=DOMAIN, workflowId="w", signalName="stop")
    swf.decide(*(decision("RequestCancelActivityTask", activityId=a) for a in ("a-1", "a-2", "nope")))
    events = swf.events()
    tail = [(e["eventType"], attrs(e).get("activityId") or attrs(e).get("scheduledEventId")) for e in events[-5:]]
    a2_scheduled = next(e["eventId"] for e in events if attrs(e).get("activityId") == "a-2")
    assert tail == [  # moto: NotImplementedError, HTTP 500
        ("ActivityTaskCancelRequested", "a-1"), ("ActivityTaskCancelRequested", "a-2"),
        ("ActivityTaskCanceled", a2_scheduled),  # nobody had it: canceled at once
        ("RequestCancelActivityTaskFailed", "nope"), ("DecisionTaskScheduled", None)]
    assert attrs(events[-2])["cause"] == "ACTIVITY_ID_UNKNOWN"
    assert swf.pending() == 0
    assert swf.c.record_activity_task_heartbeat(taskToken=running["taskToken"])["cancelRequested"] is True
    swf.c.respond_activity_task_canceled(taskToken=running["taskToken"], details="stopped")  # moto: no such call
    last = swf.events()[-1]  # a decision task is already scheduled: no second one
    assert last["eventType"] == "ActivityTaskCanceled" and attrs(last)["details"] == "stopped"
    assert attrs(last)["latestCancelRequestedEventId"] == events[-5]["eventId"]
    assert swf.describe()["openCounts"]["openActivityTasks"] == 0


# ---- timers ------------------------------------------------------------------------------------------


def test_timers_fire_on_the_clock_and_a_canceled_one_is_timer_canceled(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    swf.decide(*(decision("StartTimer", timerId=t, startToFireTimeout="30") for t in ("t1", "t2")))
    assert swf.describe()["openCounts"]["openTimers"] == 2
    swf.c.signal_workflow_execution(domain=DOMAIN, workflowId="w", signalName="go")
    swf.decide(decision("CancelTimer", timerId="t2"), decision("CancelTimer", timerId="nope"),
               decision("StartTimer", timerId="t1", startToFireTimeout="5"))
    clocked.clock.advance(31)
    events = swf.events()
    kinds = [e["eventType"] for e in events]
    assert "TimerCanceled" in kinds and "TimerCancelled" not in kinds  # moto's spelling
    canceled = next(e for e in events if e["eventType"] == "TimerCanceled")
    assert canceled["timerCanceledEventAttributes"]["timerId"] == "t2"
    assert [attrs(e)["cause"] for e in events if e["eventType"] in ("CancelTimerFailed", "StartTimerFailed")] == [
        "TIMER_ID_UNKNOWN", "TIMER_ID_ALREADY_IN_USE"]
    assert [attrs(e)["timerId"] for e in events if e["eventType"] == "TimerFired"] == ["t1"]
    assert swf.describe()["openCounts"]["openTimers"] == 0


# ---- histories in pages ----------------------------------------------------------------------------


def test_histories_come_in_pages(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    for i in range(25):
        swf.c.signal_workflow_execution(domain=DOMAIN, workflowId="w", signalName=f"s{i}")
    first = swf.poll_decision(maximumPageSize=10)
    assert len(first["events"]) == 10 and first.get("nextPageToken")  # moto: one page, whatever the size
    events = list(first["events"])
    token = first["nextPageToken"]
    while token:
        page = swf.poll_decision(maximumPageSize=10, nextPageToken=token)
        assert page["taskToken"] == first["taskToken"]  # the same task: no new one is started
        events += page["events"]
        token = page.get("nextPageToken")
    assert [e["eventId"] for e in events] == list(range(1, first["startedEventId"] + 1))
    assert swf.types().count("DecisionTaskStarted") == 1
    history = swf.c.get_paginator("get_workflow_execution_history").paginate(
        domain=DOMAIN, execution=swf.execution(), maximumPageSize=7, reverseOrder=True)
    pages = [p["events"] for p in history]
    assert len(pages) == 4 and [e["eventId"] for p in pages for e in p] == list(range(len(events), 0, -1))


# ---- visibility: list and describe ---------------------------------------------------------------


def test_list_calls_honour_their_filters_and_answer_real_times(clocked: ClockedSWF, swf: Swf) -> None:
    swf.c.register_workflow_type(domain=DOMAIN, name="Other", version="1", defaultTaskList={"name": TASK_LIST},
                                 defaultChildPolicy="TERMINATE", defaultExecutionStartToCloseTimeout="60",
                                 defaultTaskStartToCloseTimeout="10")
    swf.start("tagged", tagList=["nightly"])
    swf.c.start_workflow_execution(domain=DOMAIN, workflowId="other", workflowType={"name": "Other", "version": "1"})
    swf.start("done")
    swf.start("gone")
    swf.c.terminate_workflow_execution(domain=DOMAIN, workflowId="gone", reason="no")
    for task in [swf.poll_decision() for _ in range(3)]:  # "done" completes; the others stay open
        wid = task["workflowExecution"]["workflowId"]
        swf.c.respond_decision_task_completed(
            taskToken=task["taskToken"], decisions=[decision("CompleteWorkflowExecution")] if wid == "done" else [])

    def ids(kind: str, **filters: Any) -> list[str]:
        call = swf.c.list_open_workflow_executions if kind == "open" else swf.c.list_closed_workflow_executions
        window = filters.pop("window", {"startTimeFilter": {"oldestDate": 0}})
        return [e["execution"]["workflowId"] for e in call(domain=DOMAIN, **window, **filters)["executionInfos"]]

    assert ids("open") == ["other", "tagged"]  # newest first
    assert ids("open", reverseOrder=True) == ["tagged", "other"]
    assert ids("open", executionFilter={"workflowId": "tagged"}) == ["tagged"]  # moto ignores it
    assert ids("open", typeFilter={"name": "Other"}) == ["other"]
    assert ids("open", tagFilter={"tag": "nightly"}) == ["tagged"]
    assert ids("closed") == ["gone", "done"]
    assert ids("closed", closeStatusFilter={"status": "TERMINATED"}) == ["gone"]
    assert ids("closed", window={"closeTimeFilter": {"oldestDate": 0}}) == ["done", "gone"]  # by close time
    assert ids("open", window={"startTimeFilter": {"oldestDate": 0, "latestDate": 1}}) == []
    page = swf.c.list_open_workflow_executions(domain=DOMAIN, startTimeFilter={"oldestDate": 0}, maximumPageSize=1)
    rest = swf.c.list_open_workflow_executions(domain=DOMAIN, startTimeFilter={"oldestDate": 0}, maximumPageSize=1,
                                               nextPageToken=page["nextPageToken"])
    assert [e["execution"]["workflowId"] for e in page["executionInfos"] + rest["executionInfos"]] == ["other", "tagged"]
    assert refused(swf.c.list_closed_workflow_executions, domain=DOMAIN, startTimeFilter={"oldestDate": 0},
                   executionFilter={"workflowId": "done"}, closeStatusFilter={"status": "COMPLETED"})[:2] == (
        "ValidationException", 400)
    gone = swf.describe("gone")["executionInfo"]
    assert gone["startTimestamp"].year > 2014 and gone["closeTimestamp"] >= gone["startTimestamp"]  # moto: 2014, none


def test_closed_executions_leave_after_the_domains_retention(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start("old")
    task = swf.decide(decision("CompleteWorkflowExecution"))
    swf.start("new", executionStartToCloseTimeout=str(365 * 86_400))
    clocked.clock.advance(86_400 - 10)
    assert swf.describe("old")["executionInfo"]["closeStatus"] == "COMPLETED"
    clocked.clock.advance(20)  # past the domain's 1 day
    assert swf.c.list_closed_workflow_executions(domain=DOMAIN, startTimeFilter={"oldestDate": 0})["executionInfos"] == []
    assert refused(swf.c.describe_workflow_execution, domain=DOMAIN, execution=swf.execution("old"))[:2] == (
        "UnknownResourceFault", 400)
    assert refused(swf.c.respond_decision_task_completed, taskToken=task["taskToken"])[0] == "UnknownResourceFault"  # a token of an execution gone: unknown
    assert swf.describe("new")["executionInfo"]["executionStatus"] == "OPEN"
    assert clocked.swf.engine.tokens.keys() == {t.task_token for t in clocked.swf.engine.tokens.values()
                                                 if t.workflow_execution.workflow_id == "new"}


# ---- SWF's limits, and its faults on demand ---------------------------------------------------------


def test_values_over_swf_length_limits_are_refused(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    task = swf.poll_decision()
    status = refused(swf.c.respond_decision_task_completed, taskToken=task["taskToken"],
                     decisions=[schedule("a-1", input="x" * 32_769)])
    assert status[:2] == ("ValidationException", 400) and "32768" in status[2] and "input" in status[2]
    swf.c.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[schedule("a-1", input="x" * 32_768)])
    activity = swf.poll_activity()
    assert len(activity["input"]) == 32_768
    token = activity["taskToken"]
    assert "result" in refused(swf.c.respond_activity_task_completed, taskToken=token, result="r" * 32_769)[2]
    assert "reason" in refused(swf.c.respond_activity_task_failed, taskToken=token, reason="r" * 257)[2]
    swf.c.respond_activity_task_completed(taskToken=token, result="r" * 32_768)  # still open, and taken now


def test_a_request_over_one_megabyte_is_refused(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    task = swf.poll_decision()
    big = [schedule(f"a-{i}", input="x" * 30_000) for i in range(40)]  # 1.2 MB
    status = refused(swf.c.respond_decision_task_completed, taskToken=task["taskToken"], decisions=big)
    assert status[:2] == ("ValidationException", 400) and "1048576" in status[2]
    swf.c.respond_decision_task_completed(taskToken=task["taskToken"], decisions=big[:30])
    assert swf.pending() == 30


def test_throttling_on_demand(clocked: ClockedSWF, swf: Swf) -> None:
    clocked.swf.engine.set_limits(parse_faults("throttle=1@DescribeDomain"))
    status = refused(swf.c.describe_domain, name=DOMAIN)
    assert status == ("ThrottlingException", 400, "Rate exceeded")
    swf.c.list_domains(registrationStatus="REGISTERED")  # other operations go through
    clocked.swf.engine.set_limits(parse_faults("errors=1@DescribeDomain"))
    assert refused(swf.c.describe_domain, name=DOMAIN)[:2] == ("InternalFailure", 500)
    clocked.swf.engine.set_limits(parse_faults("throttle=0.5,seed=7"))
    throttled = 0
    for _ in range(60):
        try:
            swf.c.list_domains(registrationStatus="REGISTERED")
        except ClientError as exc:
            assert code(exc) == ("ThrottlingException", 400)
            throttled += 1
    assert 15 <= throttled <= 45


def test_open_activity_and_timer_limits_and_rates(clocked: ClockedSWF, swf: Swf) -> None:
    engine = clocked.swf.engine
    swf.start()
    engine.set_limits(parse_faults("open-activities=2,open-timers=1"))
    swf.decide(schedule("a-1"), schedule("a-2"), schedule("a-3"),
               *(decision("StartTimer", timerId=t, startToFireTimeout="60") for t in ("t1", "t2")))
    failed = [(e["eventType"], attrs(e)["cause"]) for e in swf.events() if e["eventType"].endswith("Failed")]
    assert failed == [("ScheduleActivityTaskFailed", "OPEN_ACTIVITIES_LIMIT_EXCEEDED"),
                      ("StartTimerFailed", "OPEN_TIMERS_LIMIT_EXCEEDED")]
    assert swf.types()[-1] == "DecisionTaskScheduled"  # SWF asks the decider again
    engine.set_limits(parse_faults("activity-rate=1,timer-rate=1"))
    swf.decide(schedule("b-1"), schedule("b-2"), *(decision("StartTimer", timerId=t, startToFireTimeout="60")
                                                   for t in ("u1", "u2")))
    causes = [attrs(e)["cause"] for e in swf.events() if e["eventType"].endswith("Failed")][2:]
    assert causes == ["ACTIVITY_CREATION_RATE_EXCEEDED", "TIMER_CREATION_RATE_EXCEEDED"]
    clocked.clock.advance(1)  # a new second: the rate allows one more
    swf.decide(schedule("b-2"))
    assert swf.pending() == 4
    engine.set_limits(parse_faults("max-decisions=2"))
    swf.c.signal_workflow_execution(domain=DOMAIN, workflowId="w", signalName="more")
    task = swf.poll_decision()
    status = refused(swf.c.respond_decision_task_completed, taskToken=task["taskToken"],
                     decisions=[schedule(f"c-{i}") for i in range(3)])
    assert status[:2] == ("ValidationException", 400) and "less than or equal to 2" in status[2]


# ---- smaller ones ------------------------------------------------------------------------------------


def test_pending_counts_are_the_tasks_waiting(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    assert swf.pending("decision") == 1
    task = swf.poll_decision()
    assert swf.pending("decision") == 0  # moto counts a started decision task as pending
    swf.c.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[schedule("a-1"), schedule("a-2")])
    swf.poll_activity()
    assert swf.pending() == 1  # moto counts the started one too


def test_a_signal_needs_no_input(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    swf.c.signal_workflow_execution(domain=DOMAIN, workflowId="w", signalName="bare")  # moto: KeyError, HTTP 500
    signaled = next(e for e in swf.events() if e["eventType"] == "WorkflowExecutionSignaled")
    assert attrs(signaled) == {"signalName": "bare"}


def test_an_unknown_region_is_one_clear_answer(clocked: ClockedSWF) -> None:
    import boto3

    c = boto3.client("swf", endpoint_url=clocked.endpoint, region_name="us-east-99", aws_access_key_id="x",
                     aws_secret_access_key="y")
    status = refused(c.list_domains, registrationStatus="REGISTERED")  # moto: HTTP 500, retried for 20 s
    assert status[:2] == ("UnrecognizedClientException", 400) and "us-east-99" in status[2]


def test_a_failure_inside_is_a_json_500_and_one_log_line(clocked: ClockedSWF, swf: Swf,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    def broken(*_: Any) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(Backend, "count_pending_activity_tasks", broken)
    with server_log(caplog):
        status = refused(swf.pending)
    assert status[:2] == ("InternalFailure", 500) and "boom" in status[2]
    assert [r.getMessage() for r in caplog.records] == ["CountPendingActivityTasks: internal error: RuntimeError('boom')"]


def test_every_refused_request_is_one_log_line(clocked: ClockedSWF, swf: Swf, caplog: pytest.LogCaptureFixture) -> None:
    with server_log(caplog):
        refused(swf.c.describe_workflow_execution, domain=DOMAIN, execution={"workflowId": "x", "runId": "y"})
        refused(swf.c.start_workflow_execution, domain="nope", workflowId="w", workflowType=WORKFLOW)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all("\n" not in line for line in lines)
    assert lines[0].startswith("DescribeWorkflowExecution refused (400): UnknownResourceFault: Unknown execution")


def test_count_calls_count_what_the_list_calls_list(clocked: ClockedSWF, swf: Swf) -> None:
    for wid in ("a", "b", "c"):
        swf.start(wid)
    swf.c.terminate_workflow_execution(domain=DOMAIN, workflowId="c")
    window = {"startTimeFilter": {"oldestDate": 0}}
    assert swf.c.count_open_workflow_executions(domain=DOMAIN, **window)["count"] == 2  # moto: no such call
    assert swf.c.count_closed_workflow_executions(domain=DOMAIN, **window, closeStatusFilter={"status": "TERMINATED"})[
        "count"] == 1
    assert swf.c.count_open_workflow_executions(domain=DOMAIN, **window, executionFilter={"workflowId": "a"})["count"] == 1


def test_decisions_denied_on_demand_fail_as_under_a_policy_without_them(clocked: ClockedSWF, swf: Swf) -> None:
    clocked.swf.engine.set_limits(parse_faults("deny=ScheduleActivityTask+FailWorkflowExecution"))
    swf.start()
    swf.decide(schedule("a-1"), decision("StartTimer", timerId="t", startToFireTimeout="60"))
    swf.decide(decision("FailWorkflowExecution", reason="no"))
    failed = [(e["eventType"], attrs(e)["cause"]) for e in swf.events() if e["eventType"].endswith("Failed")]
    assert failed == [("ScheduleActivityTaskFailed", "OPERATION_NOT_PERMITTED"),
                      ("FailWorkflowExecutionFailed", "OPERATION_NOT_PERMITTED")]
    assert swf.describe()["executionInfo"]["executionStatus"] == "OPEN" and swf.types()[-1] == "DecisionTaskScheduled"


def test_a_further_page_fails_on_demand(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    for i in range(5):
        swf.c.signal_workflow_execution(domain=DOMAIN, workflowId="w", signalName=f"s{i}")
    clocked.swf.engine.set_limits(parse_faults("page-errors=1"))
    first = swf.poll_decision(maximumPageSize=3)  # the first page comes with the task, as on SWF
    assert refused(swf.c.poll_for_decision_task, domain=DOMAIN, taskList={"name": TASK_LIST}, maximumPageSize=3,
                   nextPageToken=first["nextPageToken"])[:2] == ("InternalFailure", 500)
