"""The throughput bench's probe: run a poller with botocore's events and subprocess.Popen timed into a file.

    python bench/throughput_probe.py FILE SCRIPT ARGS...   (or FILE -m MODULE ARGS...)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

CLOSING = ("CompleteWorkflowExecution", "FailWorkflowExecution", "CancelWorkflowExecution")

# ---- the probe: runs inside each poller process ------------------------------------------------


def _probe_install(path: str) -> None:
    """Hook every SWF client boto3 makes in this process (and its forks), and subprocess.Popen."""
    import hashlib
    import threading

    import botocore.session

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

    original_client = botocore.session.Session.create_client  # boto3's clients are made here too

    def client(self: Any, *args: Any, **kwargs: Any) -> Any:
        made = original_client(self, *args, **kwargs)
        if made.meta.service_model.service_name == "swf":
            events = made.meta.events
            events.register("before-parameter-build.swf", on_params)
            events.register("before-send.swf", on_send)
            events.register("before-parse.swf", on_parse)
            events.register("after-call.swf", on_after)
        return made

    botocore.session.Session.create_client = client  # type: ignore[method-assign]

    original_init = subprocess.Popen.__init__
    original_wait = subprocess.Popen.wait

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

    def wait(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = original_wait(self, *args, **kwargs)
        started = getattr(self, "_probe", None)
        if started is not None and self.returncode is not None:
            self._probe = None
            t0, task = started
            emit({"k": "sub", "tok": task, "t0": t0, "t1": clock(), "cpu": self._probe_cpu, "rc": self.returncode})
        return out

    subprocess.Popen.__init__ = init  # type: ignore[method-assign]
    subprocess.Popen._try_wait = try_wait  # type: ignore[attr-defined]
    subprocess.Popen.wait = wait  # type: ignore[method-assign]


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


if __name__ == "__main__":
    probe_main(sys.argv[1:])
