"""The poll loop and retrying, with no waiting: sleeps, clocks and dice are injected in a Timing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from botocore.exceptions import ClientError

from swfagent.client import error_code, is_transient
from swfagent.poller import LoopOptions, Mode, Poll, Stop, run_loop
from swfagent.retrying import Backoff, Timing, doubling, jittered, retry

T = TypeVar("T")
H, E, D = Poll.HANDLED, Poll.EMPTY, Poll.DROPPED


def _throttled(code: str = "ThrottlingException") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "slow down"}}, "RespondActivityTaskCompleted")


def _scripted(results: list[object], stop: Any) -> Any:
    """A poll that raises each exception of `results` in turn, then handles a task and asks the loop to stop."""

    def poll() -> Poll:
        r = results.pop(0)
        if isinstance(r, Exception):
            raise r
        stop.request()
        return H

    return poll


def test_backoff_doubles_and_caps() -> None:
    assert [jittered(n, base=1, cap=10) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert jittered(1, base=1, cap=10, jitter=0.5) == 1.25
    assert [Backoff(base=1, cap=10).delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert Backoff(base=1, cap=10).delay(5, jitter=0.99) == 10  # at the cap: no jitter
    assert [doubling(n, 5, 300) for n in (0, 1, 2, 7, 1000)] == [5, 5, 10, 300, 300]


def test_a_timing_jitters_with_its_own_dice() -> None:
    assert Timing(rand=lambda: 0.5).delay(2, Backoff(base=1, cap=10)) == 2.5


def _retry(call: Callable[[], T], timing: Timing) -> T:
    """retry() as the reports call it, until 100 on the timing's clock."""
    return retry(call, "x", until=100.0, on=is_transient, code=error_code, timing=timing)


def test_retry_retries_then_succeeds() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def call() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _throttled()
        return "done"

    assert _retry(call, Timing(sleep=sleeps.append, clock=lambda: 0.0, rand=lambda: 0)) == "done"
    assert sleeps == [1, 2]


def test_retry_does_not_retry_other_errors() -> None:
    err = ClientError({"Error": {"Code": "UnknownResourceFault", "Message": "gone"}}, "RespondActivityTaskCompleted")
    calls = []

    def call() -> None:
        calls.append(1)
        raise err

    with pytest.raises(ClientError):
        _retry(call, Timing(sleep=lambda s: None, clock=lambda: 0.0))
    assert calls == [1]


class FakeStop(Stop):
    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)


def test_once_waits_for_one_task() -> None:
    answers = iter([E, E, H, H])
    ticks = Timing(clock=iter(range(0, 100, 1)).__next__)
    assert run_loop(lambda: next(answers), LoopOptions(Mode.ONCE), FakeStop(), timing=ticks) == 1


def test_until_idle_stops_at_the_first_empty_poll() -> None:
    answers = iter([H, H, E, H])
    assert run_loop(lambda: next(answers), LoopOptions(Mode.UNTIL_IDLE), FakeStop()) == 2


def test_max_tasks_bounds_a_loop() -> None:
    assert run_loop(lambda: H, LoopOptions(Mode.LOOP, max_tasks=3), FakeStop()) == 3


def test_stop_request_ends_the_loop_after_the_task() -> None:
    stop = FakeStop()

    def handle() -> Poll:
        stop.request()
        return H

    assert run_loop(handle, LoopOptions(Mode.LOOP), stop) == 1


def test_fast_empty_polls_back_off_instead_of_spinning() -> None:
    stop = FakeStop()
    answers = iter([E] * 5)

    def poll() -> Poll:
        try:
            return next(answers)
        except StopIteration:
            stop.request()
            return E

    run_loop(poll, LoopOptions(Mode.LOOP), stop, timing=Timing(clock=lambda: 0.0, rand=lambda: 0))
    assert stop.waits[:4] == [0.5, 1.0, 2.0, 4.0]


def test_the_loop_survives_an_error_and_backs_off() -> None:
    stop = FakeStop()
    results: list[object] = [RuntimeError("boom"), H]
    poll = _scripted(results, stop)

    assert run_loop(poll, LoopOptions(Mode.LOOP), stop, timing=Timing(rand=lambda: 0)) == 1
    assert stop.waits == [1.0]


def _denied() -> ClientError:
    return ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "PollForActivityTask")


@pytest.mark.parametrize("mode", [Mode.ONCE, Mode.UNTIL_IDLE])
def test_a_lasting_error_ends_a_single_or_cron_run(mode: Mode) -> None:
    def poll() -> Poll:
        raise _denied()

    with pytest.raises(ClientError):
        run_loop(poll, LoopOptions(mode), FakeStop(), timing=Timing(rand=lambda: 0))


def test_a_service_outlives_lasting_errors_and_a_cron_run_outlives_a_task_error() -> None:
    from swfagent.errors import TaskError

    for mode, error in ((Mode.LOOP, _denied()), (Mode.UNTIL_IDLE, TaskError("workflow w: boom"))):
        stop = FakeStop()
        results: list[object] = [error, H]

        def poll(results: list[object] = results, stop: FakeStop = stop) -> Poll:
            r = results.pop(0)
            if isinstance(r, Exception):
                raise r
            stop.request()
            return H

        assert run_loop(poll, LoopOptions(mode), stop, timing=Timing(rand=lambda: 0)) == 1


def test_poll_threads_share_max_tasks() -> None:
    import threading

    from swfagent.poller import run_threads

    handled: list[str] = []
    lock = threading.Lock()

    def poll() -> Poll:
        with lock:
            handled.append(threading.current_thread().name)
        return H

    assert run_threads(poll, LoopOptions(Mode.LOOP, max_tasks=7), Stop(), threads=3) == 7
    assert len(handled) == 7


def test_one_empty_poll_ends_an_until_idle_run_for_every_thread() -> None:
    from swfagent.poller import run_threads

    answers = iter([H, H, H, E] + [H] * 100)
    assert run_threads(lambda: next(answers), LoopOptions(Mode.UNTIL_IDLE), Stop(), threads=2) <= 4


def test_a_single_run_takes_one_task_whatever_the_threads() -> None:
    from swfagent.poller import run_threads

    assert run_threads(lambda: H, LoopOptions(Mode.ONCE), Stop(), threads=4) == 1


def test_a_lasting_error_in_a_thread_ends_the_run() -> None:
    from swfagent.poller import run_threads

    def poll() -> Poll:
        raise _denied()

    with pytest.raises(ClientError):
        run_threads(poll, LoopOptions(Mode.UNTIL_IDLE), Stop(), threads=3)


def test_retry_goes_on_until_the_deadline_and_no_further() -> None:
    now = [0.0]
    calls = []

    def call() -> None:
        calls.append(now[0])
        raise _throttled()

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(ClientError):
        _retry(call, Timing(sleep=sleep, clock=lambda: now[0], rand=lambda: 0))
    assert len(calls) > 6 and calls[-1] <= 100.0  # as many attempts as fit, none past the deadline


@pytest.mark.parametrize("mode", [Mode.ONCE, Mode.UNTIL_IDLE])
def test_a_single_or_cron_run_gives_up_when_swf_stays_out_of_reach(mode: Mode) -> None:
    from swfagent.poller import GIVE_UP_AFTER

    calls = []

    def poll() -> Poll:
        calls.append(1)
        raise _throttled()

    with pytest.raises(ClientError):
        run_loop(poll, LoopOptions(mode), FakeStop(), timing=Timing(rand=lambda: 0))
    assert len(calls) == GIVE_UP_AFTER


@pytest.mark.parametrize("mode", [Mode.ONCE, Mode.UNTIL_IDLE, Mode.LOOP])
def test_a_dropped_task_goes_on_in_every_mode(mode: Mode) -> None:
    answers = iter([D, D, H])
    assert run_loop(lambda: next(answers), LoopOptions(mode, max_tasks=1), FakeStop()) == 1


def test_limit_exceeded_is_transient() -> None:
    calls = []

    def call() -> str:
        calls.append(1)
        if len(calls) < 2:
            raise _throttled("LimitExceededException")
        return "ok"

    assert _retry(call, Timing(sleep=lambda s: None, clock=lambda: 0.0, rand=lambda: 0)) == "ok"


def test_retry_logs_each_retry_with_the_code_only(capsys: pytest.CaptureFixture[str]) -> None:
    from swfagent.logs import setup_logging

    setup_logging()
    answers: list[object] = [ClientError({"Error": {"Code": "ThrottlingException", "Message": "token tok-123"}},
                                         "RespondActivityTaskCompleted"), "ok"]

    def call() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert retry(call, "workflow wf: reporting A-1", until=100.0, on=is_transient, code=error_code,
                 timing=Timing(sleep=lambda s: None, clock=lambda: 0.0, rand=lambda: 0)) == "ok"
    err = capsys.readouterr().err
    assert "workflow wf: reporting A-1: ThrottlingException; retrying in 1.0 s" in err
    assert "tok-123" not in err


def test_the_loop_pauses_after_errors_as_a_report_retries() -> None:
    stop = FakeStop()
    results: list[object] = [RuntimeError("1"), RuntimeError("2"), RuntimeError("3"), H]
    poll = _scripted(results, stop)

    assert run_loop(poll, LoopOptions(Mode.LOOP), stop, timing=Timing(rand=lambda: 0.5)) == 1
    assert stop.waits == [1.25, 2.5, 5.0]


class _Lists:
    """A role with two task lists, what each has queued, and the polls it was asked for."""

    label = "a decision task"

    def __init__(self, queued: dict[str, int]):
        self.queued = queued
        self.polled: list[str] = []

    def task_lists(self, config: Any) -> tuple[str, ...]:
        return tuple(self.queued)

    def count_pending(self, config: Any, task_list: str) -> int:
        return self.queued[task_list]

    def poll(self, config: Any, task_list: str) -> Any:
        self.polled.append(task_list)
        return None

    def handle(self, config: Any, task: Any) -> Poll:
        return H


def _poller(role: _Lists, mode: Mode, task_list: str | None = None) -> Any:
    from swfagent.pollers import Poller, PollerOptions

    class Live:
        config = None

        def current(self) -> None:
            return None

    return Poller(role, Live(), PollerOptions(LoopOptions(mode=mode), task_list), notice=60)  # type: ignore[arg-type]


def test_a_poller_of_several_task_lists_polls_one_with_a_task_queued_or_each_in_turn() -> None:
    role = _Lists({"First": 0, "Second": 1})
    poller = _poller(role, Mode.ONCE)
    assert poller.once() is E and role.polled == ["Second"]  # the one with a task queued
    role.queued["Second"] = 0
    for _ in range(3):
        poller.once()
    assert role.polled == ["Second", "First", "Second", "First"]  # none queued: each in turn
    idle = _poller(role, Mode.UNTIL_IDLE)
    assert idle.once() is E and len(role.polled) == 4  # a cron run polls none when none has a task queued
    role.queued["First"] = 2
    idle.once()
    assert role.polled[-1] == "First"
    one = _poller(role, Mode.ONCE, task_list="Second")  # --task-list: that one only
    one.once()
    assert role.polled[-1] == "Second" and one.task_lists(None) == ("Second",)
