"""What the AWS console's SWF pages do, as functions: start, list, read, steer executions, and find the failed ones.

Reads and actions only: the text is render.py's, the plan decide.py's.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import alerts
from .client import error_code
from .config import Config, StepKind, Workflow
from .decide import StepPlan, plan, step_notes
from .errors import NotFound, UsageError
from .history import ExecutionState, fold
from .ids import parse_batch, parse_item, swf_name_problem
from .limits import MAX_PAGE
from .status import Closed, Shown, StepStatus, Which
from .views import ActivityRow, Chain, EventRow, ExecutionRow, ExecutionView, Failure, ItemRow, StepRow, Summary

EPOCH = dt.datetime(1970, 1, 2, tzinfo=dt.timezone.utc)
CLOSE_STATUSES = tuple(str(c) for c in Closed if c not in (Closed.CLOSE_REFUSED, Closed.CANCEL_REFUSED))
Event = dict[str, Any]


# ---- start ---------------------------------------------------------------------------------------


TEMPLATE_FIELDS = ("date", "time", "datetime", "uuid")


def workflow_id_from_template(template: str, now: dt.datetime) -> str:
    """Fill {date}, {time}, {datetime} and {uuid} in a workflow id template: those fields only, as they are (no
    format spec or conversion, which could build a string of any size)."""
    use = "(use {date}, {time}, {datetime}, {uuid})"
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise UsageError(f"--id-template {template[:80]!r}: {exc} {use}") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in TEMPLATE_FIELDS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise UsageError(f"--id-template: {shown[:40]!r} is not a field it fills {use}")
    filled = {"date": now.strftime("%Y-%m-%d"), "time": now.strftime("%H%M%S"),
              "datetime": now.strftime("%Y-%m-%dT%H%M%S"), "uuid": uuid.uuid4().hex[:12]}
    return "".join(text + (filled[name] if name is not None else "") for text, name, _, _ in parts)


def new_workflow_id(config: Config, workflow_id: str | None, template: str | None, now: dt.datetime) -> str:
    """The id to start with: the one given, or a template filled, or the workflow's name, a time and a random part;
    UsageError when SWF would refuse it."""
    if workflow_id and template:
        raise UsageError("give a workflow id or an id template, not both")
    made = workflow_id or workflow_id_from_template(template or f"{config.workflow.name}-{{datetime}}-{{uuid}}", now)
    problem = swf_name_problem(made)
    if problem is not None:
        raise UsageError(f"workflow id {made[:80]!r}: {problem}")
    return made


def start_execution(client: Any, config: Config, workflow_id: str, input: str | None) -> tuple[str, bool]:
    """Start an execution; (run id, True), or (the open run's id, False) if that workflow id is already open."""
    w = config.workflow
    kwargs: dict[str, Any] = dict(
        domain=config.domain.name, workflowId=workflow_id,
        workflowType={"name": w.name, "version": w.version}, taskList={"name": w.task_list},
        executionStartToCloseTimeout=str(w.execution_timeout),
        taskStartToCloseTimeout=str(w.decision_timeout), childPolicy=w.child_policy,
    )
    if input is not None:
        kwargs["input"] = input
    try:
        return client.start_workflow_execution(**kwargs)["runId"], True
    except ClientError as exc:
        if error_code(exc) != "WorkflowExecutionAlreadyStartedFault":
            raise
    open_runs = list_executions(client, config, Which.OPEN, workflow_id=workflow_id)
    return (open_runs[0]["execution"]["runId"] if open_runs else "?"), False


# ---- list --------------------------------------------------------------------------------------


def parse_since(text: str, now: dt.datetime, what: str = "--since") -> dt.datetime:
    """'24h', '30m', '7d', '90s' before now; errors name the value as `what` (the option, or the form's field)."""
    m = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text or "")
    if not m:
        raise UsageError(f"{what} {text!r}: give a number and a unit, e.g. 30m, 24h, 7d")
    seconds = int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    try:
        return now - dt.timedelta(seconds=seconds)
    except OverflowError:
        raise UsageError(f"{what} {text!r}: too far back") from None


def _infos(pages: Any) -> list[dict[str, Any]]:
    return [e for page in pages for e in page.get("executionInfos", [])]


def _narrowed(workflow_id: str | None, status: str | None) -> dict[str, Any]:
    """The list call's filter: SWF takes a workflow id or a close status, not both (the caller checks the status)."""
    if workflow_id:
        return {"executionFilter": {"workflowId": workflow_id}}
    return {"closeStatusFilter": {"status": status}} if status else {}


def list_executions(
    client: Any, config: Config, which: Which = Which.ALL, since: dt.datetime | None = None,
    status: str | None = None, workflow_id: str | None = None, closed_since: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Executions of the domain, newest first, all pages, filtered by SWF.

    since: started at or after; closed_since: closed at or after (closed ones only); status: closed ones
    with this close status. SWF takes a workflow id or a close status in one call, not both: with both,
    the status is checked here.
    """
    which, domain = Which(which), config.domain.name
    by_id = _narrowed(workflow_id, None)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    if Which.OPEN in which.kinds and status is None and closed_since is None:
        for e in _infos(client.get_paginator("list_open_workflow_executions").paginate(
                domain=domain, startTimeFilter={"oldestDate": since or EPOCH}, **by_id)):
            found[(e["execution"]["workflowId"], e["execution"]["runId"])] = e
    if Which.CLOSED in which.kinds:
        window = ({"closeTimeFilter": {"oldestDate": closed_since}} if closed_since
                  else {"startTimeFilter": {"oldestDate": since or EPOCH}})
        for e in _infos(client.get_paginator("list_closed_workflow_executions").paginate(
                domain=domain, **window, **_narrowed(workflow_id, status))):
            if status is None or e.get("closeStatus") == status:
                found[(e["execution"]["workflowId"], e["execution"]["runId"])] = e  # closed since listed open
    return sorted(found.values(), key=lambda e: e["startTimestamp"], reverse=True)


def executions_page(
    client: Any, config: Config, which: Which, *, since: dt.datetime | None = None, workflow_id: str | None = None,
    status: str | None = None, token: str | None = None, size: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of open or closed executions, newest first, as SWF pages them; and the next page's token.

    SWF takes a workflow id or a close status in one call, not both: with both, the status is checked here
    (so a page may hold fewer than `size`).
    """
    which = Which(which)
    kwargs: dict[str, Any] = {"domain": config.domain.name, "maximumPageSize": size,
                              "startTimeFilter": {"oldestDate": since or EPOCH},
                              **_narrowed(workflow_id, status if which is Which.CLOSED else None)}
    if token:
        kwargs["nextPageToken"] = token
    call = client.list_open_workflow_executions if which is Which.OPEN else client.list_closed_workflow_executions
    page = call(**kwargs)
    rows = [e for e in page.get("executionInfos", []) if not status or e.get("closeStatus") == status]
    return rows, page.get("nextPageToken")


def run_numbers(infos: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Each run's place in its chain, (number, runs in the chain), by run id: the runs of one workflow id, oldest
    first, each one that follows a CONTINUED_AS_NEW run being that run's continuation (SWF starts it as the other
    closes, and keeps one open run a workflow id)."""
    chains: list[list[str]] = []
    last: dict[str, dict[str, Any]] = {}  # the latest run seen of each workflow id
    for e in sorted(infos, key=lambda e: e["startTimestamp"]):
        wid = e["execution"]["workflowId"]
        before = last.get(wid)
        if before is not None and before.get("closeStatus") == Closed.CONTINUED_AS_NEW:
            next(c for c in chains if c[-1] == before["execution"]["runId"]).append(e["execution"]["runId"])
        else:
            chains.append([e["execution"]["runId"]])
        last[wid] = e
    return {run: (n, len(chain)) for chain in chains for n, run in enumerate(chain, 1)}


def chain_runs(client: Any, config: Config, listed: list[dict[str, Any]],
               mapper: Callable[..., Iterable[list[dict[str, Any]]]] = map) -> list[dict[str, Any]]:
    """The runs to number the listed ones among: those listed, and every run of each workflow id listed open or
    CONTINUED_AS_NEW (its chain's other runs may be filtered out, or on another page); one look-up a workflow id, a
    failed one (throttled) leaving what was listed."""
    wanted = sorted({e["execution"]["workflowId"] for e in listed
                     if e.get("closeStatus", Closed.CONTINUED_AS_NEW) == Closed.CONTINUED_AS_NEW})

    def runs(workflow_id: str) -> list[dict[str, Any]]:
        try:
            return list_executions(client, config, Which.ALL, workflow_id=workflow_id)
        except (ClientError, BotoCoreError):
            return []

    found = {e["execution"]["runId"]: e for e in listed}
    for more in mapper(runs, wanted):
        found.update((e["execution"]["runId"], e) for e in more)
    return list(found.values())


def execution_rows(infos: list[dict[str, Any]], among: list[dict[str, Any]] | None = None) -> list[ExecutionRow]:
    """The rows of a list, each with its run's number in its chain, counted among `among` (default: the rows)."""
    numbers = run_numbers(infos if among is None else among)
    return [ExecutionRow.of(e, numbers.get(e["execution"]["runId"], (1, 1))[0]) for e in infos]


def latest_activity(client: Any, config: Config, execution: dict[str, str], within: int = 100) -> str | None:
    """The activity id an execution scheduled last, or could not schedule (its current or last step), from its
    newest `within` events.

    Read newest first, a short page first: the last scheduling is most often a few events back. If it is not there,
    all `within` events in one call (not the short page's token with another page size, which SWF's paging does
    not promise to take).
    """
    for size in (10, within):
        page = client.get_workflow_execution_history(domain=config.domain.name, execution=execution,
                                                     reverseOrder=True, maximumPageSize=size)
        for event in page.get("events", []):
            scheduled = (event.get("activityTaskScheduledEventAttributes")
                         or event.get("scheduleActivityTaskFailedEventAttributes"))
            if scheduled:
                return str(scheduled.get("activityId"))
        if not page.get("nextPageToken"):
            return None
    return None


# ---- read ----------------------------------------------------------------------------------------


def latest_run(client: Any, config: Config, workflow_id: str, runs: list[dict[str, Any]] | None = None) -> str:
    """The run id of the newest execution with this workflow id (among `runs`, when listed already)."""
    runs = list_executions(client, config, Which.ALL, workflow_id=workflow_id) if runs is None else runs
    if not runs:
        raise NotFound(f"no execution with workflow id {workflow_id!r} in domain {config.domain.name}")
    return str(runs[0]["execution"]["runId"])


def about_type(config: Config, workflow_type: dict[str, Any] | None) -> Config:
    """The config as an execution of this workflow type sees it: `workflow` is that type's (the first workflow when
    the config has no such type)."""
    wtype = workflow_type or {}
    found = config.workflow_for(wtype.get("name"), wtype.get("version"))
    return config.about(found) if found is not None else config


def fetch_history(client: Any, config: Config, workflow_id: str, run_id: str) -> list[Event]:
    """Every event of an execution, all pages."""
    pages = client.get_paginator("get_workflow_execution_history").paginate(
        domain=config.domain.name, execution={"workflowId": workflow_id, "runId": run_id},
        PaginationConfig={"PageSize": MAX_PAGE},
    )
    return [e for page in pages for e in page.get("events", [])]


def attributes(event: Event) -> dict[str, Any]:
    """An event's attributes, whatever its type."""
    for key, value in event.items():
        if key.endswith("EventAttributes") and isinstance(value, dict):
            return value
    return {}


def shown_steps(config: Config, state: ExecutionState) -> dict[str, Shown]:
    """Each step as people see it (completed, running, failed, skipped, pending), from the decider's own plan."""
    return {step: st.status.shown for step, st in plan(config.workflow, state).items()}


def step_rows(config: Config, state: ExecutionState) -> tuple[StepRow, ...]:
    """Each step as `show` and the web console list it: state, note, a map's items with their attempts."""
    steps = plan(config.workflow, state)
    notes = step_notes(config.workflow, state, steps)
    items: dict[str, dict[int, list[tuple[str, Any]]]] = {}
    for act in state.activities.values():
        item = parse_item(act.step_id or "")
        if item is not None:
            items.setdefault(item[0], {}).setdefault(item[1], []).append((act.activity_id, act.status))
    children = step_children(state)
    return tuple(
        StepRow(step.id, steps[step.id].status.shown, notes.get(step.id, ""),
                tuple(ItemRow(i, tuple(a)) for i, a in sorted(items.get(step.id, {}).items())),
                step.signal if steps[step.id].status == StepStatus.SIGNAL else None,
                _child(steps[step.id]) if step.kind is StepKind.CHILD else None, tuple(children.get(step.id, ())))
        for step in config.workflow.steps)


def step_children(state: ExecutionState) -> dict[str, list[str]]:
    """Each step's child executions' workflow ids (a child step's attempts, a batched map's batches), oldest first."""
    found: dict[str, list[str]] = {}
    for child in sorted(state.children.values(), key=lambda c: c.scheduled_event_id):
        batch = parse_batch(child.step_id or "")
        step = batch[0] if batch is not None else child.step_id
        if step is not None and child.workflow_id:
            found.setdefault(step, []).append(child.workflow_id)
    return found


def _child(st: StepPlan) -> str | None:
    """A child step's child execution's workflow id, once started."""
    return st.latest.workflow_id if st.latest is not None else None


def chain_of(events: list[Event], runs: list[dict[str, Any]], run_id: str) -> Chain:
    """A run's place in its chain (from its workflow id's runs, as listed) and its links: the run it continues, the
    run that continues it, its parent (from its history)."""
    started = attributes(events[0]) if events else {}
    parent = started.get("parentWorkflowExecution") or {}
    continued = next((attributes(e) for e in reversed(events)
                      if e.get("eventType") == "WorkflowExecutionContinuedAsNew"), {})
    run, of = run_numbers(runs).get(run_id, (1, 1))
    return Chain(run, of, started.get("continuedExecutionRunId"), continued.get("newExecutionRunId"),
                 parent.get("workflowId"), parent.get("runId"))


def show_data(client: Any, config: Config, workflow_id: str, run_id: str | None) -> ExecutionView:
    """Summary, events, activities and steps of one execution (the latest run by default), and its chain."""
    runs = list_executions(client, config, Which.ALL, workflow_id=workflow_id) if run_id is None else None
    run_id = run_id or latest_run(client, config, workflow_id, runs)
    try:
        info = client.describe_workflow_execution(
            domain=config.domain.name, execution={"workflowId": workflow_id, "runId": run_id})
    except ClientError as exc:
        if error_code(exc) == "UnknownResourceFault":
            raise NotFound(f"no execution {workflow_id!r} run {run_id!r} in domain {config.domain.name}") from None
        raise
    ei = info["executionInfo"]
    config = about_type(config, ei.get("workflowType"))
    events = fetch_history(client, config, workflow_id, run_id)
    state = fold(events)
    steps = shown_steps(config, state)
    if runs is None and (state.continued_from is not None or state.close_status is Closed.CONTINUED_AS_NEW):
        runs = list_executions(client, config, Which.ALL, workflow_id=workflow_id)  # a run of a chain: its number
    return ExecutionView(
        summary=Summary(
            workflow_id=workflow_id, run_id=run_id,
            workflow_type=f"{ei['workflowType']['name']} {ei['workflowType']['version']}",
            status=ei.get("executionStatus"), close_status=ei.get("closeStatus"),
            started=ei.get("startTimestamp"), closed=ei.get("closeTimestamp"),
            input=state.input, result=state.close_result,
            reason=state.close_reason if state.close_status != Closed.COMPLETED else None,
            progress={str(s): sum(v is s for v in steps.values()) for s in Shown},
            chain=chain_of(events, runs or [], run_id),  # a run outside any chain: run 1 of 1, no list call
        ),
        events=tuple(EventRow(e.get("eventId", 0), e.get("eventType", "?"), e.get("eventTimestamp"), attributes(e))
                     for e in events),
        activities=tuple(
            ActivityRow(a.activity_id, a.activity_type, a.version, a.status, a.scheduled_at, a.started_at, a.closed_at,
                        a.input, a.result, a.reason, a.details)
            for a in state.activities.values()),
        steps=steps,
        step_rows=step_rows(config, state),
    )


def execution_chart(client: Any, config: Config, workflow_id: str,
                    run_id: str | None = None) -> tuple[Workflow, dict[str, Shown], dict[str, str]]:
    """An execution's workflow (the latest run by default), and each step's state and note, for the flow chart."""
    run_id = run_id or latest_run(client, config, workflow_id)
    state = fold(fetch_history(client, config, workflow_id, run_id))  # its first event names its type
    name, version = state.workflow_type or ("", "")
    workflow = about_type(config, {"name": name, "version": version}).workflow
    steps = plan(workflow, state)
    return workflow, {s: st.status.shown for s, st in steps.items()}, step_notes(workflow, state, steps)


# ---- steer ---------------------------------------------------------------------------------------


def _run(run_id: str | None) -> dict[str, str]:
    return {"runId": run_id} if run_id else {}


def terminate(client: Any, config: Config, workflow_id: str, reason: str, run_id: str | None = None) -> None:
    """TerminateWorkflowExecution: the execution closes now, as TERMINATED; no decider is asked."""
    client.terminate_workflow_execution(
        domain=config.domain.name, workflowId=workflow_id, reason=reason, **_run(run_id))


def signal_execution(client: Any, config: Config, workflow_id: str, name: str, input: str | None,
                     run_id: str | None = None) -> None:
    """SignalWorkflowExecution: a WorkflowExecutionSignaled event and a decision task."""
    extra = {"input": input} if input is not None else {}
    client.signal_workflow_execution(
        domain=config.domain.name, workflowId=workflow_id, signalName=name, **extra, **_run(run_id))


def request_cancel(client: Any, config: Config, workflow_id: str, run_id: str | None = None) -> None:
    """RequestCancelWorkflowExecution: the decider then cancels the execution (on its next decision task)."""
    client.request_cancel_workflow_execution(domain=config.domain.name, workflowId=workflow_id, **_run(run_id))


# ---- check ---------------------------------------------------------------------------------------


def failures(client: Any, config: Config, since: dt.datetime) -> list[Failure]:
    """Executions that closed since then other than COMPLETED (or continued as new), each with its alert."""
    out = []
    for e in list_executions(client, config, Which.CLOSED, closed_since=since):
        if e.get("closeStatus") in (Closed.COMPLETED, Closed.CONTINUED_AS_NEW):
            continue
        ex = e["execution"]
        events = fetch_history(client, config, ex["workflowId"], ex["runId"])
        state = fold(events)
        about = about_type(config, e.get("workflowType"))
        steps = shown_steps(about, state)
        failed = ([s for s, v in steps.items() if v is Shown.FAILED]
                  or [s for s, v in steps.items() if v in (Shown.RUNNING, Shown.WAITING)])
        details = next((attributes(ev).get("details") for ev in reversed(events)
                        if ev.get("eventType", "").startswith("WorkflowExecution")), None)
        details = details if isinstance(details, str) else None
        if e.get("closeStatus") == Closed.TIMED_OUT:
            reason = f"the execution timed out ({state.close_reason or 'START_TO_CLOSE'})"
        else:
            reason = state.close_reason or details or str(e.get("closeStatus"))
        out.append(Failure(e, alerts.message(about, ex["workflowId"], ex["runId"], str(e.get("closeStatus")), reason,
                                             ", ".join(failed) or None, details)))
    return out
