"""IAM policies, one per role (worker, decider, operator, admin), scoped to the domain config.yaml names.

Each role gets exactly the SWF actions its scripts call (and their SWF "pseudo API" decisions), on
the domain's ARN only; polls and starts are further held to the config's task lists and types with
SWF's condition keys. `python -m swfagent policies` prints them; iam/*.json are copies for the
shipped config.yaml with the placeholder account below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from .config import Activity, Config, Workflow
from .errors import UsageError

ROLES = ("worker", "decider", "operator", "admin")
PLACEHOLDER_ACCOUNT = "123456789012"  # AWS's documentation account id: replace it with yours
DEFAULT_REGION = "us-east-1"
VERSION = "2012-10-17"

# What each role does, for `--help`, iam/README.md and the README's Security section.
PURPOSE = {
    "worker": "hosts that run worker.py: poll activity tasks, heartbeat, report results",
    "decider": "hosts that run decider.py: poll decision tasks, answer with decisions (and SNS alerts)",
    "operator": "people and cron jobs running python -m swfagent start/executions/show/signal/cancel/terminate/check",
    "admin": "whoever runs register_swf.py: register the domain and the types",
}

WORKER_REPORT = (
    "swf:RecordActivityTaskHeartbeat", "swf:RespondActivityTaskCanceled",
    "swf:RespondActivityTaskCompleted", "swf:RespondActivityTaskFailed",
)
# The decisions swfagent.decide makes: SWF checks each one as if it were an API call of its own.
DECISIONS = (
    "swf:CancelTimer", "swf:CancelWorkflowExecution", "swf:CompleteWorkflowExecution", "swf:FailWorkflowExecution",
    "swf:RecordMarker", "swf:RequestCancelActivityTask", "swf:RequestCancelExternalWorkflowExecution", "swf:StartTimer",
)
# Decisions held to the config's own workflow types and task lists by SWF's condition keys.
START_CHILD, CONTINUE_AS_NEW = CHILD_DECISIONS = ("swf:StartChildWorkflowExecution", "swf:ContinueAsNewWorkflowExecution")
OPERATOR_READ = (
    "swf:DescribeWorkflowExecution", "swf:GetWorkflowExecutionHistory",
    "swf:ListClosedWorkflowExecutions", "swf:ListOpenWorkflowExecutions",
)
OPERATOR_STEER = (
    "swf:RequestCancelWorkflowExecution", "swf:SignalWorkflowExecution", "swf:TerminateWorkflowExecution",
)
ADMIN_TYPES = (
    "swf:DescribeActivityType", "swf:DescribeDomain", "swf:DescribeWorkflowType",
    "swf:RegisterActivityType", "swf:RegisterWorkflowType",
)

_ACCOUNT = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


def partition(region: str) -> str:
    """The ARN partition of a region: aws, aws-cn or aws-us-gov."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def domain_arn(config: Config, account: str, region: str) -> str:
    """The domain's ARN, the only resource SWF lets a policy name."""
    return f"arn:{partition(region)}:swf:{region}:{account}:/domain/{config.domain.name}"


def activity_task_lists(config: Config) -> list[str]:
    """The task lists the flow charts' activities are scheduled on, sorted."""
    return sorted({a.task_list for a in config.used_activities})


def _statement(sid: str, actions: tuple[str, ...] | list[str], resource: str,
               condition: dict[str, dict[str, list[str]]] | None = None) -> dict[str, Any]:
    st: dict[str, Any] = {
        "Sid": sid, "Effect": "Allow",
        "Action": sorted(actions) if len(actions) > 1 else actions[0], "Resource": resource,
    }
    if condition:
        st["Condition"] = condition
    return st


def _equals(**keys: list[str]) -> dict[str, dict[str, list[str]]]:
    return {"StringEquals": {f"swf:{k.replace('_', '.')}": sorted(set(v)) for k, v in keys.items()}}


def _sns(config: Config, wildcard: bool) -> list[dict[str, Any]]:
    arn = config.alerts.sns_topic_arn if config.alerts is not None else None
    if not arn:
        return []
    return [_statement("PublishAlerts", ["sns:Publish"], "*" if wildcard else arn)]


def _values(config: Config, region: str, wildcard: bool) -> list[dict[str, Any]]:
    """Reading and writing values too large for SWF, under results.s3's prefix only."""
    if config.results is None:
        return []
    where = "/".join(p for p in (config.results.bucket, config.results.prefix) if p)
    arn = f"arn:{partition(region)}:s3:::{where}/*"
    return [_statement("LargeValuesInS3", ["s3:GetObject", "s3:PutObject"], "*" if wildcard else arn)]


def _by_type(sid: str, actions: list[str], resource: str, types: list[tuple[str, str, str]], name_key: str | None,
             version_key: str) -> list[dict[str, Any]]:
    """One statement per (version, task list) the config pairs, naming only the types that have both.

    A single statement with a list per key would allow every combination (type A at B's version on B's task list);
    grouping keeps the policy short while allowing exactly the (name, version, task list) triples configured.
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for name, version, task_list in types:
        groups.setdefault((version, task_list), []).append(name)
    out = []
    for n, ((version, task_list), names) in enumerate(groups.items(), start=1):
        keys = {version_key: [version], "taskList_name": [task_list]}
        if name_key is not None:
            keys = {name_key: names, **keys}
        out.append(_statement(sid if len(groups) == 1 else f"{sid}{n}", actions, resource, _equals(**keys)))
    return out


def statements(config: Config, role: str, resource: str, wildcard: bool, region: str = DEFAULT_REGION) -> list[dict[str, Any]]:
    """The statements of one role's policy; wildcard drops every condition."""
    ws, acts = config.workflows, config.used_activities

    def cond(**keys: list[str]) -> dict[str, dict[str, list[str]]] | None:
        return None if wildcard else _equals(**keys)

    def typed(sid: str, acts_: list[str], types: Sequence[Activity] | Sequence[Workflow], name_key: str | None,
              version_key: str) -> list[dict[str, Any]]:
        """Statements allowing only the configured (name, version, task list) of each type; one on * when wildcard."""
        if wildcard:
            return [_statement(sid, acts_, resource)]
        triples = [(t.name, t.version, t.task_list) for t in types]
        return _by_type(sid, acts_, resource, triples, name_key, version_key)

    if role == "worker":
        return [
            # a cron (--until-idle) or single run counts what is queued before its long poll
            _statement("PollActivityTasks", ["swf:CountPendingActivityTasks", "swf:PollForActivityTask"], resource,
                       cond(taskList_name=activity_task_lists(config))),
            _statement("ReportActivityTasks", WORKER_REPORT, resource),
            *_values(config, region, wildcard),
        ]
    if role == "decider":
        return [
            _statement("PollDecisionTasks", ["swf:CountPendingDecisionTasks", "swf:PollForDecisionTask"], resource,
                       cond(taskList_name=list(config.task_lists))),
            _statement("RespondDecisionTasks", ("swf:RespondDecisionTaskCompleted", *DECISIONS), resource),
            *typed("ScheduleConfiguredActivities", ["swf:ScheduleActivityTask"], acts, "activityType_name",
                   "activityType_version"),
            # children and new runs of the config's own workflow types only (ContinueAsNew keeps the type's name:
            # SWF has no name key for it)
            *typed("StartConfiguredChildWorkflows", [START_CHILD], ws, "workflowType_name", "workflowType_version"),
            *typed("ContinueConfiguredWorkflowsAsNew", [CONTINUE_AS_NEW], ws, None, "workflowType_version"),
            *_values(config, region, wildcard),
            *_sns(config, wildcard),
        ]
    if role == "operator":
        return [
            *typed("StartConfiguredWorkflow", ["swf:StartWorkflowExecution"], ws, "workflowType_name",
                   "workflowType_version"),
            _statement("ReadExecutions", OPERATOR_READ, resource),
            _statement("SteerExecutions", OPERATOR_STEER, resource),
            *_sns(config, wildcard),
        ]
    if role == "admin":
        return [
            # SWF cannot scope RegisterDomain to a domain: its only resource is "*" (IAM's service
            # authorization reference lists no resource type for it).
            _statement("RegisterDomain", ["swf:RegisterDomain"], "*"),
            _statement("RegisterTypes", ADMIN_TYPES, resource),
        ]
    raise UsageError(f"unknown role {role!r} (known: {', '.join(ROLES)})")


def check_account(account: str) -> str:
    """A 12-digit AWS account id, or UsageError."""
    if not _ACCOUNT.fullmatch(account):
        raise UsageError(f"--account {account!r}: give the 12-digit AWS account id")
    return account


def check_region(region: str) -> str:
    """An AWS region name such as us-east-1, or UsageError."""
    if not _REGION.fullmatch(region):
        raise UsageError(f"--region {region!r}: give an AWS region, e.g. us-east-1")
    return region


def policy(config: Config, role: str, account: str = PLACEHOLDER_ACCOUNT, region: str = DEFAULT_REGION,
           wildcard: bool = False) -> dict[str, Any]:
    """One role's IAM policy document; wildcard=True: resources "*" and no conditions."""
    resource = "*" if wildcard else domain_arn(config, check_account(account), check_region(region))
    return {"Version": VERSION, "Statement": statements(config, role, resource, wildcard, region)}


def policies(config: Config, account: str = PLACEHOLDER_ACCOUNT, region: str = DEFAULT_REGION,
             wildcard: bool = False) -> dict[str, dict[str, Any]]:
    """Every role's policy, by role."""
    return {role: policy(config, role, account, region, wildcard) for role in ROLES}


def actions(document: dict[str, Any]) -> set[str]:
    """Every action a policy document allows."""
    out: set[str] = set()
    for st in document["Statement"]:
        acts = st["Action"]
        out.update([acts] if isinstance(acts, str) else acts)
    return out


def render(document: dict[str, Any]) -> str:
    """A policy as the JSON text iam/*.json hold: two-space indent, a final newline."""
    return json.dumps(document, indent=2) + "\n"


EVERY_ROLE = "all"  # --role all: every role's policy, as one JSON object

HELP = ("print the IAM policy of each role (worker, decider, operator, admin), scoped to the config's domain. "
        "Roles: " + "; ".join(f"{r}: {p}" for r, p in PURPOSE.items()))
