"""Load and validate config.yaml into frozen dataclasses; every problem is one line naming the key."""

from __future__ import annotations

import graphlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
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


@dataclass(frozen=True)
class Step:
    """One rectangle of the flow chart, with its arrows in (after) and its diamond (when)."""

    id: str
    activity: str
    after: tuple[str, ...] = ()
    when: tuple[tuple[str, re.Pattern[str]], ...] = ()
    index: int = 0  # its place in the file: Workflow.steps is in dependency order


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

    def step(self, step_id: str) -> Step:
        """The step with this id."""
        return next(s for s in self.steps if s.id == step_id)

    @property
    def used_activities(self) -> list[Activity]:
        """The activities the flow chart uses, in the file's order."""
        used = {s.activity for s in self.steps}
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
    """Everything config.yaml says."""

    path: Path
    domain: Domain
    workflow: Workflow
    activities: dict[str, Activity] = field(hash=False)
    alerts: Alerts | None = None
    results: S3Location | None = None

    def activity_for(self, name: str, version: str) -> Activity | None:
        """The activity of this type, or None when the config has no command for it."""
        activity = self.activities.get(name)
        return activity if activity is not None and activity.version == version else None


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


def _steps(top: _Section, data: Any, activities: dict[str, Activity]) -> tuple[Step, ...]:
    if not isinstance(data, list) or not data:
        raise top.error(f"must be a non-empty list of steps, not {_kind(data)}", "workflow.steps")
    steps: list[Step] = []
    for i, item in enumerate(data):
        s = _Section(top.path, f"workflow.steps[{i}]", item, ("id", "activity", "after", "when"))
        activity = s.text("activity")
        if activity not in activities:
            raise s.error(f"unknown activity '{_key(activity)}' (not under activities:)", "activity")
        step_id = s.text("id", default=activity, name=True)
        problem = step_id_problem(step_id)
        if problem is not None:
            raise s.error(f"step id {step_id!r} {problem}: give it another id:", "id")
        if any(p.id == step_id for p in steps):
            raise s.error(f"step id {step_id!r} is used twice: give one an id:", "id")
        after = s.data.get("after") or []
        if isinstance(after, str):
            after = [after]
        if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
            raise s.error("must be a list of step ids", "after")
        if len(set(after)) != len(after):
            raise s.error("names a step twice", "after")
        when_raw = s.data.get("when") or {}
        if not isinstance(when_raw, dict):
            raise s.error("must be a mapping of step id to regular expression", "when")
        when = []
        for dep, pattern in when_raw.items():
            if dep not in after:
                raise s.error(f"'{_key(dep)}' is not among this step's after: steps", f"when.{dep}")
            if not isinstance(pattern, str):
                raise s.error(f"must be a regular expression string, not {_kind(pattern)}", f"when.{dep}")
            try:
                when.append((dep, re.compile(pattern, re.DOTALL)))
            except (re.error, RecursionError, OverflowError) as exc:
                raise s.error(f"is not a valid regular expression: {exc}", f"when.{dep}") from None
        steps.append(Step(step_id, activity, tuple(after), tuple(when), index=i))
    ids = {s.id for s in steps}
    for i, step in enumerate(steps):
        for dep in step.after:
            if dep not in ids:
                raise top.error(f"unknown step '{_key(dep)}'", f"workflow.steps[{i}].after")
    return _ordered(top, steps)


def _ordered(top: _Section, steps: list[Step]) -> tuple[Step, ...]:
    """The steps in a dependency order (stable on the file's order), or an error naming a cycle."""
    sorter = graphlib.TopologicalSorter({s.id: s.after for s in steps})
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        raise top.error("cycle: " + " -> ".join(exc.args[1]), "workflow.steps") from None
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


def parse_config(data: Any, path: Path) -> Config:
    """Validate a parsed YAML document; the commands run from the config file's folder."""
    top = _Section(path, "", data, ("domain", "workflow", "activities", "alerts", "results"))
    d = top.section("domain", ("name", "description", "retention_days"))
    domain = Domain(
        name=d.text("name", name=True),
        description=d.text("description", default="swfagent workflows"),
        retention_days=d.number("retention_days", default=1, high=MAX_RETENTION_DAYS),
    )
    w = top.section(
        "workflow",
        ("name", "version", "task_list", "execution_timeout", "decision_timeout",
         "child_policy", "steps", "max_history_events"),
    )
    task_list = w.text("task_list", name=True)
    acts = top.section("activities", None)  # keys are activity names: checked one by one below
    base = path.resolve().parent
    activities: dict[str, Activity] = {}
    for name, spec in acts.data.items():
        if not isinstance(name, str):
            raise top.error(f"activity name must be a string, not {_kind(name)}", "activities")
        activities[name] = _activity(top, name, spec, task_list, base)
    child_policy = w.text("child_policy", default="TERMINATE")
    if child_policy not in CHILD_POLICIES:
        raise w.error(f"must be one of {', '.join(CHILD_POLICIES)}", "child_policy")
    results = _results(top.section("results", ("s3",))) if top.has("results") else None
    workflow = Workflow(
        name=w.text("name", name=True),
        version=w.version("version"),
        task_list=task_list,
        execution_timeout=w.number("execution_timeout", default=3600, low=1),
        decision_timeout=w.number("decision_timeout", default=30, low=1),
        child_policy=child_policy,
        steps=_steps(top, w.raw("steps"), activities),
        activities=activities,
        max_history_events=w.number("max_history_events", default=10_000, low=10, high=MAX_HISTORY_EVENTS),
        results_s3=results.url if results else None,
    )
    alerts = None
    if top.has("alerts"):
        a = top.section("alerts", ("sns_topic_arn", "command"))
        alerts = Alerts(
            sns_topic_arn=a.text("sns_topic_arn") if a.has("sns_topic_arn") else None,
            command=a.argv("command") if a.has("command") else None,
        )
    return Config(path=path, domain=domain, workflow=workflow, activities=activities, alerts=alerts, results=results)


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
