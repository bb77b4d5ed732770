"""Load and validate config.yaml into frozen dataclasses; every problem is one line naming the key."""

from __future__ import annotations

import datetime as dt
import enum
import graphlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .conditions import Condition, parse_condition
from .cron import cron_problem
from .errors import ConfigError, UsageError
from .ids import step_id_problem, swf_name_problem
from .limits import MAX_DESCRIPTION, MAX_HISTORY_EVENTS, MAX_NAME, MAX_RETENTION_DAYS, MAX_TIMEOUT, MAX_VERSION

PROJECT_DIR = Path(__file__).resolve().parent.parent  # a clone's top folder (site-packages when installed)
DEFAULT_CONFIG = PROJECT_DIR / "config.yaml"
ARTICLE_CONFIG = Path(__file__).resolve().parent / "article" / "config.yaml"  # the demo's, shipped in the package

CHILD_POLICIES = ("TERMINATE", "REQUEST_CANCEL", "ABANDON")


@dataclass(frozen=True)
class Domain:
    """The SWF domain that scopes the workflow."""

    name: str
    description: str
    retention_days: int


@dataclass(frozen=True)
class Activity:
    """An activity type and the command that carries it out."""

    name: str
    version: str
    command: tuple[str, ...]
    timeout: int
    heartbeat_timeout: int | None
    schedule_to_start_timeout: int | None
    task_list: str
    cwd: Path
    retries: int
    retry_delay: int
    retry_max_delay: int


class StepKind(enum.Enum):
    """What a step does: the Amazon States Language's Task, Map, Wait, callback (signal) and Fail."""

    TASK = "task"
    MAP = "map"
    SIGNAL = "signal"
    WAIT = "wait"
    FAIL = "fail"
    CHILD = "child"


@dataclass(frozen=True)
class Step:
    """One rectangle of the flow chart, with its arrows in (after) and its diamond (when, unless)."""

    id: str
    activity: str  # "" for a signal, wait or fail step
    after: tuple[str, ...] = ()
    when: tuple[tuple[str, Condition], ...] = ()
    index: int = 0  # its place in the file: Workflow.steps is in dependency order
    kind: StepKind = StepKind.TASK
    unless: tuple[tuple[str, Condition], ...] = ()
    for_each: str | None = None  # MAP: the step whose result lists the items
    max_concurrency: int | None = None  # MAP: at most this many items open at once (None: all)
    tolerated_failures: int = 0  # MAP: a count of items that may fail...
    tolerated_percent: float | None = None  # ...or a percentage of the items, when written with %
    signal: str | None = None  # SIGNAL: the signal's name
    timeout: int | None = None  # SIGNAL: seconds to wait for it
    wait_seconds: int | None = None  # WAIT: seconds
    wait_until_step: str | None = None  # WAIT: the step whose result is the time to wait until
    wait_until: dt.datetime | None = None  # WAIT: the time to wait until
    catch: str | None = None  # the step that runs when this one fails for good
    fail: str | None = None  # FAIL: the execution's failure reason
    caught_by: str | None = None  # a catch target: the step whose failure it handles
    workflow: str | None = None  # CHILD: the workflow type it runs as a child execution
    retries: int = 0  # CHILD: further attempts after a failed child (an activity's are under activities:)
    retry_delay: int = 0  # CHILD: seconds before the first retry, doubled each time...
    retry_max_delay: int = 300  # CHILD: ...up to this
    batch_size: int | None = None  # MAP: the items run in child executions of at most this many items each

    def tolerates(self, failed: int, items: int) -> bool:
        """True when a map with this many failed items of this many is still within its tolerated failures."""
        if self.tolerated_percent is not None:
            return failed * 100 <= self.tolerated_percent * items
        return failed <= self.tolerated_failures

    @property
    def needs(self) -> tuple[str, ...]:
        """The steps it waits for: after: (with for_each), or for a catch target the step it catches."""
        return (self.caught_by,) if self.caught_by is not None else self.after


@dataclass(frozen=True)
class ChildType:
    """What a StartChildWorkflowExecution needs to know of the workflow type a child step runs."""

    name: str
    version: str
    task_list: str
    execution_timeout: int
    decision_timeout: int
    child_policy: str = "TERMINATE"  # what happens to the child's own children when it closes


@dataclass(frozen=True)
class Repeat:
    """A workflow that runs again: every so many seconds, or at a cron schedule's next time, after its chart ends."""

    every: int | None = None
    cron: str | None = None
    on_failure: str = "stop"  # stop: a failed run ends the chain; continue: the next run starts all the same


@dataclass(frozen=True)
class Workflow:
    """The workflow type and its flow chart, steps in a dependency order."""

    name: str
    version: str
    task_list: str
    execution_timeout: int
    decision_timeout: int
    child_policy: str
    steps: tuple[Step, ...]
    activities: dict[str, Activity] = field(hash=False)
    max_history_events: int = 10_000
    results_s3: str | None = None  # s3://BUCKET/PREFIX: values over SWF's 32,768 characters go there
    child_types: dict[str, ChildType] = field(default_factory=dict, hash=False)  # the types its child steps run
    repeat: Repeat | None = None
    continue_after_events: int = 10_000  # past this, continue as new at the next point with no step open

    @property
    def own_type(self) -> ChildType:
        """This workflow as a child type: a batched map's children run it."""
        return ChildType(self.name, self.version, self.task_list, self.execution_timeout, self.decision_timeout,
                         self.child_policy)

    def step(self, step_id: str) -> Step:
        """The step with this id."""
        return next(s for s in self.steps if s.id == step_id)

    @property
    def used_activities(self) -> list[Activity]:
        """The activities the flow chart uses, in the file's order."""
        used = {s.activity for s in self.steps if s.activity}
        return [a for name, a in self.activities.items() if name in used]


@dataclass(frozen=True)
class Alerts:
    """Where to send an alert when an execution fails or is canceled."""

    sns_topic_arn: str | None = None
    command: tuple[str, ...] | None = None


@dataclass(frozen=True)
class S3Location:
    """Where values too large for SWF go: s3://BUCKET/PREFIX."""

    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


@dataclass(frozen=True)
class Config:
    """Everything config.yaml says; `workflow` is the first (or only) workflow, or the one `about` picked."""

    path: Path
    domain: Domain
    workflow: Workflow
    activities: dict[str, Activity] = field(hash=False)
    alerts: Alerts | None = None
    results: S3Location | None = None
    workflows: tuple[Workflow, ...] = ()  # every workflow type, in the file's order

    def activity_for(self, name: str, version: str) -> Activity | None:
        """The activity of this type, or None when the config has no command for it."""
        activity = self.activities.get(name)
        return activity if activity is not None and activity.version == version else None

    def workflow_for(self, name: str | None, version: str | None) -> Workflow | None:
        """The workflow of this type, or None when the config has no such workflow type."""
        return next((w for w in self.workflows if (w.name, w.version) == (name, version)), None)

    def workflow_named(self, name: str | None) -> Workflow:
        """The workflow of this name (None: the first); UsageError naming the config's workflows when none is."""
        if name is None:
            return self.workflows[0]
        found = next((w for w in self.workflows if w.name == name), None)
        if found is None:
            known = ", ".join(w.name for w in self.workflows)
            raise UsageError(f"no workflow {_key(name)!r} in {self.path.name} (its workflows: {known})")
        return found

    def about(self, workflow: Workflow) -> Config:
        """This config with `workflow` set to one of its workflows: the one a decision task or a page is about."""
        return replace(self, workflow=workflow)

    @property
    def summary(self) -> str:
        """Its workflows and activities in a few words: `TestWorkflow 1.0: 2 steps, 2 activities`."""
        workflows = "; ".join(f"{w.name} {w.version}: {len(w.steps)} steps" for w in self.workflows)
        return f"{workflows}{';' if len(self.workflows) > 1 else ','} {len(self.activities)} activities"

    @property
    def task_lists(self) -> tuple[str, ...]:
        """Every workflow's decision task list, each once, in the file's order."""
        return tuple(dict.fromkeys(w.task_list for w in self.workflows))

    @property
    def used_activities(self) -> list[Activity]:
        """The activities some workflow's flow chart uses, in the file's order."""
        used = {a.name for w in self.workflows for a in w.used_activities}
        return [a for name, a in self.activities.items() if name in used]


class _Section:
    """A mapping read from the YAML, with the dotted key path used in error messages."""

    def __init__(self, path: Path, key: str, data: Any, known: tuple[str, ...] | None):
        self.path, self.key = path, key
        if not isinstance(data, dict):
            raise self.error(f"must be a mapping, not {_kind(data)}")
        self.data = data
        for k in data:
            if known is not None and (not isinstance(k, str) or k not in known):
                raise self.error(f"unknown key (known: {', '.join(known)})", k)

    def error(self, message: str, sub: object = None) -> ConfigError:
        key = self.key if sub is None else f"{self.key}.{_key(sub)}" if self.key else _key(sub)
        return ConfigError(f"{self.path}: {key}: {message}")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str) -> Any:
        if key not in self.data or self.data[key] is None:
            raise self.error("is missing", key)
        return self.data[key]

    def text(self, key: str, default: str | None = None, name: bool = False) -> str:
        if default is not None and not self.has(key):
            return default
        value = self.raw(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not name:
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"must be a non-empty string, not {_kind(value)}", key)
        if name:
            _check_name(value, lambda m: self.error(m, key))
        elif len(value) > MAX_DESCRIPTION:
            raise self.error(f"is longer than {MAX_DESCRIPTION} characters", key)
        return value

    def version(self, key: str) -> str:
        value = self.raw(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise self.error(f'must be a string: write "{value}" in quotes', key)
        text = self.text(key, name=True)
        if len(text) > MAX_VERSION:
            raise self.error(f"is longer than SWF's {MAX_VERSION} characters for a version", key)
        return text

    def number(self, key: str, default: int | None = None, low: int = 0, high: int = MAX_TIMEOUT) -> int:
        if not self.has(key):
            if default is None:
                raise self.error("is missing", key)
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"must be a whole number, not {_kind(value)}", key)
        if not low <= value <= high:
            raise self.error(f"must be between {low} and {high}, not {value}", key)
        return value

    def optional_int(self, key: str, low: int = 1) -> int | None:
        return self.number(key, low=low) if self.has(key) else None

    def argv(self, key: str) -> tuple[str, ...]:
        value = self.raw(key)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(a, str) and a and "\x00" not in a for a in value)
        ):
            raise self.error("must be a non-empty list of strings (an argv list, e.g. [python, tasks/a.py])", key)
        return tuple(value)

    def section(self, key: str, known: tuple[str, ...] | None) -> _Section:
        return _Section(self.path, f"{self.key}.{key}" if self.key else key, self.raw(key), known)


def _key(value: object) -> str:
    """A key as it goes in a one-line message: printable, on one line, and short."""
    text = str(value)
    if not text.isprintable() or len(text) > 80 or not text:
        text = repr(text)
    return text if len(text) <= 80 else text[:60] + "…" + text[-10:]


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _check_name(value: str, error: Any) -> None:
    if len(value) > MAX_NAME:
        raise error(f"is longer than {MAX_NAME} characters")
    problem = swf_name_problem(value)
    if problem is not None:
        raise error(f"{value[:60]!r} {problem}")


ACTIVITY_KEYS = (
    "version", "command", "timeout", "heartbeat_timeout", "schedule_to_start_timeout",
    "task_list", "cwd", "retries", "retry_delay", "retry_max_delay",
)


def _activity(top: _Section, name: str, data: Any, task_list: str, base: Path) -> Activity:
    _check_name(name, lambda m: top.error(m, f"activities.{_key(name)}"))
    a = _Section(top.path, f"activities.{_key(name)}", data, ACTIVITY_KEYS)
    cwd = Path(a.text("cwd", default=str(base)))
    return Activity(
        name=name,
        version=a.version("version"),
        command=a.argv("command"),
        timeout=a.number("timeout", default=300, low=1),
        heartbeat_timeout=a.optional_int("heartbeat_timeout"),
        schedule_to_start_timeout=a.optional_int("schedule_to_start_timeout"),
        task_list=a.text("task_list", default=task_list, name=True),
        cwd=cwd if cwd.is_absolute() else base / cwd,
        retries=a.number("retries", default=0, high=100),
        retry_delay=a.number("retry_delay", default=0, high=MAX_TIMEOUT),
        retry_max_delay=a.number("retry_max_delay", default=300, high=MAX_TIMEOUT),
    )


STEP_KEYS = ("id", "activity", "after", "when", "unless", "for_each", "max_concurrency", "tolerated_failures",
             "signal", "timeout", "wait", "catch", "fail", "workflow", "retries", "retry_delay", "retry_max_delay",
             "batch_size")
_STEP_KINDS = {"activity": StepKind.TASK, "workflow": StepKind.CHILD, "signal": StepKind.SIGNAL, "wait": StepKind.WAIT,
               "fail": StepKind.FAIL}
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)")


def parse_time(text: str) -> dt.datetime | None:
    """An ISO 8601 time with its zone (2026-12-24T06:00:00Z), or None when the text is not one."""
    text = text.strip()
    if not _ISO.fullmatch(text):
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _conditions(s: _Section, key: str) -> tuple[tuple[str, Condition], ...]:
    raw = s.data.get(key) or {}
    if not isinstance(raw, dict):
        raise s.error("must be a mapping of step id to condition", key)
    out = []
    for dep, spec in raw.items():
        try:
            out.append((str(dep), parse_condition(spec)))
        except ValueError as exc:
            raise s.error(str(exc), f"{key}.{_key(dep)}") from None
    return tuple(out)


def _tolerance(s: _Section) -> tuple[int, float | None]:
    raw = s.data.get("tolerated_failures")
    if raw is None:
        return 0, None
    if isinstance(raw, str) and raw.strip().endswith("%"):
        try:
            percent = float(raw.strip()[:-1])
        except ValueError:
            raise s.error(f"must be a count or a percentage such as 10%, not {raw[:40]!r}", "tolerated_failures") from None
        if not 0 <= percent <= 100:
            raise s.error(f"must be between 0% and 100%, not {raw.strip()}", "tolerated_failures")
        return 0, percent
    return s.number("tolerated_failures", high=MAX_HISTORY_EVENTS), None


def _wait(s: _Section) -> dict[str, Any]:
    raw = s.data["wait"]
    if isinstance(raw, int) and not isinstance(raw, bool):
        return {"wait_seconds": s.number("wait", high=MAX_TIMEOUT)}
    if isinstance(raw, dict) and set(raw) == {"until"} and isinstance(raw["until"], (str, dt.datetime)):
        until = raw["until"]
        if isinstance(until, dt.datetime):  # YAML reads an unquoted time itself
            until = until.isoformat()
        when = parse_time(until)
        if when is not None:
            return {"wait_until": when}
        _check_name(until, lambda m: s.error(m, "wait.until"))
        return {"wait_until_step": until}
    raise s.error("must be seconds, {until: STEP} or {until: \"2026-12-24T06:00:00Z\"}", "wait")


def _child(s: _Section) -> dict[str, Any]:
    """A `workflow:` step's keys: the type it runs and its retries."""
    if s.has("for_each"):
        raise s.error("goes with activity: only (a map runs an activity per item; batch_size: runs them in children)",
                      "for_each")
    return {"workflow": s.text("workflow", name=True), "retries": s.number("retries", default=0, high=100),
            "retry_delay": s.number("retry_delay", default=0), "retry_max_delay": s.number("retry_max_delay", default=300)}


def _step_kind(s: _Section) -> StepKind:
    kinds = [k for k in _STEP_KINDS if s.has(k)]
    if not kinds:
        raise s.error("needs one of activity, workflow, signal, wait or fail", "activity")
    if len(kinds) > 1:
        raise s.error(f"a step is one of activity, workflow, signal, wait or fail: not {kinds[0]} and {kinds[1]} "
                      "together", kinds[1])
    kind = _STEP_KINDS[kinds[0]]
    if kind is not StepKind.CHILD:
        for key in ("retries", "retry_delay", "retry_max_delay"):
            if s.has(key):
                raise s.error("goes with workflow: only (an activity's retries are under activities:)", key)
    return kind


def _step(s: _Section, i: int, activities: dict[str, Activity]) -> Step:
    kind = _step_kind(s)
    activity = ""
    extra: dict[str, Any] = {}
    if kind is StepKind.TASK:
        activity = s.text("activity")
        if activity not in activities:
            raise s.error(f"unknown activity '{_key(activity)}' (not under activities:)", "activity")
        if s.has("for_each"):
            kind = StepKind.MAP
            extra["for_each"] = s.text("for_each", name=True)
            extra["max_concurrency"] = s.optional_int("max_concurrency")
            extra["batch_size"] = s.optional_int("batch_size")
            extra["tolerated_failures"], extra["tolerated_percent"] = _tolerance(s)
    elif kind is StepKind.CHILD:
        extra.update(_child(s))
    elif kind is StepKind.SIGNAL:
        extra["signal"] = s.text("signal", name=True)
        extra["timeout"] = s.optional_int("timeout")
    elif kind is StepKind.WAIT:
        extra.update(_wait(s))
    else:
        extra["fail"] = s.text("fail")
    if kind is not StepKind.MAP:
        for key in ("max_concurrency", "tolerated_failures", "batch_size"):
            if s.has(key):
                raise s.error("goes with for_each: (a map step) only", key)
    if kind is not StepKind.SIGNAL and s.has("timeout"):
        raise s.error("goes with signal: only (an activity's timeout is under activities:)", "timeout")
    if s.has("catch"):
        if kind is StepKind.FAIL:
            raise s.error("a fail: step cannot be caught", "catch")
        extra["catch"] = s.text("catch", name=True)
    default_id = activity or extra.get("workflow") or ""
    step_id = s.text("id", default=default_id, name=True) if default_id else s.text("id", name=True)
    problem = step_id_problem(step_id)
    if problem is not None:
        raise s.error(f"step id {step_id!r} {problem}: give it another id:", "id")
    after = s.data.get("after") or []
    if isinstance(after, str):
        after = [after]
    if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
        raise s.error("must be a list of step ids", "after")
    if len(set(after)) != len(after):
        raise s.error("names a step twice", "after")
    if extra.get("for_each") is not None and extra["for_each"] not in after:
        after = [*after, extra["for_each"]]
    return Step(step_id, activity, tuple(after), _conditions(s, "when"), index=i, kind=kind,
                unless=_conditions(s, "unless"), **extra)


def _steps(top: _Section, data: Any, activities: dict[str, Activity], key: str = "workflow") -> tuple[Step, ...]:
    if not isinstance(data, list) or not data:
        raise top.error(f"must be a non-empty list of steps, not {_kind(data)}", f"{key}.steps")
    steps: list[Step] = []
    sections: list[_Section] = []
    for i, item in enumerate(data):
        s = _Section(top.path, f"{key}.steps[{i}]", item, STEP_KEYS)
        step = _step(s, i, activities)
        if any(p.id == step.id for p in steps):
            raise s.error(f"step id {step.id!r} is used twice: give one an id:", "id")
        steps.append(step)
        sections.append(s)
    by_id = {s.id: s for s in steps}
    catchers: dict[str, str] = {}
    for step, s in zip(steps, sections, strict=True):
        if step.for_each is not None and step.for_each not in by_id:
            raise s.error(f"unknown step '{_key(step.for_each)}'", "for_each")
        for dep in step.after:
            if dep not in by_id:
                raise s.error(f"unknown step '{_key(dep)}'", "after")
        if step.wait_until_step is not None and step.wait_until_step not in by_id:
            raise s.error(f"'{_key(step.wait_until_step)}' is neither a step nor an ISO 8601 time with its zone "
                          "(such as 2026-12-24T06:00:00Z)", "wait.until")
        if step.catch is not None:
            target = by_id.get(step.catch)
            if target is None:
                raise s.error(f"unknown step '{_key(step.catch)}'", "catch")
            if target.id == step.id:
                raise s.error("a step cannot catch itself", "catch")
            if target.after:
                raise s.error(f"catch target '{_key(step.catch)}' has after: (a catch target runs only through its "
                              "catch: remove its after:)", "catch")
            if target.id in catchers:
                raise s.error(f"'{_key(step.catch)}' is already the catch target of {catchers[target.id]}", "catch")
            catchers[target.id] = step.id
    steps = [replace(st, caught_by=catchers.get(st.id)) for st in steps]
    by_id = {s.id: s for s in steps}
    ordered = _ordered(top, steps, key)
    upstream: dict[str, set[str]] = {}
    for step in ordered:
        ups: set[str] = set()
        for dep in step.needs:
            ups |= {dep} | upstream[dep]
        upstream[step.id] = ups
    for step in steps:
        s = sections[step.index]
        if step.kind is StepKind.FAIL and any(step.id in o.needs for o in steps):
            other = next(o for o in steps if step.id in o.needs)
            raise s.error(f"a fail: step ends the execution, but {other.id} comes after it", "fail")
        if step.wait_until_step is not None and step.wait_until_step not in upstream[step.id]:
            raise s.error(f"'{_key(step.wait_until_step)}' is not upstream of this step (add it to after:)", "wait.until")
        for key, conds in (("when", step.when), ("unless", step.unless)):
            for dep, _ in conds:
                if dep not in upstream[step.id]:
                    raise s.error(f"'{_key(dep)}' is not upstream of this step (through after:)", f"{key}.{_key(dep)}")
    return ordered


def _ordered(top: _Section, steps: list[Step], key: str = "workflow") -> tuple[Step, ...]:
    """The steps in a dependency order (stable on the file's order), or an error naming a cycle."""
    sorter = graphlib.TopologicalSorter({s.id: s.needs for s in steps})
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        raise top.error("cycle: " + " -> ".join(exc.args[1]), f"{key}.steps") from None
    by_id = {s.id: s for s in steps}
    order: list[Step] = []
    while sorter.is_active():
        ready = sorted((by_id[i] for i in sorter.get_ready()), key=lambda s: s.index)
        order.extend(ready)
        sorter.done(*(s.id for s in ready))
    return tuple(order)


_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def _results(section: _Section) -> S3Location:
    url = section.text("s3")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not url.startswith("s3://") or not _BUCKET.fullmatch(bucket):
        raise section.error(f"must be s3://BUCKET/PREFIX with a valid bucket name, not {url[:80]!r}", "s3")
    return S3Location(bucket, prefix.strip("/"))


def _repeat(r: _Section) -> Repeat:
    """`repeat: {every: SECONDS}` or `{cron: "m h dom mon dow"}`, with `on_failure: stop|continue`."""
    if r.has("every") == r.has("cron"):
        raise r.error("needs one of every (seconds) or cron (\"m h dom mon dow\")")
    on_failure = r.text("on_failure", default="stop")
    if on_failure not in ("stop", "continue"):
        raise r.error(f"must be stop or continue, not {on_failure[:40]!r}", "on_failure")
    if r.has("every"):
        return Repeat(every=r.number("every", low=1), on_failure=on_failure)
    text = r.text("cron")
    problem = cron_problem(text)
    if problem is not None:
        raise r.error(problem, "cron")
    return Repeat(cron=text, on_failure=on_failure)


def _child_cycle(workflows: tuple[Workflow, ...]) -> list[str] | None:
    """A path W -> V -> ... -> W through `workflow:` steps (in file order), or None when there is none."""
    runs = {w.name: [s.workflow for s in w.steps if s.workflow is not None] for w in workflows}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return path[path.index(name):] + [name]
        if name in done or name not in runs:
            return None
        for child in runs[name]:
            found = visit(child, [*path, name])
            if found is not None:
                return found
        done.add(name)
        return None

    for w in workflows:
        found = visit(w.name, [])
        if found is not None:
            return found
    return None


def resolve_children(top: _Section, workflows: tuple[Workflow, ...], keys: list[str]) -> tuple[Workflow, ...]:
    """Each workflow with the types its `workflow:` steps run; an unknown, repeating or cyclic child is an error."""
    types = {w.name: w.own_type for w in workflows}
    by_name = {w.name: w for w in workflows}
    out: list[Workflow] = []
    for w, key in zip(workflows, keys, strict=True):
        for step in w.steps:
            where = f"{key}.steps[{step.index}].workflow"
            if step.workflow == w.name:
                raise top.error("a workflow cannot run itself as a step", where)
            if step.workflow is not None and step.workflow not in types:
                raise top.error(f"unknown workflow '{_key(step.workflow)}' (not under workflows:)", where)
            if step.workflow is not None and by_name[step.workflow].repeat is not None:
                raise top.error(f"workflow '{_key(step.workflow)}' has repeat: and never closes, so the step "
                                "would never end", where)
        used = sorted({s.workflow for s in w.steps if s.workflow is not None})
        out.append(replace(w, child_types={t: types[t] for t in used}))
    cycle = _child_cycle(workflows)
    if cycle is not None:
        key = keys[[w.name for w in workflows].index(cycle[0])]
        raise top.error("workflows run each other without end, cycle: " + " -> ".join(cycle), f"{key}.steps")
    return tuple(out)


WORKFLOW_KEYS = ("version", "task_list", "execution_timeout", "decision_timeout", "child_policy", "steps",
                 "max_history_events", "repeat", "continue_after_events")


def _workflow_sections(top: _Section) -> list[tuple[str | None, _Section]]:
    """Each workflow's name (None: under its name: key) and section: workflow: alone, or workflows: in file order."""
    if top.has("workflow") and top.has("workflows"):
        raise top.error("give workflow: (one workflow) or workflows: (several), not both", "workflows")
    if not top.has("workflows"):
        if not top.has("workflow"):
            raise top.error("is missing (or workflows:, for several)", "workflow")
        return [(None, top.section("workflow", ("name", *WORKFLOW_KEYS)))]
    ws = top.section("workflows", None)  # keys are workflow type names: checked one by one below
    if not ws.data:
        raise ws.error("must map at least one workflow type's name to its workflow")
    out: list[tuple[str | None, _Section]] = []
    for name, spec in ws.data.items():
        if not isinstance(name, str):
            raise ws.error(f"a workflow type's name must be a string, not {_kind(name)}")
        _check_name(name, lambda m, n=name: ws.error(m, n))
        out.append((name, _Section(top.path, f"workflows.{_key(name)}", spec, WORKFLOW_KEYS)))
    return out


def _workflow(top: _Section, name: str | None, w: _Section, activities: dict[str, Activity],
              results: S3Location | None) -> Workflow:
    child_policy = w.text("child_policy", default="TERMINATE")
    if child_policy not in CHILD_POLICIES:
        raise w.error(f"must be one of {', '.join(CHILD_POLICIES)}", "child_policy")
    max_events = w.number("max_history_events", default=10_000, low=10, high=MAX_HISTORY_EVENTS)
    return Workflow(
        name=name if name is not None else w.text("name", name=True),
        version=w.version("version"),
        task_list=w.text("task_list", name=True),
        execution_timeout=w.number("execution_timeout", default=3600, low=1),
        decision_timeout=w.number("decision_timeout", default=30, low=1),
        child_policy=child_policy,
        steps=_steps(top, w.raw("steps"), activities, w.key),
        activities=activities,
        max_history_events=max_events,
        results_s3=results.url if results else None,
        repeat=_repeat(w.section("repeat", ("every", "cron", "on_failure"))) if w.has("repeat") else None,
        continue_after_events=w.number("continue_after_events", default=min(10_000, max_events * 4 // 5), low=10,
                                       high=max_events),
    )


def parse_config(data: Any, path: Path) -> Config:
    """Validate a parsed YAML document; the commands run from the config file's folder."""
    top = _Section(path, "", data, ("domain", "workflow", "workflows", "activities", "alerts", "results"))
    d = top.section("domain", ("name", "description", "retention_days"))
    domain = Domain(
        name=d.text("name", name=True),
        description=d.text("description", default="swfagent workflows"),
        retention_days=d.number("retention_days", default=1, high=MAX_RETENTION_DAYS),
    )
    sections = _workflow_sections(top)
    task_list = sections[0][1].text("task_list", name=True)  # an activity's default: the first workflow's
    acts = top.section("activities", None)  # keys are activity names: checked one by one below
    base = path.resolve().parent
    activities: dict[str, Activity] = {}
    for name, spec in acts.data.items():
        if not isinstance(name, str):
            raise top.error(f"activity name must be a string, not {_kind(name)}", "activities")
        activities[name] = _activity(top, name, spec, task_list, base)
    results = _results(top.section("results", ("s3",))) if top.has("results") else None
    workflows = tuple(_workflow(top, name, w, activities, results) for name, w in sections)
    workflows = resolve_children(top, workflows, [w.key for _, w in sections])
    alerts = None
    if top.has("alerts"):
        a = top.section("alerts", ("sns_topic_arn", "command"))
        alerts = Alerts(
            sns_topic_arn=a.text("sns_topic_arn") if a.has("sns_topic_arn") else None,
            command=a.argv("command") if a.has("command") else None,
        )
    return Config(path=path, domain=domain, workflow=workflows[0], activities=activities, alerts=alerts,
                  results=results, workflows=workflows)


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    """PyYAML's complaint as one line: where, the line as the user wrote it, and what to look at."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return f"invalid YAML: {problem}"
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    if "\t" in line[: len(line) - len(line.lstrip())] or "'\\t'" in problem:
        hint = "indent with spaces, not tabs"
    else:
        hint = ("check its indentation against the lines above: the keys of one mapping line up, and a list "
                "item's keys line up after its '- '")
    return f"line {mark.line + 1}: invalid YAML ({problem}): {line.strip()[:80]!r}: {hint}"


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a config file; raise ConfigError with one line on any problem."""
    path = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {_yaml_problem(exc, text)}") from None
    except ValueError as exc:  # e.g. an integer too long for Python to convert
        raise ConfigError(f"{path}: invalid YAML value: {str(exc).splitlines()[0][:120]}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid YAML: nested too deeply") from None
    if data is None:
        raise ConfigError(f"{path}: is empty")
    return parse_config(data, path)
