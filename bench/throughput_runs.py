"""The throughput bench's runs: the embedded SWF, the pollers (ours or simpleflow's) and their CPU, one run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PEER_DIR = BENCH / "peer_simpleflow"
PEER_VENV = BENCH / ".peer-venv"
PEER_REQUIREMENT = "simpleflow==0.36.0"
HOST = "127.0.0.1"  # the only address this bench talks to
OURS = "swfagent"
PEER = "simpleflow"


# ---- processes -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the embedded SWF exited with {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the embedded SWF did not listen on {HOST}:{port} within {seconds:g} s")


class Processes:
    """What a run started: each in a session of its own, stopped with SIGTERM, then its group killed."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with open(self.logdir / f"{name}.out", "wb") as out, open(self.logdir / f"{name}.err", "wb") as err:
            proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True)
        self.started.append((name, proc))
        return proc

    @staticmethod
    def stop(proc: subprocess.Popen[bytes], grace: float = 15.0) -> None:
        try:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(grace)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            try:  # whatever is left of its group (simpleflow's forks; anything the SIGTERM missed)
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def stop_all(self) -> None:
        for _, proc in reversed(self.started):
            self.stop(proc)

    def text(self, name: str, stream: str) -> str:
        path = self.logdir / f"{name}.{stream}"
        return path.read_text(errors="replace") if path.exists() else ""


# ---- CPU from /proc ----------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, int, int]]:
    """pid -> (ppid, utime+stime, cutime+cstime) in clock ticks, for every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(")") + 2:].split()
        # fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17
        table[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))
    return table


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all CPUs), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / TICK  # all but idle and iowait


def self_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def tree_cpu(roots: list[int]) -> tuple[float, float]:
    """(CPU s of the live processes of these trees, CPU s of their reaped descendants)."""
    table = _proc_table()
    children = defaultdict(list)
    for pid, (ppid, _, _) in table.items():
        children[ppid].append(pid)
    own = reaped = 0
    todo = [r for r in roots if r in table]
    while todo:
        pid = todo.pop()
        own += table[pid][1]
        reaped += table[pid][2]
        todo.extend(children.get(pid, []))
    return own / TICK, reaped / TICK


# ---- one run -------------------------------------------------------------------------------------


def base_env(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL_SWF=f"http://{HOST}:{port}", AWS_DEFAULT_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    env.pop("PYTHONPATH", None)
    return env


def bench_client(port: int) -> Any:
    import boto3
    import botocore.config

    return boto3.session.Session().client(
        "swf", endpoint_url=f"http://{HOST}:{port}", region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=botocore.config.Config(read_timeout=70, retries={"mode": "standard"}),
    )


def read_records(path: Path) -> list[dict[str, Any]]:
    out = []
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass  # a line cut by a kill
    return out


def count_closes(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as f:
        return f.read().count(b'"close":true')


class Setup:
    """What differs between swfagent and the peer: registration, pollers, starts."""

    def __init__(self, kind: str):
        self.kind = kind
        self.poll_threads = 1
        if kind == OURS:
            from swfagent.config import load_config

            self.config = load_config(ROOT / "config.yaml")
            self.domain = self.config.domain.name
        else:
            self.domain = "PEER_SWF"

    def register(self, env: dict[str, str], client: Any) -> None:
        if self.kind == OURS:
            done = subprocess.run([sys.executable, str(ROOT / "register_swf.py")], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                raise RuntimeError(f"register_swf.py failed: {done.stderr.strip()}")
            return
        # The peer's types, registered up front so simpleflow's own lazy registration is not measured.
        client.register_domain(name=self.domain, workflowExecutionRetentionPeriodInDays="1")
        client.register_workflow_type(
            domain=self.domain, name="PeerWorkflow", version="1.0",
            defaultTaskList={"name": "PeerDecisions"}, defaultChildPolicy="TERMINATE",
            defaultExecutionStartToCloseTimeout="3600", defaultTaskStartToCloseTimeout="30")
        for name in ("peer_flow.task_a", "peer_flow.task_b"):
            client.register_activity_type(
                domain=self.domain, name=name, version="1.0", defaultTaskList={"name": "PeerActivities"},
                defaultTaskStartToCloseTimeout="300", defaultTaskHeartbeatTimeout="60",
                defaultTaskScheduleToStartTimeout="3600", defaultTaskScheduleToCloseTimeout="3900")

    def pollers(self, env: dict[str, str], logdir: Path, profile: bool = False
                ) -> list[tuple[str, list[str], dict[str, str], Path]]:
        """(name, argv, env, probe file) for the decider and the two workers."""
        me = [sys.executable, str(BENCH / "throughput_probe.py")]
        out = []
        if self.kind == OURS:
            for name, script in (("decider", "decider.py"), ("worker1", "worker.py"), ("worker2", "worker.py")):
                probe = logdir / f"{name}.probe"
                penv = {**env, "BENCH_PROFILE": str(logdir / f"{name}.prof")} if profile else env
                out.append((name, [*me, str(probe), str(ROOT / script), "--loop", "--stats", "--log-format", "json",
                                   "--concurrency", str(self.poll_threads)], penv, probe))
            return out
        peer_python = str(PEER_VENV / "bin" / "python")
        me[0] = peer_python
        # the task scripts run with the interpreter swfagent's worker gives them: the same processes
        penv = {**env, "PYTHONPATH": str(PEER_DIR), "SWF_DOMAIN": self.domain, "PEER_TASK_PYTHON": sys.executable}
        commands = (("decider", ["decider.start", "--domain", self.domain, "--task-list", "PeerDecisions", "-N", "1",
                                 "peer_flow.PeerWorkflow"]),
                    ("worker1", ["worker.start", "--domain", self.domain, "--task-list", "PeerActivities", "-N", "1"]),
                    ("worker2", ["worker.start", "--domain", self.domain, "--task-list", "PeerActivities", "-N", "1"]))
        for name, args in commands:
            probe = logdir / f"{name}.probe"
            out.append((name, [*me, str(probe), "-m", "simpleflow", *args], penv, probe))
        return out

    def start_execution(self, client: Any, index: int) -> tuple[str, str]:
        workflow_id = f"bench-{index:05d}"
        if self.kind == OURS:
            from swfagent.executions import start_execution

            run_id, _ = start_execution(client, self.config, workflow_id, None)
            return workflow_id, run_id
        answer = client.start_workflow_execution(
            domain=self.domain, workflowId=workflow_id, workflowType={"name": "PeerWorkflow", "version": "1.0"},
            taskList={"name": "PeerDecisions"}, input=json.dumps({"args": [], "kwargs": {}}),
            executionStartToCloseTimeout="3600", taskStartToCloseTimeout="30", childPolicy="TERMINATE")
        return workflow_id, answer["runId"]


def one_run(kind: str, executions: int, logdir: Path, timeout: float, profile: bool = False,
            poll_threads: int = 1, data: Path | None = None) -> dict[str, Any]:
    """Run the scenario once (with `data`: the embedded SWF durable, `--data DATA`); the raw facts of the run."""
    logdir.mkdir(parents=True, exist_ok=True)
    setup = Setup(kind)
    setup.poll_threads = poll_threads
    procs = Processes(logdir)
    result: dict[str, Any] = {"kind": kind, "executions": executions, "logdir": str(logdir)}
    deadline = time.monotonic() + timeout
    try:
        port = free_port()
        env = base_env(port)
        # polls held 1 s, not 60: the pollers are known to be up once each has answered one
        server = procs.start("server", [sys.executable, "-m", "swfagent", "local", "--port", str(port), "--poll-seconds", "1",
                                        "--no-console", *(["--data", str(data)] if data else [])], env)
        wait_port(port, server, 30)
        client = bench_client(port)
        setup.register(env, client)
        pollers = setup.pollers(env, logdir, profile)
        started = {name: procs.start(name, argv, penv) for name, argv, penv, _ in pollers}
        probes = {name: probe for name, _, _, probe in pollers}
        # ready: each poller has answered a poll (imports done, loop running)
        while not all(p.exists() and p.stat().st_size > 0 for p in probes.values()):
            for name, proc in started.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{kind} {name} exited with {proc.returncode}: "
                                       f"{procs.text(name, 'err')[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind}: the pollers did not start polling in time")
            time.sleep(0.05)
        decider_pid = [started["decider"].pid]
        worker_pids = [started["worker1"].pid, started["worker2"].pid]
        cpu0 = (tree_cpu(decider_pid), tree_cpu(worker_pids), tree_cpu([server.pid]), machine_busy(), self_cpu())
        t_start = time.perf_counter()
        result["window"] = [t_start, None]
        runs = [setup.start_execution(client, i) for i in range(executions)]
        result["start_seconds"] = time.perf_counter() - t_start
        while count_closes(probes["decider"]) < executions:
            for name, proc in started.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{kind} {name} exited with {proc.returncode}")
            if time.monotonic() > deadline:
                result["timed_out"] = True
                break
            time.sleep(0.02)
        cpu1 = (tree_cpu(decider_pid), tree_cpu(worker_pids), tree_cpu([server.pid]), machine_busy(), self_cpu())
        result["window"][1] = time.perf_counter()
        result["wall_seconds"] = result["window"][1] - t_start
        result["cpu"] = {
            "decider": (cpu1[0][0] - cpu0[0][0], cpu1[0][1] - cpu0[0][1]),
            "workers": (cpu1[1][0] - cpu0[1][0], cpu1[1][1] - cpu0[1][1]),
            "server": (cpu1[2][0] - cpu0[2][0], cpu1[2][1] - cpu0[2][1]),
            "machine": cpu1[3] - cpu0[3],
            "bench": cpu1[4] - cpu0[4],
        }
        for name in ("decider", "worker1", "worker2"):
            procs.stop(started[name])
        result["exit_codes"] = {name: started[name].returncode for name in started}
        result["stats_lines"] = {name: [line for line in procs.text(name, "err").splitlines()
                                        if line.startswith("API calls:")] for name in started}
        result["records"] = []
        for name, probe in probes.items():
            for rec in read_records(probe):
                rec["poller"] = name
                result["records"].append(rec)
        result["histories"] = [history(client, setup.domain, wid, rid) for wid, rid in runs]
        if kind == OURS:
            result["beat_every"] = min((x.heartbeat_timeout or float("inf")) / 3 for x in setup.config.activities.values())
            result["logs"] = {name: procs.text(name, "out") for name in started}
        result["profiles"] = {name: str(logdir / f"{name}.prof") for name in started
                              if (logdir / f"{name}.prof").exists()}
    finally:
        procs.stop_all()
    return result


def history(client: Any, domain: str, workflow_id: str, run_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    pages = client.get_paginator("get_workflow_execution_history").paginate(
        domain=domain, execution={"workflowId": workflow_id, "runId": run_id})
    for page in pages:
        events.extend(page.get("events", []))
    return events
