#!/usr/bin/env python3
"""Throughput of the article's workflow on the embedded SWF: N executions started at once, 1 decider, 2 workers.

    python bench/throughput.py                     # swfagent alone, 50 executions, 1 round
    python bench/throughput.py --peer              # swfagent and simpleflow, alternating, 3 rounds each
    python bench/throughput.py --executions 20 --rounds 2 --peer --logs /tmp/tp

Each run has a fresh embedded SWF of its own (`python -m swfagent local`, its own process on
127.0.0.1), registers the types, starts the pollers in --loop (decider.py --stats, worker.py --stats
twice; for the peer `simpleflow decider.start -N 1` and `simpleflow worker.start -N 1` twice), starts
N executions back to back, waits for the N closes, stops everything, and reads the histories.

It prints, never asserts:
- executions per second, from the first WorkflowExecutionStarted to the last close (history timestamps);
- latency from start to close per execution: median, p95 (history timestamps);
- the decider's time per decision: its poll's answer received -> its respond handed to the socket;
- the worker's own overhead per task: the same span minus the task's subprocess run (Popen -> reaped);
- CPU seconds per execution of the decider and of the workers (/proc/PID/stat of each poller's
  process tree, utime+stime of the live processes plus cutime+cstime of the reaped ones, between the
  first start and the last close), the task scripts' own CPU apart;
- API calls per execution by operation, empty polls apart.

Timings come from a probe that runs each poller (`throughput.py --probe FILE SCRIPT ARGS`): it hooks
botocore's events on every SWF client the poller makes (before-parameter-build, before-send,
before-parse, after-call) and subprocess.Popen, and appends one JSON line per call and per subprocess
to FILE, with CLOCK_MONOTONIC times (time.perf_counter) that compare across processes. The poller's
own code runs unchanged. The probe costs a few tens of microseconds per API call, the same for both.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PEER_DIR = BENCH / "peer_simpleflow"
PEER_VENV = BENCH / ".peer-venv"
PEER_REQUIREMENT = "simpleflow==0.36.0"
HOST = "127.0.0.1"  # the only address this bench talks to
CLOSING = ("CompleteWorkflowExecution", "FailWorkflowExecution", "CancelWorkflowExecution")
OURS = "swfagent"
PEER = "simpleflow"


# ---- the probe: runs inside each poller process ------------------------------------------------


def _probe_install(path: str) -> None:
    """Hook every SWF client boto3 makes in this process (and its forks), and subprocess.Popen."""
    import hashlib
    import threading

    import boto3.session

    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    local = threading.local()
    clock = time.perf_counter
    profile_to = os.environ.pop("BENCH_PROFILE", "")
    profiler = None
    if profile_to:  # a CPU profile of the main thread, from the first task on (start-up apart)
        import atexit
        import cProfile

        profiler = cProfile.Profile(time.process_time)
        owner = os.getpid()

        def dump() -> None:
            if os.getpid() == owner:
                profiler.disable()
                profiler.dump_stats(profile_to)

        atexit.register(dump)

    def emit(rec: dict[str, Any]) -> None:
        rec["pid"] = os.getpid()
        os.write(fd, (json.dumps(rec, separators=(",", ":")) + "\n").encode())

    def short(token: str) -> str:
        return hashlib.sha1(token.encode()).hexdigest()[:16]

    def on_params(params: dict[str, Any], model: Any, **_: Any) -> None:
        st = local.__dict__
        st["tb"] = clock()
        st["t0"] = st["t1"] = None
        token = params.get("taskToken")
        st["ptok"] = short(token) if isinstance(token, str) else None
        st["close"] = any(d.get("decisionType") in CLOSING for d in params.get("decisions") or [])

    def on_send(**_: Any) -> None:
        if local.__dict__.get("t0") is None:  # the first attempt: retries send again
            local.t0 = clock()

    def on_parse(**_: Any) -> None:
        local.t1 = clock()

    def on_after(parsed: dict[str, Any], model: Any, http_response: Any, **_: Any) -> None:
        t2 = clock()
        st = local.__dict__
        op = model.name
        rec: dict[str, Any] = {"k": "call", "op": op, "tb": st.get("tb"), "t0": st.get("t0"),
                               "t1": st.get("t1"), "t2": t2, "status": http_response.status_code}
        if op.startswith("PollFor"):
            token = parsed.get("taskToken")
            if token:
                rec["tok"] = st["task"] = short(token)
                if profiler is not None and not st.get("profiling"):
                    st["profiling"] = True
                    profiler.enable()
            else:
                rec["empty"] = True
        elif st.get("ptok"):
            rec["tok"] = st["ptok"]
        if st.get("close") and http_response.status_code < 300:
            rec["close"] = True
        emit(rec)

    original_client = boto3.session.Session.client

    def client(self: Any, *args: Any, **kwargs: Any) -> Any:
        made = original_client(self, *args, **kwargs)
        if made.meta.service_model.service_name == "swf":
            events = made.meta.events
            events.register("before-parameter-build.swf", on_params)
            events.register("before-send.swf", on_send)
            events.register("before-parse.swf", on_parse)
            events.register("after-call.swf", on_after)
        return made

    boto3.session.Session.client = client  # type: ignore[method-assign]

    original_init = subprocess.Popen.__init__
    original_communicate = subprocess.Popen.communicate

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        self._probe = (clock(), local.__dict__.get("task"))
        self._probe_cpu = 0.0
        original_init(self, *args, **kwargs)

    def try_wait(self: Any, wait_flags: int) -> tuple[int, int]:
        # Popen's own reaping, through wait4: the child's rusage is its own, even with several tasks at once
        try:
            pid, sts, ru = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            return self.pid, 0
        if pid == self.pid:
            self._probe_cpu = ru.ru_utime + ru.ru_stime
        return pid, sts

    def communicate(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = original_communicate(self, *args, **kwargs)
        started = getattr(self, "_probe", None)
        if started is not None and self.returncode is not None:
            self._probe = None
            t0, task = started
            emit({"k": "sub", "tok": task, "t0": t0, "t1": clock(), "cpu": self._probe_cpu, "rc": self.returncode})
        return out

    subprocess.Popen.__init__ = init  # type: ignore[method-assign]
    subprocess.Popen._try_wait = try_wait  # type: ignore[attr-defined]
    subprocess.Popen.communicate = communicate  # type: ignore[method-assign]


def probe_main(argv: list[str]) -> None:
    """--probe FILE SCRIPT ARGS... or --probe FILE -m MODULE ARGS...: run a poller with the probe."""
    import runpy

    path, rest = argv[0], argv[1:]
    _probe_install(path)
    if rest[0] == "-m":
        module = rest[1]
        sys.argv = [module, *rest[2:]]
        sys.path[0] = os.getcwd()
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        script = os.path.abspath(rest[0])
        sys.argv = [script, *rest[1:]]
        sys.path[0] = os.path.dirname(script)
        runpy.run_path(script, run_name="__main__")


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

    def register(self, env: dict[str, str], client: Any, procs: Processes) -> None:
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
        me = [sys.executable, str(Path(__file__).resolve()), "--probe"]
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
            poll_threads: int = 1) -> dict[str, Any]:
    """Run the scenario once; the raw facts of the run."""
    logdir.mkdir(parents=True, exist_ok=True)
    setup = Setup(kind)
    setup.poll_threads = poll_threads
    procs = Processes(logdir)
    result: dict[str, Any] = {"kind": kind, "executions": executions, "logdir": str(logdir)}
    deadline = time.monotonic() + timeout
    try:
        port = free_port()
        env = base_env(port)
        server = procs.start("server", [sys.executable, "-m", "swfagent", "local", "--port", str(port)], env)
        wait_port(port, server, 30)
        client = bench_client(port)
        setup.register(env, client, procs)
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
        if kind == OURS:
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


# ---- analysis ------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation; nan for no values."""
    if not values:
        return float("nan")
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def med(values: list[float]) -> float:
    return pct(values, 0.5)


def ts(event: dict[str, Any]) -> float:
    value = event["eventTimestamp"]
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def analyse(run: dict[str, Any]) -> dict[str, Any]:
    n = run["executions"]
    out: dict[str, Any] = {"kind": run["kind"], "executions": n, "timed_out": run.get("timed_out", False)}
    # -- histories: throughput, latency, where an execution's time goes
    starts, closes, lat = [], [], []
    phases: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[str] = Counter()
    for events in run["histories"]:
        if not events:
            continue
        by_id = {e["eventId"]: e for e in events}
        first = events[0]
        starts.append(ts(first))
        last = events[-1]
        kind = last["eventType"]
        if kind.startswith("WorkflowExecution") and kind != "WorkflowExecutionStarted" and "Signaled" not in kind:
            statuses[kind] += 1
            closes.append(ts(last))
            lat.append(ts(last) - ts(first))
        else:
            statuses["open"] += 1
        for e in events:
            et = e["eventType"]
            if et == "DecisionTaskStarted":
                a = e["decisionTaskStartedEventAttributes"]
                phases["decision task queued"].append(ts(e) - ts(by_id[a["scheduledEventId"]]))
            elif et == "DecisionTaskCompleted":
                a = e["decisionTaskCompletedEventAttributes"]
                phases["decision task started->completed"].append(ts(e) - ts(by_id[a["startedEventId"]]))
            elif et == "ActivityTaskStarted":
                a = e["activityTaskStartedEventAttributes"]
                phases["activity task queued"].append(ts(e) - ts(by_id[a["scheduledEventId"]]))
            elif et in ("ActivityTaskCompleted", "ActivityTaskFailed"):
                a = e[et[0].lower() + et[1:] + "EventAttributes"]
                phases["activity task started->closed"].append(ts(e) - ts(by_id[a["startedEventId"]]))
    out["statuses"] = dict(statuses)
    span = (max(closes) - min(starts)) if closes else float("nan")
    out["span"] = span
    out["eps"] = len(closes) / span if closes and span > 0 else float("nan")
    out["lat_median"], out["lat_p95"] = med(lat), pct(lat, 0.95)
    out["phases"] = {k: (med(v), pct(v, 0.95), len(v)) for k, v in phases.items()}
    # -- probe records: per-decision and per-task time, calls
    recs = run["records"]
    calls = [r for r in recs if r.get("k") == "call"]
    subs = [r for r in recs if r.get("k") == "sub"]
    polls: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in calls:
        if r["op"].startswith("PollFor") and r.get("tok"):
            polls[r["tok"]].append(r)
    subs_by_tok: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in subs:
        subs_by_tok[s.get("tok") or ""].append(s)

    def spans(op: str, poll_op: str) -> dict[str, list[float]]:
        d: dict[str, list[float]] = defaultdict(list)
        for r in calls:
            if r["op"] != op or not r.get("tok") or r.get("t0") is None:
                continue
            ps = [p for p in polls.get(r["tok"], []) if p["op"] == poll_op and p["t2"] <= r["tb"]]
            if not ps:
                continue
            p = max(ps, key=lambda x: x["t2"])
            sub = sum(s["t1"] - s["t0"] for s in subs_by_tok.get(r["tok"], []))
            total = r["t0"] - p["t1"]
            d["total"].append(total)
            d["overhead"].append(total - sub)
            d["sub"].append(sub)
            d["parse"].append(p["t2"] - p["t1"])
            d["handler"].append(r["tb"] - p["t2"] - sub)
            d["build"].append(r["t0"] - r["tb"])
            d["poll_rtt"].append(p["t1"] - p["t0"])
            if r.get("t1") is not None:
                d["respond_rtt"].append(r["t1"] - r["t0"])
        return d

    out["decision"] = spans("RespondDecisionTaskCompleted", "PollForDecisionTask")
    out["activity"] = spans("RespondActivityTaskCompleted", "PollForActivityTask")
    out["task_cpu"] = sum(s.get("cpu", 0.0) for s in subs)
    out["task_count"] = len(subs)
    # calls made between the first start and the last close; the pollers' start-up calls apart
    w0, w1 = run.get("window") or (float("-inf"), float("inf"))
    useful: Counter[str] = Counter()
    empty: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    for r in calls:
        if r["t0"] is None or not (w0 <= r["t0"] <= w1):
            if not r.get("empty"):
                outside[r["op"]] += 1
            continue
        (empty if r.get("empty") else useful)[r["op"]] += 1
    useful["StartWorkflowExecution"] += n  # made by the bench
    out["useful"] = dict(useful)
    out["empty"] = dict(empty)
    out["outside"] = dict(outside)
    # seconds each poller spent in empty polls inside the window: the embedded SWF answers an empty
    # poll after 1 s and does not hand over a task that arrives meanwhile (no long polling)
    idle: dict[str, float] = defaultdict(float)
    for r in recs:
        if r.get("k") == "call" and r.get("empty") and r.get("t0") is not None:
            idle[r["poller"]] += max(0.0, min(r["t2"], w1) - max(r["t0"], w0))
    out["idle"] = dict(idle)
    out["failed_tasks"] = useful.get("RespondActivityTaskFailed", 0)
    cpu = run.get("cpu", {})
    out["cpu_decider"] = sum(cpu.get("decider", (0, 0)))
    out["cpu_workers"] = sum(cpu.get("workers", (0, 0)))
    out["cpu_server"] = sum(cpu.get("server", (0, 0)))
    out["cpu_others"] = cpu.get("machine", 0.0) - out["cpu_decider"] - out["cpu_workers"] - out["cpu_server"] \
        - cpu.get("bench", 0.0)
    out["stats_lines"] = run.get("stats_lines", {})
    out["beat_every"] = run.get("beat_every", float("nan"))
    out["wall"] = run.get("wall_seconds", float("nan"))
    out["start_seconds"] = run.get("start_seconds", float("nan"))
    if run["kind"] == OURS and run.get("logs"):
        out["log_decision_ms"] = log_spans(run["logs"].get("decider", ""), "Received a Decision Task", "Decision Made")
        worker_logs = run["logs"].get("worker1", "") + "\n" + run["logs"].get("worker2", "")
        out["log_task_ms"] = log_spans(worker_logs, "Received an Activity Task", " succeeded with output")
    return out


def log_spans(text: str, first: str, last: str) -> list[float]:
    """From --log-format json lines: ms from `first` to the next `last` of the same workflow id (ms resolution)."""
    import datetime as dt

    opened: dict[str, float] = {}
    out = []
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        msg, wid = rec.get("message", ""), rec.get("workflow_id")
        when = dt.datetime.strptime(rec["time"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000
        if msg.startswith(first):
            opened[wid] = when
        elif last in msg and wid in opened:
            out.append(when - opened.pop(wid))
    return out


# ---- printing ------------------------------------------------------------------------------------


def ms(x: float) -> str:
    return f"{x * 1000:.1f}"


def report(a: dict[str, Any]) -> None:
    n = a["executions"]
    print(f"  {a['kind']}: {a['eps']:.2f} executions/s ({n} in {a['span']:.2f} s, first start to last close); "
          f"latency median {a['lat_median']:.2f} s, p95 {a['lat_p95']:.2f} s; closes {a['statuses']}"
          + ("; TIMED OUT" if a["timed_out"] else ""))
    print(f"    starting the {n} executions took {a['start_seconds']:.2f} s from the bench")
    for label, key in (("decision", "decision"), ("activity task", "activity")):
        d = a[key]
        if not d.get("total"):
            print(f"    per {label}: no data")
            continue
        extra = ""
        if key == "activity":
            extra = (f"; overhead beyond the subprocess: median {ms(med(d['overhead']))}, p95 {ms(pct(d['overhead'], .95))}"
                     f" (subprocess median {ms(med(d['sub']))})")
        print(f"    per {label} (n={len(d['total'])}), ms, poll answered -> respond sent: median {ms(med(d['total']))}, "
              f"p95 {ms(pct(d['total'], .95))}{extra}")
        print(f"      of which: botocore parse {ms(med(d['parse']))}, handler {ms(med(d['handler']))}"
              f"{' (subprocess apart)' if key == 'activity' else ''}, botocore request build {ms(med(d['build']))}"
              f"; round trips: poll {ms(med(d['poll_rtt']))}, respond {ms(med(d['respond_rtt']))}")
    if a.get("log_decision_ms"):
        ld, lt = a["log_decision_ms"], a.get("log_task_ms") or []
        print(f"    cross-check from --log-format json (ms resolution, includes the respond's round trip): "
              f"decision median {med(ld):.0f} ms, activity task median {med(lt):.0f} ms (subprocess included)")
    print(f"    CPU per execution: decider {ms(a['cpu_decider'] / n)} ms; workers {ms(a['cpu_workers'] / n)} ms, of which "
          f"task scripts {ms(a['task_cpu'] / n)} ms ({a['task_count']} subprocesses), workers' own "
          f"{ms((a['cpu_workers'] - a['task_cpu']) / n)} ms")
    print(f"    embedded SWF's CPU per execution {ms(a['cpu_server'] / n)} ms; the rest of the machine (not this run) "
          f"used {a['cpu_others']:.1f} CPU-s of {os.cpu_count() * a['wall']:.1f} during the run")
    per = ", ".join(f"{op}={c / n:g}" for op, c in sorted(a["useful"].items()))
    total = sum(a["useful"].values()) / n
    print(f"    API calls per execution: {total:g} useful ({per}); empty polls: "
          f"{sum(a['empty'].values())} {dict(a['empty'])}; failed tasks: {a['failed_tasks']}"
          + (f"; start-up calls before the window: {a['outside']}" if a["outside"] else ""))
    idle = a["idle"]
    print(f"    time in empty polls between first start and last close: decider {idle.get('decider', 0):.1f} s, "
          f"workers {idle.get('worker1', 0):.1f} s + {idle.get('worker2', 0):.1f} s")
    phases = "; ".join(f"{k} {ms(v[0])}/{ms(v[1])}" for k, v in a["phases"].items())
    print(f"    history phases, ms median/p95: {phases}")
    for name, lines in a["stats_lines"].items():
        for line in lines:
            print(f"    {name} --stats: {line}")


BUCKETS = (("swfagent", "swfagent (fold, decide, run_task, logging calls)"), ("botocore", "botocore"),
           ("urllib3", "urllib3"), ("http/client", "http.client"), ("logging", "logging"), ("json", "json"),
           ("subprocess", "subprocess"), ("selectors", "selectors"), ("socket", "socket"), ("email", "email"),
           ("dateutil", "dateutil"), ("hashlib", "hashlib/hmac"), ("hmac", "hashlib/hmac"))


def print_profile(name: str, path: str, per: int) -> None:
    """Where a poller's CPU went (cProfile with process_time, own time by package), per execution."""
    import pstats

    stats = pstats.Stats(path).stats  # type: ignore[attr-defined]
    buckets: Counter[str] = Counter()
    funcs: Counter[str] = Counter()
    for (file, line, func), (_, _, tt, _, _) in stats.items():
        label = next((lab for key, lab in BUCKETS if key in file), "builtins/C" if file == "~" else "other Python")
        buckets[label] += tt
        funcs[f"{os.path.basename(file)}:{line}({func})" if file != "~" else func] += tt
    total = sum(buckets.values()) or 1e-9
    ours = next(lab for key, lab in BUCKETS if key == "swfagent")
    print(f"    {name} CPU profile from its first task on (cProfile inflates it): {total:.2f} s; "
          f"{ours}: {100 * buckets[ours] / total:.1f}%; own time by package: "
          + ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in buckets.most_common(8)))
    print("      top functions (own time): " + "; ".join(f"{k} {100 * v / total:.1f}%" for k, v in funcs.most_common(8)))


def goals(a: dict[str, Any], ratio: float | None) -> None:
    n = a["executions"]
    d = med(a["decision"].get("total", []))
    w = med(a["activity"].get("overhead", []))
    useful = sum(a["useful"].values()) / n
    heartbeats = a["useful"].get("RecordActivityTaskHeartbeat", 0)
    longest = max(a["activity"].get("sub", [0.0]))
    print("Goals (swfagent):")
    if ratio is not None:
        print(f"  throughput >= 1.5x simpleflow: {ratio:.2f}x -> {'met' if ratio >= 1.5 else 'MISSED'}")
    print(f"  decision < 10 ms: median {ms(d)} ms -> {'met' if d < 0.010 else 'MISSED'}")
    print(f"  worker overhead < 10 ms beyond the task's process: median {ms(w)} ms -> {'met' if w < 0.010 else 'MISSED'}")
    print(f"  11 useful calls per execution: {useful:g} -> {'met' if abs(useful - 11) < 1e-9 else 'MISSED'}")
    print(f"  heartbeats only for tasks outliving a heartbeat interval: {heartbeats} heartbeats, longest task "
          f"{ms(longest)} ms, interval {a['beat_every']:g} s (heartbeat_timeout / 3) -> "
          f"{'met' if heartbeats == 0 or longest > a['beat_every'] else 'MISSED'}"
          " (this bench has no task long enough to show the other half: a long task does beat)")


# ---- the peer's venv ------------------------------------------------------------------------------


def ensure_peer_venv() -> None:
    python = PEER_VENV / "bin" / "python"
    check = [str(python), "-c", "import simpleflow, boto3"]
    if python.exists() and subprocess.run(check, capture_output=True, timeout=120).returncode == 0:
        return
    print(f"Installing {PEER_REQUIREMENT} into {PEER_VENV.relative_to(ROOT)} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True, timeout=300)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PEER_REQUIREMENT],
                   check=True, timeout=900)


# ---- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--probe"]:
        probe_main(argv[1:])
        return 0
    p = argparse.ArgumentParser(prog="bench/throughput.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--executions", type=int, default=50, help="executions started at once (default 50)")
    p.add_argument("--rounds", type=int, help="runs of each (default: 3 with --peer, else 1)")
    p.add_argument("--peer", action="store_true", help="also run simpleflow, alternating, and print the ratio")
    p.add_argument("--timeout", type=float, help="seconds a run may take (default 120 + 2 per execution)")
    p.add_argument("--logs", help="keep each run's logs and probe files in this folder")
    p.add_argument("--poll-threads", type=int, default=1,
                   help="--concurrency of our decider and workers (default 1: one poll at a time per process)")
    p.add_argument("--profile", action="store_true",
                   help="CPU-profile swfagent's pollers (cProfile; slows them) and print where the time goes")
    args = p.parse_args(argv)
    rounds = args.rounds or (3 if args.peer else 1)
    timeout = args.timeout or 120 + 2 * args.executions
    if args.peer:
        ensure_peer_venv()
    sys.path.insert(0, str(ROOT))
    logroot = Path(args.logs) if args.logs else Path(tempfile.mkdtemp(prefix="swfagent-throughput-"))
    print(f"{args.executions} executions at once, 1 decider, 2 workers, embedded SWF on {HOST}; "
          f"{rounds} round(s){' each, alternating with simpleflow' if args.peer else ''}; "
          f"{os.cpu_count()} CPUs", flush=True)
    results: dict[str, list[dict[str, Any]]] = {OURS: [], PEER: []}
    try:
        for r in range(rounds):
            order = [OURS, PEER] if args.peer else [OURS]
            if args.peer and r % 2 == 1:
                order.reverse()  # who goes first alternates, against drift
            for kind in order:
                profiled = " (profiled: cProfile inflates its timings)" if args.profile and kind == OURS else ""
                print(f"round {r + 1}: {kind}{profiled} ...", flush=True)
                run = one_run(kind, args.executions, logroot / f"r{r + 1}-{kind}", timeout,
                              profile=args.profile and kind == OURS, poll_threads=args.poll_threads)
                a = analyse(run)
                results[kind].append(a)
                report(a)
                for name, path in run.get("profiles", {}).items():
                    print_profile(name, path, args.executions)
                sys.stdout.flush()
    finally:
        if not args.logs:
            import shutil

            shutil.rmtree(logroot, ignore_errors=True)
        else:
            print(f"logs and probe files kept in {logroot}")
    ours = results[OURS]
    print("\nSummary (medians over rounds):")
    for kind in (OURS, PEER):
        rs = results[kind]
        if not rs:
            continue
        n = rs[0]["executions"]
        print(f"  {kind:10s} {med([a['eps'] for a in rs]):6.2f} executions/s (rounds: "
              f"{', '.join('%.2f' % a['eps'] for a in rs)}); latency median {med([a['lat_median'] for a in rs]):.2f} s, "
              f"p95 {med([a['lat_p95'] for a in rs]):.2f} s; decision {ms(med([med(a['decision'].get('total', [])) for a in rs]))} ms; "
              f"activity overhead {ms(med([med(a['activity'].get('overhead', [])) for a in rs]))} ms; "
              f"CPU/execution decider {ms(med([a['cpu_decider'] for a in rs]) / n)} ms, "
              f"workers' own {ms(med([a['cpu_workers'] - a['task_cpu'] for a in rs]) / n)} ms")
    ratio = None
    if results[PEER]:
        ratio = med([a["eps"] for a in ours]) / med([a["eps"] for a in results[PEER]])
        paired = [o["eps"] / q["eps"] for o, q in zip(ours, results[PEER])]
        print(f"  throughput ratio swfagent/simpleflow: {ratio:.2f}x (per round: "
              f"{', '.join(f'{x:.2f}' for x in paired)})")
    if ours:
        goals(ours[-1] if len(ours) == 1 else min(ours, key=lambda a: abs(a["eps"] - med([x["eps"] for x in ours]))),
              ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
