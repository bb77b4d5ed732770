"""Flow charts for tests, built from config data the way config.yaml would give them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from swfagent.config import Config, parse_config


def config_from(steps: list[dict[str, Any]], activities: dict[str, dict[str, Any]] | None = None,
                **workflow: Any) -> Config:
    """A Config whose activities default to `python -c pass`; steps as in config.yaml."""
    names = {s["activity"] for s in steps if "activity" in s}
    acts = {n: {"version": "1.0", "command": ["python", "-c", "pass"], "timeout": 60} for n in sorted(names)}
    for name, extra in (activities or {}).items():
        acts.setdefault(name, {"version": "1.0", "command": ["python", "-c", "pass"]}).update(extra)
    results = workflow.pop("results", None)  # a top-level key of config.yaml
    data = {
        "domain": {"name": "TEST_SWF"},
        "workflow": {"name": "TestWorkflow", "version": "1.0", "task_list": "TestTasks", "steps": steps, **workflow},
        "activities": acts,
        **({"results": results} if results else {}),
    }
    return parse_config(data, Path("/tmp/config.yaml"))


ARTICLE = config_from([{"activity": "Test_Task_A"}, {"activity": "Test_Task_B", "after": ["Test_Task_A"]}])

# A diamond: B when A's letter is a-m, C otherwise; D after both branches.
DIAMOND = config_from([
    {"activity": "A"},
    {"activity": "B", "after": ["A"], "when": {"A": "[a-m]"}},
    {"activity": "C", "after": ["A"], "when": {"A": "[n-z]"}},
    {"activity": "D", "after": ["B", "C"]},
])

# Fan-out and fan-in: A, then B and C at once, then D after both.
FAN = config_from([
    {"activity": "A"},
    {"activity": "B", "after": ["A"]},
    {"activity": "C", "after": ["A"]},
    {"activity": "D", "after": ["B", "C"]},
])


def retrying(retries: int = 2, delay: int = 5, max_delay: int = 300) -> Config:
    """The article's chart with retries on both steps."""
    spec = {"retries": retries, "retry_delay": delay, "retry_max_delay": max_delay}
    return config_from(
        [{"activity": "Test_Task_A"}, {"activity": "Test_Task_B", "after": ["Test_Task_A"]}],
        {"Test_Task_A": dict(spec), "Test_Task_B": dict(spec)},
    )


# The chart: a map, a signal, a wait, a diamond on a value, a catch, a fail.
STATES = config_from([
    {"activity": "List_Files"},
    {"id": "Convert", "activity": "Convert_One", "for_each": "List_Files", "max_concurrency": 2,
     "tolerated_failures": 1},
    {"id": "Approval", "signal": "approve", "after": ["Convert"], "timeout": 86400},
    {"id": "Settle", "wait": 600, "after": ["Approval"]},
    {"activity": "Publish", "after": ["Settle"], "when": {"Approval": {"equals": "yes"}}, "catch": "Report"},
    {"id": "Not_Approved", "activity": "Notify", "after": ["Approval"], "unless": {"Approval": {"equals": "yes"}}},
    {"id": "Report", "activity": "Notify"},
    {"id": "Give_Up", "fail": "Publish failed: see Report", "after": ["Report"]},
])
