"""fold() on built histories, and the decider's poll reading every page (botocore's Stubber)."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from swfagent.decide import decide
from swfagent.decision_tasks import poll_decision_task
from swfagent.history import fold
from swfagent.ids import parse_activity_id
from swfagent.status import ActivityStatus
from tests.flows import ARTICLE, config_from
from tests.histories import History

COMPLETED, FAILED, STARTED, TIMED_OUT = (ActivityStatus.COMPLETED, ActivityStatus.FAILED, ActivityStatus.STARTED,
                                        ActivityStatus.TIMED_OUT)


def test_fold_tracks_each_attempt_and_the_latest_per_step() -> None:
    h = (History(input="in").schedule("A").fail("A", "exit code 1", "boom").timer("A-2", 5).fire("A-2")
         .schedule("A", 2).start("A", 2))
    state = h.state()
    assert state.input == "in"
    assert state.activities["A-1"].status == FAILED and state.activities["A-1"].details == "boom"
    assert state.by_step["A"].attempt == 2 and state.by_step["A"].status == STARTED
    assert state.timers["A-2"].fired


def test_fold_reads_results_and_timeouts() -> None:
    state = History().schedule("A").complete("A", "b").schedule("B").time_out("B", "HEARTBEAT").state()
    assert state.by_step["A"].status == COMPLETED and state.by_step["A"].result == "b"
    assert state.by_step["B"].status == TIMED_OUT and state.by_step["B"].timeout_type == "HEARTBEAT"


def test_fold_sorts_out_of_order_events() -> None:
    h = History().schedule("A").complete("A", "b")
    state = fold(list(reversed(h.events)))
    assert state.by_step["A"].status == COMPLETED and state.last_event_id == len(h.events)


def test_fold_reports_unreadable_events_instead_of_raising() -> None:
    h = History().schedule("A")
    h.add("ActivityTaskCompleted", {"result": "no scheduledEventId"})
    state = h.state()
    assert state.problems and "cannot be read" in state.problems[0]


def test_foreign_activity_ids_are_kept_but_not_steps() -> None:
    h = History()
    h.add("ActivityTaskScheduled", {"activityId": "made-elsewhere", "activityType": {"name": "X", "version": "1"}})
    state = h.state()
    assert "made-elsewhere" in state.activities and state.by_step == {}
    assert parse_activity_id("made-elsewhere") == (None, 0)
    assert parse_activity_id("Test_Task_A-12") == ("Test_Task_A", 12)


def test_closing_events_are_recorded() -> None:
    h = History()
    h.add("WorkflowExecutionTerminated", {"reason": "operator", "childPolicy": "TERMINATE"})
    state = h.state()
    assert state.close_status == "TERMINATED" and state.close_reason == "operator"


def test_a_history_in_three_pages_is_read_whole() -> None:
    events = History().schedule("Test_Task_A").complete("Test_Task_A", "b").decision().events
    pages = [events[:3], events[3:6], events[6:]]
    client = boto3.client("swf", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    base = {"domain": "TEST_SWF", "taskList": {"name": "TestTasks"}, "identity": "me", "maximumPageSize": 1000}
    common = {"taskToken": "token-1", "startedEventId": 9, "previousStartedEventId": 0,
              "workflowExecution": {"workflowId": "w", "runId": "r"},
              "workflowType": {"name": "TestWorkflow", "version": "1.0"}}
    with Stubber(client) as stub:
        stub.add_response("poll_for_decision_task", {**common, "events": pages[0], "nextPageToken": "p2"}, base)
        stub.add_response("poll_for_decision_task", {**common, "events": pages[1], "nextPageToken": "p3"},
                          {**base, "nextPageToken": "p2"})
        stub.add_response("poll_for_decision_task", {**common, "events": pages[2]}, {**base, "nextPageToken": "p3"})
        task = poll_decision_task(client, ARTICLE, "TestTasks", "me")
        stub.assert_no_pending_responses()
    assert task is not None and [e["eventId"] for e in task["events"]] == [e["eventId"] for e in events]
    assert fold(task["events"]).by_step["Test_Task_A"].result == "b"


def test_an_input_nested_too_deep_to_read_is_a_problem_not_a_crash() -> None:
    h = History(input='{"swfagent-carry": ' + "[" * 100_000 + "]" * 100_000 + "}").decision()
    state = h.state()
    assert len(state.problems) == 1 and "nested too deep" in state.problems[0]
    answer = decide(config_from([{"activity": "A"}]).workflow, state)
    assert [d["decisionType"] for d in answer.swf] == ["FailWorkflowExecution"]
