"""The chain of runs under one workflow id, and a child's parent: numbered from the listing, linked from the
history (pure: built listings and histories)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.exceptions import ClientError

from swfagent.config import Config
from swfagent.executions import chain_of, chain_runs, execution_rows, run_numbers, step_children
from swfagent.history import fold
from swfagent.ids import batch_step_id
from swfagent.render import format_executions, format_show
from swfagent.status import Shown
from swfagent.views import Chain, ExecutionView, StepRow, Summary
from tests.histories import WORKFLOW_ID, History

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def _info(workflow_id: str, run_id: str, minute: int, close: str | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {"execution": {"workflowId": workflow_id, "runId": run_id},
                            "workflowType": {"name": "W", "version": "1"},
                            "startTimestamp": T0 + dt.timedelta(minutes=minute),
                            "executionStatus": "CLOSED" if close else "OPEN"}
    if close:
        info["closeStatus"] = close
    return info


LISTED = [  # newest first, as SWF lists them: a run, a chain of two, a chain started again after that one completed
    _info("daily", "d4", 9, None), _info("daily", "d3", 5, "CONTINUED_AS_NEW"), _info("daily", "d2", 3, "COMPLETED"),
    _info("other", "o1", 2, "FAILED"), _info("daily", "d1", 1, "CONTINUED_AS_NEW"), _info("daily", "d0", 0, "COMPLETED"),
]


def test_runs_are_numbered_in_their_chain_oldest_first() -> None:
    assert run_numbers(LISTED) == {"d0": (1, 1), "d1": (1, 2), "d2": (2, 2), "d3": (1, 2), "d4": (2, 2),
                                   "o1": (1, 1)}
    rows = execution_rows(LISTED[:2], LISTED)  # an open listing numbered among all runs
    assert [(r.run_id, r.run) for r in rows] == [("d4", 2), ("d3", 1)]
    assert rows[0].as_json()["run"] == 2 and rows[0].as_json()["execution"]["runId"] == "d4"


def test_executions_has_a_run_column_and_the_continued_as_new_status() -> None:
    lines = format_executions(execution_rows(LISTED)).splitlines()
    assert lines[0].split()[:5] == ["Workflow", "id", "Run", "id", "Run"]
    d3 = next(line.split() for line in lines if " d3 " in line)
    assert d3[2] == "1" and d3[-1] == "CONTINUED_AS_NEW"


def test_a_run_names_the_run_it_continues_the_one_that_continues_it_and_its_parent() -> None:
    h = History(input="x")
    h.events[0]["workflowExecutionStartedEventAttributes"].update(
        continuedExecutionRunId="d3", parentWorkflowExecution={"workflowId": "p", "runId": "p1"})
    h.add("WorkflowExecutionContinuedAsNew", {"newExecutionRunId": "d5", "decisionTaskCompletedEventId": 1})
    assert chain_of(h.events, LISTED, "d4") == Chain(2, 2, "d3", "d5", "p", "p1")
    assert chain_of(History().events, LISTED, "o1") == Chain()
    assert not Chain().is_chain and Chain(1, 2).is_chain


def _view(chain: Chain, rows: tuple[StepRow, ...] = ()) -> ExecutionView:
    summary = Summary("daily", "d4", "W 1", "CLOSED", "CONTINUED_AS_NEW", None, None, None, None, None,
                      {str(s): 0 for s in Shown}, chain)
    return ExecutionView(summary, (), (), {}, rows)


def test_show_says_which_run_it_is_and_names_its_neighbours_parent_and_children() -> None:
    text = format_show(_view(Chain(2, 3, "d3", "d5", "p", "p1"),
                             (StepRow("Run_Sub", Shown.COMPLETED, "child workflow p--Run_Sub-1",
                                      child="p--Run_Sub-1", children=("p--Run_Sub-1",)),)))
    assert "Run           2 of 3 under this workflow id" in text
    assert "Previous run  d3" in text and "Next run      d5" in text
    assert "Parent        p (run id p1)" in text and "Children      Run_Sub: p--Run_Sub-1" in text
    plain = format_show(_view(Chain()))
    assert "Previous run" not in plain and "Parent" not in plain and "Children" not in plain


def test_a_parent_names_each_step_s_child_executions_every_attempt_and_batch() -> None:
    h = History(input="x").start_child("Run_Sub").child_closed("Failed", "Run_Sub", reason="no")
    h.start_child("Run_Sub", 2).start_child(batch_step_id("M", 1)).start_child(batch_step_id("M", 2))
    children = step_children(fold(h.events))
    assert children == {"Run_Sub": [f"{WORKFLOW_ID}--Run_Sub-1", f"{WORKFLOW_ID}--Run_Sub-2"],
                        "M": [f"{WORKFLOW_ID}--M#1-1", f"{WORKFLOW_ID}--M#2-1"]}
    many = tuple(f"p--M#{n}-1" for n in range(1, 13))
    text = format_show(_view(Chain(), (StepRow("M", Shown.RUNNING, "12 batches", children=many),)))
    assert "Children      M: p--M#1-1, " in text and "p--M#10-1 and 2 more" in text and "p--M#11-1" not in text


class _Listing:
    """A client whose list calls answer from LISTED, by workflow id; or are throttled."""

    def __init__(self, throttled: bool = False) -> None:
        self.throttled = throttled
        self.asked: list[str] = []
        self.name = ""

    def get_paginator(self, name: str) -> _Listing:
        self.name = name
        return self

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        wid = kwargs["executionFilter"]["workflowId"]
        self.asked.append(wid)
        if self.throttled:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "List")
        is_open = self.name == "list_open_workflow_executions"
        return [{"executionInfos": [e for e in LISTED if e["execution"]["workflowId"] == wid
                                    and ("closeStatus" not in e) == is_open]}]


def test_a_run_listed_without_its_chain_is_numbered_in_the_whole_chain(demo_config: Config) -> None:
    config = demo_config
    client = _Listing()
    open_only = [LISTED[0]]  # daily's open run, as --open lists it
    assert [r.run for r in execution_rows(open_only, chain_runs(client, config, open_only))] == [2]
    assert set(client.asked) == {"daily"}
    alone = [LISTED[3]]  # a FAILED run: nothing to look up
    assert chain_runs(client, config, alone) == alone and set(client.asked) == {"daily"}
    throttled = _Listing(throttled=True)
    assert chain_runs(throttled, config, open_only) == open_only  # the list still shows, numbered as listed
