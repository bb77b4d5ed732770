"""The console's commands end to end against the embedded SWF: executions, show, start, terminate, signal, cancel, check."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest

from swfagent import executions
from swfagent.cli import main
from swfagent.config import Config, load_config
from swfagent.errors import UsageError
from swfagent.history import fold
from swfagent.register import register_all
from tests.e2e import Driver
from tests.support import HELPERS, Server, demo_config_data, run_script, write_config

NOW_SLACK = dt.timedelta(minutes=5)


def alerting_config(tmp_path: Path, alert_file: Path, sns_topic_arn: str | None = None) -> Config:
    """The demo config with a command alert that records each alert in alert_file."""
    data = demo_config_data()
    data["alerts"] = {"command": ["python", str(HELPERS / "record_alert.py"), str(alert_file)]}
    if sns_topic_arn:
        data["alerts"]["sns_topic_arn"] = sns_topic_arn
    return load_config(write_config(tmp_path / "config.yaml", data))


def build_every_status(server: Server, config: Config) -> dict[str, str]:
    """One execution in each close status, and one open; workflow id -> expected status."""
    d = Driver(server.client(), config)
    # TIMED_OUT: a 1 s execution timeout, on a task list of its own so no one picks its decision task.
    started = time.monotonic()
    d.start("late", executionStartToCloseTimeout="1", taskList={"name": "nobody"})
    d.complete_demo("done")
    d.fail_demo("bad")
    d.cancel_directly("stop")
    d.start("gone")
    out = run_script("swfagent", "terminate", "gone", "--reason", "no longer needed",
                     "--config", str(config.path), env=server.env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Terminated gone: no longer needed"
    d.start("open")
    time.sleep(max(0.0, 1.1 - (time.monotonic() - started)))
    return {"late": "TIMED_OUT", "done": "COMPLETED", "bad": "FAILED", "stop": "CANCELED",
            "gone": "TERMINATED", "open": "OPEN"}


def cli(server: Server, config: Config, *args: str, env: dict[str, str] | None = None) -> Any:
    """python -m swfagent ARGS --config CONFIG; checks there is never a traceback."""
    done = run_script("swfagent", *args, "--config", str(config.path), env=env or server.env)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def in_process(capsys: pytest.CaptureFixture[str], config: Config, *args: str) -> tuple[int, str, str]:
    """python -m swfagent ARGS in this process (faster than a subprocess): exit code, stdout, stderr."""
    capsys.readouterr()
    code = main([*args, "--config", str(config.path)])
    out, err = capsys.readouterr()
    return code, out, err


def recent(value: str) -> bool:
    """An ISO timestamp within a few minutes of now (not the embedded SWF's 2014 placeholder)."""
    return abs(dt.datetime.fromisoformat(value) - dt.datetime.now(dt.timezone.utc)) < NOW_SLACK


@pytest.fixture
def config(server: Server, tmp_path: Path) -> Config:
    return alerting_config(tmp_path, tmp_path / "alerts.jsonl")


# ---- executions ------------------------------------------------------------------------------


def test_executions_lists_every_close_status(server: Server, config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    expected = build_every_status(server, config)
    done = cli(server, config, "executions", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {r["execution"]["workflowId"]: r.get("closeStatus", r["executionStatus"]) for r in rows} == expected
    for r in rows:
        assert recent(r["startTimestamp"]), r
        if r["executionStatus"] == "CLOSED":  # moto gives TERMINATED and TIMED_OUT none
            assert recent(r["closeTimestamp"]), r
    starts = [r["startTimestamp"] for r in rows]
    assert starts == sorted(starts, reverse=True)

    text = cli(server, config, "executions").stdout.splitlines()
    assert text[0].split() == ["Workflow", "id", "Run", "id", "Run", "Type", "Started", "Closed", "Status"]
    assert sorted(line.split()[0] for line in text[1:]) == sorted(expected)
    assert all(" 2014-" not in line for line in text)

    def ids(*args: str) -> set[str]:
        code, out, err = in_process(capsys, config, "executions", "--json", *args)
        assert code == 0, err
        return {r["execution"]["workflowId"] for r in json.loads(out)}

    assert ids("--open") == {"open"}
    assert ids("--closed") == set(expected) - {"open"}
    for wid, status in expected.items():
        if status != "OPEN":
            assert ids("--status", status) == {wid}
    assert ids("--since", "1h") == set(expected)


def test_executions_since_and_real_start_times(server: Server, config: Config) -> None:
    client = server.client()
    d = Driver(client, config)
    run_id = d.start("one")
    now = dt.datetime.now(dt.timezone.utc)
    assert [e["execution"]["runId"] for e in executions.list_executions(client, config, since=now - NOW_SLACK)] == [run_id]
    assert executions.list_executions(client, config, since=now + NOW_SLACK) == []
    info = client.describe_workflow_execution(domain="TEST_SWF", execution={"workflowId": "one", "runId": run_id})
    assert abs(info["executionInfo"]["startTimestamp"] - now) < NOW_SLACK  # moto answers a fixed 2014 time
    assert "closeTimestamp" not in info["executionInfo"]  # still open


def test_executions_empty_and_bad_since(server: Server, config: Config) -> None:
    register_all(server.client(), config)
    assert cli(server, config, "executions").stdout.strip() == "(no executions)"
    bad = cli(server, config, "executions", "--since", "yesterday")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--since 'yesterday'" in bad.stderr


# ---- show ------------------------------------------------------------------------------------


def test_show_times_come_from_the_history(server: Server, config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    d = Driver(server.client(), config)
    run_id = d.complete_demo("done")
    done = cli(server, config, "show", "done")
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line.strip() for line in done.stdout.splitlines() if line.startswith("  ")}
    year = str(dt.datetime.now().year)
    assert year in lines["Started"] and "2014" not in lines["Started"]
    assert year in lines["Closed"] and " s)" in lines["Closed"]
    assert lines["Progress"].split(None, 1)[1] == "2 completed, 0 running, 0 waiting, 0 failed, 0 skipped, 0 pending"
    assert "apple" in done.stdout

    data = json.loads(in_process(capsys, config, "show", "done", "--run-id", run_id, "--json")[1])
    s = data["summary"]
    assert s["run_id"] == run_id and s["close_status"] == "COMPLETED" and s["result"] == "apple"
    assert recent(s["started"]) and recent(s["closed"]) and s["started"] <= s["closed"]
    assert data["steps"] == {"Test_Task_A": "completed", "Test_Task_B": "completed"}
    assert [a["activity_id"] for a in data["activities"]] == ["Test_Task_A-1", "Test_Task_B-1"]
    assert data["events"][0]["type"] == "WorkflowExecutionStarted"


def test_show_a_terminated_execution_has_a_close_time(server: Server, config: Config,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    d = Driver(server.client(), config)
    d.start("gone")
    d.decide()
    assert in_process(capsys, config, "terminate", "gone", "--reason", "stop it")[0] == 0
    data = json.loads(in_process(capsys, config, "show", "gone", "--json")[1])
    s = data["summary"]
    assert s["close_status"] == "TERMINATED" and s["reason"] == "stop it" and recent(s["closed"])
    assert s["progress"] == {"completed": 0, "running": 1, "waiting": 0, "failed": 0, "skipped": 0, "pending": 1}


# ---- start -----------------------------------------------------------------------------------


def test_start_with_input_file_and_id_template(server: Server, config: Config, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    register_all(server.client(), config)
    (tmp_path / "input.txt").write_text("line one\nline two\n")
    done = cli(server, config, "start", "--id-template", "daily-{date}", "--input-file", str(tmp_path / "input.txt"))
    assert done.returncode == 0, done.stderr
    wid = f"daily-{dt.date.today():%Y-%m-%d}"
    assert done.stdout.startswith(f"Started TestWorkflow 1.0: workflow id {wid}, run id ")
    run_id = done.stdout.strip().rsplit(" ", 1)[1]
    state = fold(executions.fetch_history(server.client(), config, wid, run_id))
    assert state.input == "line one\nline two\n"

    again = cli(server, config, "start", "--id-template", "daily-{date}")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"{wid} is already open (run id {run_id}): not started again"
    assert [e["execution"]["runId"] for e in executions.list_executions(server.client(), config)] == [run_id]

    for args, words in [
        (("--input", "x", "--input-file", str(tmp_path / "input.txt")), "--input or --input-file"),
        (("--input-file", str(tmp_path / "missing.txt")), "missing.txt"),
        (("--id-template", "daily-{day}"), "--id-template"),
        (("--id-template", "x", "--workflow-id", "y"), "not both"),
    ]:
        code, out, err = in_process(capsys, config, "start", *args)
        assert code == 2 and words in err and err.count("\n") == 1 and out == "", err


# ---- terminate, signal, cancel -----------------------------------------------------------------


def test_signal_lands_in_the_history(server: Server, config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    d = Driver(server.client(), config)
    run_id = d.start("sig")
    done = cli(server, config, "signal", "sig", "go-on", "--input", '{"n": 1}')
    assert done.returncode == 0 and done.stdout.strip() == "Signaled sig: go-on", done.stderr
    assert in_process(capsys, config, "signal", "sig", "bare")[0] == 0
    state = fold(executions.fetch_history(server.client(), config, "sig", run_id))
    assert state.signals[0] == ("go-on", '{"n": 1}')
    assert state.signals[1] == ("bare", None)  # moto refuses a signal without input; SWF does not


def test_cancel_asks_the_decider_which_cancels(server: Server, config: Config,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    d = Driver(server.client(), config)
    run_id = d.start("keep")
    done = cli(server, config, "cancel", "keep")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.startswith("Cancellation requested for keep")
    assert d.decide()[0]["decisionType"] == "CancelWorkflowExecution"
    state = fold(executions.fetch_history(server.client(), config, "keep", run_id))
    assert state.cancel_requested and state.close_status == "CANCELED"
    code, _, err = in_process(capsys, config, "cancel", "nope")
    assert code == 1 and "no open execution with workflow id 'nope'" in err
    code, _, err = in_process(capsys, config, "cancel", "keep")  # closed now
    assert code == 1 and "no open execution with workflow id 'keep'" in err


@pytest.mark.parametrize("args", [
    ("terminate", "nope", "--reason", "x"), ("signal", "nope", "hello"), ("show", "nope"),
    ("graph", "--execution", "nope"),
])
def test_unknown_workflow_id(server: Server, config: Config, args: tuple[str, ...],
                             capsys: pytest.CaptureFixture[str]) -> None:
    register_all(server.client(), config)
    code, out, err = in_process(capsys, config, *args)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "'nope'" in err, err


def test_terminate_twice_and_a_bad_reason(server: Server, config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    Driver(server.client(), config).start("t")
    assert in_process(capsys, config, "terminate", "t", "--reason", "first")[0] == 0
    code, _, err = in_process(capsys, config, "terminate", "t", "--reason", "second")
    assert code == 1 and "no open execution with workflow id 't'" in err
    code, _, err = in_process(capsys, config, "terminate", "t", "--reason", "x" * 257)
    assert code == 2 and "256" in err


def broken_env(server: Server, tmp_path: Path, problem: str) -> tuple[dict[str, str], str]:
    """An environment with the endpoint unreachable or no credentials, and the line expected."""
    env = {**server.env, "AWS_MAX_ATTEMPTS": "1"}
    if problem == "unreachable":
        env["AWS_ENDPOINT_URL_SWF"] = "http://127.0.0.1:1"
        return env, "cannot reach SWF at http://127.0.0.1:1"
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        env.pop(key, None)
    env.update(AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_CONFIG_FILE=str(tmp_path / "none"),
               AWS_EC2_METADATA_DISABLED="true")
    return env, "no AWS credentials found"


@pytest.mark.parametrize("problem", ["unreachable", "no credentials"])
def test_endpoint_problems_are_one_line(server: Server, config: Config, tmp_path: Path, problem: str,
                                        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    env, expected = broken_env(server, tmp_path, problem)
    done = cli(server, config, "executions", env=env)  # one as a real run: no traceback, one line
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and expected in done.stderr, done.stderr
    for key in [k for k in server.env if k.startswith("AWS_")]:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    for args in (("terminate", "x", "--reason", "r"), ("signal", "x", "s"), ("cancel", "x"), ("check",),
                 ("show", "x"), ("start",), ("graph", "--execution", "x")):
        code, out, err = in_process(capsys, config, *args)
        assert code == (2 if args[0] == "check" else 1) and out == "", (args, out)  # check: 1 means "found some"
        assert err.count("\n") == 1 and expected in err, (args, err)


# ---- check -----------------------------------------------------------------------------------


def test_check_reports_and_alerts_every_unsuccessful_close(server: Server, config: Config, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    expected = build_every_status(server, config)
    alert_file = tmp_path / "alerts.jsonl"
    alert_file.unlink(missing_ok=True)  # the decider already alerted on "bad" and "stop"
    done = cli(server, config, "check", "--since", "1h")
    assert done.returncode == 1, done.stderr
    bad = {wid: status for wid, status in expected.items() if status not in ("COMPLETED", "OPEN")}
    lines = done.stdout.splitlines()
    assert lines[0].split()[:6] == ["Workflow", "id", "Run", "id", "Status", "Closed"]
    assert {line.split()[0]: line.split()[2] for line in lines[1:]} == bad
    sent = [json.loads(line) for line in alert_file.read_text().splitlines()]
    assert {a["workflow_id"]: a["status"] for a in sent} == bad
    by_id = {a["workflow_id"]: a for a in sent}
    assert by_id["bad"]["step"] == "Test_Task_A" and by_id["bad"]["reason"] == "Test_Task_A failed: exit code 1"
    assert by_id["gone"]["reason"] == "no longer needed"
    assert by_id["late"]["reason"] == "the execution timed out (START_TO_CLOSE)"
    assert by_id["stop"]["reason"] == "asked to stop"  # the cancel decision's details
    for a in sent:
        assert a["show"].startswith(f"python -m swfagent show {a['workflow_id']} --run-id {a['run_id']} --config ")

    code, out, _ = in_process(capsys, config, "check", "--since", "1h", "--json", "--no-alert")
    rows = json.loads(out)
    assert code == 1
    assert {r["execution"]["workflowId"]: r["alert"]["status"] for r in rows} == bad
    assert len(alert_file.read_text().splitlines()) == len(bad)  # --no-alert sent nothing


def test_check_exits_0_when_all_went_well(server: Server, config: Config, tmp_path: Path) -> None:
    Driver(server.client(), config).complete_demo("done")
    done = cli(server, config, "check", "--since", "1h")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("No execution closed other than COMPLETED since ")
    assert not (tmp_path / "alerts.jsonl").exists()


def test_an_id_template_fills_its_fields_and_nothing_else(config: Config) -> None:
    now = dt.datetime(2026, 12, 1, 6, 5, 4)
    assert executions.new_workflow_id(config, None, "daily-{date}-{time}", now) == "daily-2026-12-01-060504"
    for bad in ("{date:>999999999999}", "{date!s}", "{0}", "{nope}", "{", "a:b-{date}"):
        with pytest.raises(UsageError):
            executions.new_workflow_id(config, None, bad, now)
    with pytest.raises(UsageError, match="not a valid SWF name"):
        executions.new_workflow_id(config, "a/b", None, now)


def test_start_reads_an_input_file_with_a_bound(server: Server, config: Config,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = in_process(capsys, config, "start", "--input-file", "/dev/zero")  # endless: read to a bound only
    assert code == 2 and err.count("\n") == 1 and "over 131072 bytes" in err, err
