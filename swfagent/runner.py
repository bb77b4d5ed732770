"""run_task(argv, input, ...) -> TaskResult: one task as a supervised subprocess.

The command runs from its argv list (never a shell) in a process group of its own; its input goes
to stdin; it is heartbeaten while it runs, killed at its deadline, and ended when SWF cancels it.
Its stdin, stdout and stderr are files in a spool folder, never pipes held in memory: a task may
print gigabytes, and the worker reads back only what SWF can take (or streams it to S3).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .limits import MAX_DATA, MAX_REASON, cut, shorten
from .status import Beat, TaskOutcome

UTF8_MAX = 4  # bytes a character takes at most: a file this many times MAX_DATA is over it, whatever it holds


class RunningTasks:
    """The task processes under way, for the entry point's second signal to kill at once."""

    def __init__(self) -> None:
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.RLock()  # the second-signal handler may run while its own thread holds it

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.add(proc)

    def discard(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.discard(proc)

    def kill_all(self) -> None:
        """Kill every task's process group now."""
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            kill_group(proc)


@dataclass(frozen=True)
class TaskResult:
    """How a task ended, in the form SWF takes it."""

    outcome: TaskOutcome
    result: str = ""
    reason: str | None = None
    details: str | None = None
    exit_code: int | None = None
    seconds: float = 0.0
    oversize: str | None = None  # COMPLETED, but its output is this large ("40000 characters"), over SWF's limit
    output: Path | None = None  # the file holding the whole output, while the spool folder lasts


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


def _end(proc: subprocess.Popen[bytes], grace: float) -> None:
    """TERM the group, KILL it after `grace` seconds."""
    kill_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def tail(path: Path, limit: int = MAX_DATA) -> str | None:
    """The end of a file as text, at most `limit` characters, with a marker where it was cut; None if empty."""
    size = path.stat().st_size
    if size == 0:
        return None
    with path.open("rb") as f:
        f.seek(max(0, size - limit * UTF8_MAX))
        text = f.read().decode("utf-8", errors="replace").rstrip()
    if size > limit * UTF8_MAX:
        text = f"[... {size} bytes in all, the end follows ...]\n" + text
    return cut(text, limit) or None


def read_result(path: Path) -> tuple[str | None, str]:
    """A task's output, stripped, if it fits SWF's limit; else None; and its size, in characters (bytes when huge)."""
    size = path.stat().st_size
    if size > MAX_DATA * UTF8_MAX:
        return None, f"{size} bytes"
    text = path.read_bytes().decode("utf-8", errors="replace").strip()
    return (text if len(text) <= MAX_DATA else None), f"{len(text)} characters"


@contextlib.contextmanager
def spool_folder(spool: Path | None) -> Iterator[Path]:
    """The folder for the task's stdin, stdout and stderr: the caller's, or a temporary one."""
    if spool is not None:
        yield spool
        return
    with tempfile.TemporaryDirectory(prefix="swfagent-task-") as tmp:
        yield Path(tmp)


def run_task(
    argv: list[str],
    input: str | Path | None,
    *,
    spool: Path | None = None,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    heartbeat: Callable[[], Beat] | None = None,
    heartbeat_every: float | None = None,
    grace: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
    running: RunningTasks | None = None,
) -> TaskResult:
    """Run argv with `input` (text, or a file) on stdin; its stdout (stripped) is the result, a non-zero exit a failure.

    With `spool`, the output file stays there for the caller (an oversize result it may put in S3).
    """
    with spool_folder(spool) as folder:
        stdin = input if isinstance(input, Path) else folder / "stdin"
        if not isinstance(input, Path):
            stdin.write_bytes((input or "").encode("utf-8", errors="replace"))
        out, err = folder / "stdout", folder / "stderr"
        start = clock()
        try:
            with stdin.open("rb") as fin, out.open("wb") as fout, err.open("wb") as ferr:
                proc = subprocess.Popen(argv, stdin=fin, stdout=fout, stderr=ferr, cwd=cwd,
                                        env=dict(env) if env is not None else None, start_new_session=True)
        except FileNotFoundError:
            if cwd is not None and not Path(cwd).is_dir():
                return TaskResult(TaskOutcome.FAILED, reason=shorten(f"working directory not found: {cwd}", MAX_REASON))
            return TaskResult(TaskOutcome.FAILED, reason=shorten(f"command not found: {argv[0]}", MAX_REASON))
        except PermissionError:
            return TaskResult(TaskOutcome.FAILED, reason=shorten(f"permission denied: {argv[0]} (is it executable?)", MAX_REASON))
        except OSError as exc:
            return TaskResult(TaskOutcome.FAILED, reason=shorten(f"cannot run {argv[0]}: {exc.strerror or exc}", MAX_REASON))
        running = running or RunningTasks()
        running.add(proc)
        try:
            ended = _supervise(proc, start, timeout, heartbeat, heartbeat_every, grace, clock)
        finally:
            running.discard(proc)
        seconds = clock() - start
        details = tail(err)
        if ended is not None:
            return TaskResult(ended, reason=f"timed out after {timeout:g} s" if ended == TaskOutcome.FAILED else None,
                              details=details, seconds=seconds)
        code = proc.returncode
        if code != 0:
            return TaskResult(TaskOutcome.FAILED, reason=_exit_reason(code), details=details, exit_code=code, seconds=seconds)
        result, size = read_result(out)
        if result is None:
            return TaskResult(TaskOutcome.COMPLETED, exit_code=0, seconds=seconds, oversize=size,
                              output=out if spool is not None else None)
        return TaskResult(TaskOutcome.COMPLETED, result=result, exit_code=0, seconds=seconds)


def _supervise(
    proc: subprocess.Popen[bytes],
    start: float,
    timeout: float,
    heartbeat: Callable[[], Beat] | None,
    every: float | None,
    grace: float,
    clock: Callable[[], float],
) -> TaskOutcome | None:
    """Wait for the task, heartbeating; None when it exited by itself, else how it was ended."""
    deadline = start + timeout
    next_beat = start + every if heartbeat and every else float("inf")
    while True:
        try:
            proc.wait(timeout=max(min(deadline, next_beat) - clock(), 0.01))
            return None
        except subprocess.TimeoutExpired:
            pass
        now = clock()
        if now >= deadline:
            kill_group(proc)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=grace)
            return TaskOutcome.FAILED
        if heartbeat is not None and now >= next_beat:
            verdict = heartbeat()
            next_beat = clock() + (every or 0)
            if verdict is not Beat.OK:
                _end(proc, grace)
                return TaskOutcome.CANCELED if verdict is Beat.CANCEL else TaskOutcome.GONE
