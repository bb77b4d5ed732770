"""register_swf.py against in-process moto: registers everything, is safe to run again, reports drift."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from swfagent.cli import main
from tests.support import ROOT, demo_config_data, two_workflows_data, write_config


@pytest.fixture
def swf(aws_env: None) -> object:
    with mock_aws():
        yield boto3.client("swf")


def test_registers_then_says_already_registered(swf: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write_config(tmp_path / "config.yaml", demo_config_data()))
    assert main(["--config", path], prog="register_swf.py") == 0
    assert capsys.readouterr().out.splitlines() == [
        "Domain TEST_SWF: registered", "Workflow type TestWorkflow 1.0: registered",
        "Activity type Test_Task_A 1.0: registered", "Activity type Test_Task_B 1.0: registered",
    ]
    assert main(["--config", path], prog="register_swf.py") == 0
    assert capsys.readouterr().out.splitlines() == [
        "Domain TEST_SWF: already registered", "Workflow type TestWorkflow 1.0: already registered",
        "Activity type Test_Task_A 1.0: already registered", "Activity type Test_Task_B 1.0: already registered",
    ]
    wt = swf.describe_workflow_type(domain="TEST_SWF", workflowType={"name": "TestWorkflow", "version": "1.0"})  # type: ignore[attr-defined]
    conf = wt["configuration"]
    assert conf["defaultTaskList"] == {"name": "TestTasks"} and conf["defaultChildPolicy"] == "TERMINATE"
    assert conf["defaultExecutionStartToCloseTimeout"] == "3600" and conf["defaultTaskStartToCloseTimeout"] == "30"
    at = swf.describe_activity_type(domain="TEST_SWF", activityType={"name": "Test_Task_A", "version": "1.0"})  # type: ignore[attr-defined]
    assert at["configuration"]["defaultTaskStartToCloseTimeout"] == "300"
    assert at["configuration"]["defaultTaskHeartbeatTimeout"] == "60"


def test_every_workflow_type_is_registered(swf: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write_config(tmp_path / "config.yaml", two_workflows_data()))
    assert main(["--config", path], prog="register_swf.py") == 0
    assert capsys.readouterr().out.splitlines() == [
        "Domain TEST_SWF: registered", "Workflow type TestWorkflow 1.0: registered",
        "Workflow type Backwards 1.0: registered",
        "Activity type Test_Task_A 1.0: registered", "Activity type Test_Task_B 1.0: registered",
    ]
    wt = swf.describe_workflow_type(domain="TEST_SWF", workflowType={"name": "Backwards", "version": "1.0"})  # type: ignore[attr-defined]
    assert wt["configuration"]["defaultTaskList"] == {"name": "BackwardsTasks"}
    assert main(["--check", "--remote", "--config", path], prog="register_swf.py") == 0
    out = capsys.readouterr().out
    assert "OK (TestWorkflow 1.0: 2 steps; Backwards 1.0: 2 steps; 2 activities, every command found)" in out
    assert "Workflow type Backwards 1.0: registered as config.yaml says" in out


def test_a_type_registered_with_other_defaults_is_reported(swf: object, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    data = demo_config_data()
    path = str(write_config(tmp_path / "config.yaml", data))
    assert main(["--config", path], prog="register_swf.py") == 0
    data["activities"]["Test_Task_B"]["timeout"] = 900
    write_config(tmp_path / "config.yaml", data)
    assert main(["--config", path], prog="register_swf.py") == 1
    err = capsys.readouterr().err
    assert "Activity type Test_Task_B 1.0: already registered with other defaults" in err
    assert "defaultTaskStartToCloseTimeout is 300 there, 900 here" in err and "bump its version" in err


def test_a_deprecated_type_is_reported(swf: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write_config(tmp_path / "config.yaml", demo_config_data()))
    main(["--config", path], prog="register_swf.py")
    swf.deprecate_activity_type(domain="TEST_SWF", activityType={"name": "Test_Task_A", "version": "1.0"})  # type: ignore[attr-defined]
    assert main(["--config", path], prog="register_swf.py") == 1
    assert "Test_Task_A 1.0: is deprecated" in capsys.readouterr().err


def test_check_resolves_every_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = demo_config_data()
    data["activities"]["Test_Task_A"]["command"] = ["pythn", str(ROOT / "tasks" / "a.py")]
    data["activities"]["Test_Task_B"]["command"] = ["python", "tasks/c.py", "--out", "later.py.out"]
    path = write_config(tmp_path / "config.yaml", data)
    assert main(["--check", "--config", str(path)], prog="register_swf.py") == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"register_swf.py: error: {path}: activities.Test_Task_A.command: pythn: not found on PATH")
    assert err[1] == (f"register_swf.py: error: {path}: activities.Test_Task_B.command: tasks/c.py: "
                      f"no such file (from {tmp_path})")
    assert len(err) == 2  # an argument that is no script (an output file) is not looked for


def test_check_remote_compares_swf_with_the_config(swf: object, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = demo_config_data()
    path = str(write_config(tmp_path / "config.yaml", data))
    assert main(["--check", "--remote", "--config", path], prog="register_swf.py") == 1
    assert capsys.readouterr().err.strip() == "Domain TEST_SWF: not registered: run python register_swf.py"
    assert main(["--config", path], prog="register_swf.py") == 0
    capsys.readouterr()
    data["workflow"]["steps"].append({"activity": "Test_Task_D", "after": ["Test_Task_B"]})
    data["activities"]["Test_Task_D"] = dict(data["activities"]["Test_Task_B"])
    data["activities"]["Test_Task_B"]["timeout"] = 900
    write_config(tmp_path / "config.yaml", data)
    swf.deprecate_activity_type(domain="TEST_SWF", activityType={"name": "Test_Task_A", "version": "1.0"})  # type: ignore[attr-defined]
    assert main(["--check", "--remote", "--config", path], prog="register_swf.py") == 1
    out, err = capsys.readouterr()
    assert "Workflow type TestWorkflow 1.0: registered as config.yaml says" in out
    assert err.splitlines() == [
        "Activity type Test_Task_A 1.0: is deprecated in SWF: bump its version in the config",
        "Activity type Test_Task_B 1.0: already registered with other defaults (defaultTaskStartToCloseTimeout is 300 "
        "there, 900 here): SWF cannot change a type, bump its version in the config",
        "Activity type Test_Task_D 1.0: not registered: run python register_swf.py",
    ]
