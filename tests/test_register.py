"""register_swf.py against in-process moto: registers everything, is safe to run again, reports drift."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from swfagent.cli import main
from tests.support import demo_config_data, write_config


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
