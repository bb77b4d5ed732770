"""SWF's limits and faults on demand: the --faults spec and the decisions it drives."""

from __future__ import annotations

import pytest

from swfagent.errors import UsageError
from swfagent.local.faults import Faults, Limits, describe_limits, parse_faults


def test_the_defaults_are_swf_quotas() -> None:
    assert parse_faults(None) == parse_faults("") == Limits()
    limits = Limits()
    assert (limits.open_activities, limits.activity_rate, limits.open_timers, limits.open_children, limits.max_request) == (
        1000, 2000, 1000, 1000, 1024 * 1024)
    assert limits.throttle == 0 and limits.max_decisions is None


def test_a_spec_reads_back_as_itself() -> None:
    spec = ("throttle=0.25@PollForActivityTask+RespondActivityTaskCompleted,open-activities=5,activity-rate=3,"
            "open-children=4,seed=9")
    limits = parse_faults(spec)
    assert limits.open_children == 4
    assert limits.throttle == 0.25 and limits.throttle_only == {"PollForActivityTask", "RespondActivityTaskCompleted"}
    assert (limits.open_activities, limits.activity_rate, limits.seed) == (5, 3, 9)
    assert parse_faults(describe_limits(limits)) == limits


@pytest.mark.parametrize("spec, words", [
    ("throttle", "unknown item"), ("slow=1", "unknown item"), ("throttle=lots", "needs a number"),
    ("throttle=2", "between 0 and 1"), ("open-activities=-1", "cannot be negative"),
])
def test_a_bad_spec_is_one_line(spec: str, words: str) -> None:
    with pytest.raises(UsageError, match=words) as info:
        parse_faults(spec)
    assert "\n" not in str(info.value)


def test_throttling_only_what_is_named_and_repeatably() -> None:
    faults = Faults(parse_faults("throttle=0.5@PollForActivityTask,seed=3"))
    assert not any(faults.throttled("RespondActivityTaskCompleted") for _ in range(100))
    first = [faults.throttled("PollForActivityTask") for _ in range(200)]
    again = Faults(parse_faults("throttle=0.5@PollForActivityTask,seed=3"))
    assert first == [again.throttled("PollForActivityTask") for _ in range(200)]
    assert 60 < sum(first) < 140


def test_limits_and_rates_per_second() -> None:
    faults = Faults(parse_faults("open-activities=2,activity-rate=2,open-timers=1,timer-rate=1"))
    assert faults.schedule_refused(2, "T", 100.0) == "OPEN_ACTIVITIES_LIMIT_EXCEEDED"
    assert [faults.schedule_refused(0, "T", 100.1) for _ in range(3)] == [None, None, "ACTIVITY_CREATION_RATE_EXCEEDED"]
    assert faults.schedule_refused(0, "other list", 100.2) is None  # per task list
    assert faults.schedule_refused(0, "T", 101.0) is None  # a new second
    assert faults.timer_refused(1, "run", 5.0) == "OPEN_TIMERS_LIMIT_EXCEEDED"
    assert [faults.timer_refused(0, "run", 5.0) for _ in range(2)] == [None, "TIMER_CREATION_RATE_EXCEEDED"]


def test_errors_on_demand_are_internal_failures_of_the_operations_named() -> None:
    limits = parse_faults("errors=1@RespondActivityTaskCompleted")
    faults = Faults(limits)
    assert faults.failed("RespondActivityTaskCompleted") and not faults.failed("PollForActivityTask")
    assert not faults.throttled("RespondActivityTaskCompleted")
    assert describe_limits(limits) == "errors=1.0@RespondActivityTaskCompleted"
