"""The decider's edges with botocore's Stubber: the exact answer to SWF, and what it prints."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from swfagent.decide import schedule
from swfagent.decider import handle_decision_task
from tests.flows import ARTICLE
from tests.histories import History


def _task(history: History, previous: int = 0) -> dict[str, Any]:
    return {"taskToken": "tok", "startedEventId": len(history.events), "previousStartedEventId": previous,
            "workflowExecution": {"workflowId": "wf", "runId": "run"},
            "workflowType": {"name": "TestWorkflow", "version": "1.0"}, "events": history.events}


pytestmark = pytest.mark.usefixtures("no_waiting")


def test_schedules_b_with_as_result_and_prints_the_articles_lines(offline_client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from swfagent.logs import setup_logging

    setup_logging()
    h = History().decision().schedule("Test_Task_A").complete("Test_Task_A", "b")
    h.add("DecisionTaskScheduled", {"taskList": {"name": "TestTasks"}})
    h.add("DecisionTaskStarted", {"scheduledEventId": len(h.events)})
    step = ARTICLE.workflow.step("Test_Task_B")
    expected = [schedule(step, ARTICLE.activities["Test_Task_B"], 1, "b")]
    with Stubber(offline_client) as stub:
        stub.add_response("respond_decision_task_completed", {}, {"taskToken": "tok", "decisions": expected})
        assert handle_decision_task(offline_client, ARTICLE, _task(h, previous=3)) == expected
        stub.assert_no_pending_responses()
    assert capsys.readouterr().out.splitlines() == [
        "Received a Decision Task", "Making decision on what is next", "Test_Task_A succeeded",
        "Decision Made: Schedule activity -- Test_Task_B",
    ]


def test_a_decision_task_that_is_gone_is_not_an_error(offline_client: Any) -> None:
    with Stubber(offline_client) as stub:
        stub.add_client_error("respond_decision_task_completed", "UnknownResourceFault", "Unknown decision task", 400)
        assert handle_decision_task(offline_client, ARTICLE, _task(History().decision())) == []
        stub.assert_no_pending_responses()


def test_throttled_answers_are_retried(offline_client: Any) -> None:
    with Stubber(offline_client) as stub:
        stub.add_client_error("respond_decision_task_completed", "ThrottlingException", "Rate exceeded", 400)
        stub.add_response("respond_decision_task_completed", {})
        assert len(handle_decision_task(offline_client, ARTICLE, _task(History().decision()))) == 1
        stub.assert_no_pending_responses()
