"""What the console's pages show, as frozen view types handed between modules (executions.py makes them; render.py,
the web console, the demo and the commands read them): never an untyped dict.

`as_json()` gives each one as `--json` prints it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from .status import ActivityStatus, Shown


@dataclass(frozen=True)
class Chain:
    """Where a run stands under its workflow id: its number in the chain of runs continued as new (1 the oldest), the
    run it continues and the run that continues it, and its parent execution when it is a child."""

    run: int = 1
    runs: int = 1  # runs of the chain so far
    previous_run_id: str | None = None  # the run this one continues (continuedExecutionRunId)
    next_run_id: str | None = None  # the run that continues this one (newExecutionRunId), once CONTINUED_AS_NEW
    parent_workflow_id: str | None = None  # a child execution's parent
    parent_run_id: str | None = None

    @property
    def is_chain(self) -> bool:
        """True when the run continues one or is continued: it is one of several."""
        return self.runs > 1 or bool(self.previous_run_id or self.next_run_id)


@dataclass(frozen=True)
class Summary:
    """The console's Summary tab: one execution's type, status, times, input, result and progress."""

    workflow_id: str
    run_id: str
    workflow_type: str
    status: str | None
    close_status: str | None
    started: dt.datetime | None
    closed: dt.datetime | None
    input: str | None
    result: str | None
    reason: str | None  # why it closed other than COMPLETED
    progress: dict[str, int]  # steps by Shown
    chain: Chain = Chain()  # its place in the chain of runs, and its parent


@dataclass(frozen=True)
class EventRow:
    """One row of the Events tab."""

    id: int
    type: str
    time: dt.datetime | None
    attributes: dict[str, Any]


@dataclass(frozen=True)
class ActivityRow:
    """One row of the Activities tab: an attempt of a step."""

    activity_id: str
    type: str
    version: str
    status: ActivityStatus
    scheduled: dt.datetime | None
    started: dt.datetime | None
    closed: dt.datetime | None
    input: str | None
    result: str | None
    reason: str | None
    details: str | None  # the end of its stderr, as SWF keeps it

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ItemRow:
    """One item of a map step: its number (from 1) and its attempts' activity ids and states, oldest first."""

    item: int
    attempts: tuple[tuple[str, ActivityStatus], ...]


@dataclass(frozen=True)
class StepRow:
    """One step as `show` lists it: its state, a note (a map's items, the signal that completed it, when a wait
    fires), a map's items, and the signal waited for when it waits for one."""

    step_id: str
    shown: Shown
    note: str = ""
    items: tuple[ItemRow, ...] = ()
    waiting_for: str | None = None  # the signal's name, while the step waits for it
    child: str | None = None  # a child step's: its child execution's workflow id (the console links to its page)
    children: tuple[str, ...] = ()  # the workflow ids of its child executions, every attempt and batch, oldest first


@dataclass(frozen=True)
class ExecutionView:
    """One execution as the console shows it: Summary, Events, Activities, and each step's state for the chart."""

    summary: Summary
    events: tuple[EventRow, ...]
    activities: tuple[ActivityRow, ...]
    steps: dict[str, Shown]
    step_rows: tuple[StepRow, ...] = ()

    @property
    def notes(self) -> dict[str, str]:
        """Each step's note, for the live chart."""
        return {r.step_id: r.note for r in self.step_rows if r.note}

    @property
    def waiting_for(self) -> list[str]:
        """The signals the execution waits for, in the chart's order."""
        return [r.waiting_for for r in self.step_rows if r.waiting_for is not None]

    def activity(self, activity_id: str) -> ActivityRow | None:
        """One attempt, by its activity id."""
        return next((a for a in self.activities if a.activity_id == activity_id), None)

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ExecutionRow:
    """One execution in a list (the console's My Workflow Executions), from SWF's executionInfo."""

    workflow_id: str
    run_id: str
    type: str  # name and version
    status: str  # its close status, or OPEN
    started: dt.datetime | None
    closed: dt.datetime | None
    info: dict[str, Any]  # as SWF listed it: what --json prints
    step: str | None = None  # its current or last step, where a page looked it up
    run: int = 1  # its number in the chain of runs under its workflow id (1 the oldest), among the runs listed

    @classmethod
    def of(cls, info: dict[str, Any], run: int = 1) -> ExecutionRow:
        """The row for one executionInfo of SWF's list calls."""
        ex, wtype = info["execution"], info["workflowType"]
        return cls(ex["workflowId"], ex["runId"], f"{wtype['name']} {wtype['version']}",
                   str(info.get("closeStatus") or info.get("executionStatus", "-")), info.get("startTimestamp"),
                   info.get("closeTimestamp"), info, run=run)

    def as_json(self) -> dict[str, Any]:
        return {**self.info, "run": self.run}


@dataclass(frozen=True)
class Alert:
    """What an alert says: the same fields for SNS and for the alert command (as JSON)."""

    domain: str
    workflow_type: str
    workflow_id: str
    run_id: str
    status: str
    step: str | None
    reason: str | None
    details: str | None
    show: str  # the command that shows the execution

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Failure:
    """An execution that closed other than COMPLETED, as `check` reports it: SWF's own listing, and its alert."""

    info: dict[str, Any]  # the executionInfo SWF listed, as SWF gave it
    alert: Alert

    @property
    def workflow_id(self) -> str:
        return str(self.info["execution"]["workflowId"])

    @property
    def run_id(self) -> str:
        return str(self.info["execution"]["runId"])

    def as_json(self) -> dict[str, Any]:
        return {**self.info, "alert": self.alert.as_json()}
