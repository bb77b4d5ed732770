"""config.yaml errors: one line naming the file and the key, exit 2; the shipped config loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from swfagent.config import load_config
from swfagent.errors import ConfigError, UsageError
from tests.support import ROOT, demo_config_data, run_script, two_workflows_data, write_config


def test_the_shipped_config_loads() -> None:
    config = load_config(ROOT / "config.yaml")
    assert config.domain.name == "TEST_SWF" and config.workflow.task_list == "TestTasks"
    assert [s.id for s in config.workflow.steps] == ["Test_Task_A", "Test_Task_B"]
    assert config.activities["Test_Task_A"].command == ("python", "tasks/a.py")
    assert config.activities["Test_Task_A"].cwd == ROOT


def _broken(change: Any) -> dict[str, Any]:
    data = demo_config_data()
    change(data)
    return data


BROKEN = [
    ("missing domain", lambda d: d.pop("domain"), "domain: is missing"),
    ("missing workflow name", lambda d: d["workflow"].pop("name"), "workflow.name: is missing"),
    ("mistyped timeout", lambda d: d["workflow"].update(execution_timeout="soon"), "workflow.execution_timeout: must be a whole number"),
    ("version as a number", lambda d: d["workflow"].update(version=1.0), 'workflow.version: must be a string: write "1.0"'),
    ("version too long", lambda d: d["workflow"].update(version="v" * 65), "workflow.version: is longer than SWF's 64 characters"),
    ("command as a string", lambda d: d["activities"]["Test_Task_A"].update(command="python a.py"), "activities.Test_Task_A.command: must be a non-empty list"),
    ("unknown key", lambda d: d["activities"]["Test_Task_A"].update(retires=2), "activities.Test_Task_A.retires: unknown key"),
    ("unknown activity in a step", lambda d: d["workflow"]["steps"].append({"activity": "Nope"}), "workflow.steps[2].activity: unknown activity 'Nope'"),
    ("unknown after step", lambda d: d["workflow"]["steps"][1].update(after=["Nope"]), "workflow.steps[1].after: unknown step 'Nope'"),
    ("cycle", lambda d: d["workflow"]["steps"][0].update(after=["Test_Task_B"]), "workflow.steps: cycle: "),
    ("bad regex", lambda d: d["workflow"]["steps"][1].update(when={"Test_Task_A": "[a-"}), "workflow.steps[1].when.Test_Task_A: is not a valid regular expression"),
    ("when not among after", lambda d: d["workflow"]["steps"][0].update(when={"Test_Task_B": "x"}), "workflow.steps[0].when.Test_Task_B: 'Test_Task_B' is not upstream of this step"),
    ("step id twice", lambda d: d["workflow"]["steps"].append({"activity": "Test_Task_A"}), "id 'Test_Task_A' is used twice"),
    ("huge timeout", lambda d: d["activities"]["Test_Task_A"].update(timeout=10**12), "must be between 1 and 31536000"),
    ("bad child policy", lambda d: d["workflow"].update(child_policy="KILL"), "workflow.child_policy: must be one of"),
    ("bad name", lambda d: d["domain"].update(name="a:b"), "domain.name: 'a:b' is not a valid SWF name"),
]


@pytest.mark.parametrize(("change", "message"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_config_errors_name_the_key(tmp_path: Path, change: Any, message: str) -> None:
    path = write_config(tmp_path / "config.yaml", _broken(change))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read"),
    (b"domain: [unclosed", "invalid YAML"),
    (b"\xff\xfe not utf-8", "not UTF-8"),
    (b"", "is empty"),
    (b"- just\n- a list\n", "must be a mapping"),
])
def test_unreadable_files(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "config.yaml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


@pytest.mark.parametrize("script", ["decider.py", "worker.py", "register_swf.py"])
def test_scripts_give_one_line_and_exit_2(tmp_path: Path, script: str) -> None:
    path = write_config(tmp_path / "config.yaml", _broken(lambda d: d["workflow"]["steps"][1].update(after=["Nope"])))
    done = run_script(script, "--config", str(path), timeout=30)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "unknown step 'Nope'" in done.stderr and "Traceback" not in done.stderr


def test_several_workflows_in_one_file(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "config.yaml", two_workflows_data()))
    assert [w.name for w in config.workflows] == ["TestWorkflow", "Backwards"]
    assert config.workflow is config.workflows[0] and config.workflow_named(None) is config.workflow
    backwards = config.workflow_named("Backwards")
    assert [s.id for s in backwards.steps] == ["Test_Task_B", "Test_Task_A"] and backwards.task_list == "BackwardsTasks"
    assert config.workflow_for("Backwards", "1.0") is backwards and config.workflow_for("Backwards", "2.0") is None
    assert config.task_lists == ("TestTasks", "BackwardsTasks")
    assert config.activities["Test_Task_B"].task_list == "TestTasks"  # an activity's default: the first workflow's
    assert config.about(backwards).workflow is backwards and config.about(backwards).workflows == config.workflows
    with pytest.raises(UsageError, match=r"no workflow 'Nope' in config.yaml \(its workflows: TestWorkflow, Backwards\)"):
        config.workflow_named("Nope")


def test_one_workflow_is_a_tuple_of_one(tmp_path: Path) -> None:
    config = load_config(ROOT / "config.yaml")
    assert config.workflows == (config.workflow,) and config.task_lists == ("TestTasks",)
    assert [a.name for a in config.used_activities] == ["Test_Task_A", "Test_Task_B"]


def _second(change: Any) -> Any:
    def apply(data: dict[str, Any]) -> None:
        change(data["workflows"]["Backwards"])
    return apply


WORKFLOWS_BROKEN = [
    ("both", lambda d: d.update(workflow={"name": "W"}), "workflows: give workflow: (one workflow) or workflows: (several), not both"),
    ("neither", lambda d: d.pop("workflows"), "workflow: is missing (or workflows:, for several)"),
    ("empty", lambda d: d.update(workflows={}), "workflows: must map at least one workflow type's name"),
    ("not a mapping", lambda d: d.update(workflows=["W"]), "workflows: must be a mapping, not list"),
    ("bad name", lambda d: d["workflows"].update({"a:b": d["workflows"]["Backwards"]}), "workflows.a:b: 'a:b' is not a valid SWF name"),
    ("name key", _second(lambda w: w.update(name="X")), "workflows.Backwards.name: unknown key"),
    ("no version", _second(lambda w: w.pop("version")), "workflows.Backwards.version: is missing"),
    ("no task list", _second(lambda w: w.pop("task_list")), "workflows.Backwards.task_list: is missing"),
    ("bad child policy", _second(lambda w: w.update(child_policy="KILL")), "workflows.Backwards.child_policy: must be one of"),
    ("unknown after", _second(lambda w: w["steps"][1].update(after=["Nope"])), "workflows.Backwards.steps[1].after: unknown step 'Nope'"),
    ("no steps", _second(lambda w: w.update(steps=[])), "workflows.Backwards.steps: must be a non-empty list"),
    ("cycle", _second(lambda w: w["steps"][0].update(after=["Test_Task_A"])), "workflows.Backwards.steps: cycle: "),
]


@pytest.mark.parametrize(("change", "message"), [b[1:] for b in WORKFLOWS_BROKEN], ids=[b[0] for b in WORKFLOWS_BROKEN])
def test_workflows_errors_name_the_path(tmp_path: Path, change: Any, message: str) -> None:
    data = two_workflows_data()
    change(data)
    path = write_config(tmp_path / "config.yaml", data)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_register_check_validates_without_registering(tmp_path: Path) -> None:
    done = run_script("register_swf.py", "--check", "--config", str(ROOT / "config.yaml"), env={"PATH": "/usr/bin"})
    assert done.returncode == 0 and "OK" in done.stdout
    path = write_config(tmp_path / "config.yaml", _broken(lambda d: d["workflow"]["steps"][0].update(after=["Test_Task_B"])))
    done = run_script("register_swf.py", "--check", "--config", str(path))
    assert done.returncode == 2 and "cycle: " in done.stderr


def test_results_in_s3(tmp_path: Path) -> None:
    data = demo_config_data()
    data["results"] = {"s3": "s3://my-bucket/swf/values/"}
    config = load_config(write_config(tmp_path / "config.yaml", data))
    assert config.results is not None and (config.results.bucket, config.results.prefix) == ("my-bucket", "swf/values")
    assert config.workflow.results_s3 == "s3://my-bucket/swf/values"
    for bad in ("my-bucket/x", "s3://B/x", "s3://"):
        data["results"] = {"s3": bad}
        with pytest.raises(ConfigError, match="results.s3: must be s3://BUCKET/PREFIX"):
            load_config(write_config(tmp_path / "config.yaml", data))


def test_after_may_be_one_step_id_without_a_list(tmp_path: Path) -> None:
    data = demo_config_data()
    data["workflow"]["steps"][1]["after"] = "Test_Task_A"
    config = load_config(write_config(tmp_path / "config.yaml", data))
    assert config.workflow.step("Test_Task_B").after == ("Test_Task_A",)


@pytest.mark.parametrize(("text", "line", "hint"), [
    ("workflow:\n  name: W\n  steps:\n    - activity: A\n    - activity: B\n       after: [A]\n", 6, "check its indentation"),
    ("domain:\n\tname: x\n", 2, "indent with spaces, not tabs"),
])
def test_a_yaml_mistake_shows_its_line_and_what_to_look_at(tmp_path: Path, text: str, line: int, hint: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    written = text.splitlines()[line - 1].strip()
    assert message.startswith(f"{path}: line {line}: invalid YAML (") and f"{written!r}" in message
    assert message.endswith(hint if "tabs" in hint else "line up after its '- '") and hint in message and "\n" not in message


def test_the_readme_shows_the_shipped_config_as_it_is() -> None:
    assert (ROOT / "config.yaml").read_text() in (ROOT / "docs" / "configuration.md").read_text()


def _three_workflows(runs: dict[str, str], **third: Any) -> dict[str, Any]:
    """The two workflows and a third, Third (one activity), each workflow named in runs adding a step running another."""
    data = two_workflows_data()
    ws = data["workflows"]
    ws["Third"] = {**ws["Backwards"], "task_list": "ThirdTasks", "steps": [{"activity": "Test_Task_A"}], **third}
    for name, child in runs.items():
        ws[name]["steps"] = [*ws[name]["steps"], {"id": f"Run_{child}", "workflow": child}]
    return data


@pytest.mark.parametrize(("runs", "cycle"), [
    ({"Backwards": "Third", "Third": "Backwards"}, "workflows.Backwards.steps: workflows run each other without end, "
     "cycle: Backwards -> Third -> Backwards"),
    ({"Backwards": "Third", "Third": "TestWorkflow", "TestWorkflow": "Backwards"},
     "cycle: TestWorkflow -> Backwards -> Third -> TestWorkflow"),
])
def test_workflows_running_each_other_in_a_cycle_are_refused_naming_the_path(tmp_path: Path, runs: dict[str, str],
                                                                             cycle: str) -> None:
    path = write_config(tmp_path / "config.yaml", _three_workflows(runs))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert cycle in str(err.value) and "\n" not in str(err.value)


def test_children_without_a_cycle_and_a_batched_map_of_the_own_type_are_accepted(tmp_path: Path) -> None:
    data = _three_workflows({"Backwards": "Third", "TestWorkflow": "Third"})
    data["workflows"]["Third"]["steps"] = [
        {"activity": "Test_Task_A"}, {"activity": "Test_Task_B", "for_each": "Test_Task_A", "batch_size": 2}]
    config = load_config(write_config(tmp_path / "config.yaml", data))
    assert set(config.workflows[1].child_types) == {"Third"} and config.workflows[2].child_types == {}


def test_a_step_running_a_repeating_workflow_is_refused(tmp_path: Path) -> None:
    data = _three_workflows({"Backwards": "Third"}, repeat={"every": 60})
    path = write_config(tmp_path / "config.yaml", data)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert "workflows.Backwards.steps[2].workflow: workflow 'Third' has repeat: and never closes" in text
    assert "\n" not in text
