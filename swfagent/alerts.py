"""Alerts when an execution fails or is canceled: an SNS message and/or a command given JSON on stdin."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

from .config import Config
from .logs import log
from .runner import resolve_argv

COMMAND_TIMEOUT = 30


def message(
    config: Config, workflow_id: str, run_id: str, status: str, reason: str | None,
    step: str | None = None, details: str | None = None,
) -> dict[str, Any]:
    """The alert's fields, the same for SNS and for the command."""
    return {
        "domain": config.domain.name,
        "workflow_type": f"{config.workflow.name} {config.workflow.version}",
        "workflow_id": workflow_id,
        "run_id": run_id,
        "status": status,
        "step": step,
        "reason": reason,
        "details": (details or "")[-2000:] or None,
        "show": f"python -m swfagent show {workflow_id} --run-id {run_id}",
    }


def send(config: Config, msg: dict[str, Any], sns_client: Callable[[], Any] | None = None) -> list[str]:
    """Send one alert to every configured target; returns the problems (empty when all went out)."""
    alerts = config.alerts
    if alerts is None:
        return []
    body = json.dumps(msg, ensure_ascii=False)
    problems = []
    if alerts.sns_topic_arn:
        try:
            client = sns_client() if sns_client is not None else _default_sns()
            client.publish(
                TopicArn=alerts.sns_topic_arn, Message=body,
                Subject=f"SWF {msg['status']}: {msg['workflow_id']}"[:100],
            )
        except Exception as exc:
            problems.append(f"SNS {alerts.sns_topic_arn}: {type(exc).__name__}: {exc}")
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
        log.error(f"alert not sent: {problem}", extra={"workflow_id": msg["workflow_id"], "run_id": msg["run_id"]})
    return problems


def _default_sns() -> Any:
    import boto3

    return boto3.session.Session().client("sns")
