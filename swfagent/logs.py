"""Logging set-up for the pollers: the article's plain lines, or one JSON object per line."""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import sys
import time

CONTEXT_FIELDS = ("workflow_id", "run_id", "activity_id", "activity_type")

log = logging.getLogger("swfagent")

# What a terminal acts on rather than shows (escape sequences, bell, backspace, carriage return), NUL, DEL, C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WIDE_CONTROL = re.compile(r"[\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\t\n]")


def printable(text: str, lines: bool = True) -> str:
    """The text without control characters; tabs and line breaks kept if `lines`, else made spaces."""
    text = _CONTROL.sub("", text)
    return text if lines else _LINE_BREAKS.sub(" ", text)


class TextFormatter(logging.Formatter):
    """The plain lines, without the control characters a task's output may carry (JSON lines escape them)."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


# extra= for an info line said to the person on stderr (the config a poller uses), outside the article's stdout lines
NOTICE = {"notice": True}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the execution's ids when the record carries them."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = value
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        # json.dumps escapes the C0 controls; DEL and C1 (\x9b starts an escape sequence too) it leaves raw
        return _WIDE_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(data, ensure_ascii=False))


class _Below(logging.Filter):
    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < self.level and not getattr(record, "notice", False)


class _ForStderr(logging.Filter):
    """Warnings and errors, prefixed with their level; and notices, as they are."""

    def filter(self, record: logging.LogRecord) -> bool:
        notice = getattr(record, "notice", False)
        record.prefix = "" if notice else f"{record.levelname}: "
        return notice or record.levelno >= logging.WARNING


class _Std(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler writing to sys.stdout or sys.stderr as they are when a line is written, not when it was made."""

    def __init__(self, name: str):
        super().__init__()
        self.name_of_stream = name
        self.gone = False  # what read the stream stopped reading (`| head`)

    @property
    def stream(self) -> object:
        return getattr(sys, self.name_of_stream)

    @stream.setter
    def stream(self, value: object) -> None:
        pass

    def emit(self, record: logging.LogRecord) -> None:
        if not self.gone:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        """A closed pipe (`| head`): write no more there, quietly, and go on: the task under way is still reported."""
        if isinstance(sys.exc_info()[1], BrokenPipeError):
            self.gone = True
            return
        super().handleError(record)


TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _stamped(stream: object, fmt: str) -> str:
    """The format, with the time in front when the stream is a regular file."""
    try:
        is_file = stat.S_ISREG(os.fstat(stream.fileno()).st_mode)  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        is_file = False
    return "%(asctime)s " + fmt if is_file else fmt


def setup_logging(fmt: str = "text", verbose: bool = False) -> None:
    """Info lines to stdout, warnings and errors to stderr; text or json."""
    out = _Std("stdout")
    out.addFilter(_Below(logging.WARNING))
    err = _Std("stderr")
    err.addFilter(_ForStderr())
    if fmt == "json":
        out.setFormatter(JsonFormatter())
        err.setFormatter(JsonFormatter())
    else:  # the time of day in front when the lines go to a file (cron's >> log), not to a terminal
        out.setFormatter(TextFormatter(_stamped(sys.stdout, "%(message)s"), TIME_FORMAT))
        err.setFormatter(TextFormatter(_stamped(sys.stderr, "%(prefix)s%(message)s"), TIME_FORMAT))
    log.handlers[:] = [out, err]
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False
