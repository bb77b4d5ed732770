"""The console's pages as text: tables of executions, an execution's Summary / Events / Activities, failures, JSON."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from typing import Any

from .limits import MAX_REASON, cut_middle, last_lines, one_line, shorten
from .logs import printable
from .status import ActivityStatus, Shown
from .views import ActivityRow, ExecutionRow, ExecutionView, Failure

SHOWN_CHILDREN = 10  # a step's child executions named in show's Summary (the web console links them all)
# An event's attributes worth a column, in this order.
EVENT_FIELDS = ("activityId", "activityType", "timerId", "startToFireTimeout", "signalName", "markerName",
                "result", "reason", "cause", "timeoutType", "input", "identity", "details")


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
    """Aligned columns, the last one left ragged; its further lines (a wrapped reason) start under its first.
    No control character reaches the terminal."""
    last = len(headers) - 1
    rows = [[printable(cell, lines=i == last) for i, cell in enumerate(row)] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    under = " " * sum(w + 2 for w in widths[:-1])
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) if i < len(headers) - 1 else cell.replace("\n", "\n" + under)
                  for i, cell in enumerate(line)).rstrip()
        for line in [headers, *rows]
    )


def wrapped(value: object, width: int = 72) -> str:
    """A reason whole, on lines of about `width`: cut only past SWF's own limit, and then in the middle."""
    if value is None or value == "":
        return "-"
    return "\n".join(textwrap.wrap(cut_middle(" ".join(str(value).split()), MAX_REASON), width, break_on_hyphens=False))


def event_summary(attrs: dict[str, Any], width: int = 70) -> str:
    """The key attributes of an event, on one line."""
    parts = []
    for key in EVENT_FIELDS:
        value = attrs.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, dict):
            value = f"{value.get('name')} {value.get('version')}"
        parts.append(f"{key}={' '.join(str(value).split())}")
    return shorten(" ".join(parts), width)


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line for line in printable(text).splitlines())


def format_show(data: ExecutionView) -> str:
    """The console's Summary, Events and Activities tabs as text; a failed activity with the end of its stderr."""
    s = data.summary
    p = s.progress
    summary = [
        ["Workflow id", s.workflow_id], ["Run id", s.run_id], ["Type", s.workflow_type],
        ["Status", s.status or "-"], ["Close status", s.close_status or "-"],
        ["Started", local_time(s.started)],
        ["Closed", local_time(s.closed) + (f" ({duration(s.started, s.closed)})" if s.closed else "")],
        ["Input", one_line(s.input)], ["Result", one_line(s.result)],
    ]
    if s.reason:
        summary.append(["Reason", wrapped(s.reason, 100)])
    summary += chain_lines(data)
    summary.append(["Progress", ", ".join(f"{p[str(k)]} {k}" for k in Shown)])
    events = [[str(e.id), e.type, local_time(e.time), event_summary(e.attributes)] for e in data.events]
    acts = [[a.activity_id, f"{a.type} {a.version}", a.status,
             one_line(a.result if a.status == ActivityStatus.COMPLETED else a.reason)]
            for a in data.activities]
    activities = table(["Activity ID", "Type", "Status", "Result / reason"], acts) if acts else "(none yet)"
    for a in data.activities:
        lines = last_lines(a.details) if a.status != ActivityStatus.COMPLETED else []
        if lines:
            activities += (f"\n{a.activity_id}, the end of its stderr (all of it: show --activity "
                           f"{a.activity_id}):\n" + _indent("\n".join(lines), "  | "))
    return "\n\n".join([
        "Summary\n" + _indent(table(["", ""], summary).split("\n", 1)[1]),
        *(["Steps\n" + _indent(format_steps(data))] if any(r.note or r.items for r in data.step_rows) else []),
        "Events\n" + _indent(table(["ID", "Type", "Time", "Details"], events)),
        "Activities\n" + _indent(activities),
    ])


def chain_lines(data: ExecutionView) -> list[list[str]]:
    """The Summary's lines of a run's chain (its number, the runs before and after it), its parent, its children."""
    c, lines = data.summary.chain, []
    if c.is_chain:
        lines.append(["Run", f"{c.run} of {c.runs} under this workflow id (continued as new)"])
        lines.append(["Previous run", c.previous_run_id or "- (the first)"])
        lines.append(["Next run", c.next_run_id or "- (the latest)"])
    if c.parent_workflow_id:
        lines.append(["Parent", f"{c.parent_workflow_id} (run id {c.parent_run_id or '-'})"])
    children = [f"{r.step_id}: {', '.join(r.children[:SHOWN_CHILDREN])}"
                + (f" and {len(r.children) - SHOWN_CHILDREN} more" if len(r.children) > SHOWN_CHILDREN else "")
                for r in data.step_rows if r.children]
    if children:
        lines.append(["Children", ", ".join(children)])
    return lines


def format_steps(data: ExecutionView) -> str:
    """Each step's state and note; a map's items, each with its attempts."""
    lines = table(["Step", "State", "Note"], [[r.step_id, str(r.shown), r.note or "-"] for r in data.step_rows])
    for row in data.step_rows:
        for item in row.items:
            attempts = ", ".join(f"{aid} {status}" for aid, status in item.attempts)
            lines += f"\n  {row.step_id} item {item.item}: {attempts}"
    return lines


def format_activity(activity: ActivityRow) -> str:
    """One activity whole: its times, input, result, reason, and all of its details (the stderr SWF keeps)."""
    head = [["Activity ID", activity.activity_id], ["Type", f"{activity.type} {activity.version}"],
            ["Status", str(activity.status)], ["Scheduled", local_time(activity.scheduled)],
            ["Started", local_time(activity.started)], ["Closed", local_time(activity.closed)],
            ["Reason", activity.reason or "-"]]
    parts = [table(["", ""], head).split("\n", 1)[1]]
    for name, value in (("input", activity.input), ("result", activity.result), ("details", activity.details)):
        if value:
            parts.append(f"{name.capitalize()}:\n{_indent(str(value), '  | ')}")
    return "\n\n".join(parts)


def format_executions(rows: list[ExecutionRow]) -> str:
    """The console's My Workflow Executions list."""
    body = [[r.workflow_id, r.run_id, str(r.run), r.type, local_time(r.started), local_time(r.closed), r.status]
            for r in rows]
    return (table(["Workflow id", "Run id", "Run", "Type", "Started", "Closed", "Status"], body) if body
            else "(no executions)")


def format_failures(rows: list[Failure]) -> str:
    """One line per failed execution: ids, status, closed, step, reason."""
    body = [[
        f.workflow_id, f.run_id, str(f.info.get("closeStatus")),
        local_time(f.info.get("closeTimestamp")), f.alert.step or "-", wrapped(f.alert.reason),
    ] for f in rows]
    return table(["Workflow id", "Run id", "Status", "Closed", "Step", "Reason"], body)


def to_json(data: Any) -> str:
    """JSON with timestamps as ISO 8601, and view types as their as_json()."""
    return json.dumps(data, indent=2, default=_json_value)


def _json_value(value: Any) -> Any:
    if hasattr(value, "as_json"):
        return value.as_json()
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)
