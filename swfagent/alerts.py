"""Alerts when an execution fails or is canceled: an SNS message and/or a command given JSON on stdin."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable
from typing import Any

from .client import describe_error
from .config import DEFAULT_CONFIG, Config
from .limits import cut
from .logs import log
from .runner import resolve_argv
from .views import Alert

COMMAND_TIMEOUT = 30
SNS_TIMEOUT = 10  # seconds to connect and to read: a slow SNS must not hold the decider long


def message(
    config: Config, workflow_id: str, run_id: str, status: str, reason: str | None,
    step: str | None = None, details: str | None = None,
) -> Alert:
    """The alert's fields, the same for SNS and for the command."""
    return Alert(
        domain=config.domain.name,
        workflow_type=f"{config.workflow.name} {config.workflow.version}",
        workflow_id=workflow_id,
        run_id=run_id,
        status=str(status),
        step=step,
        reason=reason,
        details=cut(details or "", 2000) or None,
        show=show_command(config, workflow_id, run_id),
    )


def show_command(config: Config, workflow_id: str, run_id: str) -> str:
    """The command that shows this execution, quoted for a shell; --config when it is not the default one."""
    line = f"python -m swfagent show {shlex.quote(workflow_id)} --run-id {shlex.quote(run_id)}"
    if config.path.resolve() != DEFAULT_CONFIG.resolve():
        line += f" --config {shlex.quote(str(config.path.resolve()))}"
    return line


def subject(msg: Alert) -> str:
    """An SNS subject: printable ASCII, at most 100 characters."""
    text = f"SWF {msg.status}: {msg.workflow_id}"
    return "".join(c if " " <= c <= "~" else "?" for c in text)[:100]


def send(config: Config, msg: Alert, sns_client: Callable[[], Any] | None = None) -> list[str]:
    """Send one alert to every configured target; returns the problems (empty when all went out)."""
    alerts = config.alerts
    if alerts is None:
        return []
    body = json.dumps(msg.as_json(), ensure_ascii=False)
    problems = []
    if alerts.sns_topic_arn:
        try:
            client = sns_client() if sns_client is not None else _default_sns(alerts.sns_topic_arn)
            client.publish(
                TopicArn=alerts.sns_topic_arn, Message=body,
                Subject=subject(msg),
            )
        except Exception as exc:  # whatever goes wrong, the decision must go on
            problems.append(f"SNS {alerts.sns_topic_arn}: {describe_error(exc)}")
    if alerts.command:
        try:
            done = subprocess.run(
                resolve_argv(alerts.command), input=body.encode(), capture_output=True,
                timeout=COMMAND_TIMEOUT, cwd=config.path.resolve().parent, check=False,
            )
            if done.returncode != 0:
                problems.append(f"alert command exited {done.returncode}: {done.stderr.decode(errors='replace')[-200:].strip()}")
        except (OSError, subprocess.SubprocessError) as exc:
            problems.append(f"alert command {alerts.command[0]}: {exc}")
    for problem in problems:
        log.error(f"alert not sent: {problem}", extra={"workflow_id": msg.workflow_id, "run_id": msg.run_id})
    return problems


def _default_sns(topic_arn: str) -> Any:
    """An SNS client in the topic's region, with short timeouts and one retry."""
    import boto3
    import botocore.config

    parts = topic_arn.split(":")
    region = parts[3] if len(parts) > 5 and parts[3] else None
    config = botocore.config.Config(
        connect_timeout=SNS_TIMEOUT, read_timeout=SNS_TIMEOUT, retries={"mode": "standard", "max_attempts": 2})
    return boto3.session.Session().client("sns", region_name=region, config=config)
