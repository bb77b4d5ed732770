"""What the embedded SWF's layer relies on in moto: fails loudly when a moto upgrade moves any of it.

The layer subclasses moto's SWF models and calls into them (swfagent/local/models.py, engine.py, api.py).
These checks pin the names, signatures and call orders it depends on, and the moto behaviours the
README's table says it corrects; when one fails, read the new moto's code before widening the pin.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import moto
import pytest
from moto.core.responses import BaseResponse
from moto.moto_server import werkzeug_app
from moto.swf.models import SWFBackend
from moto.swf.models.activity_task import ActivityTask
from moto.swf.models.decision_task import DecisionTask
from moto.swf.models.domain import Domain
from moto.swf.models.history_event import HistoryEvent
from moto.swf.models.timeout import Timeout
from moto.swf.models.workflow_execution import WorkflowExecution
from moto.swf.responses import SWFResponse

TESTED_SERIES = "5.2."


def params(func: Any) -> list[str]:
    return [p for p in inspect.signature(func).parameters if p not in ("self", "args", "kwargs")]


def test_moto_is_the_tested_series() -> None:
    assert moto.__version__.startswith(TESTED_SERIES), f"moto {moto.__version__}: the layer was checked on {TESTED_SERIES}x"


@pytest.mark.parametrize("func, expected", [
    (WorkflowExecution.__init__, ["domain", "workflow_type", "workflow_id"]),
    (WorkflowExecution.start_activity_task, ["task_token", "identity"]),
    (WorkflowExecution.start_decision_task, ["task_token", "identity"]),
    (WorkflowExecution.complete_decision_task, ["task_token", "decisions", "execution_context"]),
    (WorkflowExecution.schedule_activity_task, ["event_id", "attributes"]),
    (WorkflowExecution.timeout_activity_task, ["_timeout"]),
    (WorkflowExecution.timeout_decision_task, ["_timeout"]),
    (WorkflowExecution.timeout, ["timeout"]),
    (WorkflowExecution.terminate, ["child_policy", "details", "reason"]),
    (WorkflowExecution.complete, ["event_id", "result"]),
    (WorkflowExecution.fail, ["event_id", "details", "reason"]),
    (WorkflowExecution.record_marker, ["event_id", "attributes"]),
    (WorkflowExecution.signal, ["signal_name", "workflow_input"]),
    (HistoryEvent.__init__, ["event_id", "event_type", "event_timestamp"]),
    (Domain.__init__, ["name", "retention", "account_id", "region_name", "description"]),
    (Domain.get_type, ["kind", "name", "version", "ignore_empty"]),
    (SWFBackend.__init__, ["region_name", "account_id"]),
    (SWFBackend._get_domain, ["name", "ignore_empty"]),
    (Timeout.__init__, ["obj", "timestamp", "kind"]),
    (BaseResponse._dispatch, ["request", "full_url", "headers"]),
])
def test_signatures_the_layer_calls(func: Any, expected: list[str]) -> None:
    assert params(func) == expected


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
