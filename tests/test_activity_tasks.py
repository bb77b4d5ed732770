"""The worker's edges with botocore's Stubber: the exact calls for each way a task can end."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from swfagent.activity_tasks import handle_activity_task
from swfagent.config import Config
from swfagent.errors import TaskError
from swfagent.retrying import Timing
from tests.flows import config_from
from tests.support import FakeStore

TOKEN = "secret-task-token-" + "x" * 40


def _config(code: str, **spec: Any) -> Config:
    return config_from([{"activity": "A"}], {"A": {"command": [sys.executable, "-c", code], **spec}})


def _task(input: str | None = "in") -> dict[str, Any]:
    task = {"taskToken": TOKEN, "activityId": "A-1", "startedEventId": 6,
            "activityType": {"name": "A", "version": "1.0"},
            "workflowExecution": {"workflowId": "wf", "runId": "run"}}
    if input is not None:
        task["input"] = input
    return task


def test_completed_with_stdout_as_result_and_the_ids_in_the_environment(offline_client: Any) -> None:
    code = "import os, sys; print(sys.stdin.read(), os.environ['SWF_WORKFLOW_ID'], os.environ['SWF_RUN_ID'], " \
           "os.environ['SWF_ACTIVITY_ID'], os.environ['SWF_ACTIVITY_TYPE'])"
    with Stubber(offline_client) as stub:
        stub.add_response("respond_activity_task_completed", {}, {"taskToken": TOKEN, "result": "in wf run A-1 A"})
        outcome = handle_activity_task(offline_client, _config(code), _task())
        stub.assert_no_pending_responses()
    assert outcome.outcome == "completed"


def test_failed_with_exit_code_and_stderr(offline_client: Any) -> None:
    with Stubber(offline_client) as stub:
        stub.add_response("respond_activity_task_failed", {},
                          {"taskToken": TOKEN, "reason": "exit code 2", "details": "bad thing"})
        handle_activity_task(offline_client, _config("import sys; sys.exit('bad thing'[:0] or print('bad thing', file=sys.stderr) or 2)"), _task())
        stub.assert_no_pending_responses()


def test_an_activity_type_without_a_command_is_failed_and_says_so(offline_client: Any) -> None:
    task = _task()
    task["activityType"] = {"name": "Unknown", "version": "9"}
    with Stubber(offline_client) as stub:
        stub.add_response("respond_activity_task_failed", {}, {
            "taskToken": TOKEN, "reason": "no command for activity type Unknown 9 in config.yaml", "details": ""})
        assert handle_activity_task(offline_client, _config("pass"), task).outcome == "failed"
        stub.assert_no_pending_responses()


def test_cancel_requested_by_a_heartbeat_ends_the_task_and_reports_canceled(offline_client: Any) -> None:
    with Stubber(offline_client) as stub:
        stub.add_response("record_activity_task_heartbeat", {"cancelRequested": True}, {"taskToken": TOKEN, "details": ANY})
        stub.add_response("respond_activity_task_canceled", {}, {"taskToken": TOKEN, "details": ANY})
        outcome = handle_activity_task(offline_client, _config("import time; time.sleep(30)", heartbeat_timeout=1), _task())
        stub.assert_no_pending_responses()
    assert outcome.outcome == "canceled"


def test_unknown_resource_on_heartbeat_ends_the_task_and_reports_nothing(offline_client: Any) -> None:
    with Stubber(offline_client) as stub:
        stub.add_client_error("record_activity_task_heartbeat", "UnknownResourceFault", "Unknown activity", 400)
        outcome = handle_activity_task(offline_client, _config("import time; time.sleep(30)", heartbeat_timeout=1), _task())
        stub.assert_no_pending_responses()
    assert outcome.outcome == "gone"


class HeartbeatClient:
    """A offline_client whose first heartbeat is throttled; it records the calls (their number depends on timing)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def record_activity_task_heartbeat(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("heartbeat")
        if self.calls.count("heartbeat") == 1:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                              "RecordActivityTaskHeartbeat")
        return {"cancelRequested": False}

    def respond_activity_task_completed(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("completed " + kwargs["result"])
        return {}


def test_a_throttled_heartbeat_is_not_fatal() -> None:
    fake = HeartbeatClient()
    outcome = handle_activity_task(fake, _config("import time; time.sleep(1.5); print('done')", heartbeat_timeout=1), _task())
    assert outcome.outcome == "completed"
    assert fake.calls[-1] == "completed done" and fake.calls.count("heartbeat") >= 2


def test_a_finished_result_is_reported_through_transient_errors(offline_client: Any) -> None:
    with Stubber(offline_client) as stub:
        stub.add_client_error("respond_activity_task_completed", "ThrottlingException", "Rate exceeded", 400)
        stub.add_client_error("respond_activity_task_completed", "InternalFailure", "oops", 500)
        stub.add_response("respond_activity_task_completed", {}, {"taskToken": TOKEN, "result": "ok"})
        sleeps: list[float] = []
        handle_activity_task(offline_client, _config("print('ok')"), _task(), timing=Timing(sleep=sleeps.append))
        stub.assert_no_pending_responses()
    assert len(sleeps) == 2 and 1 <= sleeps[0] < 1.5 and 2 <= sleeps[1] < 3  # doubling, jittered


def test_the_token_never_appears_in_logs(offline_client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from swfagent.logs import setup_logging

    setup_logging("json")
    with Stubber(offline_client) as stub:
        for _ in range(3):
            stub.add_client_error("respond_activity_task_completed", "InternalFailure", f"no task {TOKEN}", 500)
        stub.add_client_error("respond_activity_task_completed", "ValidationException", f"bad token {TOKEN}", 400)
        with pytest.raises(TaskError) as err:
            handle_activity_task(offline_client, _config("print('ok')"), _task(), timing=Timing(sleep=lambda s: None))
    out = capsys.readouterr()
    assert out.err.count("InternalFailure; retrying") == 3
    assert TOKEN not in out.out + out.err + str(err.value)


def test_a_result_over_swf_limit_fails_the_task_saying_what_to_do(offline_client: Any) -> None:
    with Stubber(offline_client) as stub:
        stub.add_response("respond_activity_task_failed", {}, {"taskToken": TOKEN, "details": "", "reason": (
            "the result is 40000 characters, over SWF's 32768: print less, or set results: {s3: s3://BUCKET/PREFIX} "
            "in config.yaml")})
        handle_activity_task(offline_client, _config("print('r' * 40000)"), _task())
        stub.assert_no_pending_responses()


def test_a_large_result_goes_to_s3_and_its_reference_through_swf(offline_client: Any) -> None:
    store = FakeStore()
    with Stubber(offline_client) as stub:
        stub.add_response("respond_activity_task_completed", {}, {"taskToken": TOKEN,
                                                                  "result": "swfagent+s3://b/wf/run/A-1/result"})
        handle_activity_task(offline_client, _config("print('r' * 40000)"), _task(), store)
        stub.assert_no_pending_responses()
    assert store.put == {"wf/run/A-1/result": b"r" * 40000 + b"\n"}  # as printed, whole


def test_an_input_in_s3_reaches_the_task_whole(offline_client: Any) -> None:
    ref = "swfagent+s3://b/wf/run/X-1/result"
    store = FakeStore({ref: b"big " * 20_000})
    code = "import sys; print(len(sys.stdin.read()))"
    with Stubber(offline_client) as stub:
        stub.add_response("respond_activity_task_completed", {}, {"taskToken": TOKEN, "result": "80000"})
        handle_activity_task(offline_client, _config(code), _task(ref), store)
        fan_in = '{"X": "' + ref + '", "Y": "small"}'
        expanded = json.dumps({"X": "big " * 20_000, "Y": "small"})
        stub.add_response("respond_activity_task_completed", {}, {"taskToken": TOKEN, "result": str(len(expanded))})
        handle_activity_task(offline_client, _config(code), _task(fan_in), store)
        stub.assert_no_pending_responses()


def test_without_a_heartbeat_timeout_the_worker_still_asks_now_and_then_whether_to_cancel(
        offline_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from swfagent import activity_tasks

    monkeypatch.setattr(activity_tasks, "CANCEL_CHECK", 0.3)
    with Stubber(offline_client) as stub:
        stub.add_response("record_activity_task_heartbeat", {"cancelRequested": True}, {"taskToken": TOKEN, "details": ANY})
        stub.add_response("respond_activity_task_canceled", {}, {"taskToken": TOKEN, "details": ANY})
        outcome = handle_activity_task(offline_client, _config("import time; time.sleep(30)"), _task())
        stub.assert_no_pending_responses()
    assert outcome.outcome == "canceled"
