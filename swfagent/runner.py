"""run_task(argv, input, ...) -> TaskResult: one task as a supervised subprocess.

The command runs from its argv list (never a shell) in a process group of its own; its input goes
to stdin; it is heartbeaten while it runs, killed at its deadline, and ended when SWF cancels it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

MAX_DATA = 32_768
MAX_REASON = 256

# What a heartbeat callback answers.
BEAT_OK = "ok"
BEAT_CANCEL = "cancel"  # SWF asked for the task to be canceled
BEAT_GONE = "gone"  # the task timed out or its execution closed: nobody wants the result

COMPLETED = "completed"
FAILED = "failed"
CANCELED = "canceled"
GONE = "gone"

_running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.RLock()  # the second-signal handler may run while its own thread holds it


@dataclass(frozen=True)
class TaskResult:
    """How a task ended, in the form SWF takes it."""

    outcome: str
    result: str = ""
    reason: str | None = None
    details: str | None = None
    exit_code: int | None = None
    seconds: float = 0.0


def fit(text: str, limit: int) -> str:
    """Text cut to `limit` characters, the end kept, with a visible marker where it was cut."""
    if len(text) <= limit:
        return text
    marker = f"[... {len(text) - limit} characters cut ...]\n"
    keep = limit - len(marker) - 16  # room for the marker's own digits growing
    marker = f"[... {len(text) - keep} characters cut ...]\n"
    return marker + text[len(text) - keep:]


def resolve_argv(argv: tuple[str, ...] | list[str]) -> list[str]:
    """The argv to run: a leading `python` means the interpreter running the worker."""
    argv = list(argv)
    if argv and argv[0] == "python":
        argv[0] = sys.executable
    return argv


def kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Signal the task's whole process group; a group already gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def kill_all() -> None:
    """Kill every task's process group now (the second SIGTERM)."""
    with _running_lock:
        procs = list(_running)
    for proc in procs:
        kill_group(proc)


def _end(proc: subprocess.Popen[bytes], grace: float) -> tuple[bytes, bytes]:
    """TERM the group, KILL it after `grace` seconds, and collect what it printed."""
    kill_group(proc, signal.SIGTERM)
    try:
        return proc.communicate(timeout=grace)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        try:
            return proc.communicate(timeout=grace)
        except subprocess.TimeoutExpired:  # a grandchild holds the pipes open: give up on them
            return b"", b""


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def run_task(
    argv: list[str],
    input: str | None,
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    heartbeat: Callable[[], str] | None = None,
    heartbeat_every: float | None = None,
    grace: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
) -> TaskResult:
    """Run argv with `input` on stdin; stdout (stripped) is the result, a non-zero exit a failure."""
    start = clock()
    try:
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=cwd, env=dict(env) if env is not None else None, start_new_session=True,
        )
    except FileNotFoundError:
        if cwd is not None and not Path(cwd).is_dir():
            return TaskResult(FAILED, reason=fit(f"working directory not found: {cwd}", MAX_REASON))
        return TaskResult(FAILED, reason=fit(f"command not found: {argv[0]}", MAX_REASON))
    except PermissionError:
        return TaskResult(FAILED, reason=fit(f"permission denied: {argv[0]} (is it executable?)", MAX_REASON))
    except OSError as exc:
        return TaskResult(FAILED, reason=fit(f"cannot run {argv[0]}: {exc.strerror or exc}", MAX_REASON))
    with _running_lock:
        _running.add(proc)
    try:
        return _supervise(proc, input, start, timeout, heartbeat, heartbeat_every, grace, clock)
    finally:
        with _running_lock:
            _running.discard(proc)


def _supervise(
    proc: subprocess.Popen[bytes],
    input: str | None,
    start: float,
    timeout: float,
    heartbeat: Callable[[], str] | None,
    every: float | None,
    grace: float,
    clock: Callable[[], float],
) -> TaskResult:
    data: bytes | None = (input or "").encode("utf-8", errors="replace")
    deadline = start + timeout
    next_beat = start + every if heartbeat and every else float("inf")
    while True:
        wait = max(min(deadline, next_beat) - clock(), 0.01)
        try:
            out, err = proc.communicate(data, timeout=wait)
            break
        except subprocess.TimeoutExpired:
            data = None  # sent on the first call; communicate keeps feeding it
        now = clock()
        if now >= deadline:
            kill_group(proc)
            try:
                out, err = proc.communicate(timeout=grace)
            except subprocess.TimeoutExpired:
                out, err = b"", b""
            return TaskResult(
                FAILED, result="", reason=f"timed out after {timeout:g} s",
                details=fit(_decode(err), MAX_DATA) or None, seconds=clock() - start,
            )
        if heartbeat is not None and now >= next_beat:
            verdict = heartbeat()
            next_beat = clock() + (every or 0)
            if verdict in (BEAT_CANCEL, BEAT_GONE):
                out, err = _end(proc, grace)
                return TaskResult(
                    CANCELED if verdict == BEAT_CANCEL else GONE,
                    details=fit(_decode(err), MAX_DATA) or None, seconds=clock() - start,
                )
    code = proc.returncode
    seconds = clock() - start
    if code == 0:
        return TaskResult(COMPLETED, result=fit(_decode(out).strip(), MAX_DATA), exit_code=0, seconds=seconds)
    return TaskResult(
        FAILED, result=_decode(out).strip()[-MAX_DATA:], reason=_exit_reason(code),
        details=fit(_decode(err).rstrip(), MAX_DATA) or None, exit_code=code, seconds=seconds,
    )
