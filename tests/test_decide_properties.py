"""Property-based: random flow charts, random histories SWF could produce; decide's rules always hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from swfagent.config import Config, parse_config
from swfagent.decide import MAX_WAITS, after_error, decide, lasts
from swfagent.history import ExecutionState
from swfagent.ids import parse_activity_id
from swfagent.status import ActivityStatus, Lasts
from tests.flows import ARTICLE, config_from, retrying
from tests.histories import SENT, History, model_causes


def parent_and_child(steps: list[dict[str, Any]], **parent: Any) -> Config:
    """A config of two workflows: Parent with these steps (activities named as their steps), and Sub."""
    names = {s.get("activity") for s in steps} - {None}
    data = {"domain": {"name": "D"},
            "workflows": {"Parent": {"version": "1.0", "task_list": "T", "steps": steps, **parent},
                          "Sub": {"version": "1.0", "task_list": "T", "steps": [{"activity": "C"}]}},
            "activities": {n: {"version": "1.0", "command": ["true"]} for n in sorted(names | {"C"})}}
    return parse_config(data, Path("/tmp/config.yaml"))


PARENT = parent_and_child([{"id": "Run", "workflow": "Sub"}])
REPEATING = config_from([{"activity": "Test_Task_A"}, {"activity": "Test_Task_B", "after": ["Test_Task_A"]}],
                        repeat={"every": 60})


CAUSES_IN_MODEL = model_causes()


@st.composite
def child_charts(draw: Any) -> Config:
    """Random charts where some steps run the workflow Sub as a child, with retries."""
    steps: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 5))):
        after = draw(st.lists(st.sampled_from([f"S{j}" for j in range(i)]), unique=True, max_size=2)) if i else []
        if draw(st.booleans()):
            steps.append({"id": f"S{i}", "workflow": "Sub", "after": after, "retries": draw(st.integers(0, 2)),
                          "retry_delay": draw(st.sampled_from([0, 5]))})
        else:
            steps.append({"id": f"S{i}", "activity": f"S{i}", "after": after})
    return parent_and_child(steps)


@given(config=child_charts(), data=st.data())
def test_parent_and_child_charts_keep_the_rules(config: Config, data: Any) -> None:
    """A child is started once per attempt, after its after steps; the parent completes only with every step done."""
    h = History(input="go")
    for _ in range(60):
        state = h.state()
        answer = decide(config.workflow, state)
        for d in answer.decisions:
            if d.type.value == "StartChildWorkflowExecution":
                step, _ = parse_activity_id(d.get("control"))
                assert d.get("control") not in state.children, "a child started twice"
                assert all((a := state.by_step.get(dep)) is not None and a.status == ActivityStatus.COMPLETED
                           for dep in config.workflow.step(str(step)).after), "a child before its after steps"
            if d.type.value == "CompleteWorkflowExecution":
                assert not any(c.status.open for c in state.children.values()), "completed with a child open"
                assert all(a.status == ActivityStatus.COMPLETED for a in state.by_step.values())
        if answer.closing is not None or any(d.type.closes for d in answer.decisions):
            return
        h.decision()
        for d in answer.decisions:
            if d.type.value == "StartChildWorkflowExecution" and data.draw(st.integers(0, 5)) == 0:
                h.refuse(d, data.draw(st.sampled_from(CAUSES_IN_MODEL["StartChildWorkflowExecution"])))
            else:
                h.apply(d)
        state = h.state()
        moves = [("child", c) for c in state.children.values() if c.status.open]
        moves += [("act", a) for a in state.activities.values() if a.status.open]
        moves += [("timer", t) for t in state.timers.values() if not t.fired]
        if not moves:
            assert answer.decisions or answer.refused is not None, "stuck: nothing decided, nothing open"
            continue
        kind, target = data.draw(st.sampled_from(moves))
        if kind == "timer":
            h.fire(target.timer_id)
        elif kind == "act":
            h.complete(target.step_id, "a", target.attempt)
        else:
            how = data.draw(st.sampled_from(["Completed", "Completed", "Failed", "TimedOut", "Canceled", "Terminated"]))
            h.child_closed(how, target.step_id, target.attempt, **({"result": "r"} if how == "Completed" else {}))
    raise AssertionError("no end after 60 decision tasks")


@st.composite
def flow_charts(draw: Any) -> Config:
    n = draw(st.integers(1, 6))
    steps: list[dict[str, Any]] = []
    activities: dict[str, dict[str, Any]] = {}
    for i in range(n):
        name = f"S{i}"
        after = draw(st.lists(st.sampled_from([f"S{j}" for j in range(i)]), unique=True, max_size=3)) if i else []
        step: dict[str, Any] = {"activity": name, "after": after}
        if after and draw(st.booleans()):
            step["when"] = {draw(st.sampled_from(after)): draw(st.sampled_from(["[a-m]", "[n-z]", "[a-z]", "x"]))}
        steps.append(step)
        activities[name] = {"retries": draw(st.integers(0, 2)), "retry_delay": draw(st.sampled_from([0, 1, 5]))}
    return config_from(steps, activities)


def _check(config: Config, state: ExecutionState, decisions: list[dict[str, Any]]) -> None:
    """The rules: no step before its after steps, never twice, never complete with work left."""
    for d in decisions:
        kind = d["decisionType"]
        if kind == "ScheduleActivityTask":
            aid = d["scheduleActivityTaskDecisionAttributes"]["activityId"]
            step_id, _ = parse_activity_id(aid)
            assert aid not in state.activities, f"{aid} scheduled twice"
            latest = state.by_step.get(step_id)
            assert latest is None or not (latest.status.open or latest.status == ActivityStatus.COMPLETED), f"{step_id} is already under way or done"
            deps = config.workflow.step(step_id).after
            dep_states = [state.by_step.get(dep) for dep in deps]
            assert all(a is None or a.status == ActivityStatus.COMPLETED for a in dep_states), f"{step_id} before its after steps"
            assert not deps or any(a is not None and a.status == ActivityStatus.COMPLETED for a in dep_states)
        if kind == "StartTimer":
            timer_id = d["startTimerDecisionAttributes"]["timerId"]
            assert timer_id not in state.timers, f"timer {timer_id} started twice"
        if kind == "CompleteWorkflowExecution":
            assert not any(a.status.open for a in state.activities.values()), "completed with a step running"
            assert not any(not t.fired for t in state.timers.values()), "completed with a retry pending"
            assert all(a.status == ActivityStatus.COMPLETED for a in state.by_step.values()), "completed with a failed step"


def _apply(h: History, decisions: list[dict[str, Any]], config: Config) -> None:
    h.decision()
    for d in decisions:
        if d["decisionType"] == "ScheduleActivityTask":
            a = d["scheduleActivityTaskDecisionAttributes"]
            step, attempt = parse_activity_id(a["activityId"])
            h.schedule(step, attempt, a.get("input"), activity=a["activityType"]["name"])
        elif d["decisionType"] == "StartTimer":
            a = d["startTimerDecisionAttributes"]
            h.timer(a["timerId"], int(a["startToFireTimeout"]))


@given(config=flow_charts(), data=st.data())
def test_random_histories_keep_the_rules(config: Config, data: Any) -> None:
    h = History(input=data.draw(st.sampled_from([None, "", "go"])))
    for _ in range(60):
        state = h.state()
        decisions = decide(config.workflow, state).swf  # never raises
        _check(config, state, decisions)
        if decisions and decisions[0]["decisionType"] in ("CompleteWorkflowExecution", "FailWorkflowExecution",
                                                          "CancelWorkflowExecution"):
            return
        _apply(h, decisions, config)
        open_acts = [a for a in state.activities.values() if a.status.open]
        open_acts += [h.state().activities[d["scheduleActivityTaskDecisionAttributes"]["activityId"]]
                      for d in decisions if d["decisionType"] == "ScheduleActivityTask"]
        timers = [t for t in h.state().timers.values() if not t.fired]
        assert decisions or open_acts or timers, "stuck: nothing decided, nothing running, no timer"
        moves = [("act", a) for a in open_acts] + [("timer", t) for t in timers] + [("noise", None)]
        kind, target = data.draw(st.sampled_from(moves))
        if kind == "timer":
            h.fire(target.timer_id)
        elif kind == "act":
            outcome = data.draw(st.sampled_from(["complete", "complete", "fail", "timeout"]))
            if outcome == "complete":
                h.complete(target.step_id, data.draw(st.sampled_from(["a", "q", "z", "7", ""])), target.attempt)
            elif outcome == "fail":
                h.fail(target.step_id, "exit code 1", attempt=target.attempt)
            else:
                h.time_out(target.step_id, data.draw(st.sampled_from(["HEARTBEAT", "START_TO_CLOSE"])), target.attempt)
        else:
            data.draw(st.sampled_from([h.decision_timed_out, lambda: h.signal("s"), lambda: h.marker("m")]))()


@given(config=flow_charts(), data=st.data())
def test_when_everything_succeeds_it_completes(config: Config, data: Any) -> None:
    h = History()
    for _ in range(50):
        decisions = decide(config.workflow, h.state()).swf
        _check(config, h.state(), decisions)
        if decisions and decisions[0]["decisionType"] == "CompleteWorkflowExecution":
            return
        assert decisions, "nothing to do, nothing running, and not complete"
        assert all(d["decisionType"] == "ScheduleActivityTask" for d in decisions)
        _apply(h, decisions, config)
        for d in decisions:
            step, attempt = parse_activity_id(d["scheduleActivityTaskDecisionAttributes"]["activityId"])
            h.complete(step, data.draw(st.sampled_from(["a", "q", "z"])), attempt)
    raise AssertionError("did not complete")


# ---- liveness: whatever SWF refuses, and however often, the decider gets somewhere -------------------------------

def _scenarios() -> list[tuple[str, Config, History, bool]]:
    """For each decision the decider sends, the histories on which it sends it: (the decision, a flow chart, the
    history, whether the decider cannot decide: the RecordMarker and StartTimer of a decider error)."""
    two = config_from([{"activity": "A"}, {"activity": "B"}], {"A": {"retries": 1, "retry_delay": 60}})
    return [
        ("ScheduleActivityTask", ARTICLE, History().decision(), False),
        ("StartTimer", retrying(), History().decision().schedule("Test_Task_A").fail("Test_Task_A"), False),
        ("StartTimer", ARTICLE, History().decision(), True),
        ("CancelTimer", two, History().decision().schedule("A").schedule("B").start("B").fail("A").decision()
         .timer("A-2", 60).cancel_request(), False),
        ("RequestCancelActivityTask", ARTICLE, History().decision().schedule("Test_Task_A").start("Test_Task_A")
         .cancel_request(), False),
        ("RecordMarker", ARTICLE, History().decision(), True),
        ("CompleteWorkflowExecution", ARTICLE, History().decision().schedule("Test_Task_A").complete("Test_Task_A", "a")
         .decision().schedule("Test_Task_B").complete("Test_Task_B", "b"), False),
        ("FailWorkflowExecution", ARTICLE, History().decision().schedule("Test_Task_A").fail("Test_Task_A"), False),
        ("CancelWorkflowExecution", ARTICLE, History().decision().cancel_request(), False),
        ("StartChildWorkflowExecution", PARENT, History().decision(), False),
        ("RequestCancelExternalWorkflowExecution", PARENT, History().decision().start_child("Run", workflow="Sub")
         .child_started("Run").cancel_request(), False),
        ("ContinueAsNewWorkflowExecution", REPEATING, History().decision().schedule("Test_Task_A")
         .complete("Test_Task_A", "a").decision().schedule("Test_Task_B").complete("Test_Task_B", "b").decision()
         .timer("swfagent-repeat", 60).fire("swfagent-repeat"), False),
    ]




def test_every_decision_the_decider_sends_has_a_scenario() -> None:
    assert {s[0] for s in _scenarios()} == set(SENT)


@given(scenario=st.integers(0, len(_scenarios()) - 1), data=st.data())
def test_a_refused_decision_is_never_sent_on_every_decision_task(scenario: int, data: Any) -> None:
    decision, config, h, broken = _scenarios()[scenario]
    cause = data.draw(st.sampled_from(CAUSES_IN_MODEL[decision]), label="cause")
    times = data.draw(st.integers(1, 12), label="refused this many times in a row, then taken")
    [step_one] = [d for d in (after_error(h.state(), "x") if broken else decide(config.workflow, h.state())).swf
                  if d["decisionType"] == decision] or [None]
    assert step_one is not None, f"the scenario does not make the decider send {decision}"
    sent, refusals, just_refused = 0, 0, []
    for _ in range(60):
        state = h.state()
        answer = after_error(state, "cannot decide: boom") if broken else decide(config.workflow, state)
        mine = [d for d in answer.swf if d["decisionType"] == decision]
        sent += len(mine)
        if lasts(cause) is not Lasts.RACE:  # a refused decision again at once: only once a wait timer fired
            again = [d for d in mine if d in just_refused]
            assert not again, f"{decision} refused ({cause}) and sent again at once"
        h.decision()
        just_refused = []
        for d in answer.swf:
            if d["decisionType"] == decision and refusals < times:
                h.refuse(d, cause)
                refusals += 1
                just_refused.append(d)
            else:
                h.apply(d)
        if just_refused and lasts(cause) is Lasts.RACE:
            h.signal("came in while the decider decided")  # what UNHANDLED_DECISION means
        state = h.state()
        if state.close_status is not None:
            break
        if not answer.swf:  # nothing to do: time passes
            timers = [t for t in state.timers.values() if not t.fired]
            running = [a for a in state.activities.values() if a.status.open]
            children = [c for c in state.children.values() if c.status.open]
            if timers:
                h.fire(timers[0].timer_id)
            elif running:
                h.complete(str(running[0].step_id), "a", running[0].attempt)
            elif children:
                h.child_closed("Canceled" if state.cancel_requested else "Completed", str(children[0].step_id),
                               children[0].attempt, **({} if state.cancel_requested else {"result": "a"}))
            else:
                assert answer.refused is not None, "stuck: nothing decided, nothing running, no timer, no alert"
                break  # SWF will not close it: waits for a person, alerted
    else:
        raise AssertionError(f"no end after 60 decision tasks: {decision} sent {sent} times")
    if lasts(cause) in (Lasts.LASTING, Lasts.MOOT):
        assert sent <= 2, f"{decision} refused ({cause}) and sent {sent} times"
    elif lasts(cause) is Lasts.PASSING:
        assert sent <= MAX_WAITS + 1


@given(items=st.integers(0, 30), batch_size=st.integers(1, 8), cap=st.integers(1, 20), data=st.data())
def test_a_batched_map_keeps_its_items_in_order_and_its_concurrency(items: int, batch_size: int, cap: int,
                                                                   data: Any) -> None:
    """Children closing in any order: at most cap // batch_size open (one at least), each batch started once, and the
    result every item's in the list's order."""
    import json

    config = config_from([{"activity": "L"}, {"id": "M", "activity": "One", "for_each": "L", "batch_size": batch_size,
                                              "max_concurrency": cap}])
    h = History().decision().schedule("L").complete("L", json.dumps(list(range(items)))).decision()
    started: set[str] = set()
    for _ in range(200):
        state = h.state()
        answer = decide(config.workflow, state)
        if answer.closing is not None or any(d.type.closes for d in answer.decisions):
            break
        for d in answer.decisions:
            assert d.get("control") not in started, "a batch started twice"
            started.add(d.get("control"))
            h.apply(d)
        open_now = [c for c in h.state().children.values() if c.status.open]
        assert len(open_now) <= max(1, cap // batch_size)
        done = data.draw(st.sampled_from(open_now), label="the child that closes")
        batch = json.loads(str(done.input))["swfagent-batch"]
        h.child_closed("Completed", str(done.step_id), done.attempt, result=json.dumps(
            {"results": [int(i) * 2 for i in batch["items"]], "failed": 0, "reason": ""}))
        h.decision()
    else:
        raise AssertionError("no end")
    [d] = answer.decisions
    assert json.loads(d.get("result")) == [2 * i for i in range(items)]
