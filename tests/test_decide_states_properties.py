"""Property-based, over random flow charts using every kind (task, map, signal, wait, fail, catch, when/unless) and
random event orders: the same history gives the same decisions; no activity or timer id is used twice; a map never
has more than max_concurrency items open; every chart closes once every task answers."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from swfagent.config import Config
from swfagent.decide import decide, lasts
from swfagent.decisions import Decision
from swfagent.ids import parse_activity_id, parse_item
from swfagent.status import Lasts, StepStatus
from tests.flows import config_from
from tests.histories import History, model_causes

RESULTS = ["a", "yes", '["x", "y", "z"]', "[]", "p\nq", "2025-01-01T00:00:00Z", "2026-01-01T00:00:30Z",
           '{"n": 1}', "soon"]
SIGNALS = ["go", "ok"]
CLOSING = ("CompleteWorkflowExecution", "FailWorkflowExecution", "CancelWorkflowExecution")


@st.composite
def charts(draw: Any) -> Config:
    """A random chart: each step a task, a map, a signal, a wait or a fail, some with a catch or a condition."""
    steps: list[dict[str, Any]] = [{"id": "S0", "activity": "T"}]
    leads: list[str] = ["S0"]  # steps others may come after (not fail steps)
    for i in range(1, draw(st.integers(2, 7))):
        sid = f"S{i}"
        after = draw(st.lists(st.sampled_from(leads), unique=True, min_size=1, max_size=2))
        kind = draw(st.sampled_from(["task", "task", "map", "signal", "wait", "fail"]))
        step: dict[str, Any] = {"id": sid, "after": after}
        if kind == "task":
            step["activity"] = "T"
        elif kind == "map":
            step.update(activity="T", for_each=after[0], max_concurrency=draw(st.integers(1, 3)),
                        tolerated_failures=draw(st.sampled_from([0, 1, "50%"])))
        elif kind == "signal":
            step["signal"] = draw(st.sampled_from(SIGNALS))
            if draw(st.booleans()):
                step["timeout"] = draw(st.integers(1, 100))
        elif kind == "wait":
            step["wait"] = draw(st.sampled_from([0, 5, {"until": after[0]}, {"until": "2026-01-01T00:01:00Z"}]))
        else:
            step["fail"] = f"{sid} says no"
        if draw(st.integers(0, 3)) == 0:
            test = draw(st.sampled_from([{"equals": "yes"}, "[a-z]+", {"json": "n", "ge": 1}]))
            step[draw(st.sampled_from(["when", "unless"]))] = {after[0]: test}
        if kind != "fail" and draw(st.integers(0, 3)) == 0:
            step["catch"] = f"H{i}"
            handler = draw(st.sampled_from([{"activity": "T"}, {"fail": f"{sid} caught, and it fails"}]))
            steps += [step, {"id": f"H{i}", **handler}]
            leads += [sid] + ([f"H{i}"] if "activity" in handler else [])
            continue
        steps.append(step)
        if kind != "fail":
            leads.append(sid)
    return config_from(steps, {"T": {"retries": draw(st.integers(0, 1)), "retry_delay": draw(st.sampled_from([0, 3]))}})


class Run:
    """A history under construction, and every id it ever used."""

    def __init__(self, config: Config):
        self.config, self.h = config, History()
        self.activity_ids: set[str] = set()
        self.timer_ids: set[str] = set()
        self.refused_for_good: set[str] = set()  # the ids (or marker names) of decisions SWF refused for a lasting cause

    def decide(self) -> list[dict[str, Any]]:
        state = self.h.state()
        decisions = decide(self.config.workflow, state).swf
        assert decide(self.config.workflow, self.h.state()).swf == decisions, "the same history, other decisions"
        return decisions

    def apply(self, decisions: list[dict[str, Any]], refuse: dict[int, str] | None = None) -> bool:
        """Carry the decisions out as SWF would, but refuse those in `refuse` (index -> cause); True when they close
        the execution."""
        self.h.decision()
        refused: set[str] = set()
        for i, d in enumerate(decisions):
            decision = Decision.from_swf(d)
            key = str(decision.get("activityId") or decision.get("timerId") or decision.get("markerName") or "")
            assert key not in self.refused_for_good, f"{decision.type.value} {key} sent again after a lasting refusal"
            if refuse and i in refuse and d["decisionType"] not in CLOSING:
                self.h.refuse(decision, refuse[i])
                if lasts(refuse[i]) is Lasts.LASTING:
                    refused.add(key)
                continue
            if decision.type.value == "ScheduleActivityTask":
                aid = decision.get("activityId")
                assert aid not in self.activity_ids, f"activity id {aid} used twice"
                self.activity_ids.add(aid)
            elif decision.type.value == "StartTimer":
                tid = decision.get("timerId")
                assert tid not in self.timer_ids, f"timer id {tid} used twice"
                self.timer_ids.add(tid)
            self.h.apply(decision)
        self.refused_for_good |= refused
        self._check_caps()
        return any(d["decisionType"] in CLOSING for d in decisions)

    def _check_caps(self) -> None:
        open_items: dict[str, int] = {}
        for act in self.h.state().activities.values():
            item = parse_item(act.step_id or "")
            if item is not None and act.status.open:
                open_items[item[0]] = open_items.get(item[0], 0) + 1
        for step in self.config.workflow.steps:
            if step.max_concurrency is not None:
                assert open_items.get(step.id, 0) <= step.max_concurrency, f"{step.id}: over max_concurrency"

    def waiting_signals(self) -> list[str]:
        steps = decide(self.config.workflow, self.h.state()).steps
        return [str(self.config.workflow.step(s).signal) for s, p in steps.items() if p.status == StepStatus.SIGNAL]

    def open_activities(self) -> list[tuple[str, int]]:
        return [(a.step_id or "", a.attempt) for a in self.h.state().activities.values() if a.status.open]

    def open_timers(self) -> list[str]:
        return [t.timer_id for t in self.h.state().timers.values() if not t.fired]

    def answer(self, step: str, attempt: int, outcome: str, result: str) -> None:
        if outcome == "complete":
            self.h.complete(step, result, attempt)
        elif outcome == "fail":
            self.h.fail(step, "exit code 1", attempt=attempt)
        else:
            self.h.time_out(step, "START_TO_CLOSE", attempt)


@given(config=charts(), data=st.data())
def test_random_event_orders_keep_the_rules(config: Config, data: Any) -> None:
    run = Run(config)
    causes = model_causes()
    for _ in range(80):
        decisions = run.decide()
        refuse = {i: data.draw(st.sampled_from(causes[d["decisionType"]])) for i, d in enumerate(decisions)
                  if d["decisionType"] in causes and data.draw(st.integers(0, 7)) == 0}
        if run.apply(decisions, refuse):
            return
        moves: list[tuple[str, Any]] = [("act", a) for a in run.open_activities()]
        moves += [("timer", t) for t in run.open_timers()] + [("signal", s) for s in SIGNALS] + [("noise", None)]
        assert decisions or len(moves) > len(SIGNALS) + 1 or run.waiting_signals(), "stuck: nothing to wait for"
        kind, target = data.draw(st.sampled_from(moves))
        if kind == "act":
            run.answer(*target, data.draw(st.sampled_from(["complete", "complete", "fail", "timeout"])),
                       data.draw(st.sampled_from(RESULTS)))
        elif kind == "timer":
            run.h.fire(target)
        elif kind == "signal":
            run.h.signal(target, data.draw(st.sampled_from(["yes", "no"])))
        else:
            run.h.decision_timed_out()


@given(config=charts(), data=st.data())
def test_every_chart_closes_once_every_task_answers(config: Config, data: Any) -> None:
    """Each round answers every open task, fires every timer and sends every signal waited for: it closes."""
    run = Run(config)
    for _ in range(40):
        if run.apply(run.decide()):
            return
        for step, attempt in run.open_activities():
            run.answer(step, attempt, data.draw(st.sampled_from(["complete", "complete", "fail"])),
                       data.draw(st.sampled_from(RESULTS)))
        for timer in run.open_timers():
            run.h.fire(timer)
        for name in run.waiting_signals():
            run.h.signal(name, "yes")
    raise AssertionError("did not close")


def test_a_map_item_id_names_its_map() -> None:
    assert parse_activity_id("M@3-2") == ("M@3", 2) and parse_item("M@3") == ("M", 3)
