"""Register what config.yaml names (the domain, the workflow types, the activity types), safe to run again; and
check, without registering, that each command can run here and that SWF holds what the file says."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from .client import error_code
from .config import Activity, Config, Workflow
from .errors import SwfError
from .limits import duration_text
from .runner import resolve_argv
from .status import Registration

# Arguments that name a script the command runs: checked to exist, unlike its other arguments (an output file).
SCRIPT_SUFFIXES = (".py", ".sh", ".bash", ".rb", ".pl", ".js", ".jar", ".R")

Line = tuple[bool, str]  # (all right, what to print)


def workflow_defaults(w: Workflow) -> dict[str, Any]:
    """A workflow type's defaults, so a console start needs no more than a workflow id."""
    return {
        "defaultTaskList": {"name": w.task_list},
        "defaultExecutionStartToCloseTimeout": str(w.execution_timeout),
        "defaultTaskStartToCloseTimeout": str(w.decision_timeout),
        "defaultChildPolicy": w.child_policy,
    }


def activity_defaults(activity: Activity) -> dict[str, Any]:
    """An activity type's default task list and all four timeouts."""
    return {
        "defaultTaskList": {"name": activity.task_list},
        "defaultTaskStartToCloseTimeout": str(activity.timeout),
        "defaultTaskHeartbeatTimeout": duration_text(activity.heartbeat_timeout),
        "defaultTaskScheduleToStartTimeout": duration_text(activity.schedule_to_start_timeout),
        "defaultTaskScheduleToCloseTimeout": "NONE",
    }


def _shown(value: Any) -> Any:
    return value["name"] if isinstance(value, dict) else value


def _differences(wanted: dict[str, Any], registered: dict[str, Any]) -> list[str]:
    out = []
    for key, value in wanted.items():
        there = registered.get(key)
        if there is not None and there != value:
            out.append(f"{key} is {_shown(there)} there, {_shown(value)} here")
    return out


def _as_registered(label: str, info: dict[str, Any], wanted: dict[str, Any], ok: str) -> Line:
    """How a registered type compares with the config: deprecated, other defaults, or as `ok` says."""
    if info.get("typeInfo", {}).get("status") == Registration.DEPRECATED:
        return False, f"{label}: is deprecated in SWF: bump its version in the config"
    diffs = _differences(wanted, info.get("configuration", {}))
    if diffs:
        return False, (f"{label}: already registered with other defaults ({'; '.join(diffs)}): "
                       "SWF cannot change a type, bump its version in the config")
    return True, f"{label}: {ok}"


def _types(config: Config) -> list[tuple[str, str, str, dict[str, Any], dict[str, Any]]]:
    """(kind, name, version, what to describe it by, the defaults wanted) for every workflow and activity type."""
    d = config.domain
    out = [("Workflow", w.name, w.version, {"domain": d.name, "workflowType": {"name": w.name, "version": w.version}},
            workflow_defaults(w)) for w in config.workflows]
    for a in config.used_activities:
        out.append(("Activity", a.name, a.version, {"domain": d.name, "activityType": {"name": a.name, "version": a.version}},
                    activity_defaults(a)))
    return out


def register_all(client: Any, config: Config) -> list[Line]:
    """Register everything; one (ok, line) per domain and type."""
    d = config.domain
    lines = []
    try:
        client.register_domain(
            name=d.name, description=d.description, workflowExecutionRetentionPeriodInDays=str(d.retention_days),
        )
        lines.append((True, f"Domain {d.name}: registered"))
    except ClientError as exc:
        if error_code(exc) != "DomainAlreadyExistsFault":
            raise
        status = client.describe_domain(name=d.name).get("domainInfo", {}).get("status")
        if status == Registration.DEPRECATED:
            raise SwfError(f"domain {d.name} is deprecated in SWF: choose another domain name") from None
        lines.append((True, f"Domain {d.name}: already registered"))
    for kind, name, version, ask, wanted in _types(config):
        register = client.register_workflow_type if kind == "Workflow" else client.register_activity_type
        describe = client.describe_workflow_type if kind == "Workflow" else client.describe_activity_type
        label = f"{kind} type {name} {version}"
        try:
            register(domain=d.name, name=name, version=version, **wanted)
            lines.append((True, f"{label}: registered"))
        except ClientError as exc:
            if error_code(exc) != "TypeAlreadyExistsFault":
                raise
            lines.append(_as_registered(label, describe(**ask), wanted, "already registered"))
    return lines


def compare_registered(client: Any, config: Config) -> list[Line]:
    """What SWF holds against what the config says, registering nothing: missing, deprecated, other defaults."""
    d = config.domain
    lines = []
    try:
        status = client.describe_domain(name=d.name).get("domainInfo", {}).get("status")
        lines.append((status != Registration.DEPRECATED, f"Domain {d.name}: " + (
            "is deprecated in SWF: choose another domain name" if status == Registration.DEPRECATED else "registered")))
    except ClientError as exc:
        if error_code(exc) != "UnknownResourceFault":
            raise
        return [(False, f"Domain {d.name}: not registered: run python register_swf.py")]
    for kind, name, version, ask, wanted in _types(config):
        describe: Callable[..., Any] = client.describe_workflow_type if kind == "Workflow" else client.describe_activity_type
        label = f"{kind} type {name} {version}"
        try:
            lines.append(_as_registered(label, describe(**ask), wanted, "registered as config.yaml says"))
        except ClientError as exc:
            if error_code(exc) != "UnknownResourceFault":
                raise
            lines.append((False, f"{label}: not registered: run python register_swf.py"))
    return lines


def check_commands(config: Config) -> list[str]:
    """What would stop an activity's command from running on this host, one line each (none: all can run)."""
    problems = []
    for a in config.used_activities:
        where = f"{config.path}: activities.{a.name}.command"
        if not a.cwd.is_dir():
            problems.append(f"{where}: its working directory {a.cwd} does not exist")
            continue
        program = resolve_argv(a.command)[0]
        if os.sep in program:
            path = a.cwd / program
            if not path.is_file():
                problems.append(f"{where}: {program}: no such file (from {a.cwd})")
            elif not os.access(path, os.X_OK):
                problems.append(f"{where}: {program}: not executable (chmod +x, or run it with its interpreter)")
        elif shutil.which(program) is None:
            problems.append(f"{where}: {program}: not found on PATH ({os.environ.get('PATH', '')[:60]}...)")
        for before, arg in zip(a.command, a.command[1:], strict=False):
            if before == "-c" or arg.startswith("-") or any(c.isspace() for c in arg):
                continue  # a shell's or interpreter's code (sh -c '...'), an option: not a file to look for
            if arg.endswith(SCRIPT_SUFFIXES) and not (a.cwd / arg).is_file():
                problems.append(f"{where}: {arg}: no such file (from {a.cwd})")
    return problems

