"""The decider's edges with botocore's Stubber: the exact answer to SWF, and what it prints."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from swfagent.decide import schedule
from swfagent.decision_tasks import handle_decision_task
from swfagent.decisions import fail, marker, request_cancel, start_timer, to_swf
from swfagent.history import carry_input
from tests.flows import ARTICLE, DIAMOND, config_from
from tests.histories import History
from tests.support import FakeStore


def _task(history: History, previous: int = 0) -> dict[str, Any]:
    return {"taskToken": "tok", "startedEventId": len(history.events), "previousStartedEventId": previous,
            "workflowExecution": {"workflowId": "wf", "runId": "run"},
            "workflowType": {"name": "TestWorkflow", "version": "1.0"}, "events": history.events}


def test_schedules_b_with_as_result_and_prints_the_articles_lines(offline_client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from swfagent.logs import setup_logging

    setup_logging()
    h = History().decision().schedule("Test_Task_A").complete("Test_Task_A", "b")
    h.add("DecisionTaskScheduled", {"taskList": {"name": "TestTasks"}})
    h.add("DecisionTaskStarted", {"scheduledEventId": len(h.events)})
    step = ARTICLE.workflow.step("Test_Task_B")
    expected = to_swf([schedule(step.id, ARTICLE.activities["Test_Task_B"], 1, "b")])
    with Stubber(offline_client) as stub:
        stub.add_response("respond_decision_task_completed", {}, {"taskToken": "tok", "decisions": expected})
        assert handle_decision_task(offline_client, ARTICLE, _task(h, previous=3)).swf == expected
        stub.assert_no_pending_responses()
    assert capsys.readouterr().out.splitlines() == [
        "Received a Decision Task", "Making decision on what is next", "Test_Task_A succeeded",
        "Decision Made: Schedule activity -- Test_Task_B",
    ]


def test_a_decision_task_that_is_gone_is_not_an_error(offline_client: Any) -> None:
    with Stubber(offline_client) as stub:
        stub.add_client_error("respond_decision_task_completed", "UnknownResourceFault", "Unknown decision task", 400)
        assert handle_decision_task(offline_client, ARTICLE, _task(History().decision())).swf == []
        stub.assert_no_pending_responses()


def test_throttled_answers_are_retried(offline_client: Any) -> None:
    with Stubber(offline_client) as stub:
        stub.add_client_error("respond_decision_task_completed", "ThrottlingException", "Rate exceeded", 400)
        stub.add_response("respond_decision_task_completed", {})
        assert len(handle_decision_task(offline_client, ARTICLE, _task(History().decision())).swf) == 1
        stub.assert_no_pending_responses()


def test_a_page_that_cannot_be_read_leaves_the_task_to_swf(offline_client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from swfagent.decision_tasks import poll_decision_task
    from swfagent.logs import setup_logging
    from swfagent.poller import Poll

    setup_logging()
    first = {**_task(History().decision()), "nextPageToken": "page-2"}
    del first["events"]
    with Stubber(offline_client) as stub:
        stub.add_response("poll_for_decision_task", {**first, "events": History().events})
        stub.add_client_error("poll_for_decision_task", "InternalFailure", "oops", 500)
        assert poll_decision_task(offline_client, ARTICLE, "TestTasks", "me") is Poll.DROPPED
        stub.assert_no_pending_responses()
    assert "a page of its history could not be read (InternalFailure)" in capsys.readouterr().err


def test_an_answer_swf_refuses_for_good_fails_the_execution_naming_why(offline_client: Any) -> None:
    with Stubber(offline_client) as stub:
        stub.add_client_error("respond_decision_task_completed", "ValidationException", "decisions too large", 400)
        stub.add_response("respond_decision_task_completed", {}, {"taskToken": "tok", "decisions": to_swf([
            fail("SWF refused the decider's answer: ValidationException: decisions too large")])})
        answer = handle_decision_task(offline_client, ARTICLE, _task(History().decision()))
        stub.assert_no_pending_responses()
    assert answer.closing is not None and answer.closing.status == "FAILED"


def test_a_decider_that_cannot_decide_records_why_and_asks_again(offline_client: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from swfagent import decision_tasks

    def broken(*_: Any) -> Any:
        raise KeyError("nope")

    monkeypatch.setattr(decision_tasks, "decide", broken)
    with Stubber(offline_client) as stub:
        stub.add_response("respond_decision_task_completed", {}, {"taskToken": "tok", "decisions": to_swf([
            marker("swfagent-error", "cannot decide: KeyError('nope')"), start_timer("swfagent-error-4", 30)])})
        handle_decision_task(offline_client, ARTICLE, _task(History().decision()))
        stub.assert_no_pending_responses()


def test_an_input_too_large_for_swf_goes_to_s3(offline_client: Any) -> None:
    flow = config_from([{"activity": "A"}, {"activity": "B", "after": ["A"]}], results={"s3": "s3://bkt/p"})
    big = "x" * 40_000
    task = _task(History(input=big).decision())
    store = FakeStore()
    with Stubber(offline_client) as stub:
        stub.add_response("respond_decision_task_completed", {}, {"taskToken": "tok", "decisions": to_swf([
            schedule("A", flow.activities["A"], 1, "swfagent+s3://b/wf/run/A-1/input")])})
        handle_decision_task(offline_client, flow, task, store)
        stub.assert_no_pending_responses()
    assert store.put == {"wf/run/A-1/input": big}


def test_a_when_on_a_result_in_s3_reads_its_text(offline_client: Any) -> None:
    ref = "swfagent+s3://b/wf/run/A-1/result"
    task = _task(History().schedule("A").complete("A", ref).decision())
    with Stubber(offline_client) as stub:
        stub.add_response("respond_decision_task_completed", {}, {"taskToken": "tok", "decisions": to_swf([
            schedule("C", DIAMOND.activities["C"], 1, ref)])})
        handle_decision_task(offline_client, DIAMOND, task, FakeStore({ref: "x"}))
        stub.assert_no_pending_responses()


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    captured = capsys.readouterr()
    return (captured.out + captured.err).splitlines()


def test_news_is_told_once_though_a_decision_task_timed_out(offline_client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from swfagent.logs import setup_logging

    setup_logging()
    h = History().decision().schedule("Test_Task_A").complete("Test_Task_A", "b")  # the decision answered: started 3
    lost = h.started_decision()
    with Stubber(offline_client) as stub:  # a decider took it and was too late: SWF no longer takes its answer
        stub.add_client_error("respond_decision_task_completed", "UnknownResourceFault", "Unknown decision task", 400)
        assert handle_decision_task(offline_client, ARTICLE, {**_task(h, previous=3), "startedEventId": lost}).swf == []
    assert "Test_Task_A succeeded" not in _lines(capsys)  # not answered: not told yet
    h.add("DecisionTaskTimedOut", {"scheduledEventId": lost - 1, "startedEventId": lost, "timeoutType": "START_TO_CLOSE"})
    h.started_decision()
    with Stubber(offline_client) as stub:  # SWF: previousStartedEventId is still the last one answered
        stub.add_response("respond_decision_task_completed", {})
        handle_decision_task(offline_client, ARTICLE, _task(h, previous=3))
    assert _lines(capsys).count("Test_Task_A succeeded") == 1
    h.add("DecisionTaskCompleted", {"scheduledEventId": len(h.events) - 1, "startedEventId": len(h.events)})
    answered = len(h.events) - 1
    h.signal("poke")
    h.started_decision()
    with Stubber(offline_client) as stub:
        stub.add_response("respond_decision_task_completed", {})
        handle_decision_task(offline_client, ARTICLE, _task(h, previous=answered))
    assert "Test_Task_A succeeded" not in _lines(capsys)  # told already


def test_a_step_a_diamond_skips_is_told_once(offline_client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from swfagent.logs import setup_logging

    setup_logging()
    h = History().decision().schedule("A").complete("A", "x")
    h.started_decision()
    with Stubber(offline_client) as stub:
        stub.add_response("respond_decision_task_completed", {})
        handle_decision_task(offline_client, DIAMOND, _task(h, previous=3))
    lines = _lines(capsys)
    assert [line for line in lines if line.startswith("Skipped")] == ["Skipped B: A's result 'x' does not match [a-m]"]
    assert lines.index("A succeeded") < lines.index("Skipped B: A's result 'x' does not match [a-m]") < lines.index(
        "Decision Made: Schedule activity -- C")
    answered = len(h.events)
    h.add("DecisionTaskCompleted", {"scheduledEventId": answered - 1, "startedEventId": answered})
    h.schedule("C").complete("C", "xigua")
    h.started_decision()
    with Stubber(offline_client) as stub:
        stub.add_response("respond_decision_task_completed", {})
        handle_decision_task(offline_client, DIAMOND, _task(h, previous=answered))
    assert [line for line in _lines(capsys) if line.startswith("Skipped")] == []


def test_a_decision_task_no_decider_took_says_so(offline_client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from swfagent.logs import setup_logging

    setup_logging()
    h = History().decision_timed_out("SCHEDULE_TO_START")
    h.started_decision()
    with Stubber(offline_client) as stub:
        stub.add_response("respond_decision_task_completed", {})
        handle_decision_task(offline_client, ARTICLE, _task(h))
    assert ("WARNING: 1 decision task(s) timed out before any decider took them (SCHEDULE_TO_START): no decider was polling "
            "task list TestTasks; keep decider.py --loop running") in _lines(capsys)


def test_an_activity_cancel_refused_for_good_is_told_once(offline_client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from swfagent.logs import setup_logging

    setup_logging()
    h = History().decision().schedule("Test_Task_A").start("Test_Task_A").cancel_request().decision()
    h.refuse(request_cancel("Test_Task_A-1"), "OPERATION_NOT_PERMITTED")
    started = h.started_decision()
    told = ("SWF refused to cancel activity Test_Task_A-1 (OPERATION_NOT_PERMITTED): see python -m swfagent policies; "
            "the decider will not ask again: the execution is canceled once the activity ends by itself")
    for previous in (started - 5, started):  # the decision task after the refusal, then a later one
        with Stubber(offline_client) as stub:
            stub.add_response("respond_decision_task_completed", {}, {"taskToken": "tok", "decisions": []})
            assert handle_decision_task(offline_client, ARTICLE, _task(h, previous=previous)).refused is not None
        lines = _lines(capsys)
        assert lines.count(f"ERROR: {told}") == (1 if previous < started else 0), lines


def test_results_carried_past_swfs_limit_go_to_s3_and_the_new_run_reads_them_back(offline_client: Any) -> None:
    flow = config_from([{"activity": "A"}, {"activity": "B", "after": ["A"]}, {"activity": "C", "after": ["B"]}],
                       results={"s3": "s3://bkt/p"}, continue_after_events=10)
    big = "x" * 40_000
    store = FakeStore()
    with Stubber(offline_client) as stub:
        stub.add_response("respond_decision_task_completed", {})
        answer = handle_decision_task(offline_client, flow, _task(History(input="in").decision().schedule("A")
                                                                  .complete("A", big).decision().decision()), store)
    [d] = answer.decisions
    assert d.type.value == "ContinueAsNewWorkflowExecution" and d.get("input") == "swfagent+s3://b/wf/run/execution/input"
    carried = store.put["wf/run/execution/input"]
    nxt = History(input=d.get("input")).decision()
    with Stubber(offline_client) as stub:
        stub.add_response("respond_decision_task_completed", {})
        answer = handle_decision_task(offline_client, flow, _task(nxt), FakeStore({d.get("input"): carried}))
    [b] = answer.decisions  # B, with A's result, which the run before carried: B's input goes to S3 in turn
    assert b.get("activityId") == "B-1"


def test_a_map_over_a_carried_result_in_s3_reads_its_text(offline_client: Any) -> None:
    flow = config_from([{"activity": "A"}, {"id": "M", "activity": "Item", "for_each": "A"}],
                       results={"s3": "s3://bkt/p"})
    ref = "swfagent+s3://b/wf/run/A-1/result"
    task = _task(History(input=carry_input("in", {"A": ref}, 2)).decision())
    with Stubber(offline_client) as stub:
        stub.add_response("respond_decision_task_completed", {})
        answer = handle_decision_task(offline_client, flow, task, FakeStore({ref: '["x", "y"]'}))
    assert [d.get("input") for d in answer.decisions] == ["x", "y"]
