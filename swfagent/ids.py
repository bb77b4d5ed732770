"""Every id the decider makes or reads, in one codec: activity ids, retry and wait timers, the error timer and marker,
the timer that brings the rest of an answer. Pure; parse(make(x)) == x for every id config.yaml allows.

- an attempt of a step:           STEP-N          (the activity id, and the id of the retry timer before it)
- its wait for SWF's capacity:    STEP-N.waitK    (after K refusals for a passing cause)
- the decider could not decide:   swfagent-error  (the marker) and swfagent-error-E (its timer; E: an event id)
- the rest of a large answer:     swfagent-more-E (a 0-second timer)
- item I (from 1) of a map step:  STEP@I          (a step of its own: its attempts are STEP@I-N, its timers likewise)
- a wait step's timer:            swfagent-wait-STEP
- a signal step's timeout:        swfagent-signal-STEP (the timer); swfagent-signal (the marker naming the signal taken)
- a child step's execution:       PARENT--STEP-N  (its workflow id, from the parent's; control: STEP-N, its attempt id)
- a batch of a map's items:       STEP#B          (a child step of its own: its attempts are STEP#B-N)
- a failure kept until children close: swfagent-closing (the marker); a child's cancel's wait: swfagent-cancel-STEP-N.waitK
- a repeating workflow's wait:    swfagent-repeat (the timer at the start of its next run, until that run's time)

Ids beginning with PREFIX are the decider's own: config.yaml refuses step ids that do.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass

from .limits import MAX_NAME

PREFIX = "swfagent-"
DECIDER_ERROR = f"{PREFIX}error"  # the marker a decider records when it cannot decide
_ERROR_TIMER = f"{DECIDER_ERROR}-"
_MORE_TIMER = f"{PREFIX}more-"
_WAIT_STEP = f"{PREFIX}wait-"
SIGNAL_TAKEN = f"{PREFIX}signal"  # the marker a decider records when a signal step takes a signal
CLOSING = f"{PREFIX}closing"  # the marker of a failure the decider closes the execution with once its children closed
_SIGNAL_TIMER = f"{SIGNAL_TAKEN}-"
_REPEAT = f"{PREFIX}repeat"
CANCEL_WAIT = f"{PREFIX}cancel-"  # a child's cancel refused for its rate: the wait before it is asked again
CARRY = f"{PREFIX}carry"  # the key of a run's input that carries the results of the runs before it
BATCH_INPUT = f"{PREFIX}batch"  # the key of a child's input that holds a batch of a map's items
BATCH = "#"  # between a map step's id and a batch's number
CHILD = "--"  # between a parent's workflow id and a child step's attempt id
ITEM = "@"  # between a map step's id and an item's number: config.yaml refuses step ids that hold it
_WAIT = re.compile(r"(?P<attempt>.+)\.wait(?P<waits>[1-9][0-9]*)", re.DOTALL)
# room a step id leaves for its attempt and wait suffixes within SWF's id length (up to "-1000.wait1000")
MAX_STEP_ID = MAX_NAME - len("@100000-1000.wait1000")


def activity_id(step_id: str, attempt: int) -> str:
    """The deterministic activity id of a step's attempt (also the id of the retry timer before it)."""
    return f"{step_id}-{attempt}"


def item_step_id(step_id: str, item: int) -> str:
    """The id a map step's item goes by, as if a step of its own: its attempts are activity_id(item_step_id(...), N)."""
    return f"{step_id}{ITEM}{item}"


def parse_item(value: str) -> tuple[str, int] | None:
    """The map step and item number (from 1) of an item's id made by item_step_id; None for any other id."""
    return _numbered(value, ITEM)


def _numbered(value: str, mark: str) -> tuple[str, int] | None:
    """STEP and N of an id STEP{mark}N (N from 1, no leading zero, one mark); None for any other id."""
    step, sep, number = value.rpartition(mark)
    if sep and step and number.isascii() and number.isdigit() and number[0] != "0" and mark not in step:
        return step, int(number)
    return None


def child_workflow_id(parent: str, attempt_id: str) -> str:
    """A child step's workflow id, made from its parent's so deciding twice starts nothing twice; a long parent id is
    cut and a digest of it kept, within SWF's length."""
    whole = f"{parent}{CHILD}{attempt_id}"
    if len(whole) <= MAX_NAME:
        return whole
    digest = hashlib.sha256(parent.encode()).hexdigest()[:16]
    room = MAX_NAME - len(CHILD) - len(attempt_id) - len(digest) - 1
    return f"{parent[:max(room, 0)]}~{digest}{CHILD}{attempt_id}"[-MAX_NAME:]


def batch_step_id(step_id: str, batch: int) -> str:
    """The id a batch (from 1) of a map step's items goes by: a child step of its own."""
    return f"{step_id}{BATCH}{batch}"


def parse_batch(value: str) -> tuple[str, int] | None:
    """The map step and batch number of a batch's id made by batch_step_id; None for any other id."""
    return _numbered(value, BATCH)


def repeat_timer_id() -> str:
    """The timer a repeating workflow's next run waits on until its time, before it runs the chart."""
    return _REPEAT


def wait_step_timer_id(step_id: str) -> str:
    """The timer of a `wait:` step: one per step, so deciding twice starts it once."""
    return f"{_WAIT_STEP}{step_id}"


def signal_timer_id(step_id: str) -> str:
    """The timer after which a `signal:` step with a `timeout:` fails."""
    return f"{_SIGNAL_TIMER}{step_id}"


def parse_activity_id(value: str) -> tuple[str | None, int]:
    """The step id and attempt of an activity id made by activity_id; (None, 0) for a foreign one."""
    step, _, attempt = value.rpartition("-")
    if step and not step.startswith(PREFIX) and attempt.isdigit() and attempt[0] != "0":
        return step, int(attempt)
    return None, 0


def wait_timer_id(attempt_id: str, waits: int) -> str:
    """The id of the timer a step's attempt waits on after SWF refused it `waits` times for a passing cause."""
    return f"{attempt_id}.wait{waits}"


def error_timer_id(last_event_id: int) -> str:
    """The timer after which a decider that could not decide tries again."""
    return f"{_ERROR_TIMER}{last_event_id}"


def more_timer_id(last_event_id: int) -> str:
    """The 0-second timer that brings the rest of an answer too large for one response."""
    return f"{_MORE_TIMER}{last_event_id}"


class TimerKind(enum.Enum):
    """What a timer is for."""

    RETRY = "retry"  # before a step's next attempt
    WAIT = "wait"  # a step's wait for SWF's capacity
    ERROR = "error"  # the decider's next try after it could not decide
    MORE = "more"  # the rest of a large answer
    STEP_WAIT = "step-wait"  # a `wait:` step's timer
    SIGNAL = "signal"  # a `signal:` step's timeout
    REPEAT = "repeat"  # a repeating workflow's next run's wait until its time
    FOREIGN = "foreign"  # not the decider's


@dataclass(frozen=True)
class Timer:
    """A timer id, parsed: its kind, and for a step's timers the attempt (activity id), step, attempt and waits."""

    kind: TimerKind
    attempt_id: str = ""
    step: str | None = None
    attempt: int = 0
    waits: int = 0
    event_id: int = 0  # ERROR, MORE: the event the answer that started it was made on


def parse_timer(timer_id: str) -> Timer:
    """What a timer id stands for; FOREIGN for one this codec does not make."""
    if timer_id == _REPEAT:
        return Timer(TimerKind.REPEAT)
    for prefix, kind in ((_ERROR_TIMER, TimerKind.ERROR), (_MORE_TIMER, TimerKind.MORE)):
        number = timer_id[len(prefix):]
        if timer_id.startswith(prefix) and number.isdigit() and str(int(number)) == number:
            return Timer(kind, event_id=int(number))
    for prefix, kind in ((_WAIT_STEP, TimerKind.STEP_WAIT), (_SIGNAL_TIMER, TimerKind.SIGNAL)):
        step_id = timer_id[len(prefix):]
        if timer_id.startswith(prefix) and step_id and step_id_problem(step_id) is None:
            return Timer(kind, step=step_id)
    waited = _WAIT.fullmatch(timer_id)
    attempt_id, waits = (waited["attempt"], int(waited["waits"])) if waited else (timer_id, 0)
    step, attempt = parse_activity_id(attempt_id)
    if step is None:
        return Timer(TimerKind.FOREIGN)
    return Timer(TimerKind.WAIT if waits else TimerKind.RETRY, attempt_id, step, attempt, waits)


def attempt_of_timer(timer_id: str) -> str:
    """The attempt a retry or wait timer is for (its activity id); any other timer's own id."""
    return parse_timer(timer_id).attempt_id or timer_id


def is_error_timer(timer_id: str) -> bool:
    """True for the timer of a decider's next try after an error."""
    return timer_id.startswith(_ERROR_TIMER) and parse_timer(timer_id).kind is TimerKind.ERROR


NAME_FORBIDDEN = re.compile(r"[:/|\x00-\x1f\x7f-\x9f]")  # SWF refuses these in a name or an id


def swf_name_problem(value: str) -> str | None:
    """Why SWF refuses this as a name or id (a workflow id, a type's name), or None: 1 to 256 characters, no ':', '/',
    '|' or control characters, no space at either end, and not the word 'arn'."""
    if not value or len(value) > MAX_NAME:
        return f"must be 1 to {MAX_NAME} characters"
    if value != value.strip() or value == "arn" or NAME_FORBIDDEN.search(value):
        return "is not a valid SWF name (no ':', '/', '|', control characters or edge spaces; not 'arn')"
    return None


def step_id_problem(step_id: str) -> str | None:
    """Why a step id cannot be used in the decider's ids, or None."""
    if step_id.startswith(PREFIX):
        return f"begins with {PREFIX!r}, which the decider keeps for its own timers and markers"
    for mark, what in ((ITEM, "a map's items"), (BATCH, "a map's batches"), (CHILD, "child workflow ids")):
        if mark in step_id:
            return f"holds {mark!r}, which the decider keeps for {what}"
    if step_id.startswith("-") or step_id.endswith("-"):
        return f"begins or ends with '-', which would make {CHILD!r} with the '-' the decider's ids join it with"
    if len(step_id) > MAX_STEP_ID:
        return f"is longer than {MAX_STEP_ID} characters (its activity ids add an attempt number, within SWF's {MAX_NAME})"
    return None
