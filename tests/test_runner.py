"""run_task: a subprocess from an argv list, input on stdin, heartbeats, deadlines, limits."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swfagent.limits import cut as fit
from swfagent.runner import run_task
from swfagent.status import Beat, TaskOutcome
from tests.support import HELPERS, ROOT

COMPLETED, FAILED, CANCELED, GONE = TaskOutcome.COMPLETED, TaskOutcome.FAILED, TaskOutcome.CANCELED, TaskOutcome.GONE

PY = sys.executable


def test_stdout_is_the_result_and_input_goes_to_stdin() -> None:
    r = run_task([PY, "-c", "import sys; print(sys.stdin.read().upper())"], "hello\n")
    assert (r.outcome, r.result, r.exit_code) == (COMPLETED, "HELLO", 0)


def test_non_zero_exit_is_a_failure_with_the_stderr_tail() -> None:
    r = run_task([PY, "-c", "import sys; print('x' * 50000, file=sys.stderr); sys.exit(3)"], None)
    assert (r.outcome, r.reason) == (FAILED, "exit code 3")
    assert r.details is not None and len(r.details) <= 32_768 and r.details.endswith("x" * 100)


def test_input_is_never_interpreted_by_a_shell(tmp_path: Path) -> None:
    evil = f"$(touch {tmp_path}/a); touch {tmp_path}/b `touch {tmp_path}/c`"
    r = run_task([PY, "-c", "import sys; sys.stdout.write(sys.stdin.read())"], evil)
    assert r.result == evil and not list(tmp_path.iterdir())


def test_missing_or_not_executable_commands_fail_cleanly(tmp_path: Path) -> None:
    assert run_task(["/no/such/program"], None).reason == "command not found: /no/such/program"
    script = tmp_path / "noexec.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    r = run_task([str(script)], None)
    assert r.outcome == FAILED and r.reason is not None and r.reason.startswith("permission denied")


def test_invalid_utf8_output_is_decoded_with_replacement() -> None:
    r = run_task([PY, "-c", "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe')"], None)
    assert r.outcome == COMPLETED and r.result == "ok \ufffd\ufffd"


def test_the_deadline_kills_the_process_group() -> None:
    started = time.monotonic()
    r = run_task([PY, "-c", "import subprocess, time; subprocess.Popen(['sleep', '30']); time.sleep(30)"], None,
                 timeout=1)
    assert r.outcome == FAILED and r.reason == "timed out after 1 s"
    assert time.monotonic() - started < 10


def test_heartbeats_while_running_and_cancel_ends_the_task() -> None:
    beats: list[float] = []

    def beat() -> str:
        beats.append(time.monotonic())
        return Beat.CANCEL if len(beats) >= 3 else Beat.OK

    r = run_task([PY, "-c", "import time; time.sleep(30)"], None, heartbeat=beat, heartbeat_every=0.2, grace=1)
    assert r.outcome == CANCELED and len(beats) == 3


def test_a_gone_task_is_ended_and_not_reported() -> None:
    r = run_task([PY, "-c", "import time; time.sleep(30)"], None, heartbeat=lambda: Beat.GONE, heartbeat_every=0.1)
    assert r.outcome == GONE


def test_no_heartbeat_for_a_quick_task() -> None:
    beats: list[int] = []
    r = run_task([PY, "-c", "print(1)"], None, heartbeat=lambda: beats.append(1) or Beat.OK, heartbeat_every=5)
    assert r.outcome == COMPLETED and beats == []


def test_fit_keeps_the_end_with_a_marker() -> None:
    text = "a" * 50_000 + "THE END"
    cut = fit(text, 32_768)
    assert len(cut) <= 32_768 and cut.endswith("THE END") and cut.startswith("[... ")
    assert fit("short", 10) == "short"


def test_output_goes_to_files_and_only_what_swf_takes_is_read_back(tmp_path: Path) -> None:
    r = run_task([PY, "-c", "import sys; sys.stdout.write('y' * 5_000_000)"], None, spool=tmp_path)
    assert (r.outcome, r.result, r.oversize) == (COMPLETED, "", "5000000 bytes")  # never cut: too large, said so
    assert r.output == tmp_path / "stdout" and r.output.stat().st_size == 5_000_000  # whole, for S3


def test_a_result_just_over_the_limit_is_counted_in_characters() -> None:
    r = run_task([PY, "-c", "print('é' * 32_769)"], None)  # 65,538 bytes: read and counted
    assert (r.outcome, r.oversize) == (COMPLETED, "32769 characters")
    assert run_task([PY, "-c", "print('é' * 32_768)"], None).result == "é" * 32_768


def test_the_tail_of_a_huge_stderr_says_how_large_it_was() -> None:
    r = run_task([PY, "-c", "import sys; sys.stderr.write('e' * 1_000_000); sys.exit(1)"], None)
    assert r.details is not None and r.details.startswith("[... ") and r.details.endswith("e" * 1000)
    assert len(r.details) <= 32_768


# ---- a task's daemons go with it ---------------------------------------------------------------------

# Run in a process of its own, which becomes the subreaper as a worker does: the test's own process must not.
SUBREAPED = """
import sys, threading, time
from pathlib import Path
from swfagent.runner import RunningTasks, become_subreaper, run_task
from swfagent.status import Beat

assert become_subreaper()
mode, pidfile = sys.argv[1], Path(sys.argv[2])
argv = [sys.executable, sys.argv[3], str(pidfile), "60"]
if mode == "timeout":
    outcome = run_task(argv, None, timeout=1.5, grace=1).outcome
elif mode == "cancel":
    outcome = run_task(argv, None, heartbeat=lambda: Beat.CANCEL if pidfile.exists() else Beat.OK,
                       heartbeat_every=0.2, grace=1).outcome
else:  # the worker's second signal
    running = RunningTasks()
    threading.Thread(target=lambda: (time.sleep(1.5), running.kill_all()), daemon=True).start()
    outcome = run_task(argv, None, running=running, grace=1).outcome
print(outcome.name, flush=True)
sys.stdin.read()  # the test looks at the daemon while this process lives on
"""


def _alive(pid: int) -> bool:
    """The process runs (a zombie has run its course)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a child subreaper is Linux's")
@pytest.mark.parametrize("mode, outcome", [("timeout", "FAILED"), ("cancel", "CANCELED"), ("second-signal", None)])
def test_a_tasks_daemon_is_stopped_with_it(tmp_path: Path, mode: str, outcome: str | None) -> None:
    pidfile = tmp_path / "daemon.pid"
    proc = subprocess.Popen([PY, "-c", SUBREAPED, mode, str(pidfile), str(HELPERS / "daemonize.py")], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()  # type: ignore[union-attr]
        daemon = int(pidfile.read_text())
        assert outcome is None or line == outcome
        assert not _alive(daemon) and not Path(f"/proc/{daemon}").exists()  # killed, and reaped by the subreaper
    finally:
        proc.stdin.close()  # type: ignore[union-attr]
        proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, ValueError, FileNotFoundError):
            os.kill(int(pidfile.read_text()), signal.SIGKILL)


def test_a_daemon_of_a_task_that_completed_is_left_running_and_reaped_once_it_exits(tmp_path: Path) -> None:
    script = (
        "import sys, os, time; from pathlib import Path; from swfagent import runner\n"
        "assert runner.become_subreaper()\n"
        "code = 'import os, sys, time\\nif os.fork() == 0:\\n os.setsid()\\n if os.fork() == 0:\\n  time.sleep(1.5); os._exit(0)\\n os._exit(0)\\nos.wait(); print(\"ok\")'\n"
        "assert runner.run_task([sys.executable, '-c', code], None).result == 'ok'\n"
        "adopted = [p for p, (s, parent) in runner._processes().items() if parent == os.getpid()]\n"
        "assert len(adopted) == 1, adopted  # the daemon lives on, this process's child now\n"
        "time.sleep(2)\n"
        "runner.run_task([sys.executable, '-c', 'pass'], None)  # each task's end reaps the adopted that exited\n"
        "assert not [p for p, (s, parent) in runner._processes().items() if parent == os.getpid()]\n"
        "print('reaped')\n")
    done = subprocess.run([PY, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == "reaped", done.stderr


ZOMBIES = """
import os, sys
from swfagent.runner import become_subreaper, run_task
assert become_subreaper()
for _ in range(3):  # a job started in the background that ends while its task still runs
    run_task(["sh", "-c", "(sleep 0.2 &); sleep 0.6"], None)
me = str(os.getpid())
zombies = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    state, parent = stat[stat.rfind(")") + 2:].split()[:2]
    if parent == me and state == "Z":
        zombies.append(pid)
print(len(zombies))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a child subreaper is Linux's")
def test_a_daemon_that_dies_while_its_task_runs_is_reaped() -> None:
    done = subprocess.run([PY, "-c", ZOMBIES], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"  # no zombie children pile up in a long-running worker
