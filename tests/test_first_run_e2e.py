"""A newcomer's first hour (issue 11's trial), as real subprocesses on the embedded SWF: each row, the line they see.

Rows tested elsewhere: the reason naming register_swf.py (test_decide.py, test_swf_faults_e2e.py), `--check` and
`--remote` (test_register.py), `after:` as a string, the YAML line with a hint, the README's config being the shipped
one (test_config.py), and `swfagent` from any folder (test_package.py).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from swfagent.config import Config
from swfagent.executions import start_execution
from swfagent.logs import TIME_FORMAT
from tests.e2e import Local, e2e_config, final_state, pollers, register_and_start, wait_closed
from tests.support import ROOT, Server, docs, run_script, start_script

README = (ROOT / "README.md").read_text()
DOCS = docs()  # the README and the guides in docs/
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")


def test_a_taken_port_names_the_way_out() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_script("swfagent", "local", "--port", str(port), "--no-console", timeout=30)
    assert done.returncode == 2
    assert done.stderr == (f"swfagent local: error: cannot listen on 127.0.0.1:{port}: Address already in use: "
                           "give another port, --port N, or --port 0 for any free one\n")
    assert "`--port N`, or `--port 0`" in README


def test_a_single_run_with_nothing_queued_says_it_waits_and_ctrl_c_stops_it(server: Server, demo_config: Config) -> None:
    register_and_start(server, demo_config)
    proc = start_script("worker.py", "--config", str(demo_config.path), env=server.env)
    try:
        first = proc.stdout.readline()  # type: ignore[union-attr]
        assert first == "Waiting for an activity task on task list TestTasks (Ctrl-C stops)\n"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "polls until it has its one task" in DOCS


def _failing_step(tmp_path: Path) -> Config:
    return e2e_config(tmp_path, [{"activity": "Test_Task_C"}],
                      {"Test_Task_C": {"argv": [sys.executable, str(tmp_path / "tasks" / "c.py")]}})


def test_a_missing_script_shows_the_end_of_its_stderr_in_the_worker_and_in_show(server: Server, tmp_path: Path) -> None:
    config = _failing_step(tmp_path)
    register_and_start(server, config, "missing")
    cfg = ("--config", str(config.path))
    assert run_script("decider.py", *cfg, env=server.env).returncode == 0
    worker = run_script("worker.py", *cfg, env=server.env)
    lines = worker.stdout.splitlines()
    assert lines[2] == "Test_Task_C failed: exit code 2"
    assert re.fullmatch(r"  \| .*can't open file '.*/tasks/c\.py': \[Errno 2\] No such file or directory", lines[3])
    run_script("decider.py", *cfg, env=server.env)

    shown = run_script("swfagent", "show", "missing", *cfg, env=server.env).stdout
    assert "Test_Task_C-1, the end of its stderr (all of it: show --activity Test_Task_C-1):" in shown
    assert lines[3].strip() in [line.strip() for line in shown.splitlines()]
    whole = run_script("swfagent", "show", "missing", "--activity", "Test_Task_C-1", *cfg, env=server.env)
    assert whole.returncode == 0, whole.stderr
    assert re.search(r"^Reason +exit code 2$", whole.stdout, re.M)
    assert re.search(r"^Details:\n  \| .*No such file or directory$", whole.stdout, re.M)
    unknown = run_script("swfagent", "show", "missing", "--activity", "Test_Task_C-9", *cfg, env=server.env)
    assert unknown.returncode == 2
    assert unknown.stderr == ("swfagent show: error: no activity 'Test_Task_C-9' in missing "
                              "(its activities: Test_Task_C-1)\n")


def _echo_config(tmp_path: Path, word: str) -> Config:
    return e2e_config(tmp_path, [{"activity": "Say"}], {"Say": {"command": ["echo.py", word]}})


def _wait_for(proc_output: Path, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = proc_output.read_text()
        if text in seen:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in {proc_output.read_text()!r}")


def test_looping_pollers_pick_up_an_edited_config_and_keep_theirs_through_a_bad_edit(
        server: Server, tmp_path: Path) -> None:
    config = _echo_config(tmp_path, "one")
    register_and_start(server, config, "first")
    out, err = tmp_path / "worker.out", tmp_path / "worker.err"
    with pollers() as p, out.open("w") as o, err.open("w") as e:
        p.start("decider.py", config, "--loop", env=server.env)
        p.start("worker.py", config, "--loop", env=server.env, stdout=o, stderr=e)
        wait_closed(server, config, 1)
        assert final_state(server, config, "first").close_result == "one"

        _echo_config(tmp_path, "two")
        start_execution(server.client(), config, "second", None)
        wait_closed(server, config, 2)
        assert final_state(server, config, "second").close_result == "two"
        assert re.search(r"WARNING: config\.yaml changed: reloaded \(TestWorkflow 1\.0: 1 steps, 1 activities\)",
                         _wait_for(err, "reloaded"))

        config.path.write_text(config.path.read_text().replace("activities:", "activities:\n\tSay:"))
        start_execution(server.client(), config, "third", None)
        wait_closed(server, config, 3)
        assert final_state(server, config, "third").close_result == "two"
        seen = _wait_for(err, "going on with the config loaded before")
    line = next(line for line in seen.splitlines() if "going on with" in line)
    assert re.fullmatch(rf"{STAMP.pattern}ERROR: {re.escape(str(config.path))}: line \d+: .*tab.*: going on with the "
                        r"config loaded before", line), line
    assert "Traceback" not in seen


def test_a_decider_leaves_a_workflow_version_it_does_not_have_in_one_line(server: Server, tmp_path: Path) -> None:
    config = _echo_config(tmp_path, "one")
    register_and_start(server, config)
    client = server.client()
    client.register_workflow_type(domain="TEST_SWF", name="TestWorkflow", version="2.0",
                                  defaultTaskStartToCloseTimeout="10", defaultExecutionStartToCloseTimeout="600",
                                  defaultTaskList={"name": "TestTasks"}, defaultChildPolicy="TERMINATE")
    for workflow_id in ("v2", "v2-again"):
        client.start_workflow_execution(domain="TEST_SWF", workflowId=workflow_id,
                                        workflowType={"name": "TestWorkflow", "version": "2.0"})
    start_execution(client, config, "v1", None)
    done = run_script("decider.py", "--config", str(config.path), env=server.env)
    assert done.returncode == 0, done.stderr
    # said once for the version; the run goes on to a task of its own
    first, *rest = done.stderr.splitlines()
    assert first == f"Config: {config.path} (TestWorkflow 1.0: 1 steps, 1 activities)"  # what it decides with
    assert rest == ["ERROR: workflow v2 is of type TestWorkflow 2.0, and config.yaml has TestWorkflow 1.0: "
                    "its decision tasks are left to a decider that has it"]
    assert done.stdout.splitlines()[-1] == "Decision Made: Schedule activity -- Say"
    open_ids = {e["execution"]["workflowId"] for e in client.list_open_workflow_executions(
        domain="TEST_SWF", startTimeFilter={"oldestDate": 0})["executionInfos"]}
    assert open_ids == {"v1", "v2", "v2-again"}  # the 2.0 ones left open, for a decider with 2.0


def _readme_block(starts: str) -> str:
    """The README's fenced block whose first line starts with `starts`."""
    blocks = re.findall(r"^```\w*\n(.*?)^```$", DOCS, re.S | re.M)
    return next(b for b in blocks if b.startswith(starts))


def test_the_readmes_cron_lines_run_as_cron_runs_them(server: Server, demo_config: Config, tmp_path: Path) -> None:
    """cron's nearly empty environment; the folder and swf.env as the README says; logs stamped with the time."""
    home = tmp_path / "opt"
    home.mkdir()
    for name in ("decider.py", "worker.py", "swfagent", "tasks"):
        (home / name).symlink_to(ROOT / name)
    (home / "config.yaml").symlink_to(demo_config.path)
    (home / ".venv").symlink_to(Path(sys.prefix))
    env_file = _readme_block("# /opt/swfagent/swf.env")
    assert "export AWS_DEFAULT_REGION=" in env_file
    local = {k: v for k, v in server.env.items() if k.startswith("AWS_")}
    (home / "swf.env").write_text("".join(f"export {k}={v}\n" for k, v in local.items()))
    crontab = [line for line in _readme_block("# crontab -e").splitlines() if line[:1] in "*5"]
    assert len(crontab) == 3
    logs = tmp_path / "log"
    logs.mkdir()

    def cron(line: str) -> None:
        command = line.split(None, 5)[5].replace("/opt/swfagent", str(home))
        command = command.replace("/var/log", str(logs)).replace("/tmp/swf-", f"{tmp_path}/swf-")
        done = subprocess.run(["/bin/bash", "-c", command], env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                              "SHELL": "/bin/bash"}, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and not done.stdout and not done.stderr, done

    register_and_start(server, demo_config)
    decider, worker, start = crontab
    cron(start)
    cron(start)  # the same daily id twice: said, exit 0
    for line in (decider, worker, decider, worker, decider):
        cron(line)
    closed = wait_closed(server, demo_config, 1, timeout=5)
    assert [c["closeStatus"] for c in closed] == ["COMPLETED"]
    assert closed[0]["execution"]["workflowId"].startswith("daily-")
    decider_log = (logs / "swf-decider.log").read_text().splitlines()
    assert decider_log and all(STAMP.match(line) for line in decider_log), decider_log
    assert decider_log[-1].endswith(" Decision Made: Complete the workflow execution")
    time.strptime(decider_log[0][:19], TIME_FORMAT)
    assert all(STAMP.match(line) for line in (logs / "swf-worker.log").read_text().splitlines())
    assert "already" in (logs / "swf-start.log").read_text()


def test_on_a_terminal_the_lines_are_the_articles(server: Server, demo_config: Config) -> None:
    """A pseudo-terminal as stdout: no timestamp in front (the walkthrough's lines)."""
    import pty

    register_and_start(server, demo_config, "Demo")
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, str(ROOT / "decider.py"), "--config", str(demo_config.path)], cwd=ROOT,
                              env=server.env, stdout=follower, stderr=subprocess.PIPE, timeout=60)
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
    assert proc.returncode == 0, proc.stderr
    assert seen.decode().splitlines()[0] == "Received a Decision Task"


def test_an_unknown_region_is_one_line_at_once(server: Server, demo_config: Config) -> None:
    began = time.monotonic()
    real = {k: v for k, v in server.env.items() if k != "AWS_ENDPOINT_URL_SWF"} | {"AWS_DEFAULT_REGION": "us-east-99"}
    done = run_script("worker.py", "--config", str(demo_config.path), env=real, timeout=30)
    assert done.returncode == 2
    assert re.fullmatch(r"worker\.py: error: unknown AWS region 'us-east-99': SWF has no such region \(as botocore "
                        r"[\d.]+ knows them\); set AWS_DEFAULT_REGION \(e\.g\. us-east-1\) or your profile's region\n",
                        done.stderr), done.stderr
    # against the embedded SWF (an endpoint of its own), the server says so
    embedded = {**server.env, "AWS_DEFAULT_REGION": "us-east-99"}
    done = run_script("worker.py", "--config", str(demo_config.path), env=embedded, timeout=30)
    assert done.returncode != 0
    said, error = done.stderr.splitlines()  # the config it runs, then the one line of the error
    assert said.startswith("Config: ") and "unknown region us-east-99: SWF has no such region" in error, done.stderr
    assert time.monotonic() - began < 20  # not the 21 s of retries, twice, that the trial saw


def test_no_region_is_the_same_exit_as_an_unknown_one(server: Server, demo_config: Config) -> None:
    unset = {k: v for k, v in server.env.items() if k not in ("AWS_ENDPOINT_URL_SWF", "AWS_DEFAULT_REGION", "AWS_REGION")}
    unset |= {"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
    for script in ("worker.py", "swfagent"):
        args = ("executions",) if script == "swfagent" else ()
        done = run_script(script, *args, "--config", str(demo_config.path), env=unset, timeout=30)
        assert done.returncode == 2, done.stderr  # as for an unknown region, and as the README says
        assert done.stderr.endswith("error: no AWS region is set: export AWS_DEFAULT_REGION (e.g. us-east-1) or use "
                                    "a profile with a region\n"), done.stderr
        assert done.stderr.count("\n") == 1


@pytest.fixture
def local_server() -> Iterator[Local]:
    """`swfagent local` as a subprocess (its own terminal's log), on any free port."""
    local = Local("--no-console")
    yield local
    local.stop()


def test_the_servers_terminal_has_one_line_per_refused_request(local_server: Local, tmp_path: Path) -> None:
    env = local_server.env
    config = _echo_config(tmp_path, "x")
    cfg = ("--config", str(config.path))
    assert run_script("register_swf.py", *cfg, env=env).returncode == 0
    assert run_script("swfagent", "start", "--workflow-id", "c", *cfg, env=env).returncode == 0
    cancel = run_script("swfagent", "cancel", "c", *cfg, env=env)
    assert cancel.returncode == 0, cancel.stderr
    again = run_script("swfagent", "start", "--workflow-id", "c", *cfg, env=env)  # refused: already open
    assert again.returncode == 0, again.stderr
    bad = boto3.client("swf", endpoint_url=env["AWS_ENDPOINT_URL_SWF"], region_name="us-east-99",
                       aws_access_key_id="x", aws_secret_access_key="y")
    with pytest.raises(bad.exceptions.ClientError):
        bad.list_domains(registrationStatus="REGISTERED")
    err = local_server.stop()
    assert "Traceback" not in err
    refused = [line for line in err.splitlines() if " refused " in line]
    assert len(refused) == 2, err
    assert re.search(r"StartWorkflowExecution refused \(400\): WorkflowExecutionAlreadyStartedFault", refused[0])
    assert re.search(r"ListDomains refused \(400\): UnrecognizedClientException: unknown region us-east-99", refused[1])


def test_the_readme_says_how_long_make_test_takes_and_that_graphviz_is_optional() -> None:
    head = README.split("\n## ", 1)[0]
    assert re.search(r"^make test +# [^\n]*\babout \d+ minutes", head, re.M), head
    graphviz = DOCS[DOCS.index("DOT goes to Graphviz"):][:400]
    assert "optional and not installed by `make`" in graphviz and "apt-get install graphviz" in graphviz
