"""The decider's edges for decision tasks: poll one (every page), fold, decide, respond; S3 for large values; alerts."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import alerts
from .client import describe_error, error_code, is_transient, redact
from .config import Config
from .decide import Answer, Closing, StepPlan, after_error, decide, describe, plan
from .decisions import DecisionType, fail, to_swf
from .errors import TaskError
from .history import ExecutionState, Refusal, fold, read_envelope
from .ids import parse_batch, parse_item
from .limits import MAX_DATA, MAX_PAGE, MAX_REASON, shorten
from .logs import log
from .payloads import S3Store, is_reference
from .poller import Poll
from .retrying import retry
from .status import ActivityStatus, Closed, StepStatus

Task = dict[str, Any]


def poll_decision_task(client: Any, config: Config, task_list: str, identity: str) -> Task | Poll | None:
    """One decision task with its whole history (all pages merged); None when the poll was empty; DROPPED when a
    page after the first could not be read (SWF hands the task out again after its timeout)."""
    paginator = client.get_paginator("poll_for_decision_task")
    task: Task | None = None
    events: list[dict[str, Any]] = []
    pages = paginator.paginate(
        domain=config.domain.name, taskList={"name": task_list}, identity=identity, maximumPageSize=MAX_PAGE,
    )
    try:
        for page in pages:
            if task is None:
                if not page.get("taskToken"):
                    return None
                task = page
            events.extend(page.get("events", []))
    except Exception as exc:
        if task is None:
            raise
        workflow_id = task.get("workflowExecution", {}).get("workflowId")
        log.warning(f"workflow {workflow_id}: a page of its history could not be read ({error_code(exc)}): "
                    "leaving the decision task to SWF, which hands it out again after its timeout",
                    extra={"workflow_id": workflow_id})
        return Poll.DROPPED
    if task is None:
        return None
    task["events"] = events
    return task


def pending_decision_tasks(client: Any, config: Config, task_list: str) -> int:
    """How many decision tasks wait on the task list (SWF's estimate)."""
    answer = client.count_pending_decision_tasks(domain=config.domain.name, taskList={"name": task_list})
    return int(answer.get("count", 0))


def foreign(config: Config, task: Task) -> str | None:
    """Why a decision task is not this config's to decide (its workflow type is none of the config's), or None."""
    wtype = task.get("workflowType") or {}
    if config.workflow_for(wtype.get("name"), wtype.get("version")) is not None:
        return None
    workflow_id = task.get("workflowExecution", {}).get("workflowId")
    has = ", ".join(f"{w.name} {w.version}" for w in config.workflows)
    return (f"workflow {workflow_id} is of type {wtype.get('name')} {wtype.get('version')}, and {config.path.name} "
            f"has {has}: its decision tasks are left to a decider that has it")


def about_task(config: Config, task: Task) -> Config:
    """The config as this decision task sees it: `workflow` is the one its workflow type names (foreign() is None)."""
    wtype = task.get("workflowType") or {}
    workflow = config.workflow_for(wtype.get("name"), wtype.get("version"))
    if workflow is None:
        raise ValueError(foreign(config, task))
    return config.about(workflow)


def condition_texts(config: Config, state: ExecutionState, store: S3Store | None) -> dict[str, str]:
    """The results kept in S3 that decide reads (a condition's, a map's items, a wait's time), fetched by activity id
    (decide itself does no I/O)."""
    texts: dict[str, str] = {}
    if store is None:
        return texts
    for step in config.workflow.steps:
        read = [dep for dep, _ in (*step.when, *step.unless)] + [d for d in (step.for_each, step.wait_until_step) if d]
        for dep in read:
            act = state.by_step.get(dep)
            if act is not None and act.status == ActivityStatus.COMPLETED and is_reference(act.result):
                texts[act.activity_id] = store.get_text(str(act.result))
            elif act is None and is_reference(carried := state.carried.get(dep)):  # from a run before: by reference
                texts[str(carried)] = store.get_text(str(carried))
    for child in state.children.values():  # a batch's results, which its map reads
        if child.status == ActivityStatus.COMPLETED and is_reference(child.result) and child.step_id is not None \
                and parse_batch(child.step_id) is not None:
            texts[child.activity_id] = store.get_text(str(child.result))
    return texts


# the decisions that may carry a value over SWF's limit, and its attribute
LARGE = {DecisionType.SCHEDULE_ACTIVITY_TASK: "input", DecisionType.COMPLETE_WORKFLOW_EXECUTION: "result",
         DecisionType.START_CHILD_WORKFLOW_EXECUTION: "input", DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION: "input"}


def offload(answer: Answer, store: S3Store | None, execution: dict[str, Any]) -> Answer:
    """The answer with each input or result over SWF's limit put in S3 and replaced by its reference: the one place
    values are written to S3, after decide; new decisions, none changed in place."""
    decisions = []
    for d in answer.decisions:
        field = LARGE.get(d.type)
        text = d.get(field) if field else None
        if field is not None and text is not None and len(text) > MAX_DATA:
            if store is None:  # decide fails such a step before this; a result from S3 is a reference already
                raise ValueError(f"{field} of {len(text)} characters and no results: s3 in config.yaml")
            key = store.key(execution, d.get("activityId") or d.get("control") or "execution", field)
            d = d.with_attributes(**{field: store.put_text(text, key)})
        decisions.append(d)
    return dataclasses.replace(answer, decisions=decisions)


def handle_decision_task(client: Any, config: Config, task: Task, store: S3Store | None = None) -> Answer:
    """Decide on one decision task and report the decisions; returns the answer given."""
    execution = task.get("workflowExecution", {})
    ctx = {"workflow_id": execution.get("workflowId"), "run_id": execution.get("runId")}
    log.info("Received a Decision Task", extra=ctx)
    received = time.monotonic()
    log.info("Making decision on what is next", extra=ctx)
    state = fold(task["events"])
    state.workflow_id = execution.get("workflowId")  # a child step's workflow id is made from it
    # the DecisionTaskStarted event of the last decision task a decider answered: what came after it is news
    previous = task.get("previousStartedEventId") or 0
    for name in state.unknown_events:
        log.warning(f"ignored an event type this decider does not know: {name}", extra=ctx)
    try:
        if store is not None and is_reference(state.input):  # a run continued as new with what it carries in S3
            _read_carried(state, store.get_text(str(state.input)))
        texts = condition_texts(config, state, store)
        answer = offload(decide(config.workflow, dataclasses.replace(state, texts=texts) if texts else state), store,
                         execution)
    except Exception as exc:  # our bug, or S3 out of reach: recorded in the history, tried again, then failed
        error = describe_error(exc) if isinstance(exc, (ClientError, BotoCoreError)) else repr(exc)
        log.error(f"cannot decide: {error}", extra=ctx)
        answer = after_error(state, f"cannot decide: {error}"[:MAX_DATA])
    token = task["taskToken"]
    sent = _respond(client, config, token, answer, received, ctx)
    if sent is None:  # not answered: the next decision task has the same news, told then, once
        return Answer([])
    _news(config, state, task["events"], sent, previous, ctx)
    refused = sent.refused
    if refused is not None and refused.event_id > previous:
        log.error(refused_text(refused), extra=ctx)
    else:
        text = describe(sent)
        log.info(text if text.startswith("Waiting for signal") else f"Decision Made: {text}", extra=ctx)
    _alert(config, state, sent, previous, ctx)
    return sent


def _read_carried(state: ExecutionState, text: str) -> None:
    """A run's input kept in S3, read as the decider made it; one that cannot be read is a problem of the history."""
    try:
        read_envelope(state, text)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        state.problems.append(f"the execution's input in S3 cannot be read: {exc!r}")


def refused_text(refused: Refusal) -> str:
    """What a refusal that lasts means for the execution, and what the decider does about it."""
    if refused.decision == "RequestCancelActivityTask":
        hint = ": see python -m swfagent policies" if refused.cause == "OPERATION_NOT_PERMITTED" else ""
        return (f"SWF refused to cancel activity {refused.target} ({refused.cause}){hint}; the decider will not ask "
                "again: the execution is canceled once the activity ends by itself")
    return (f"SWF refused to close this execution ({refused.decision}: {refused.cause}): it stays open until someone "
            "terminates it or it times out; the decider will not try again")


def _news(config: Config, state: ExecutionState, events: list[dict[str, Any]], answer: Answer, previous: int,
          ctx: dict[str, Any]) -> None:
    """One line for each step that ended or was skipped since the last decision task answered (`previous`)."""
    for act in [*state.activities.values(), *state.children.values()]:
        if act.closed_event_id > previous and act.step_id is not None:
            item = parse_item(act.step_id)
            name = act.step_id if item is None else f"{item[0]} item {item[1]}"
            if act.status == ActivityStatus.COMPLETED:
                log.info(f"{name} succeeded", extra={**ctx, "activity_id": act.activity_id})
            elif act.status in (ActivityStatus.FAILED, ActivityStatus.TIMED_OUT):
                log.info(f"{name} failed: {act.reason}", extra={**ctx, "activity_id": act.activity_id})
    skipped = {s: st for s, st in answer.steps.items() if st.status == StepStatus.SKIPPED}
    if skipped:
        was: dict[str, StepPlan] = {}
        if previous:  # the plan as the last decision task answered saw it
            before = fold([e for e in events if e.get("eventId", 0) <= previous])
            before.texts = state.texts
            was = plan(config.workflow, before)
        for step_id, st in skipped.items():
            if step_id not in was or was[step_id].status != StepStatus.SKIPPED:
                log.info(f"Skipped {step_id}: {st.reason}", extra=ctx)
    unpolled = [e for e in state.unpolled_decisions if e > previous]
    if unpolled:
        log.warning(f"{len(unpolled)} decision task(s) timed out before any decider took them (SCHEDULE_TO_START): no "
                    f"decider was polling task list {config.workflow.task_list}; keep decider.py --loop running",
                    extra=ctx)


def _respond(client: Any, config: Config, token: str, answer: Answer, received: float,
             ctx: dict[str, Any]) -> Answer | None:
    """Send the decisions; if SWF refuses them for good, answer with a failure naming why, once; None when the task
    is no longer open."""
    until = received + max(config.workflow.decision_timeout, 30)  # SWF takes an answer until the task times out
    what = f"workflow {ctx['workflow_id']}: reporting the decision"
    try:
        retry(lambda: client.respond_decision_task_completed(taskToken=token, decisions=to_swf(answer.decisions)),
              what, until=until, on=is_transient, code=error_code)
        return answer
    except Exception as exc:
        if error_code(exc) == "UnknownResourceFault":
            log.warning("The decision task is no longer open (it timed out or the execution closed): "
                        "another decision task will follow", extra=ctx)
            return None
        text = redact(describe_error(exc), token)
        if is_transient(exc) or not answer.decisions:
            raise TaskError(f"{what}: {text}") from None
        reason = f"SWF refused the decider's answer: {text}"
        refused = Answer([fail(reason)], closing=Closing(Closed.FAILED, shorten(reason, MAX_REASON)))
    log.error(f"SWF refused the decisions ({text}): failing the execution instead", extra=ctx)
    try:
        retry(lambda: client.respond_decision_task_completed(taskToken=token, decisions=to_swf(refused.decisions)),
              what, until=until, on=is_transient, code=error_code)
    except Exception as exc:
        raise TaskError(f"{what}: {redact(describe_error(exc), token)}") from None
    return refused


def _alert(config: Config, state: ExecutionState, answer: Answer, previous: int, ctx: dict[str, Any]) -> None:
    """One alert per execution that fails or is canceled, and one when SWF refuses to close it or to cancel an
    activity of it for good."""
    if config.alerts is None:
        return
    closing, refused = answer.closing, answer.refused
    workflow_id, run_id = str(ctx["workflow_id"]), str(ctx["run_id"])
    if closing is not None and not state.close_refusals:  # a close SWF refused once (UNHANDLED_DECISION) was alerted
        alerts.send(config, alerts.message(config, workflow_id, run_id, closing.status, closing.reason, closing.step,
                                           closing.details))
    elif refused is not None and refused.event_id > previous:  # seen for the first time
        if refused.decision == "RequestCancelActivityTask":
            alerts.send(config, alerts.message(config, workflow_id, run_id, Closed.CANCEL_REFUSED, refused_text(refused)))
            return
        alerts.send(config, alerts.message(
            config, workflow_id, run_id, Closed.CLOSE_REFUSED,
            f"SWF refused {refused.decision} ({refused.cause}): the execution stays open until someone terminates it "
            "or it times out"))
