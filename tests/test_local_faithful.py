"""The embedded SWF answers down to the field as SWF does (issue 20's audit): one test per row of the guide's table.

Each test drives the embedded server over HTTP with boto3, on a clock the test moves (conftest's `clocked`).
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from swfagent.limits import MAX_TAGS
from swfagent.local.api import SHAPE_CHECK, SwfApi, operations, shape_problems
from swfagent.local.faults import parse_faults
from tests.support import ClockedSWF
from tests.swf import ACTIVITY, DOMAIN, TASK_LIST, WORKFLOW, Swf, client, decision, schedule


@pytest.fixture
def swf(clocked: ClockedSWF) -> Swf:
    return Swf(client(clocked.endpoint))


def refused(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    """The code, HTTP status and message of a call SWF refuses."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    error = info.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Message"]


def attrs(event: dict[str, Any]) -> dict[str, Any]:
    return next(v for k, v in event.items() if k.endswith("EventAttributes"))


def event(swf: Swf, kind: str, workflow_id: str = "w") -> dict[str, Any]:
    return attrs(next(e for e in swf.events(workflow_id) if e["eventType"] == kind))


def test_a_start_refused_creates_nothing(swf: Swf) -> None:
    code, status, _ = refused(swf.c.start_workflow_execution, domain=DOMAIN, workflowId="w", workflowType=WORKFLOW,
                              executionStartToCloseTimeout="abc")
    assert (code, status) == ("ValidationException", 400)  # moto: HTTP 500, and the execution left open
    assert swf.c.count_open_workflow_executions(domain=DOMAIN, startTimeFilter={"oldestDate": 0})["count"] == 0
    swf.start()  # the client's retry starts it (moto: WorkflowExecutionAlreadyStartedFault)


@pytest.mark.parametrize("call, kwargs, wanted", [
    ("start_workflow_execution", {"childPolicy": "BOGUS"}, "ValidationException"),
    ("start_workflow_execution", {"taskStartToCloseTimeout": "ten"}, "ValidationException"),
    ("start_workflow_execution", {"executionStartToCloseTimeout": "31536001"}, "ValidationException"),
    ("start_workflow_execution", {"tagList": ["a", "b", "c", "d", "e", "f"]}, "ValidationException"),
    ("start_workflow_execution", {"workflowId": "a:b"}, "ValidationException"),
    ("register_domain", {"name": "E", "workflowExecutionRetentionPeriodInDays": "91"}, "ValidationException"),
    ("register_domain", {"name": "E", "workflowExecutionRetentionPeriodInDays": "x"}, "ValidationException"),
    ("register_domain", {"name": "E:1", "workflowExecutionRetentionPeriodInDays": "1"}, "ValidationException"),
    ("register_domain", {"name": "E", "workflowExecutionRetentionPeriodInDays": "1",
                         "tags": [{"key": f"k{i}"} for i in range(MAX_TAGS + 1)]}, "TooManyTagsFault"),
    ("register_activity_type", {"domain": DOMAIN, "name": "B", "version": "1", "defaultTaskHeartbeatTimeout": "-1"},
     "ValidationException"),
    ("list_domains", {"registrationStatus": "BOGUS"}, "ValidationException"),
    ("list_domains", {"registrationStatus": "REGISTERED", "maximumPageSize": 1001}, "ValidationException"),
])
def test_what_swf_refuses_is_refused_and_nothing_is_created(swf: Swf, call: str, kwargs: dict[str, Any],
                                                            wanted: str) -> None:
    if call == "start_workflow_execution":
        kwargs = {"domain": DOMAIN, "workflowId": "w", "workflowType": WORKFLOW, **kwargs}
    code, status, message = refused(getattr(swf.c, call), **kwargs)
    assert (code, status) == (wanted, 400), message
    domains = swf.c.list_domains(registrationStatus="REGISTERED")["domainInfos"]
    assert [d["name"] for d in domains] == [DOMAIN]
    assert swf.c.count_open_workflow_executions(domain=DOMAIN, startTimeFilter={"oldestDate": 0})["count"] == 0


def test_list_domains_bogus_status_is_swfs_own_validation_message(clocked: ClockedSWF) -> None:
    c = client(clocked.endpoint)
    with pytest.raises(ClientError) as info:
        c.list_domains(registrationStatus="BOGUS")
    message = info.value.response["Error"]["Message"]
    assert "Member must satisfy enum value set: [REGISTERED, DEPRECATED]" in message


def test_the_history_event_limit_terminates_with_event_limit_exceeded(clocked: ClockedSWF, swf: Swf) -> None:
    clocked.swf.engine.set_limits(parse_faults("history-events=12"))
    swf.start()
    for i in range(20):
        try:
            swf.c.signal_workflow_execution(domain=DOMAIN, workflowId="w", signalName=f"s{i}")
        except ClientError:
            break  # closed: SWF refuses a signal to it
    events = swf.events()
    assert len(events) == 12 and [e["eventId"] for e in events] == list(range(1, 13))
    last = events[-1]
    assert last["eventType"] == "WorkflowExecutionTerminated" and attrs(last)["cause"] == "EVENT_LIMIT_EXCEEDED"
    assert swf.describe()["executionInfo"]["closeStatus"] == "TERMINATED"
    assert swf.poll_decision()["taskToken"] == ""  # its decision task went with it


def test_list_domains_and_types_are_paged_filtered_and_bounded(swf: Swf) -> None:
    for name in ("E", "F", "G"):
        swf.c.register_domain(name=name, workflowExecutionRetentionPeriodInDays="1")
        swf.c.register_workflow_type(domain=DOMAIN, name=f"W{name}", version="1")
        swf.c.register_activity_type(domain=DOMAIN, name="A", version=name)
    pages = swf.c.get_paginator("list_domains").paginate(registrationStatus="REGISTERED",
                                                          PaginationConfig={"PageSize": 2})
    sizes = [len(p["domainInfos"]) for p in pages]
    assert sizes == [2, 2]
    names = [d["name"] for p in swf.c.get_paginator("list_domains").paginate(
        registrationStatus="REGISTERED", PaginationConfig={"PageSize": 3}) for d in p["domainInfos"]]
    assert names == [DOMAIN, "E", "F", "G"]
    first = swf.c.list_workflow_types(domain=DOMAIN, registrationStatus="REGISTERED", maximumPageSize=2)
    assert len(first["typeInfos"]) == 2 and first["nextPageToken"]
    rest = swf.c.list_workflow_types(domain=DOMAIN, registrationStatus="REGISTERED", maximumPageSize=2,
                                     nextPageToken=first["nextPageToken"])
    assert len(rest["typeInfos"]) == 2 and "nextPageToken" not in rest
    named = swf.c.list_workflow_types(domain=DOMAIN, registrationStatus="REGISTERED", name="WE")["typeInfos"]
    assert [t["workflowType"] for t in named] == [{"name": "WE", "version": "1"}]
    versions = swf.c.list_activity_types(domain=DOMAIN, registrationStatus="REGISTERED", name="A")["typeInfos"]
    assert len(versions) == 4
    assert refused(swf.c.list_activity_types, domain=DOMAIN, registrationStatus="REGISTERED",
                   maximumPageSize=1001)[:2] == ("ValidationException", 400)


def test_delete_type_needs_it_deprecated(swf: Swf) -> None:
    assert refused(swf.c.delete_workflow_type, domain=DOMAIN, workflowType=WORKFLOW) == (
        "TypeNotDeprecatedFault", 400, "WorkflowType=[name=W, version=1]")
    assert refused(swf.c.delete_activity_type, domain=DOMAIN, activityType=ACTIVITY)[:2] == (
        "TypeNotDeprecatedFault", 400)
    swf.c.deprecate_activity_type(domain=DOMAIN, activityType=ACTIVITY)
    swf.c.delete_activity_type(domain=DOMAIN, activityType=ACTIVITY)
    assert refused(swf.c.describe_activity_type, domain=DOMAIN, activityType=ACTIVITY)[:2] == (
        "UnknownResourceFault", 400)
    assert swf.c.list_activity_types(domain=DOMAIN, registrationStatus="DEPRECATED")["typeInfos"] == []


def test_registering_in_a_deprecated_domain_is_domain_deprecated_fault(swf: Swf) -> None:
    swf.c.deprecate_domain(name=DOMAIN)
    for call, extra in ((swf.c.register_activity_type, {}), (swf.c.register_workflow_type, {})):
        assert refused(call, domain=DOMAIN, name="New", version="1", **extra)[:2] == ("DomainDeprecatedFault", 400)


def test_tags_on_an_unknown_arn_are_refused_and_the_value_is_optional(swf: Swf) -> None:
    arn = swf.c.describe_domain(name=DOMAIN)["domainInfo"]["arn"]
    unknown = arn.replace(f"/domain/{DOMAIN}", "/domain/nope")
    for call, extra in ((swf.c.tag_resource, {"tags": [{"key": "a"}]}), (swf.c.list_tags_for_resource, {}),
                        (swf.c.untag_resource, {"tagKeys": ["a"]})):
        assert refused(call, resourceArn=unknown, **extra)[:2] == ("UnknownResourceFault", 400)
    swf.c.tag_resource(resourceArn=arn, tags=[{"key": "team"}, {"key": "env", "value": "dev"}])
    tags = swf.c.list_tags_for_resource(resourceArn=arn)["tags"]
    assert sorted(tags, key=lambda t: t["key"]) == [{"key": "env", "value": "dev"}, {"key": "team"}]
    too_many = [{"key": f"k{i}"} for i in range(MAX_TAGS - 1)]
    assert refused(swf.c.tag_resource, resourceArn=arn, tags=too_many)[:2] == ("TooManyTagsFault", 400)
    swf.c.register_domain(name="E", workflowExecutionRetentionPeriodInDays="1", tags=[{"key": "bare"}])


def test_started_event_id_is_zero_for_an_activity_never_started(clocked: ClockedSWF, swf: Swf) -> None:
    swf.start()
    swf.decide(schedule("a-1", scheduleToStartTimeout="5"), schedule("a-2"))
    clocked.clock.advance(6)
    timed_out = event(swf, "ActivityTaskTimedOut")
    assert timed_out["timeoutType"] == "SCHEDULE_TO_START" and timed_out["startedEventId"] == 0
    swf.decide(decision("RequestCancelActivityTask", activityId="a-2"))
    canceled = event(swf, "ActivityTaskCanceled")
    assert canceled["startedEventId"] == 0


def test_empty_polls_answer_an_empty_token_and_zero_ids(swf: Swf) -> None:
    activity = swf.poll_activity()
    decision_ = swf.poll_decision()
    activity.pop("ResponseMetadata")
    decision_.pop("ResponseMetadata")
    assert activity == {"taskToken": "", "startedEventId": 0}  # moto: no taskToken
    assert decision_ == {"taskToken": "", "startedEventId": 0, "previousStartedEventId": 0}


def test_a_made_up_task_token_is_unknown_resource_fault(swf: Swf) -> None:
    for call in (swf.c.respond_activity_task_completed, swf.c.record_activity_task_heartbeat,
                 swf.c.respond_decision_task_completed):
        assert refused(call, taskToken="made-up")[:2] == ("UnknownResourceFault", 400)  # moto: ValidationException


def test_zero_and_none_where_swf_writes_them(swf: Swf) -> None:
    swf.start()
    assert event(swf, "WorkflowExecutionStarted")["parentInitiatedEventId"] == 0
    assert event(swf, "DecisionTaskScheduled")["scheduleToStartTimeout"] == "NONE"


def test_activity_task_scheduled_carries_the_resolved_timeouts(swf: Swf) -> None:
    swf.c.register_activity_type(
        domain=DOMAIN, name="B", version="1", defaultTaskList={"name": TASK_LIST}, defaultTaskStartToCloseTimeout="60",
        defaultTaskScheduleToStartTimeout="NONE", defaultTaskScheduleToCloseTimeout="NONE",
        defaultTaskHeartbeatTimeout="30", defaultTaskPriority="3")
    swf.start()
    swf.decide(decision("ScheduleActivityTask", activityId="a-1", activityType={"name": "B", "version": "1"},
                        heartbeatTimeout="20"))
    scheduled = event(swf, "ActivityTaskScheduled")
    assert {k: scheduled.get(k) for k in ("startToCloseTimeout", "scheduleToStartTimeout", "scheduleToCloseTimeout",
                                          "heartbeatTimeout", "taskPriority")} == {
        "startToCloseTimeout": "60", "scheduleToStartTimeout": "NONE", "scheduleToCloseTimeout": "NONE",
        "heartbeatTimeout": "20", "taskPriority": "3"}


def test_describe_echoes_the_latest_execution_context(swf: Swf) -> None:
    swf.start()
    task = swf.poll_decision()
    swf.c.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[], executionContext="step 2")
    assert swf.describe()["latestExecutionContext"] == "step 2"


def test_fault_messages_are_swfs_own(swf: Swf) -> None:
    swf.start()
    assert refused(swf.c.start_workflow_execution, domain=DOMAIN, workflowId="w", workflowType=WORKFLOW) == (
        "WorkflowExecutionAlreadyStartedFault", 400, "")
    assert refused(swf.c.register_domain, name=DOMAIN, workflowExecutionRetentionPeriodInDays="1") == (
        "DomainAlreadyExistsFault", 400, DOMAIN)
    assert refused(swf.c.describe_domain, name="nope")[2] == "Unknown domain: nope"
    assert refused(swf.c.register_workflow_type, domain=DOMAIN, **WORKFLOW)[2] == "WorkflowType=[name=W, version=1]"
    assert refused(swf.c.describe_workflow_type, domain=DOMAIN, workflowType={"name": "N", "version": "2"})[2] == (
        "Unknown type: WorkflowType=[name=N, version=2]")


def test_task_priority_is_honoured_and_echoed(swf: Swf) -> None:
    swf.start("low", taskPriority="1")
    swf.start("high", taskPriority="9")
    first = swf.poll_decision()
    assert first["workflowExecution"]["workflowId"] == "high"  # started second, taken first
    assert swf.describe("high")["executionConfiguration"]["taskPriority"] == "9"
    assert event(swf, "WorkflowExecutionStarted", "high")["taskPriority"] == "9"
    swf.c.respond_decision_task_completed(taskToken=first["taskToken"], decisions=[
        schedule("a-low", taskPriority="-5"), schedule("a-mid"), schedule("a-top", taskPriority="7")])
    order = [swf.poll_activity()["activityId"] for _ in range(3)]
    assert order == ["a-top", "a-mid", "a-low"]


def test_too_many_pollers_is_limit_exceeded_fault(clocked: ClockedSWF, swf: Swf) -> None:
    clocked.swf.engine.set_limits(parse_faults("pollers=1"))
    clocked.swf.engine.poll_seconds = 2.0
    waiting = threading.Thread(target=swf.poll_activity)
    waiting.start()
    try:
        deadline = threading.Event()
        for _ in range(50):  # until the first poll waits
            domain = clocked.swf.engine.backend("123456789012", "us-east-1")._get_domain(DOMAIN)
            task_list = clocked.swf.engine.task_list(domain, "activity", TASK_LIST)
            if task_list is not None and task_list.polling:
                break
            deadline.wait(0.05)
        assert refused(swf.c.poll_for_activity_task, domain=DOMAIN, taskList={"name": TASK_LIST})[:2] == (
            "LimitExceededFault", 400)
        assert swf.poll_decision()["taskToken"] == ""  # another task list: not counted with it
    finally:
        waiting.join()


# ---- the shape contract ----------------------------------------------------------------------------------


def test_the_shape_contract_finds_what_breaks_botocores_shapes() -> None:
    assert shape_problems("DescribeDomain", '{"domainInfo": {"name": "D"}, "extra": 1}') == [
        "DescribeDomain.configuration: required, missing", "DescribeDomain.domainInfo.status: required, missing",
        "DescribeDomain.extra: not in botocore's shape DomainDetail"]
    history = {"events": [{"eventId": 1, "eventType": "TimerCancelled", "eventTimestamp": 1.0}]}
    assert shape_problems("GetWorkflowExecutionHistory", json.dumps(history)) == [
        "GetWorkflowExecutionHistory.events[0].eventType: 'TimerCancelled' not in EventType's values"]
    assert shape_problems("CountPendingActivityTasks", '{"count": "1"}') == [
        "CountPendingActivityTasks.count: str, not integer"]
    assert shape_problems("PollForActivityTask", '{"taskToken": "", "startedEventId": 0}') == []  # an empty poll
    assert shape_problems("DeprecateDomain", "") == []
    for operation in operations():  # every operation's output shape can be checked
        shape_problems(operation, "{}")


def test_every_answer_of_the_tests_embedded_swf_is_checked(clocked: ClockedSWF, swf: Swf,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert os.environ.get(SHAPE_CHECK) and clocked.swf._server.app.shape_check  # conftest turns it on for all
    monkeypatch.setattr(SwfApi, "describe_domain", lambda self: json.dumps({"domainInfo": {"name": DOMAIN}}))
    code, status, message = refused(swf.c.describe_domain, name=DOMAIN)  # the client does not retry
    assert (code, status) == ("InternalFailure", 500)
    assert "shape contract" in message and "DescribeDomain.configuration: required, missing" in message
