"""The id codec (ids.py): parse(make(x)) == x for every step id config.yaml takes, and config.yaml refuses the ids
the codec could not tell apart from the decider's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swfagent.config import load_config
from swfagent.errors import ConfigError
from swfagent.ids import (
    DECIDER_ERROR,
    MAX_STEP_ID,
    PREFIX,
    TimerKind,
    activity_id,
    attempt_of_timer,
    error_timer_id,
    item_step_id,
    more_timer_id,
    parse_activity_id,
    parse_item,
    parse_timer,
    signal_timer_id,
    step_id_problem,
    wait_step_timer_id,
    wait_timer_id,
)
from swfagent.limits import MAX_NAME
from tests.support import demo_config_data, write_config

# what config.yaml takes as a step id: an SWF name (no ':', '/', '|', control characters, edge spaces; not 'arn')
NAME = st.text(st.characters(blacklist_characters=":/|", blacklist_categories=("Cc", "Cs")), min_size=1,
               max_size=MAX_STEP_ID).filter(lambda s: s == s.strip() and s != "arn")
STEP = NAME.filter(lambda s: step_id_problem(s) is None)
ATTEMPT = st.integers(min_value=1, max_value=1000)
WAITS = st.integers(min_value=1, max_value=1000)


@given(STEP, ATTEMPT)
def test_an_activity_id_parses_back(step: str, attempt: int) -> None:
    made = activity_id(step, attempt)
    assert parse_activity_id(made) == (step, attempt)
    assert len(made) <= MAX_NAME
    timer = parse_timer(made)  # the retry timer before an attempt has the attempt's id
    assert (timer.kind, timer.step, timer.attempt) == (TimerKind.RETRY, step, attempt)


@given(STEP, ATTEMPT, WAITS)
def test_a_wait_timer_parses_back(step: str, attempt: int, waits: int) -> None:
    made = wait_timer_id(activity_id(step, attempt), waits)
    timer = parse_timer(made)
    assert (timer.kind, timer.step, timer.attempt, timer.waits) == (TimerKind.WAIT, step, attempt, waits)
    assert attempt_of_timer(made) == activity_id(step, attempt)
    assert len(made) <= MAX_NAME


@given(st.integers(min_value=0, max_value=10**9))
def test_the_decider_s_own_timers_parse_back(event_id: int) -> None:
    assert (parse_timer(error_timer_id(event_id)).kind, parse_timer(error_timer_id(event_id)).event_id) == (
        TimerKind.ERROR, event_id)
    assert (parse_timer(more_timer_id(event_id)).kind, parse_timer(more_timer_id(event_id)).event_id) == (
        TimerKind.MORE, event_id)


@given(NAME)
def test_any_other_id_is_foreign_or_a_step_s(value: str) -> None:
    timer = parse_timer(value)
    if timer.kind is TimerKind.FOREIGN:
        assert parse_activity_id(attempt_of_timer(value)) == (None, 0)
    else:
        assert timer.kind in (TimerKind.RETRY, TimerKind.WAIT, TimerKind.ERROR, TimerKind.MORE)


def test_the_decider_s_own_ids_are_never_a_step_s() -> None:
    for own in (DECIDER_ERROR, error_timer_id(7), more_timer_id(7), f"{PREFIX}x-1"):
        assert parse_activity_id(own) == (None, 0)
    assert parse_timer("Test_Task_A-01").kind is TimerKind.FOREIGN  # not a number the codec writes


@pytest.mark.parametrize("step_id", [f"{PREFIX}error", f"{PREFIX}more", "x" * (MAX_STEP_ID + 1)])
def test_config_refuses_a_step_id_the_codec_cannot_take(step_id: str, tmp_path: Path) -> None:
    data = demo_config_data()
    data["workflow"]["steps"][0]["id"] = step_id
    data["workflow"]["steps"][1]["after"] = [step_id]
    with pytest.raises(ConfigError, match=r"workflow\.steps\[0\]\.id: step id .* give it another id"):
        load_config(write_config(tmp_path / "config.yaml", data))


ITEM = st.integers(min_value=1, max_value=100_000)


@given(STEP, ITEM, ATTEMPT, WAITS)
def test_a_map_items_ids_parse_back(step: str, item: int, attempt: int, waits: int) -> None:
    item_id = item_step_id(step, item)
    assert parse_item(item_id) == (step, item)
    assert parse_activity_id(activity_id(item_id, attempt)) == (item_id, attempt)
    timer = parse_timer(wait_timer_id(activity_id(item_id, attempt), waits))
    assert (timer.kind, timer.step, timer.attempt, timer.waits) == (TimerKind.WAIT, item_id, attempt, waits)
    assert len(wait_timer_id(activity_id(item_id, attempt), waits)) <= MAX_NAME
    assert parse_item(step) is None  # a step's own id is never an item's


@given(STEP)
def test_a_wait_and_a_signal_steps_timers_parse_back(step: str) -> None:
    for made, kind in ((wait_step_timer_id(step), TimerKind.STEP_WAIT), (signal_timer_id(step), TimerKind.SIGNAL)):
        timer = parse_timer(made)
        assert (timer.kind, timer.step) == (kind, step)
        assert parse_activity_id(made) == (None, 0) and len(made) <= MAX_NAME


def test_a_step_id_with_the_items_mark_is_refused() -> None:
    assert step_id_problem("Convert@1") is not None


@given(STEP, ITEM, ATTEMPT)
def test_a_batch_and_its_child_ids_parse_back(step: str, batch: int, attempt: int) -> None:
    from swfagent.ids import CHILD, batch_step_id, child_workflow_id, parse_batch

    batch_id = batch_step_id(step, batch)
    assert parse_batch(batch_id) == (step, batch)
    assert parse_activity_id(activity_id(batch_id, attempt)) == (batch_id, attempt)
    workflow_id = child_workflow_id("p" * 300, activity_id(batch_id, attempt))
    assert len(workflow_id) <= 256 and workflow_id.rpartition(CHILD)[2] == activity_id(batch_id, attempt)


@pytest.mark.parametrize("step_id", ["a#b", "a--b", "-a", "a-"])
def test_a_step_id_with_a_batch_or_child_mark_or_that_would_make_one_is_refused(step_id: str) -> None:
    from swfagent.ids import step_id_problem

    assert step_id_problem(step_id) is not None


@pytest.mark.parametrize("value", ["M@²", "M#²", "M@01", "M#0", "@1", "M@1@2", "M#1#2"])
def test_an_id_that_no_item_or_batch_makes_parses_as_none(value: str) -> None:
    from swfagent.ids import parse_batch

    assert parse_item(value) is None and parse_batch(value) is None
