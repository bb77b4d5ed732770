"""The worker's edges for activity tasks: poll one, run its command, heartbeat, report the result."""

from __future__ import annotations

import os
import shlex
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from .client import describe_error, error_code, is_transient, make_client, redact
from .config import Activity, Config
from .errors import TaskError
from .limits import MAX_DATA, MAX_REASON, cut, last_lines, one_line, shorten
from .logs import log
from .payloads import S3Store, expand, references_in
from .retrying import REAL, Timing, retry
from .runner import RunningTasks, TaskResult, resolve_argv, run_task
from .status import Beat, TaskOutcome

REPORT_AT_LEAST = 30  # seconds of retrying a report, even past the task's deadline
CANCEL_CHECK = 30.0  # seconds between heartbeats of an activity with no heartbeat timeout: is it canceled?


def poll_activity_task(client: Any, config: Config, task_list: str, identity: str) -> dict[str, Any] | None:
    """One activity task, or None when the poll came back empty."""
    task = client.poll_for_activity_task(domain=config.domain.name, taskList={"name": task_list}, identity=identity)
    return task if task.get("taskToken") else None


def pending_activity_tasks(client: Any, config: Config, task_list: str) -> int:
    """How many activity tasks wait on the task list (SWF's estimate)."""
    answer = client.count_pending_activity_tasks(domain=config.domain.name, taskList={"name": task_list})
    return int(answer.get("count", 0))


def make_heartbeat(client: Any, token: str, ctx: dict[str, Any]) -> Any:
    """The runner's heartbeat callback: ok, cancel (SWF asked) or gone (task timed out / execution closed)."""

    def beat() -> Beat:
        try:
            answer = client.record_activity_task_heartbeat(taskToken=token, details="running")
        except Exception as exc:
            if error_code(exc) == "UnknownResourceFault":
                log.warning("The task is no longer open (timed out or its execution closed): ending it", extra=ctx)
                return Beat.GONE
            # throttled, a 5xx, a dropped connection: try again at the next tick
            log.warning(f"heartbeat failed: {redact(describe_error(exc), token)}; trying again next tick", extra=ctx)
            return Beat.OK
        if answer.get("cancelRequested"):
            log.info("Cancel requested by SWF: ending the task", extra=ctx)
            return Beat.CANCEL
        return Beat.OK

    return beat


def task_env(task: dict[str, Any]) -> dict[str, str]:
    """The task's environment: the worker's own, plus the SWF ids it may want to log."""
    execution = task.get("workflowExecution", {})
    env = dict(os.environ)
    env.update(
        SWF_WORKFLOW_ID=execution.get("workflowId", ""),
        SWF_RUN_ID=execution.get("runId", ""),
        SWF_ACTIVITY_ID=task.get("activityId", ""),
        SWF_ACTIVITY_TYPE=task.get("activityType", {}).get("name", ""),
    )
    return env


def store_for(config: Config) -> S3Store | None:
    """Where values too large for SWF go, when config.yaml has results: s3."""
    return S3Store(config.results, lambda: make_client("s3")) if config.results is not None else None


def _stdin(task: dict[str, Any], store: S3Store | None, spool: Path) -> str | Path | None:
    """The task's input as its command gets it: references to S3 replaced by what they stand for."""
    text = task.get("input")
    refs = references_in(text)
    if not refs or store is None or text is None:
        return text
    if refs == [text]:  # one large value: streamed to a file, whatever its size
        path = spool / "stdin"
        with path.open("wb") as f:
            store.get_file(text, f)
        return path
    return expand(text, store)


def run_activity(
    client: Any, config: Config, activity: Activity | None, task: dict[str, Any], ctx: dict[str, Any],
    store: S3Store | None = None, running: RunningTasks | None = None,
) -> TaskResult:
    """Run the command config.yaml gives for the task's activity type (None: it gives none)."""
    if activity is None:
        atype = task.get("activityType", {})
        return TaskResult(TaskOutcome.FAILED, reason=shorten(
            f"no command for activity type {atype.get('name')} {atype.get('version')} in {config.path.name}", MAX_REASON))
    log.info(f"Execute {activity.name} with command - {shlex.join(activity.command)}", extra=ctx)
    # heartbeats tell a worker that SWF wants the task canceled: without a heartbeat timeout, ask now and then
    every = activity.heartbeat_timeout / 3 if activity.heartbeat_timeout else CANCEL_CHECK
    with tempfile.TemporaryDirectory(prefix="swfagent-task-") as tmp:
        spool = Path(tmp)
        outcome = run_task(
            resolve_argv(activity.command), _stdin(task, store, spool), spool=spool,
            cwd=activity.cwd, env=task_env(task), timeout=activity.timeout,
            heartbeat=make_heartbeat(client, task["taskToken"], ctx), heartbeat_every=every, running=running,
        )
        if outcome.outcome != TaskOutcome.COMPLETED or outcome.oversize is None:
            return outcome
        if store is None or outcome.output is None:
            return replace(outcome, outcome=TaskOutcome.FAILED, reason=shorten(
                f"the result is {outcome.oversize}, over SWF's {MAX_DATA}: print less, or set "
                "results: {s3: s3://BUCKET/PREFIX} in config.yaml", MAX_REASON))
        key = store.key(task.get("workflowExecution", {}), task.get("activityId", "-"), "result")
        log.info(f"{activity.name}'s result is {outcome.oversize}: kept in S3", extra=ctx)
        return replace(outcome, result=store.put_file(outcome.output, key), output=None)


def report(client: Any, token: str, outcome: TaskResult, ctx: dict[str, Any], until: float,
           timing: Timing = REAL) -> None:
    """Report the outcome to SWF, retrying transient errors until `until` (a timing.clock() time: SWF takes it no
    later), so it is not lost."""
    if outcome.outcome == TaskOutcome.GONE:
        return
    if outcome.outcome == TaskOutcome.COMPLETED:
        call = lambda: client.respond_activity_task_completed(taskToken=token, result=outcome.result)  # noqa: E731
    elif outcome.outcome == TaskOutcome.CANCELED:
        call = lambda: client.respond_activity_task_canceled(  # noqa: E731
            taskToken=token, details=cut(outcome.details or "", MAX_DATA))
    else:
        call = lambda: client.respond_activity_task_failed(  # noqa: E731
            taskToken=token, reason=shorten(outcome.reason or "failed", MAX_REASON),
            details=cut(outcome.details or "", MAX_DATA))
    try:
        retry(call, f"workflow {ctx.get('workflow_id')}: reporting {ctx.get('activity_id')}", until=until,
              on=is_transient, code=error_code, timing=timing)
    except Exception as exc:
        text = redact(describe_error(exc), token)
        if error_code(exc) == "UnknownResourceFault":
            log.warning(f"The result was not taken: the task is no longer open ({text})", extra=ctx)
            return
        if is_transient(exc):
            log.error(f"The result could not be reported: {text}", extra=ctx)
            return
        raise TaskError(f"workflow {ctx.get('workflow_id')}: reporting {ctx.get('activity_id')}: {text}") from None


def handle_activity_task(client: Any, config: Config, task: dict[str, Any], store: S3Store | None = None,
                         running: RunningTasks | None = None, *, timing: Timing = REAL) -> TaskResult:
    """Run one activity task and report how it ended (through passing trouble, on timing's clock and sleep)."""
    execution = task.get("workflowExecution", {})
    ctx = {
        "workflow_id": execution.get("workflowId"), "run_id": execution.get("runId"),
        "activity_id": task.get("activityId"), "activity_type": task.get("activityType", {}).get("name"),
    }
    log.info("Received an Activity Task", extra=ctx)
    received = timing.clock()
    atype = task.get("activityType", {})
    activity = config.activity_for(atype.get("name", ""), atype.get("version", ""))
    try:
        outcome = run_activity(client, config, activity, task, ctx, store, running)
    except Exception as exc:  # our own bug, or S3 out of reach: still report it as a failure
        outcome = TaskResult(TaskOutcome.FAILED, reason=shorten(f"worker error: {describe_error(exc)}", MAX_REASON))
    # SWF takes the result until the task's start-to-close timeout; past it, try for a little while all the same
    until = max(received + (activity.timeout if activity else 0), timing.clock() + REPORT_AT_LEAST)
    report(client, task["taskToken"], outcome, ctx, until, timing)
    name = ctx["activity_type"]
    if outcome.outcome == TaskOutcome.COMPLETED:
        log.info(f"{name} succeeded with output: {one_line(outcome.result, 300)}", extra=ctx)
    elif outcome.outcome == TaskOutcome.CANCELED:
        log.info(f"{name} canceled", extra=ctx)
    elif outcome.outcome == TaskOutcome.GONE:
        log.info(f"{name} abandoned: SWF no longer wants its result", extra=ctx)
    else:
        log.info(f"{name} failed: {outcome.reason}", extra=ctx)
        for line in last_lines(outcome.details):  # what the task said on stderr, where the user looks first
            log.info(f"  | {line}", extra=ctx)
    return outcome
