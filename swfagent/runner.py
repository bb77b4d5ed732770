"""run_task(argv, input, ...) -> TaskResult: one task as a supervised subprocess.

The command runs from its argv list (never a shell) in a process group of its own; its input goes
to stdin; it is heartbeaten while it runs, killed at its deadline, and ended when SWF cancels it.
Its stdin, stdout and stderr are files in a spool folder, never pipes held in memory: a task may
print gigabytes, and the worker reads back only what SWF can take (or streams it to S3).

A task's descendants that leave its process group (a daemon: double fork and setsid) are found by a
mark in their environment, and stopped with the task when it times out, is canceled or the worker is
stopped at once. On Linux the worker is their child subreaper, so that they stay its descendants.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
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
TASK_MARK = "SWFAGENT_TASK"  # in each task's environment: its descendants inherit it
PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
_subreaper = False  # this process is its descendants' subreaper: it reaps the orphans that come to it


def become_subreaper() -> bool:
    """Make this process the child subreaper of its descendants (Linux): an orphan is re-parented to it, not to init.

    So a task's daemonized descendants stay this process's descendants, where stop_descendants finds them.
    False where the system has no such thing.
    """
    global _subreaper
    os.environ.pop(TASK_MARK, None)  # a worker run as a task: its own children must not carry its task's mark
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _subreaper = bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        _subreaper = False
    return _subreaper


def _processes() -> dict[int, tuple[bytes, int]]:
    """Every process's state and parent, from /proc (empty where there is no /proc)."""
    found: dict[int, tuple[bytes, int]] = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    stat = Path(entry.path, "stat").read_bytes()
                except OSError:  # gone meanwhile
                    continue
                fields = stat[stat.rfind(b")") + 2:].split()  # after "pid (comm) ": state, ppid, ...
                if len(fields) > 1:
                    found[int(entry.name)] = (fields[0], int(fields[1]))
    return found


def _environ(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return []


# Task processes subprocess.Popen waits for, and the descendants of finished tasks re-parented to this process.
_own: set[int] = set()
_adopted: set[int] = set()
_own_lock = threading.Lock()


def reap_adopted() -> None:
    """Reap the daemons of earlier tasks that were re-parented to this process (its subreaper) and have exited."""
    me = os.getpid()
    with _own_lock:
        procs = _processes()
        for pid, (state, parent) in procs.items():
            if parent != me or pid in _own:
                continue
            # a zombie's environment reads empty: one re-parented here that died while its task ran is reaped too
            if state == b"Z" or any(v.startswith(TASK_MARK.encode() + b"=") for v in _environ(pid)):
                _adopted.add(pid)
        for pid in list(_adopted):
            if pid in procs and procs[pid][0] != b"Z":
                continue
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == 0:
                    continue
            except ChildProcessError:
                pass
            _adopted.discard(pid)


def marked_descendants(mark: str) -> list[int]:
    """This process's living descendants whose environment holds the task's mark."""
    children: dict[int, list[int]] = {}
    for pid, (state, parent) in _processes().items():
        if state != b"Z":  # a zombie has run its course
            children.setdefault(parent, []).append(pid)
    wanted = f"{TASK_MARK}={mark}".encode()
    found, todo = [], list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        if wanted in _environ(pid):
            found.append(pid)
    return found


def stop_descendants(mark: str, keep: set[int] | frozenset[int] = frozenset()) -> None:
    """Kill what is left of a task outside its process group; reap those re-parented to this process.

    `keep`: pids that subprocess.Popen waits for itself (reaping them here would lose their exit code).
    """
    for _ in range(5):  # a daemon may fork again while it is being killed
        pids = marked_descendants(mark)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 2
        waiting = [pid for pid in pids if pid not in keep and pid not in _own]
        while waiting and time.monotonic() < deadline:
            for pid in list(waiting):
                try:
                    if os.waitpid(pid, os.WNOHANG)[0] == 0:
                        continue
                except ChildProcessError:  # not this process's child: its parent reaps it
                    pass
                waiting.remove(pid)
            if waiting:
                time.sleep(0.01)


class RunningTasks:
    """The task processes under way, for the entry point's second signal to kill at once."""

    def __init__(self) -> None:
        self._procs: dict[subprocess.Popen[bytes], str] = {}
        self._lock = threading.RLock()  # the second-signal handler may run while its own thread holds it

    def add(self, proc: subprocess.Popen[bytes], mark: str = "") -> None:
        with self._lock:
            self._procs[proc] = mark

    def discard(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.pop(proc, None)

    def kill_all(self) -> None:
        """Kill every task's process group now, and its descendants that left the group."""
        with self._lock:
            procs = dict(self._procs)
        for proc in procs:
            kill_group(proc)
        keep = {proc.pid for proc in procs}
        for mark in filter(None, procs.values()):
            stop_descendants(mark, keep)


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
        mark = secrets.token_hex(16)
        start = clock()
        proc = _spawn(argv, stdin, out, err, cwd, {**(os.environ if env is None else env), TASK_MARK: mark})
        if isinstance(proc, TaskResult):
            return proc
        running = running or RunningTasks()
        running.add(proc, mark)
        try:
            ended = _supervise(proc, start, timeout, heartbeat, heartbeat_every, grace, clock)
        finally:
            running.discard(proc)
        if ended is not None:  # timed out, canceled, given up: what it started goes with it
            stop_descendants(mark, {proc.pid})
        proc.poll()
        with _own_lock:  # waited for, or left to reap_adopted once it exits
            _own.discard(proc.pid)
        if _subreaper:
            reap_adopted()
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


def _spawn(argv: list[str], stdin: Path, out: Path, err: Path, cwd: Path | str | None,
           env: Mapping[str, str]) -> subprocess.Popen[bytes] | TaskResult:
    """The task's process, in a session of its own and known to reap_adopted; or why it could not start."""
    try:
        with stdin.open("rb") as fin, out.open("wb") as fout, err.open("wb") as ferr, _own_lock:
            proc = subprocess.Popen(argv, stdin=fin, stdout=fout, stderr=ferr, cwd=cwd, env=env, start_new_session=True)
            _own.add(proc.pid)
        return proc
    except FileNotFoundError:
        if cwd is not None and not Path(cwd).is_dir():
            return TaskResult(TaskOutcome.FAILED, reason=shorten(f"working directory not found: {cwd}", MAX_REASON))
        return TaskResult(TaskOutcome.FAILED, reason=shorten(f"command not found: {argv[0]}", MAX_REASON))
    except PermissionError:
        return TaskResult(TaskOutcome.FAILED, reason=shorten(f"permission denied: {argv[0]} (is it executable?)", MAX_REASON))
    except OSError as exc:
        return TaskResult(TaskOutcome.FAILED, reason=shorten(f"cannot run {argv[0]}: {exc.strerror or exc}", MAX_REASON))


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
