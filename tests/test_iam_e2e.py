"""End to end under IAM: one user per role on the embedded SWF enforcing IAM, the real scripts, denials.

moto (under the embedded SWF) checks credentials and actions once INITIAL_NO_AUTH_ACTION_COUNT requests have been
served: the first ones create the users, their policies and their keys with made-up root keys. It
matches every SWF request against resource "*" and evaluates no SWF condition, so the users get the
policies generated with wildcard=True: the same actions, on "*", without conditions.

The config has two workflows: the decider starts a child execution of the second and continues it as new with its
own keys (the decisions its policy grants, carried out by the embedded SWF).

Also the secrets check: across a whole run, no task token, access key or secret key in any output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from swfagent.config import Config, load_config
from swfagent.policies import ROLES, actions, policy
from tests.e2e import register_and_start
from tests.support import HELPERS, ROOT, Server, run_script, two_workflows_data, write_config

REGION = "us-east-1"
# Requests served before moto enforces IAM: the set-up's 5 per role, and spare ones burnt afterwards.
NO_AUTH_REQUESTS = 5 * len(ROLES) + 5
# one worker runs them all: the IAM server (the module's fixture) is set up once
pytestmark = pytest.mark.xdist_group("iam")
ROOT_KEYS = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}


@dataclass
class IamSWF:
    """A moto server enforcing IAM, with one IAM user (and its keys) per role."""

    endpoint: str
    config: Config
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    accepted: list[str] = field(default_factory=list)  # scoped policies IAM's validator took

    def env(self, role: str) -> dict[str, str]:
        """The scripts' environment with this role's keys: no other AWS settings leak in."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        key, secret = self.keys[role]
        return {
            **base, "PYTHONUNBUFFERED": "1", "AWS_ENDPOINT_URL_SWF": self.endpoint, "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }

    def swf(self, role: str) -> Any:
        """A boto3 SWF client with this role's keys."""
        key, secret = self.keys[role]
        return boto3.session.Session().client(
            "swf", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=key,
            aws_secret_access_key=secret)

    def run(self, role: str, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a script with this role's keys and the test config."""
        return run_script(script, *args, "--config", str(self.config.path), env=self.env(role))


def _endpoint(proc: subprocess.Popen[str]) -> str:
    """The endpoint `python -m swfagent local` prints once it serves."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("export AWS_ENDPOINT_URL_SWF="):
            return line.strip().split("=", 1)[1]
    raise RuntimeError(f"the embedded SWF exited with {proc.wait()}")


@pytest.fixture(scope="module")
def iam_swf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IamSWF]:
    """The IAM-enforcing server, its users created and enforcement on."""
    tmp = tmp_path_factory.mktemp("iam")
    data = two_workflows_data()
    data["activities"]["Test_Task_A"]["command"] += ["--out", str(tmp / "a.out")]
    config = load_config(write_config(tmp / "config.yaml", data))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(NO_AUTH_REQUESTS)
    proc = subprocess.Popen([sys.executable, "-m", "swfagent", "local", "--port", "0", "--poll-seconds", "2", "--no-console"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        endpoint = _endpoint(proc)
        server = IamSWF(endpoint, config)
        iam = boto3.session.Session().client("iam", endpoint_url=endpoint, region_name=REGION, **ROOT_KEYS)
        for role in ROLES:
            iam.create_user(UserName=f"swfagent-{role}")
            iam.put_user_policy(UserName=f"swfagent-{role}", PolicyName=f"swfagent-{role}",
                                PolicyDocument=json.dumps(policy(config, role, wildcard=True)))
            key = iam.create_access_key(UserName=f"swfagent-{role}")["AccessKey"]
            server.keys[role] = (key["AccessKeyId"], key["SecretAccessKey"])
            # the scoped policy too, on a user with no keys: IAM's policy validator must accept it
            iam.create_user(UserName=f"scoped-{role}")
            iam.put_user_policy(UserName=f"scoped-{role}", PolicyName=f"swfagent-{role}",
                                PolicyDocument=json.dumps(policy(config, role)))
            server.accepted.append(role)
        for _ in range(NO_AUTH_REQUESTS):  # burn the spare unauthenticated requests: enforcement starts
            try:
                iam.list_users()
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "InvalidClientTokenId"
                break
        else:
            raise AssertionError("moto never started enforcing IAM")
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_iam_accepts_the_scoped_policies(iam_swf: IamSWF) -> None:
    assert iam_swf.accepted == list(ROLES)


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_each_role_does_its_part_of_the_walkthrough(iam_swf: IamSWF) -> None:
    out = _ok(iam_swf.run("admin", "register_swf.py"))
    assert "Domain TEST_SWF: registered" in out
    assert "workflow id iam-demo," in _ok(iam_swf.run("operator", "swfagent", "start", "--workflow-id", "iam-demo"))
    assert _ok(iam_swf.run("decider", "decider.py")).splitlines()[-1] == "Decision Made: Schedule activity -- Test_Task_A"
    assert "Test_Task_A succeeded with output: " in _ok(iam_swf.run("worker", "worker.py"))
    assert _ok(iam_swf.run("decider", "decider.py")).splitlines()[-1] == "Decision Made: Schedule activity -- Test_Task_B"
    assert "Test_Task_B succeeded with output: " in _ok(iam_swf.run("worker", "worker.py"))
    assert _ok(iam_swf.run("decider", "decider.py")).splitlines()[-1] == "Decision Made: Complete the workflow execution"
    shown = _ok(iam_swf.run("operator", "swfagent", "show", "iam-demo"))
    assert "COMPLETED" in shown and "Test_Task_B-1" in shown
    assert "iam-demo" in _ok(iam_swf.run("operator", "swfagent", "executions"))


# One harmless-if-denied call per SWF action: moto checks IAM before it looks at the arguments.
_EX = {"workflowId": "nope", "runId": "nope"}
_OLDEST = {"startTimeFilter": {"oldestDate": 0}}
CALLS: dict[str, Callable[[Any], Any]] = {
    "swf:RegisterDomain": lambda c: c.register_domain(name="Other", workflowExecutionRetentionPeriodInDays="1"),
    "swf:DescribeDomain": lambda c: c.describe_domain(name="TEST_SWF"),
    "swf:DeprecateDomain": lambda c: c.deprecate_domain(name="TEST_SWF"),
    "swf:ListDomains": lambda c: c.list_domains(registrationStatus="REGISTERED"),
    "swf:RegisterWorkflowType": lambda c: c.register_workflow_type(domain="TEST_SWF", name="W", version="9"),
    "swf:DescribeWorkflowType": lambda c: c.describe_workflow_type(
        domain="TEST_SWF", workflowType={"name": "TestWorkflow", "version": "1.0"}),
    "swf:RegisterActivityType": lambda c: c.register_activity_type(domain="TEST_SWF", name="A", version="9"),
    "swf:DescribeActivityType": lambda c: c.describe_activity_type(
        domain="TEST_SWF", activityType={"name": "Test_Task_A", "version": "1.0"}),
    "swf:ListActivityTypes": lambda c: c.list_activity_types(domain="TEST_SWF", registrationStatus="REGISTERED"),
    "swf:StartWorkflowExecution": lambda c: c.start_workflow_execution(
        domain="TEST_SWF", workflowId="intruder", workflowType={"name": "TestWorkflow", "version": "1.0"}),
    "swf:TerminateWorkflowExecution": lambda c: c.terminate_workflow_execution(domain="TEST_SWF", workflowId="nope"),
    "swf:SignalWorkflowExecution": lambda c: c.signal_workflow_execution(
        domain="TEST_SWF", workflowId="nope", signalName="s"),
    "swf:RequestCancelWorkflowExecution": lambda c: c.request_cancel_workflow_execution(
        domain="TEST_SWF", workflowId="nope"),
    "swf:ListOpenWorkflowExecutions": lambda c: c.list_open_workflow_executions(domain="TEST_SWF", **_OLDEST),
    "swf:ListClosedWorkflowExecutions": lambda c: c.list_closed_workflow_executions(domain="TEST_SWF", **_OLDEST),
    "swf:CountOpenWorkflowExecutions": lambda c: c.count_open_workflow_executions(domain="TEST_SWF", **_OLDEST),
    "swf:DescribeWorkflowExecution": lambda c: c.describe_workflow_execution(domain="TEST_SWF", execution=_EX),
    "swf:GetWorkflowExecutionHistory": lambda c: c.get_workflow_execution_history(domain="TEST_SWF", execution=_EX),
    "swf:PollForDecisionTask": lambda c: c.poll_for_decision_task(domain="TEST_SWF", taskList={"name": "TestTasks"}),
    "swf:RespondDecisionTaskCompleted": lambda c: c.respond_decision_task_completed(taskToken="nope", decisions=[]),
    "swf:PollForActivityTask": lambda c: c.poll_for_activity_task(domain="TEST_SWF", taskList={"name": "TestTasks"}),
    "swf:RecordActivityTaskHeartbeat": lambda c: c.record_activity_task_heartbeat(taskToken="nope"),
    "swf:RespondActivityTaskCompleted": lambda c: c.respond_activity_task_completed(taskToken="nope", result="x"),
    "swf:RespondActivityTaskFailed": lambda c: c.respond_activity_task_failed(taskToken="nope", reason="x"),
    "swf:RespondActivityTaskCanceled": lambda c: c.respond_activity_task_canceled(taskToken="nope"),
}


def _denied(exc: ClientError) -> bool:
    """SWF's denial: AccessDeniedException, HTTP 400 (moto's own server answers an XML 403 page)."""
    return exc.response["ResponseMetadata"]["HTTPStatusCode"] == 400 and (
        exc.response.get("Error", {}).get("Code") == "AccessDeniedException")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_denied_the_actions_outside_its_policy(iam_swf: IamSWF, role: str) -> None:
    allowed = actions(policy(iam_swf.config, role))
    client = iam_swf.swf(role)
    outside = [a for a in CALLS if a not in allowed]
    assert len(outside) >= len(CALLS) // 2
    for action in outside:
        with pytest.raises(ClientError) as caught:
            CALLS[action](client)
        assert _denied(caught.value), (action, caught.value.response)


def test_the_roles_split_the_scripts_actions_without_overlap(iam_swf: IamSWF) -> None:
    # polls and registrations each belong to exactly one role
    owners = {a: [r for r in ROLES if a in actions(policy(iam_swf.config, r))] for a in CALLS}
    assert owners["swf:PollForActivityTask"] == ["worker"]
    assert owners["swf:PollForDecisionTask"] == ["decider"]
    assert owners["swf:StartWorkflowExecution"] == ["operator"]
    assert owners["swf:TerminateWorkflowExecution"] == ["operator"]
    assert owners["swf:RegisterDomain"] == ["admin"]
    assert owners["swf:DeprecateDomain"] == owners["swf:ListDomains"] == owners["swf:CountOpenWorkflowExecutions"] == []


WRONG_ROLE = [
    ("worker", "register_swf.py"),
    ("worker", "decider.py"),
    ("decider", "worker.py"),
    ("worker", "swfagent", "start", "--workflow-id", "intruder"),
    ("admin", "swfagent", "show", "iam-demo"),
    ("admin", "swfagent", "terminate", "iam-demo", "--reason", "no"),
    ("operator", "register_swf.py"),
]


def _prog(script: str, args: tuple[str, ...]) -> str:
    return f"swfagent {args[0]}" if script == "swfagent" else script


@pytest.mark.parametrize("role,script,args", [(r, s, tuple(a)) for r, s, *a in WRONG_ROLE],
                         ids=[" ".join(w) for w in WRONG_ROLE])
def test_a_script_run_with_the_wrong_roles_keys_fails_in_one_line(
        iam_swf: IamSWF, role: str, script: str, args: tuple[str, ...]) -> None:
    done = iam_swf.run(role, script, *args)
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.strip().splitlines() if not line.startswith("Config: ")]  # a poller's first
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{_prog(script, args)}: error: "), lines[0]


def _decision_task(client: Any, task_list: str, workflow_id: str) -> dict[str, Any]:
    task = client.poll_for_decision_task(domain="TEST_SWF", taskList={"name": task_list}, identity="iam-test")
    assert task.get("workflowExecution", {}).get("workflowId") == workflow_id, task.get("workflowExecution")
    return dict(task)


def _event_types(client: Any, workflow_id: str, run_id: str) -> list[str]:
    history = client.get_workflow_execution_history(
        domain="TEST_SWF", execution={"workflowId": workflow_id, "runId": run_id})
    return [e["eventType"] for e in history["events"]]


def _open_run(client: Any, workflow_id: str) -> str:
    infos = client.list_open_workflow_executions(domain="TEST_SWF", executionFilter={"workflowId": workflow_id},
                                                 **_OLDEST)["executionInfos"]
    assert len(infos) == 1, infos
    return str(infos[0]["execution"]["runId"])


def test_the_decider_starts_a_child_and_continues_it_as_new_with_its_own_keys(iam_swf: IamSWF) -> None:
    child = iam_swf.config.workflow_named("Backwards")
    assert {"swf:StartChildWorkflowExecution", "swf:ContinueAsNewWorkflowExecution"} <= actions(
        policy(iam_swf.config, "decider"))
    decider, operator = iam_swf.swf("decider"), iam_swf.swf("operator")
    _ok(iam_swf.run("admin", "register_swf.py"))
    _ok(iam_swf.run("operator", "swfagent", "start", "--workflow-id", "iam-parent"))
    try:
        task = _decision_task(decider, iam_swf.config.workflow.task_list, "iam-parent")
        decider.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[{
            "decisionType": "StartChildWorkflowExecution", "startChildWorkflowExecutionDecisionAttributes": {
                "workflowType": {"name": child.name, "version": child.version}, "workflowId": "iam-child",
                "taskList": {"name": child.task_list}}}])
        parent = _event_types(operator, "iam-parent", _open_run(operator, "iam-parent"))
        assert "ChildWorkflowExecutionStarted" in parent and "StartChildWorkflowExecutionFailed" not in parent, parent
        first = _open_run(operator, "iam-child")
        task = _decision_task(decider, child.task_list, "iam-child")
        decider.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[{
            "decisionType": "ContinueAsNewWorkflowExecution", "continueAsNewWorkflowExecutionDecisionAttributes": {
                "workflowTypeVersion": child.version, "taskList": {"name": child.task_list}, "input": "again"}}])
        assert _event_types(operator, "iam-child", first)[-1] == "WorkflowExecutionContinuedAsNew"
        assert _open_run(operator, "iam-child") != first
    finally:  # nothing left for the scripts' single runs to take
        for workflow_id in ("iam-child", "iam-parent"):
            try:
                operator.terminate_workflow_execution(domain="TEST_SWF", workflowId=workflow_id, reason="test over")
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "UnknownResourceFault"


def test_a_denial_line_says_access_denied_and_names_the_action(iam_swf: IamSWF) -> None:
    done = iam_swf.run("worker", "register_swf.py")
    line = done.stderr.strip().splitlines()[-1]
    assert "access denied" in line.lower() and "swf:RegisterDomain" in line, line


# ---- secrets: no task token, no access key, no secret key in any output ----------------------

FAKE_KEY = "AKIASWFAGENTSECRET01"
FAKE_SECRET = "swfagent/secret+key/0123456789abcdefghijKLMN"


def _secrets_env(server: Server, tokens: Path, **extra: str) -> dict[str, str]:
    return {
        **server.env, "AWS_ACCESS_KEY_ID": FAKE_KEY, "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "PYTHONPATH": str(HELPERS / "hooks"), "SWFAGENT_TEST_TOKEN_FILE": str(tokens), **extra,
    }


def _assert_no_secret(outputs: list[str], tokens: Path) -> None:
    recorded = set(tokens.read_text().split()) if tokens.exists() else set()
    assert recorded, "the token recorder saw no task token: the hook did not load"
    text = "\n".join(outputs)
    for secret in (*recorded, FAKE_KEY, FAKE_SECRET):
        assert secret not in text, f"{secret[:8]}... appears in the output"


def test_no_task_token_or_key_in_any_output(server: Server, demo_config: Config, tmp_path: Path) -> None:
    """The walkthrough, its pollers in the text and the json log formats, verbose too, with --stats."""
    config = demo_config  # the demo's config, A writing its a.out in tmp_path
    tokens = tmp_path / "tokens.txt"
    env = _secrets_env(server, tokens)
    cfg = ("--config", str(config.path))
    text, json_ = (*cfg, "--stats"), (*cfg, "--log-format", "json", "--stats", "-v")
    runs: list[tuple[str, tuple[str, ...]]] = [
        ("register_swf.py", cfg), ("swfagent", ("start", "--workflow-id", "demo", "--input", "x", *cfg)),
        ("decider.py", text), ("worker.py", text), ("decider.py", json_), ("worker.py", json_),
        ("decider.py", (*text, "-v", "--until-idle")),
        ("swfagent", ("show", "demo", *cfg)), ("swfagent", ("show", "demo", "--json", *cfg)),
    ]
    outputs = []
    for script, args in runs:
        done = run_script(script, *args, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        outputs += [done.stdout, done.stderr]
    joined = "".join(outputs)
    assert "Test_Task_B succeeded" in joined and "Complete the workflow execution" in joined
    assert '"message": "Received an Activity Task"' in joined  # the json format was used too
    _assert_no_secret(outputs, tokens)


@pytest.mark.parametrize("script,operation", [
    ("worker.py", "RespondActivityTaskCompleted"),
    ("decider.py", "RespondDecisionTaskCompleted"),
])
def test_an_error_that_quotes_the_task_token_does_not_print_it(
        server: Server, demo_config: Config, tmp_path: Path, script: str, operation: str) -> None:
    config = demo_config  # the demo's config, A writing its a.out in tmp_path
    tokens = tmp_path / "tokens.txt"
    env = _secrets_env(server, tokens)
    cfg = ("--config", str(config.path))
    register_and_start(server, config, "echo")  # no task token yet: the scripts' runs start below
    outputs = [_ok(run_script("decider.py", *cfg, env=env))] if script == "worker.py" else []
    done = run_script(script, *cfg, env={**env, "SWFAGENT_TEST_ECHO_TOKEN": operation})
    assert "Traceback" not in done.stderr, done.stderr
    assert "bad request for task token" in done.stderr, done.stderr
    # the worker cannot report and says so (exit 1); the decider, refused for good, fails the execution instead
    assert done.returncode == (1 if script == "worker.py" else 0), done.stderr
    _assert_no_secret([*outputs, done.stdout, done.stderr], tokens)

