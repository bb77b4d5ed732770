"""The one module of the embedded SWF that imports moto, and the list of everything the layer relies on in it.

The rest of `swfagent/local/` takes moto's names from here. What the layer depends on beyond moto's public
names is written down below, each with where the layer uses it:

- OVERRIDDEN: moto's methods the layer's subclasses override (moto calls them; the layer changes what they do);
- CALLED: moto's methods the layer calls, with the parameters it passes;
- PRIVATE: moto's private fields and methods the layer reads or calls;
- REFUSED_EVENT_TYPES: the history event types moto's HistoryEvent refuses (models.Event writes them).

tests/test_local_moto.py pins each entry: a failure names what moved in moto and where the layer uses it.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Iterator
from typing import Any

import moto
import moto.core.responses
import moto.swf.models.activity_task
import moto.swf.models.decision_task
import moto.swf.models.history_event
import moto.swf.models.workflow_execution
from moto.core.request import Request
from moto.core.utils import camelcase_to_underscores, underscores_to_camelcase
from moto.moto_api._internal import mock_random
from moto.moto_api._internal.moto_random import MotoRandom
from moto.moto_server.werkzeug_app import MotoRequestHandler
from moto.swf.exceptions import (
    SWFClientError,
    SWFDomainAlreadyExistsFault,
    SWFDomainDeprecatedFault,
    SWFTypeDeprecatedFault,
    SWFUnknownResourceFault,
    SWFValidationException,
    SWFWorkflowExecutionAlreadyStartedFault,
)
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
from moto.swf.utils import decapitalize

__all__ = [
    "ActivityTask", "ActivityType", "DecisionTask", "Domain", "HistoryEvent", "MotoRequestHandler", "Request",
    "SWFBackend", "SWFClientError", "SWFDomainAlreadyExistsFault", "SWFDomainDeprecatedFault", "SWFResponse",
    "SWFTypeDeprecatedFault", "SWFUnknownResourceFault", "SWFValidationException",
    "SWFWorkflowExecutionAlreadyStartedFault", "Timeout", "WorkflowExecution", "WorkflowType",
    "camelcase_to_underscores", "decapitalize", "moto_app", "moto_version", "pinned", "underscores_to_camelcase",
    "unix_time",
]

TESTED_SERIES = "5.2."  # the moto series this list was checked against

# "Class.method": where the layer overrides it, and why
OVERRIDDEN: dict[str, str] = {
    "WorkflowExecution._add_event": "models.Execution._add_event: every event through models.Event (types moto refuses)",
    "WorkflowExecution._process_timeouts": "models.Execution._process_timeouts: a no-op, the engine's clock fires them",
    "WorkflowExecution._schedule_decision_task": "models.Execution._schedule_decision_task: one scheduled at most",
    "WorkflowExecution.start_decision_task": "models.Execution.start_decision_task: SWF's previousStartedEventId",
    "WorkflowExecution.complete_decision_task": "models.Execution.complete_decision_task: the task ends, the next is due",
    "WorkflowExecution.handle_decisions": "models.Execution.handle_decisions: cancellation, timers, --faults deny",
    "WorkflowExecution.complete": "models.Execution.complete: UNHANDLED_DECISION",
    "WorkflowExecution.fail": "models.Execution.fail: UNHANDLED_DECISION",
    "WorkflowExecution.terminate": "models.Execution.terminate: a close time, the child policy applied",
    "WorkflowExecution.start": "models.Execution.start: parentWorkflowExecution, continuedExecutionRunId, tagList",
    "WorkflowExecution.timeout": "models.Execution.timeout: a close time",
    "WorkflowExecution.schedule_activity_task": "models.Execution.schedule_activity_task: open-activity limits, rates",
    "WorkflowExecution.start_timer": "models.Execution.start_timer: timers on the engine's clock",
    "WorkflowExecution.to_medium_dict": "models.Execution.to_medium_dict: the real start time",
    "WorkflowExecution.to_full_dict": "models.Execution.to_full_dict: openTimers counted",
    "WorkflowExecution.activity_tasks": "models.Execution.activity_tasks: its own tasks, not a scan of the domain",
    "WorkflowExecution.decision_tasks": "models.Execution.decision_tasks: its own tasks, not a scan of the domain",
    "Domain.add_workflow_execution": "models.SwfDomain.add_workflow_execution: indexed by run id and workflow id",
    "Domain.get_workflow_execution": "models.SwfDomain.get_workflow_execution: lookups by index",
    "Domain.add_to_activity_task_list": "models.SwfDomain.add_to_activity_task_list: to the engine's queue",
    "Domain.add_to_decision_task_list": "models.SwfDomain.add_to_decision_task_list: to the engine's queue",
    "Domain.activity_tasks": "models.SwfDomain.activity_tasks: from the index",
    "Domain.decision_tasks": "models.SwfDomain.decision_tasks: from the index",
    "SWFBackend._process_timeouts": "models.Backend._process_timeouts: a no-op, the engine's clock fires them",
    "SWFBackend._get_domain": "models.Backend._get_domain: typed",
    "SWFBackend.register_domain": "models.Backend.register_domain: models.SwfDomain, SWF's fault message",
    "SWFBackend.start_workflow_execution": "models.Backend.start_workflow_execution: models.Execution, the engine told",
    "SWFBackend._find_activity_task_from_token": "models.Backend._find_activity_task_from_token: by the engine's tokens",
    "SWFBackend.record_activity_task_heartbeat": "models.Backend.record_activity_task_heartbeat: the engine's clock",
    "SWFBackend.respond_decision_task_completed": "models.Backend.respond_decision_task_completed: refused whole",
    "SWFBackend.count_pending_activity_tasks": "models.Backend.count_pending_activity_tasks: the engine's queue",
    "SWFBackend.count_pending_decision_tasks": "models.Backend.count_pending_decision_tasks: the engine's queue",
    "SWFResponse.swf_backend": "api.SwfApi.swf_backend: the engine's backend of the account and region",
    "SWFResponse._params": "api.SwfApi._params: the body parsed once",
    "SWFResponse.poll_for_activity_task": "api.SwfApi.poll_for_activity_task: the engine's long poll",
    "SWFResponse.poll_for_decision_task": "api.SwfApi.poll_for_decision_task: the engine's long poll, in pages",
    "SWFResponse.get_workflow_execution_history": "api.SwfApi.get_workflow_execution_history: in pages",
    "SWFResponse.record_activity_task_heartbeat": "api.SwfApi.record_activity_task_heartbeat: cancelRequested",
    "SWFResponse.signal_workflow_execution": "api.SwfApi.signal_workflow_execution: input optional",
    "SWFResponse.list_open_workflow_executions": "api.SwfApi.list_open_workflow_executions: filters, pages",
    "SWFResponse.list_closed_workflow_executions": "api.SwfApi.list_closed_workflow_executions: filters, pages",
}

# "Class.method": what the layer calls it with (the parameters, in moto's order)
CALLED: dict[str, tuple[str, ...]] = {
    "WorkflowExecution.__init__": ("domain", "workflow_type", "workflow_id"),
    "WorkflowExecution.start_activity_task": ("task_token", "identity"),
    "WorkflowExecution.start_decision_task": ("task_token", "identity"),
    "WorkflowExecution.complete_decision_task": ("task_token", "decisions", "execution_context"),
    "WorkflowExecution.schedule_activity_task": ("event_id", "attributes"),
    "WorkflowExecution.timeout_activity_task": ("_timeout",),
    "WorkflowExecution.timeout_decision_task": ("_timeout",),
    "WorkflowExecution.timeout": ("timeout",),
    "WorkflowExecution.terminate": ("child_policy", "details", "reason"),
    "WorkflowExecution.complete": ("event_id", "result"),
    "WorkflowExecution.fail": ("event_id", "details", "reason"),
    "WorkflowExecution.record_marker": ("event_id", "attributes"),
    "WorkflowExecution.signal": ("signal_name", "workflow_input"),
    "HistoryEvent.__init__": ("event_id", "event_type", "event_timestamp"),
    "WorkflowType.__init__": ("name", "version"),  # a type named in a refused decision (models.Execution.child_failed)
    "ActivityType.__init__": ("name", "version"),  # likewise (models.Execution._not_permitted)
    "Domain.__init__": ("name", "retention", "account_id", "region_name", "description"),
    "Domain.get_type": ("kind", "name", "version", "ignore_empty"),
    "SWFBackend.__init__": ("region_name", "account_id"),
    "SWFBackend._get_domain": ("name", "ignore_empty"),
    "Timeout.__init__": ("obj", "timestamp", "kind"),
    "SWFResponse._dispatch": ("request", "full_url", "headers"),
}

# "Class.field": where the layer reads or writes it (each set in the class's __init__)
PRIVATE: dict[str, str] = {
    "WorkflowExecution._events": "models.Execution (event ids), api.decision_page and history pages",
    "WorkflowExecution.open_counts": "models.Execution: counted where moto forgets",
    "WorkflowExecution.task_start_to_close_timeout": "engine: a decision task's timeout",
    "WorkflowExecution.execution_start_to_close_timeout": "engine.execution_started: the execution's timeout",
    "WorkflowExecution.cancel_requested": "models.Execution.request_cancel",
    "WorkflowExecution.close_status": "models.Execution.cancel, api._matches",
    "WorkflowExecution.close_timestamp": "models.Execution: the close times moto leaves out",
    "WorkflowExecution.start_timestamp": "models.Execution.to_medium_dict, api list filters",
    "WorkflowExecution.task_list": "engine.decisions_unblocked",
    "WorkflowExecution.should_schedule_decision_next": "models.Execution: a refused decision asks the decider again",
    "ActivityTask.timeouts": "engine: each activity timeout's clock",
    "ActivityTask.last_heartbeat_timestamp": "engine: the heartbeat clock; models.Backend heartbeats",
    "ActivityTask.state": "engine and models: SCHEDULED, STARTED, CANCELED",
    "ActivityTask.task_token": "engine: the tokens' index",
    "ActivityTask.started_event_id": "engine: a timeout belongs to one start",
    "ActivityTask.scheduled_event_id": "models: ActivityTaskCanceled",
    "ActivityTask.workflow_execution": "engine and models",
    "ActivityTask.activity_id": "models.Execution.request_cancel_activity",
    "ActivityTask.details": "models.Backend.record_activity_task_heartbeat",
    "DecisionTask.start_to_close_timeout": "engine._take_decision: the decision task's timeout",
    "DecisionTask.previous_started_event_id": "api.decision_page",
    "DecisionTask.started_event_id": "engine, api.decision_page",
    "DecisionTask.state": "engine and models",
    "DecisionTask.task_token": "engine: the tokens' index",
    "DecisionTask.workflow_execution": "engine and models",
    "DecisionTask.workflow_type": "api.decision_page",
    "DecisionTask.scheduled_event_id": "models.Execution.start_decision_task",
    "Domain.account_id": "engine._task_list: a task list's key",
    "Domain.region_name": "engine._task_list: a task list's key",
    "Domain.types": "models.Backend.delete_type: kind -> name -> version -> type",
    "WorkflowExecution.latest_execution_context": "describe's latestExecutionContext (moto sets it, the layer pins it)",
    "WorkflowExecution.close_cause": "models.Execution.terminate: EVENT_LIMIT_EXCEEDED",
    "WorkflowExecution.parent": "models.Execution.start_child: a child's parent, in describe and the list calls",
    "WorkflowExecution.input": "models.Execution.start: WorkflowExecutionStarted's input",
    "WorkflowExecution.tag_list": "models.Execution.start: WorkflowExecutionStarted's tagList",
    "WorkflowExecution.child_policy": "models.Execution.closed: the child policy applied",
    "WorkflowExecution._find_decision_task": "models.Execution.start_decision_task and complete_decision_task",
    "WorkflowExecution.threading_lock": "reduce_execution: left out of a snapshot (durable.py), made anew on load",
}

# Event types the layer writes that moto's HistoryEvent refuses (models.Event writes them under a type moto knows).
REFUSED_EVENT_TYPES = frozenset({
    "ActivityTaskCancelRequested", "ActivityTaskCanceled", "RequestCancelActivityTaskFailed",
    "WorkflowExecutionCancelRequested", "CompleteWorkflowExecutionFailed", "FailWorkflowExecutionFailed",
    "TimerCanceled", "RecordMarkerFailed", "RequestCancelExternalWorkflowExecutionFailed",
    "StartChildWorkflowExecutionInitiated", "StartChildWorkflowExecutionFailed", "ChildWorkflowExecutionStarted",
    "ChildWorkflowExecutionCompleted", "ChildWorkflowExecutionFailed", "ChildWorkflowExecutionCanceled",
    "ChildWorkflowExecutionTerminated", "ChildWorkflowExecutionTimedOut", "WorkflowExecutionContinuedAsNew",
    "ContinueAsNewWorkflowExecutionFailed", "SignalExternalWorkflowExecutionInitiated",
    "SignalExternalWorkflowExecutionFailed", "ExternalWorkflowExecutionSignaled",
    "RequestCancelExternalWorkflowExecutionInitiated", "ExternalWorkflowExecutionCancelRequested",
})
EVENT_STAND_IN = "MarkerRecorded"  # a type moto knows: models.Event is built as one, then renamed


# "module.name": moto's module-level names of the SWF models that this module rebinds, so that a request's time
# and random ids can be pinned (durable.py replays its journal through the same code, with the same times and ids)
REBOUND: dict[str, str] = {
    "moto.swf.models.activity_task.unix_time": "heartbeat times", "moto.swf.models.decision_task.unix_time":
    "started times", "moto.swf.models.history_event.unix_time": "event times",
    "moto.swf.models.workflow_execution.unix_time": "start and close times",
    "moto.swf.models.activity_task.mock_random": "task tokens", "moto.swf.models.decision_task.mock_random":
    "task tokens", "moto.swf.models.workflow_execution.mock_random": "run ids",
}

_pins = threading.local()


def unix_time() -> float:
    """Now, or the time pinned on this thread (a journaled change, live or replayed)."""
    now = getattr(_pins, "now", None)
    return time.time() if now is None else float(now)


class _Random:
    """moto's random source for the SWF models: the one seeded on this thread while pinned, else moto's own."""

    def __getattr__(self, name: str) -> Any:
        return getattr(getattr(_pins, "rand", None) or mock_random, name)


@contextlib.contextmanager
def pinned(now: float, seed: int) -> Iterator[None]:
    """Within: moto's SWF models read `now` as the time and draw their ids from a source seeded with `seed`."""
    before = getattr(_pins, "now", None), getattr(_pins, "rand", None)
    _pins.now, _pins.rand = now, MotoRandom(seed)
    try:
        yield
    finally:
        _pins.now, _pins.rand = before


def pinned_now() -> float | None:
    """The time pinned on this thread, if any."""
    return getattr(_pins, "now", None)


for _name in REBOUND:
    _module, _, _attr = _name.rpartition(".")
    setattr(__import__(_module, fromlist=[_attr]), _attr, unix_time if _attr == "unix_time" else _Random())
# moto lists a response class's methods with inspect on every request (a third of an SWF call's time): once a class
_responses: Any = moto.core.responses
_responses.method_names_from_class = functools.lru_cache(maxsize=None)(_responses.method_names_from_class)


def _new_execution(cls: Any) -> Any:
    wfe = cls.__new__(cls)
    wfe.threading_lock = threading.Lock()
    return wfe


def reduce_execution(wfe: WorkflowExecution) -> tuple[Any, ...]:
    """How a snapshot pickles a workflow execution: all but moto's lock (a pickler's dispatch_table entry)."""
    state = {k: v for k, v in wfe.__dict__.items() if k != "threading_lock"}
    return _new_execution, (type(wfe),), state


def moto_version() -> str:
    """The moto installed."""
    return str(moto.__version__)


def moto_app() -> Any:
    """moto's own WSGI app, for every service but SWF (SNS alerts, S3); imported late: it loads Flask."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)
