"""What the embedded SWF's layer relies on in moto: fails loudly when a moto upgrade moves any of it.

The layer takes every moto name from swfagent/local/moto_adapter.py, which lists what it relies on (OVERRIDDEN,
CALLED, PRIVATE, REFUSED_EVENT_TYPES). These checks pin each entry, the call orders it hooks into, and the moto
behaviours the README's table says it corrects; a failure names what moved and where the layer uses it. Read the
new moto's code before widening a pin.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import moto
import pytest
from moto.moto_server import werkzeug_app
from moto.swf.models import SWFBackend
from moto.swf.models.activity_task import ActivityTask
from moto.swf.models.activity_type import ActivityType
from moto.swf.models.decision_task import DecisionTask
from moto.swf.models.domain import Domain
from moto.swf.models.history_event import HistoryEvent
from moto.swf.models.timeout import Timeout
from moto.swf.models.workflow_execution import WorkflowExecution
from moto.swf.models.workflow_type import WorkflowType
from moto.swf.responses import SWFResponse

from swfagent.local import moto_adapter as adapter

CLASSES: dict[str, Any] = {"WorkflowExecution": WorkflowExecution, "ActivityTask": ActivityTask,
                           "DecisionTask": DecisionTask, "Domain": Domain, "HistoryEvent": HistoryEvent,
                           "SWFBackend": SWFBackend, "Timeout": Timeout, "SWFResponse": SWFResponse,
                           "WorkflowType": WorkflowType, "ActivityType": ActivityType}


def params(func: Any) -> list[str]:
    return [p for p in inspect.signature(func).parameters if p not in ("self", "args", "kwargs")]


def moto_attr(name: str) -> Any:
    """moto's Class.member, as the adapter names it (a property as itself)."""
    cls, member = name.split(".")
    return inspect.getattr_static(CLASSES[cls], member)


def test_moto_is_the_tested_series() -> None:
    assert moto.__version__.startswith(adapter.TESTED_SERIES), \
        f"moto {moto.__version__}: the layer was checked on {adapter.TESTED_SERIES}x"


@pytest.mark.parametrize("name", sorted(adapter.CALLED))
def test_signatures_the_layer_calls(name: str) -> None:
    expected = list(adapter.CALLED[name])
    assert params(moto_attr(name)) == expected, \
        f"moto's {name} now takes {params(moto_attr(name))}; the layer calls it with {expected} (moto_adapter.CALLED)"


@pytest.mark.parametrize("name", sorted(adapter.OVERRIDDEN))
def test_the_hooks_the_layer_overrides_are_still_there(name: str) -> None:
    cls, member = name.split(".")
    assert hasattr(CLASSES[cls], member), f"moto's {name} is gone; the layer overrides it in {adapter.OVERRIDDEN[name]}"


@pytest.mark.parametrize("name", sorted(adapter.PRIVATE))
def test_the_private_fields_the_layer_reads_are_still_set(name: str) -> None:
    cls, member = name.split(".")
    found = hasattr(CLASSES[cls], member) or f"self.{member}" in inspect.getsource(CLASSES[cls])
    assert found, f"moto's {name} is gone; the layer uses it in {adapter.PRIVATE[name]}"


@pytest.mark.parametrize("event_type", sorted(adapter.REFUSED_EVENT_TYPES))
def test_the_event_types_moto_refuses_are_written_through_the_stand_in(event_type: str) -> None:
    with pytest.raises(NotImplementedError):
        HistoryEvent(1, event_type)  # if moto now knows it, models.Event may no longer be needed for it
    event = HistoryEvent(1, adapter.EVENT_STAND_IN, details="x")
    assert event.event_attributes == {"details": "x"}, "moto's HistoryEvent: attributes now depend on the type"


@pytest.mark.parametrize("func, order", [
    # the layer's models hook in here: a task reaches its queue, a decision's effects are counted
    (WorkflowExecution.schedule_activity_task, ["self.domain.add_to_activity_task_list(task_list, task)"]),
    (WorkflowExecution._schedule_decision_task, ["self.domain.add_to_decision_task_list("]),
    (WorkflowExecution.complete_decision_task, [
        "self.validate_decisions(decisions)", "dt.complete()", "self.should_schedule_decision_next = False",
        "self.handle_decisions(", "if self.should_schedule_decision_next:"]),
    (WorkflowExecution.timeout_activity_task, ["task.timeout(_timeout)", '"ActivityTaskTimedOut"']),
    (SWFBackend.respond_activity_task_completed, ["self._find_activity_task_from_token(task_token)"]),
    (SWFBackend.respond_activity_task_failed, ["self._find_activity_task_from_token(task_token)"]),
    (SWFBackend.signal_workflow_execution, ["domain.get_workflow_execution("]),
    (SWFBackend.terminate_workflow_execution, ["domain.get_workflow_execution("]),
    (SWFBackend.describe_workflow_execution, ["domain.get_workflow_execution(workflow_id, run_id=run_id)"]),
])
def test_calls_the_layer_hooks_into(func: Any, order: list[str]) -> None:
    source = inspect.getsource(func)
    positions = [source.find(snippet) for snippet in order]
    assert -1 not in positions, [s for s, p in zip(order, positions, strict=True) if p == -1]
    assert positions == sorted(positions)


def test_attributes_the_layer_reads_and_writes() -> None:
    for cls, names in [
        (ActivityTask, ["timeouts", "last_heartbeat_timestamp", "state", "task_token", "started_event_id",
                        "scheduled_event_id", "workflow_execution", "activity_id", "details"]),
        (DecisionTask, ["start_to_close_timeout", "previous_started_event_id", "started_event_id", "state",
                        "task_token", "workflow_execution", "workflow_type", "scheduled_event_id"]),
        (WorkflowExecution, ["_events", "open_counts", "task_start_to_close_timeout", "execution_start_to_close_timeout",
                             "cancel_requested", "close_status", "close_timestamp", "start_timestamp", "task_list"]),
    ]:
        source = inspect.getsource(cls.__init__)
        missing = [n for n in names if f"self.{n}" not in source]
        assert not missing, (cls.__name__, missing)
    assert hasattr(ActivityTask, "to_full_dict") and hasattr(WorkflowExecution, "to_short_dict")
    assert "if value:" in inspect.getsource(HistoryEvent.__init__)  # the attributes do not depend on the type
    assert all(hasattr(werkzeug_app, n) for n in ("DomainDispatcherApplication", "MotoRequestHandler", "create_backend_app"))
    assert isinstance(SWFResponse.swf_backend, property) and isinstance(SWFResponse._params, property)


def test_what_the_table_says_moto_does_is_still_so() -> None:
    """If one of these fails, moto has changed: update the README's table (and maybe drop a correction)."""
    backend = inspect.getsource(SWFBackend)
    execution = inspect.getsource(WorkflowExecution)
    responses = inspect.getsource(SWFResponse)
    assert "sleep(1)" in backend  # no long polls
    assert '"startTimestamp": 1420066800.123' in execution  # a fixed start time in describe
    assert '"TimerCancelled"' in execution  # SWF: TimerCanceled
    assert "Cannot handle decision" in execution  # RequestCancelActivityTask, among others
    assert '"cancelRequested": False' in responses
    for operation in ("request_cancel_workflow_execution", "respond_activity_task_canceled"):
        assert not hasattr(SWFResponse, operation)
    assert "self.last_heartbeat_timestamp = unix_time()" in inspect.getsource(ActivityTask.__init__)  # from scheduling
    assert 'self._params["input"]' in inspect.getsource(SWFResponse.signal_workflow_execution)


def test_the_readmes_table_names_tests_that_exist() -> None:
    """Each correction in the README's table names the tests that prove it: those files and tests exist."""
    root = Path(__file__).resolve().parent
    guide = (root.parent / "docs" / "embedded-swf.md").read_text()
    table = guide.split("## Where it corrects moto", 1)[1].split("\n#", 1)[0]
    files = set(re.findall(r"`(test_\w+\.py)`", table))
    names = set(re.findall(r"`(test_\w+)`", table))
    assert files and len(names) >= 20, "the table is not where this test looks"
    assert {f for f in files if not (root / f).exists()} == set()
    defined = set(re.findall(r"^def (test_\w+)", "".join(p.read_text() for p in root.glob("test_*.py")), re.M))
    assert names - defined == set()
