"""The console's text: a reason is shown whole, wrapped, and cut only past SWF's own limit, in the middle."""

from __future__ import annotations

import datetime as dt

from swfagent.limits import MAX_REASON, cut_middle
from swfagent.render import format_failures, format_show, table, wrapped
from swfagent.status import Shown
from swfagent.views import Alert, ExecutionView, Failure, Summary

# the reason a step that was never registered fails with: its end says what to do
REASON = ("Test_Task_Early could not be scheduled (ACTIVITY_TYPE_DOES_NOT_EXIST): activity type Test_Task_Early 1.0 "
          "is not registered: run python register_swf.py")


def test_a_reason_is_whole_and_wrapped() -> None:
    text = wrapped(REASON, 40)
    assert " ".join(text.split()) == REASON
    assert all(len(line) <= 40 for line in text.splitlines())
    assert text.endswith("run python register_swf.py")


def test_past_swf_s_limit_a_reason_is_cut_in_the_middle() -> None:
    long = "start " + "x" * 1000 + " run python register_swf.py"
    cut = cut_middle(long, MAX_REASON)
    assert len(cut) == MAX_REASON and cut.startswith("start ") and cut.endswith("run python register_swf.py")
    assert cut_middle(REASON, MAX_REASON) == REASON


def test_a_wrapped_last_column_stays_under_its_heading() -> None:
    lines = table(["Id", "Reason"], [["a", "one\ntwo"], ["bbb", "three"]]).splitlines()
    assert lines == ["Id   Reason", "a    one", "     two", "bbb  three"]


def _failure(reason: str) -> Failure:
    now = dt.datetime.now(dt.timezone.utc)
    return Failure({"execution": {"workflowId": "wf", "runId": "r1"}, "closeStatus": "FAILED", "closeTimestamp": now},
                   Alert("D", "W 1", "wf", "r1", "FAILED", "Test_Task_Early", reason, None, "show"))


def test_check_and_show_print_the_whole_reason() -> None:
    printed = format_failures([_failure(REASON)])
    assert " ".join(printed.split("Test_Task_Early", 1)[1].split()) == REASON  # after the Step column
    data = ExecutionView(Summary("wf", "r1", "TestWorkflow 1.0", "CLOSED", "FAILED", None, None, None, None, REASON,
                                 {str(s): 0 for s in Shown}), (), (), {})
    shown = format_show(data)
    assert " ".join(shown.split("Reason", 1)[1].split("Progress", 1)[0].split()) == REASON
