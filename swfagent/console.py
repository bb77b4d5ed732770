"""What the AWS console's SWF pages do, from a terminal: start, executions, show, and steering."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

from botocore.exceptions import ClientError

from . import alerts
from .client import error_code
from .config import Config
from .decide import DONE, GAVE_UP, HELD, PENDING, READY, RETRY, RUNNING, SKIPPED, WAITING, plan
from .errors import NotFound, UsageError
from .history import ExecutionState, fold

EPOCH = dt.datetime(1970, 1, 2, tzinfo=dt.timezone.utc)
CLOSE_STATUSES = ("COMPLETED", "FAILED", "CANCELED", "TERMINATED", "CONTINUED_AS_NEW", "TIMED_OUT")


# ---- start ---------------------------------------------------------------------------------


def workflow_id_from_template(template: str, now: dt.datetime) -> str:
    """Fill {date}, {time}, {datetime} and {uuid} in a workflow id template."""
    try:
        return template.format(
            date=now.strftime("%Y-%m-%d"), time=now.strftime("%H%M%S"),
            datetime=now.strftime("%Y-%m-%dT%H%M%S"), uuid=uuid.uuid4().hex[:12],
        )
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise UsageError(f"--id-template {template!r}: {exc!r} (use {{date}}, {{time}}, {{datetime}}, {{uuid}})") from None


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
    open_runs = list_executions(client, config, "open", workflow_id=workflow_id)
    return (open_runs[0]["execution"]["runId"] if open_runs else "?"), False


# ---- executions ----------------------------------------------------------------------------


def parse_since(text: str, now: dt.datetime) -> dt.datetime:
    """'24h', '30m', '7d', '90s' before now."""
    m = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text or "")
    if not m:
        raise UsageError(f"--since {text!r}: give a number and a unit, e.g. 30m, 24h, 7d")
    seconds = int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    try:
        return now - dt.timedelta(seconds=seconds)
    except OverflowError:
        raise UsageError(f"--since {text!r}: too far back") from None


def _infos(pages: Any) -> list[dict[str, Any]]:
    return [e for page in pages for e in page.get("executionInfos", [])]


def list_executions(
    client: Any, config: Config, which: str = "all", since: dt.datetime | None = None,
    status: str | None = None, workflow_id: str | None = None, closed_since: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Executions of the domain, newest first, all pages, filtered by SWF.

    since: started at or after; closed_since: closed at or after (closed ones only); status: closed ones
    with this close status. SWF takes a workflow id or a close status in one call, not both: with both,
    the status is checked here.
    """
    domain = config.domain.name
    by_id: dict[str, Any] = {"executionFilter": {"workflowId": workflow_id}} if workflow_id else {}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    if which in ("all", "open") and status is None and closed_since is None:
        for e in _infos(client.get_paginator("list_open_workflow_executions").paginate(
                domain=domain, startTimeFilter={"oldestDate": since or EPOCH}, **by_id)):
            found[(e["execution"]["workflowId"], e["execution"]["runId"])] = e
    if which in ("all", "closed"):
        window = ({"closeTimeFilter": {"oldestDate": closed_since}} if closed_since
                  else {"startTimeFilter": {"oldestDate": since or EPOCH}})
        narrow = by_id or ({"closeStatusFilter": {"status": status}} if status else {})
        for e in _infos(client.get_paginator("list_closed_workflow_executions").paginate(
                domain=domain, **window, **narrow)):
            if status is None or e.get("closeStatus") == status:
                found[(e["execution"]["workflowId"], e["execution"]["runId"])] = e  # closed since listed open
    return sorted(found.values(), key=lambda e: e["startTimestamp"], reverse=True)


# ---- show ----------------------------------------------------------------------------------


def latest_run(client: Any, config: Config, workflow_id: str) -> str:
    """The run id of the newest execution with this workflow id."""
    runs = list_executions(client, config, "all", workflow_id=workflow_id)
    if not runs:
        raise NotFound(f"no execution with workflow id {workflow_id!r} in domain {config.domain.name}")
    return str(runs[0]["execution"]["runId"])


def history(client: Any, config: Config, workflow_id: str, run_id: str) -> list[dict[str, Any]]:
    """Every event of an execution, all pages."""
    pages = client.get_paginator("get_workflow_execution_history").paginate(
        domain=config.domain.name, execution={"workflowId": workflow_id, "runId": run_id},
        PaginationConfig={"PageSize": 1000},
    )
    return [e for page in pages for e in page.get("events", [])]


def _attrs(event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key.endswith("EventAttributes") and isinstance(value, dict):
            return value
    return {}


_SHOWN = ("activityId", "activityType", "timerId", "startToFireTimeout", "signalName", "markerName",
          "result", "reason", "cause", "timeoutType", "input", "identity", "details")


def event_summary(attrs: dict[str, Any], width: int = 70) -> str:
    """The key attributes of an event, on one line."""
    parts = []
    for key in _SHOWN:
        value = attrs.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, dict):
            value = f"{value.get('name')} {value.get('version')}"
        text = " ".join(str(value).split())
        parts.append(f"{key}={text}")
    line = " ".join(parts)
    return line if len(line) <= width else line[: width - 1] + "…"


def progress(config: Config, state: ExecutionState) -> dict[str, int]:
    """Steps done / running / pending / failed / skipped, from the decider's own fold and plan."""
    counts = {"done": 0, "running": 0, "pending": 0, "failed": 0, "skipped": 0}
    for st in plan(config.workflow, state).values():
        if st.status == DONE:
            counts["done"] += 1
        elif st.status in (RUNNING, WAITING, RETRY, HELD):
            counts["running"] += 1
        elif st.status in (PENDING, READY):
            counts["pending"] += 1
        elif st.status == GAVE_UP:
            counts["failed"] += 1
        elif st.status == SKIPPED:
            counts["skipped"] += 1
    return counts


def step_status(config: Config, state: ExecutionState) -> dict[str, str]:
    """Each step as completed / running / failed / skipped / pending, for the live flow chart."""
    names = {DONE: "completed", RUNNING: "running", WAITING: "running", RETRY: "running", HELD: "running",
             GAVE_UP: "failed", SKIPPED: "skipped", PENDING: "pending", READY: "pending"}
    return {step: names[st.status] for step, st in plan(config.workflow, state).items()}


def show_data(client: Any, config: Config, workflow_id: str, run_id: str | None) -> dict[str, Any]:
    """Summary, events and activities of one execution, as plain data."""
    run_id = run_id or latest_run(client, config, workflow_id)
    try:
        info = client.describe_workflow_execution(
            domain=config.domain.name, execution={"workflowId": workflow_id, "runId": run_id})
    except ClientError as exc:
        if error_code(exc) == "UnknownResourceFault":
            raise NotFound(f"no execution {workflow_id!r} run {run_id!r} in domain {config.domain.name}") from None
        raise
    events = history(client, config, workflow_id, run_id)
    state = fold(events)
    ei = info["executionInfo"]
    return {
        "summary": {
            "workflow_id": workflow_id, "run_id": run_id,
            "workflow_type": f"{ei['workflowType']['name']} {ei['workflowType']['version']}",
            "status": ei.get("executionStatus"), "close_status": ei.get("closeStatus"),
            "started": ei.get("startTimestamp"), "closed": ei.get("closeTimestamp"),
            "input": state.input, "result": state.close_result,
            "reason": state.close_reason if state.close_status != "COMPLETED" else None,
            "progress": progress(config, state),
        },
        "events": [
            {"id": e.get("eventId"), "type": e.get("eventType"), "time": e.get("eventTimestamp"),
             "attributes": _attrs(e)} for e in events
        ],
        "activities": [
            {"activity_id": a.activity_id, "type": a.activity_type, "version": a.version, "status": a.status,
             "scheduled": a.scheduled_at, "started": a.started_at, "closed": a.closed_at,
             "result": a.result, "reason": a.reason, "details": a.details}
            for a in state.activities.values()
        ],
        "steps": step_status(config, state),
    }


def execution_steps(client: Any, config: Config, workflow_id: str, run_id: str | None = None) -> dict[str, str]:
    """Each step's status in an execution (the latest run by default), for the live flow chart."""
    run_id = run_id or latest_run(client, config, workflow_id)
    return step_status(config, fold(history(client, config, workflow_id, run_id)))


# ---- steering --------------------------------------------------------------------------------

def _run(run_id: str | None) -> dict[str, str]:
    return {"runId": run_id} if run_id else {}


def terminate(client: Any, config: Config, workflow_id: str, reason: str, run_id: str | None = None) -> None:
    """TerminateWorkflowExecution: the execution closes now, as TERMINATED; no decider is asked."""
    client.terminate_workflow_execution(
        domain=config.domain.name, workflowId=workflow_id, reason=reason, **_run(run_id))


def signal(client: Any, config: Config, workflow_id: str, name: str, input: str | None,
           run_id: str | None = None) -> None:
    """SignalWorkflowExecution: a WorkflowExecutionSignaled event and a decision task."""
    extra = {"input": input} if input is not None else {}
    client.signal_workflow_execution(
        domain=config.domain.name, workflowId=workflow_id, signalName=name, **extra, **_run(run_id))


def request_cancel(client: Any, config: Config, workflow_id: str, run_id: str | None = None) -> None:
    """RequestCancelWorkflowExecution: the decider then cancels the execution (on its next decision task)."""
    client.request_cancel_workflow_execution(domain=config.domain.name, workflowId=workflow_id, **_run(run_id))


# ---- check -----------------------------------------------------------------------------------


def failures(client: Any, config: Config, since: dt.datetime) -> list[dict[str, Any]]:
    """Executions that closed since then other than COMPLETED (or continued as new), each with its alert."""
    out = []
    for e in list_executions(client, config, "closed", closed_since=since):
        if e.get("closeStatus") in ("COMPLETED", "CONTINUED_AS_NEW"):
            continue
        ex = e["execution"]
        events = history(client, config, ex["workflowId"], ex["runId"])
        state = fold(events)
        statuses = step_status(config, state)
        failed = [s for s, v in statuses.items() if v == "failed"] or [s for s, v in statuses.items() if v == "running"]
        details = next((_attrs(ev).get("details") for ev in reversed(events)
                        if ev.get("eventType", "").startswith("WorkflowExecution")), None)
        details = details if isinstance(details, str) else None
        if e.get("closeStatus") == "TIMED_OUT":
            reason = f"the execution timed out ({state.close_reason or 'START_TO_CLOSE'})"
        else:
            reason = state.close_reason or details or str(e.get("closeStatus"))
        out.append({**e, "alert": alerts.message(
            config, ex["workflowId"], ex["runId"], str(e.get("closeStatus")), reason,
            ", ".join(failed) or None, details)})
    return out


def format_failures(rows: list[dict[str, Any]]) -> str:
    """One line per failed execution: ids, status, closed, step, reason."""
    body = [[
        e["execution"]["workflowId"], e["execution"]["runId"], str(e.get("closeStatus")),
        local_time(e.get("closeTimestamp")), e["alert"]["step"] or "-", _one_line(e["alert"]["reason"], 80),
    ] for e in rows]
    return table(["Workflow id", "Run id", "Status", "Closed", "Step", "Reason"], body)


# ---- text output ---------------------------------------------------------------------------


def local_time(value: Any) -> str:
    """A timestamp in the local zone, or '-'."""
    if not isinstance(value, dt.datetime):
        return "-"
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def duration(start: Any, end: Any) -> str:
    """'8.2 s', '3 min 5 s', '2 h 4 min', or '-'."""
    if not isinstance(start, dt.datetime) or not isinstance(end, dt.datetime):
        return "-"
    s = (end - start).total_seconds()
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60)} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60)} min"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Aligned columns, the last one left ragged."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = [headers] + rows
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) if i < len(headers) - 1 else cell for i, cell in enumerate(line)).rstrip()
        for line in lines
    )


def _one_line(value: Any, width: int = 60) -> str:
    if value is None or value == "":
        return "-"
    text = " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_show(data: dict[str, Any]) -> str:
    """The console's Summary, Events and Activities tabs as text."""
    s = data["summary"]
    p = s["progress"]
    summary = [
        ["Workflow id", s["workflow_id"]], ["Run id", s["run_id"]], ["Type", s["workflow_type"]],
        ["Status", s["status"] or "-"], ["Close status", s["close_status"] or "-"],
        ["Started", local_time(s["started"])],
        ["Closed", local_time(s["closed"]) + (f" ({duration(s['started'], s['closed'])})" if s["closed"] else "")],
        ["Input", _one_line(s["input"])], ["Result", _one_line(s["result"])],
    ]
    if s.get("reason"):
        summary.append(["Reason", _one_line(s["reason"], 120)])
    summary.append(["Progress", f"{p['done']} done, {p['running']} running, {p['pending']} pending, "
                                f"{p['failed']} failed, {p['skipped']} skipped"])
    events = [[str(e["id"]), e["type"], local_time(e["time"]), event_summary(e["attributes"])]
              for e in data["events"]]
    acts = [[a["activity_id"], f"{a['type']} {a['version']}", a["status"],
             _one_line(a["result"] if a["status"] == "COMPLETED" else a["reason"])] for a in data["activities"]]
    return "\n\n".join([
        "Summary\n" + _indent(table(["", ""], summary).split("\n", 1)[1]),
        "Events\n" + _indent(table(["ID", "Type", "Time", "Details"], events)),
        "Activities\n" + _indent(table(["Activity ID", "Type", "Status", "Result / reason"], acts) if acts else "(none yet)"),
    ])


def format_executions(rows: list[dict[str, Any]]) -> str:
    """The console's My Workflow Executions list."""
    body = [[
        e["execution"]["workflowId"], e["execution"]["runId"],
        f"{e['workflowType']['name']} {e['workflowType']['version']}",
        local_time(e.get("startTimestamp")), local_time(e.get("closeTimestamp")),
        e.get("closeStatus") or e.get("executionStatus", "-"),
    ] for e in rows]
    return table(["Workflow id", "Run id", "Type", "Started", "Closed", "Status"], body) if body else "(no executions)"


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def to_json(data: Any) -> str:
    """JSON with timestamps as ISO 8601."""
    return json.dumps(data, indent=2, default=lambda v: v.isoformat() if isinstance(v, dt.datetime) else str(v))
