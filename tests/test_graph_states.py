"""The chart, `show` and the console's notes for the Step Functions kinds: each drawn, with its live state."""

from __future__ import annotations

import datetime as dt

import pytest

from swfagent import graph
from swfagent.decide import plan, step_notes
from swfagent.executions import step_rows
from swfagent.render import format_show
from swfagent.status import Shown
from swfagent.views import ExecutionView, Summary
from tests.flows import STATES
from tests.histories import History


def _mid_map() -> History:
    h = History().decision().schedule("List_Files").complete("List_Files", '["x", "y", "z"]').decision()
    h.schedule("Convert@1", activity="Convert_One").schedule("Convert@2", activity="Convert_One")
    h.fail("Convert@1").decision().schedule("Convert@3", activity="Convert_One").complete("Convert@2", "Y")
    return h


def _notes(h: History) -> dict[str, str]:
    state = h.state()
    return step_notes(STATES.workflow, state, plan(STATES.workflow, state))


def test_each_kind_is_drawn() -> None:
    text = graph.mermaid(STATES.workflow)
    for expected in ("map Convert_One over List_Files, 2 at once", "signal approve (within 86400 s)",
                     "waiting for signal", "wait 600 s", "fail: Publish failed: see Report",
                     "step_Publish -.->|on failure| step_Report", "not Approval result equals yes"):
        assert expected in text
    assert "wf_start --> step_Report" not in text  # a catch target runs only through its catch
    assert 'step_Publish -> step_Report [label="on failure", style=dashed]' in graph.dot(STATES.workflow)


@pytest.mark.parametrize("fmt", graph.FORMATS)
def test_a_maps_box_reads_its_items_live(fmt: str) -> None:
    notes = _notes(_mid_map())
    assert notes["Convert"] == "1/3 done · 1 failed · 1 running"
    status = {s: st.status.shown for s, st in plan(STATES.workflow, _mid_map().state()).items()}
    assert "1/3 done · 1 failed · 1 running" in graph.render(STATES.workflow, fmt, status, notes)


def test_a_signal_and_a_wait_say_what_they_wait_for() -> None:
    h = _mid_map().complete("Convert@3", "Z").decision()
    assert _notes(h)["Approval"] == "waiting for signal approve"
    h.signal("approve", "yes").decision()
    event = len(h.events) - 3
    h.marker("swfagent-signal", f'{{"step": "Approval", "signal": "approve", "event": {event}}}')
    h.timer("swfagent-wait-Settle", 600)
    notes = _notes(h)
    assert notes["Approval"].startswith("signal approve taken (event ")
    fires = h.events[-1]["eventTimestamp"] + dt.timedelta(seconds=600)
    assert notes["Settle"] == f"fires at {fires:%Y-%m-%d %H:%M:%S} UTC"
    assert "fires at" in graph.svg(STATES.workflow, {}, notes)


def test_show_lists_a_maps_items_with_their_attempts() -> None:
    rows = step_rows(STATES, _mid_map().state())
    convert = next(r for r in rows if r.step_id == "Convert")
    assert [(i.item, [str(s) for _, s in i.attempts]) for i in convert.items] == [
        (1, ["FAILED"]), (2, ["COMPLETED"]), (3, ["SCHEDULED"])]
    summary = Summary("wf", "run", "TestWorkflow 1.0", "OPEN", None, None, None, None, None, None,
                      {str(s): 0 for s in Shown})
    text = format_show(ExecutionView(summary, (), (), {}, rows))
    assert "Convert item 1: Convert@1-1 FAILED" in text and "1/3 done · 1 failed · 1 running" in text
