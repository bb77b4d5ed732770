"""SWF's limits, in one place: what the agent must never send past, and how it splits what would."""

from __future__ import annotations

MAX_DATA = 32_768  # characters in an input, result, details or execution context
MAX_REASON = 256  # characters in a reason
MAX_VERSION = 64  # characters in a workflow or activity type's version
MAX_NAME = 256  # characters in a name (a domain's, a type's, a task list's), an identity, an activity or timer id
MAX_DESCRIPTION = 1_024  # characters in a description (a domain's, a type's)
MAX_HISTORY_EVENTS = 25_000  # events in one execution's history: SWF closes it past this
MAX_REQUEST_BYTES = 1_048_576  # one request, the task token and the JSON around the decisions included
MAX_PAGE = 1_000  # events or executions in one page
MAX_TIMEOUT = 31_536_000  # one year: SWF's ceiling for every timeout, in seconds
MAX_RETENTION_DAYS = 90  # days SWF keeps a closed execution's history
MAX_TAGS = 50  # tags on one domain
MAX_OPEN_ACTIVITIES = 1_000  # open activity tasks in one execution: ScheduleActivityTask fails past it
MAX_OPEN_TIMERS = 1_000  # open timers in one execution: StartTimer fails past it
MAX_OPEN_CHILDREN = 1_000  # open child executions of one execution: StartChildWorkflowExecution fails past it
ACTIVITY_RATE = 2_000  # activity tasks scheduled a second on one task list

# How the decider fits one answer: at most this many decisions and bytes of decisions; the rest
# follows in the next decision task (a 0-second timer brings it at once).
DECISIONS_PER_RESPONSE = 100
RESPONSE_BYTES = 1_000_000  # of the decisions' JSON: the rest of the 1 MB is left for the token and framing


def cut(text: str, limit: int) -> str:
    """Text cut to `limit` characters, the end kept, with a visible marker where it was cut (for details)."""
    if len(text) <= limit:
        return text
    marker = f"[... {len(text) - limit} characters cut ...]\n"
    keep = limit - len(marker) - 16  # room for the marker's own digits growing
    marker = f"[... {len(text) - keep} characters cut ...]\n"
    return marker + text[len(text) - keep:]


def shorten(text: str, limit: int) -> str:
    """Text cut to `limit` characters, the start kept, ending in an ellipsis (for reasons and one-line fields)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cut_middle(text: str, limit: int) -> str:
    """Text of at most `limit` characters, cut in the middle: a reason's start (what) and end (what to do) kept."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def one_line(value: object, width: int = 60) -> str:
    """A value on one line (its whitespace collapsed) of at most `width` characters, or '-'."""
    if value is None or value == "":
        return "-"
    return shorten(" ".join(str(value).split()), width)


def duration_text(seconds: int | None) -> str:
    """A timeout as SWF writes it: whole seconds, or NONE."""
    return "NONE" if seconds is None else str(seconds)


def last_lines(text: str | None, count: int = 5) -> list[str]:
    """The last non-empty lines of a text (the end of a task's stderr)."""
    return [line for line in (text or "").splitlines() if line.strip()][-count:]
