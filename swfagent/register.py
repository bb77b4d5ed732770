"""Register what config.yaml names: the domain, the workflow type, the activity types. Safe to run again."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .client import error_code
from .config import Activity, Config
from .errors import SwfError
from .limits import duration_text


def workflow_defaults(config: Config) -> dict[str, Any]:
    """The workflow type's defaults, so a console start needs no more than a workflow id."""
    w = config.workflow
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


def _type_line(kind: str, name: str, version: str, register: Any, describe: Any, wanted: dict[str, Any]) -> tuple[bool, str]:
    label = f"{kind} type {name} {version}"
    try:
        register()
        return True, f"{label}: registered"
    except ClientError as exc:
        if error_code(exc) != "TypeAlreadyExistsFault":
            raise
    info = describe()
    if info.get("typeInfo", {}).get("status") == "DEPRECATED":
        return False, f"{label}: is deprecated in SWF: bump its version in the config"
    diffs = _differences(wanted, info.get("configuration", {}))
    if diffs:
        return False, (f"{label}: already registered with other defaults ({'; '.join(diffs)}): "
                       "SWF cannot change a type, bump its version in the config")
    return True, f"{label}: already registered"


def register_all(client: Any, config: Config) -> list[tuple[bool, str]]:
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
        if status == "DEPRECATED":
            raise SwfError(f"domain {d.name} is deprecated in SWF: choose another domain name") from None
        lines.append((True, f"Domain {d.name}: already registered"))
    w = config.workflow
    wanted = workflow_defaults(config)
    lines.append(_type_line(
        "Workflow", w.name, w.version,
        lambda: client.register_workflow_type(domain=d.name, name=w.name, version=w.version, **wanted),
        lambda: client.describe_workflow_type(domain=d.name, workflowType={"name": w.name, "version": w.version}),
        wanted,
    ))
    for a in w.used_activities:
        wanted_a = activity_defaults(a)
        lines.append(_type_line(
            "Activity", a.name, a.version,
            lambda a=a, wa=wanted_a: client.register_activity_type(domain=d.name, name=a.name, version=a.version, **wa),
            lambda a=a: client.describe_activity_type(domain=d.name, activityType={"name": a.name, "version": a.version}),
            wanted_a,
        ))
    return lines

