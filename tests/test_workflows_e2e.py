"""Several workflows in one config.yaml, end to end: one decider and one worker run executions of both."""

from __future__ import annotations

from pathlib import Path

from swfagent.executions import list_executions
from tests.e2e import final_state, pollers, run_to_close, two_workflows_config, wait_for
from tests.support import Server, run_script


def _ok(*args: str, env: dict[str, str]) -> str:
    """What the script printed on stdout, after it exited 0 with no traceback."""
    done = run_script(*args, env=env)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    return done.stdout


def test_one_decider_and_one_worker_run_executions_of_both_workflows(server: Server, tmp_path: Path) -> None:
    config = two_workflows_config(tmp_path)
    cfg = ("--config", str(config.path))
    out = _ok("register_swf.py", *cfg, env=server.env)
    assert "Workflow type Forwards 1.0: registered" in out and "Workflow type Backwards 2.0: registered" in out
    assert "Started Forwards 1.0: workflow id fwd," in _ok("swfagent", "start", "--workflow-id", "fwd", "--input", "x",
                                                          *cfg, env=server.env)
    assert "Started Backwards 2.0: workflow id back," in _ok(
        "swfagent", "start", "--workflow", "Backwards", "--workflow-id", "back", "--input", "x", *cfg, env=server.env)
    closed, output = run_to_close(server, config, 2)
    assert sorted((e["execution"]["workflowId"], e["workflowType"]["name"], e["closeStatus"]) for e in closed) == [
        ("back", "Backwards", "COMPLETED"), ("fwd", "Forwards", "COMPLETED")], output
    assert final_state(server, config, "fwd").close_result == "xab"
    assert final_state(server, config, "back").close_result == "xba"  # decided with its own flow chart
    assert "(Forwards 1.0: 2 steps; Backwards 2.0: 2 steps; 2 activities)" in output
    shown = _ok("swfagent", "show", "back", *cfg, env=server.env)
    assert "Backwards 2.0" in shown and "COMPLETED" in shown


def test_a_single_run_decider_takes_the_task_of_whichever_list_has_one(server: Server, tmp_path: Path) -> None:
    config = two_workflows_config(tmp_path)
    cfg = ("--config", str(config.path))
    _ok("register_swf.py", *cfg, env=server.env)
    _ok("swfagent", "start", "--workflow", "Backwards", "--workflow-id", "back", *cfg, env=server.env)
    # the first task list (ForwardTasks) has nothing: the run takes Backwards' task, and decides it with B first
    assert _ok("decider.py", *cfg, env=server.env).splitlines()[-1] == "Decision Made: Schedule activity -- B"
    assert "B succeeded" in _ok("worker.py", *cfg, env=server.env)
    assert _ok("decider.py", "--until-idle", *cfg, env=server.env).splitlines()[-1] == (
        "Decision Made: Schedule activity -- A")
    assert _ok("decider.py", "--until-idle", *cfg, env=server.env) == ""  # nothing queued on either list


def test_a_type_the_config_lacks_is_left_to_another_decider(server: Server, tmp_path: Path) -> None:
    config = two_workflows_config(tmp_path)
    client = server.client()
    _ok("register_swf.py", "--config", str(config.path), env=server.env)
    client.register_workflow_type(domain="TEST_SWF", name="Other", version="1.0", defaultTaskList={"name": "ForwardTasks"},
                                  defaultExecutionStartToCloseTimeout="60", defaultTaskStartToCloseTimeout="5",
                                  defaultChildPolicy="TERMINATE")
    client.start_workflow_execution(domain="TEST_SWF", workflowId="other", workflowType={"name": "Other", "version": "1.0"})
    with pollers() as p:
        p.start("decider.py", config, "--loop", env=server.env)
        wait_for(lambda: bool(list_executions(client, config, "open")), timeout=10)
        wait_for(lambda: "DecisionTaskStarted" in [
            e["eventType"] for e in client.get_workflow_execution_history(
                domain="TEST_SWF", execution={"workflowId": "other", "runId": list_executions(
                    client, config, "open")[0]["execution"]["runId"]})["events"]], timeout=20)
    assert ("workflow other is of type Other 1.0, and config.yaml has Forwards 1.0, Backwards 2.0: its decision tasks "
            "are left to a decider that has it") in p.all_output()


def test_graph_draws_the_named_workflow(tmp_path: Path) -> None:
    config = two_workflows_config(tmp_path)
    done = run_script("swfagent", "graph", "--workflow", "Backwards", "--config", str(config.path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.index("B") < done.stdout.index("A")
    done = run_script("swfagent", "start", "--workflow", "Nope", "--config", str(config.path))
    assert done.returncode == 2 and done.stderr == (
        "swfagent start: error: no workflow 'Nope' in config.yaml (its workflows: Forwards, Backwards)\n")
