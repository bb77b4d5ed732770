"""The embedded SWF's HTTP layer: what a poll whose client has gone gets, what a web page, another host or a
malformed request gets, and the log lines of its answers.

The requests are written by hand on a socket where boto3 would not send them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from swfagent.local.faults import parse_faults
from tests.support import ClockedSWF
from tests.swf import DOMAIN, TASK_LIST, WORKFLOW, Swf, client, code, schedule

AUTH = ("AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/swf/aws4_request, SignedHeaders=host;x-amz-target, "
        "Signature=0")


def address(endpoint: str) -> tuple[str, int]:
    host, port = endpoint.rsplit("//", 1)[1].split(":")
    return host, int(port)


def head(endpoint: str, operation: str | None, *, body: bytes = b"", method: str = "POST", path: str = "/",
         host: str | None = None, length: str | None = None, extra: dict[str, str] | None = None,
         auth: bool = True) -> bytes:
    """A request's head, as a client would write it; `length` None: the body's own."""
    _, port = address(endpoint)
    headers = {"Host": host if host is not None else f"127.0.0.1:{port}",
               "Content-Type": "application/x-amz-json-1.0"}
    if operation is not None:
        headers["X-Amz-Target"] = f"SimpleWorkflowService.{operation}"
    if auth:
        headers["Authorization"] = AUTH
    if length != "":
        headers["Content-Length"] = str(len(body)) if length is None else length
    headers.update(extra or {})
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def read_answer(sock: socket.socket, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """The first answer on a socket: status, headers (lower-case names), body."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        if not part:
            raise ConnectionError(f"closed after {data!r}")
        data += part
    top, rest = data.split(b"\r\n\r\n", 1)
    status_line, *header_lines = top.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines)}
    size = int(headers.get("content-length", "0"))
    while len(rest) < size:
        part = sock.recv(65536)
        if not part:
            break
        rest += part
    return int(status_line.split()[1]), headers, rest[:size]


def ask(endpoint: str, operation: str | None, body: bytes | str = b"", **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    """One request on a connection of its own: status, headers, and the body as JSON (or text)."""
    raw = body.encode() if isinstance(body, str) else body
    with socket.create_connection(address(endpoint), timeout=10) as sock:
        sock.sendall(head(endpoint, operation, body=raw, **kwargs) + raw)
        status, headers, got = read_answer(sock)
    try:
        return status, headers, json.loads(got)
    except ValueError:
        return status, headers, got.decode("utf-8", "replace")


@pytest.fixture
def swf(clocked: ClockedSWF) -> Swf:
    return Swf(client(clocked.endpoint))


@contextlib.contextmanager
def server_log(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """The embedded SWF's log lines at INFO and above (they do not go up to the root logger), once the block ends."""
    logger = logging.getLogger("swfagent.local")
    logger.addHandler(caplog.handler)
    lines: list[str] = []
    try:
        with caplog.at_level("DEBUG", logger="swfagent.local"):
            yield lines
    finally:
        logger.removeHandler(caplog.handler)
    lines.extend(r.getMessage() for r in caplog.records if r.name == "swfagent.local" and r.levelno >= logging.INFO)


# ---- a poll whose client has gone ---------------------------------------------------------------------


def _held_polls(clocked: ClockedSWF) -> int:
    """How many polls wait on the activity task list now."""
    domain = clocked.swf.engine.backend("123456789012", "us-east-1")._get_domain(DOMAIN)
    task_list = domain.task_lists.get(("activity", TASK_LIST))
    return len(task_list.ready._waiters) if task_list is not None else 0  # type: ignore[attr-defined]


def _wait_for(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.02)


def test_a_poll_whose_client_has_gone_takes_no_task(clocked: ClockedSWF, swf: Swf) -> None:
    clocked.swf.engine.poll_seconds = 30
    swf.start()
    decision = swf.poll_decision()
    poll = json.dumps({"domain": DOMAIN, "taskList": {"name": TASK_LIST}, "identity": "gone"}).encode()
    dead = [socket.create_connection(address(clocked.endpoint)) for _ in range(2)]
    for sock in dead:  # two polls held, then their clients go without a word, as a worker killed does
        sock.sendall(head(clocked.endpoint, "PollForActivityTask", body=poll) + poll)
    _wait_for(lambda: _held_polls(clocked) == 2)
    for sock in dead:
        sock.close()
    got: list[dict[str, Any]] = []
    live = threading.Thread(target=lambda: got.append(swf.poll_activity()))
    live.start()  # a poll held behind the two gone ones: each one woken passes the task on
    _wait_for(lambda: _held_polls(clocked) == 3)
    started = time.monotonic()
    swf.c.respond_decision_task_completed(taskToken=decision["taskToken"], decisions=[schedule("a-1")])
    live.join(timeout=10)
    assert got and got[0]["activityId"] == "a-1" and time.monotonic() - started < 2
    assert [e["activityTaskStartedEventAttributes"]["identity"] for e in swf.events()
            if e["eventType"] == "ActivityTaskStarted"] == ["w"]


def test_a_poller_killed_while_its_poll_is_held_leaves_the_task_to_the_next(clocked: ClockedSWF, swf: Swf) -> None:
    clocked.swf.engine.poll_seconds = 30
    swf.start()
    decision = swf.poll_decision()
    script = (f"from tests.swf import client; print('polling', flush=True); "
              f"client({clocked.endpoint!r}).poll_for_activity_task(domain={DOMAIN!r}, taskList={{'name': {TASK_LIST!r}}})")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "polling\n"
        _wait_for(lambda: _held_polls(clocked) == 1)
    finally:
        proc.send_signal(signal.SIGKILL)  # as a worker stopped with two Ctrl-C
        proc.wait(timeout=10)
    swf.c.respond_decision_task_completed(taskToken=decision["taskToken"], decisions=[schedule("a-1")])
    started = time.monotonic()
    assert swf.poll_activity()["activityId"] == "a-1" and time.monotonic() - started < 2


# ---- the log: one line per injected fault, none for an ordinary answer -----------------------------------


def test_each_injected_fault_is_one_log_line_and_already_exists_is_no_refusal(
        clocked: ClockedSWF, swf: Swf, caplog: pytest.LogCaptureFixture) -> None:
    clocked.swf.engine.set_limits(parse_faults("throttle=1@DescribeDomain,errors=1@ListDomains"))
    with server_log(caplog) as lines:
        for call, kwargs in ((swf.c.describe_domain, {"name": DOMAIN}),
                             (swf.c.list_domains, {"registrationStatus": "REGISTERED"})):
            with pytest.raises(ClientError):
                call(**kwargs)
        for again in (lambda: swf.c.register_domain(name=DOMAIN, workflowExecutionRetentionPeriodInDays="1"),
                      lambda: swf.c.register_workflow_type(domain=DOMAIN, **WORKFLOW)):
            with pytest.raises(ClientError) as info:
                again()
            assert code(info.value)[0] in ("DomainAlreadyExistsFault", "TypeAlreadyExistsFault")
        with pytest.raises(ClientError):
            swf.c.describe_workflow_execution(domain=DOMAIN, execution={"workflowId": "x", "runId": "y"})
    assert lines == [
        "DescribeDomain: injected ThrottlingException (--faults throttle)",
        "ListDomains: injected InternalFailure (--faults errors)",
        "DescribeWorkflowExecution refused (400): UnknownResourceFault: Unknown execution: "
        "WorkflowExecution=[workflowId=x, runId=y]",
    ]


# ---- nothing a web page or another host can use ----------------------------------------------------------

LIST_DOMAINS = json.dumps({"registrationStatus": "REGISTERED"})


def _no_cors(headers: dict[str, str]) -> bool:
    return not any(name.startswith("access-control-") for name in headers)


def test_no_cors_no_preflight_and_nothing_for_a_web_page(clocked: ClockedSWF, swf: Swf) -> None:
    endpoint = clocked.endpoint
    status, headers, _ = ask(endpoint, None, method="OPTIONS", path="/moto-api/data.json", extra={
        "Origin": "http://localhost:41685", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-amz-target,content-type"})
    assert status == 403 and _no_cors(headers)
    for extra in ({"Origin": "http://localhost:41685"}, {"Origin": "null"}, {"Sec-Fetch-Site": "same-site"},
                  {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}):
        status, headers, body = ask(endpoint, "ListDomains", LIST_DOMAINS, extra=extra)
        assert (status, body["__type"].split("#")[1]) == (403, "AccessDeniedException") and _no_cors(headers)
    status, headers, body = ask(endpoint, "ListDomains", LIST_DOMAINS, extra={"Sec-Fetch-Site": "none"})
    assert status == 200 and body["domainInfos"][0]["name"] == DOMAIN and _no_cors(headers)  # typed by its user
    status, _, body = ask(endpoint, "ListDomains", LIST_DOMAINS, auth=False)  # no page can sign a request
    assert (status, body["__type"].split("#")[1]) == (400, "MissingAuthenticationTokenException")


def test_only_its_own_address_as_host(clocked: ClockedSWF, swf: Swf) -> None:
    port = address(clocked.endpoint)[1]
    for host in (f"evil.example:{port}", "127.0.0.1", f"127.0.0.1:{port + 1}", f"192.168.1.2:{port}", ""):
        status, headers, body = ask(clocked.endpoint, "ListDomains", LIST_DOMAINS, host=host)
        assert status == 403 and "AccessDenied" in body["__type"] and _no_cors(headers), host
    for host in (f"localhost:{port}", f"LOCALHOST:{port}", f"127.0.0.1:{port}"):
        assert ask(clocked.endpoint, "ListDomains", LIST_DOMAINS, host=host)[0] == 200


def test_the_test_api_is_off_unless_asked_for(clocked: ClockedSWF, swf: Swf) -> None:
    for method, path in (("GET", "/moto-api/data.json"), ("POST", "/moto-api/reset"), ("GET", "/moto-api/"),
                         ("POST", "/swfagent-api/settings"), ("GET", "/swfagent-api/settings")):
        status, headers, body = ask(clocked.endpoint, None, b'{"faults": "throttle=1"}', method=method, path=path)
        assert status == 404 and "--test-api" in body["message"] and _no_cors(headers)
    assert swf.c.describe_domain(name=DOMAIN)["domainInfo"]["name"] == DOMAIN  # not reset
    assert clocked.swf.engine.faults.limits.throttle == 0


def test_with_the_test_api_a_page_still_gets_nothing(server: Any) -> None:
    endpoint = server.endpoint
    settings = b'{"faults": "throttle=1", "poll_seconds": 1}'
    for extra in ({"Origin": "http://localhost:41685", "Content-Type": "text/plain"},
                  {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors"}):
        for method, path in (("POST", "/swfagent-api/settings"), ("POST", "/moto-api/reset"),
                             ("GET", "/moto-api/data.json")):
            status, headers, _ = ask(endpoint, None, settings, method=method, path=path, extra=extra, auth=False)
            assert status == 403 and _no_cors(headers), (extra, path)
    assert server.swf.engine.faults.limits.throttle == 0
    status, _, body = ask(endpoint, None, method="GET", path="/swfagent-api/settings", auth=False)
    assert status == 200 and body["faults"] == ""


# ---- malformed requests are SWF's 400s ------------------------------------------------------------------


@pytest.mark.parametrize("operation, body, length, wanted", [
    ("ListDomains", b"[]", None, "SerializationException"),
    ("ListDomains", b'["registrationStatus"]', None, "SerializationException"),
    ("PollForActivityTask", b'{"domain": "D"}', None, "ValidationException"),  # taskList is required
    ("PollForActivityTask", b'{"domain": "D", "taskList": null}', None, "ValidationException"),
    ("PollForActivityTask", b'{"domain": "D", "taskList": "T"}', None, "SerializationException"),
    ("PollForActivityTask", b'{"domain": 7, "taskList": {"name": "T"}}', None, "SerializationException"),
    ("PollForDecisionTask", b'{"domain": "D", "taskList": {"name": "T"}, "maximumPageSize": 1001}', None,
     "ValidationException"),
    ("ListDomains", b'{"registrationStatus": "SOMETIMES"}', None, "ValidationException"),
    ("ListDomains", b"[" * 100_000 + b"]" * 100_000, None, "SerializationException"),
    ("ListDomains", b'{"registrationStatus": "REGISTERED"', None, "SerializationException"),
    ("ListDomains", b"\xff\xfe\x00", None, "SerializationException"),
    ("ListDomains", b"{}", "abc", "SerializationException"),
    ("ListDomains", b"{}", "-1", "SerializationException"),
    ("ListDomains", b"{}", "1e3", "SerializationException"),
    ("NoSuchOperation", b"{}", None, "UnknownOperationException"),
    ("DeleteActivityType", b'{"domain": "D", "activityType": {"name": "A", "version": "1"}}', None,
     "UnknownOperationException"),
])
def test_malformed_input_is_a_400_in_swfs_shape(clocked: ClockedSWF, operation: str, body: bytes, length: str | None,
                                                wanted: str) -> None:
    status, headers, answer = ask(clocked.endpoint, operation, body, length=length)
    assert status == 400 and headers["content-type"] == "application/x-amz-json-1.0"
    assert answer["__type"].split("#")[1] == wanted and answer["message"]


def test_a_request_the_http_server_cannot_parse_is_a_json_400(clocked: ClockedSWF) -> None:
    with socket.create_connection(address(clocked.endpoint), timeout=10) as sock:
        sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")  # no version: answered as HTTP/0.9, the body alone
        got = b"".join(iter(lambda: sock.recv(65536), b""))
    assert "SerializationException" in json.loads(got)["__type"]
    many = "".join(f"X-{i}: {i}\r\n" for i in range(120))
    with socket.create_connection(address(clocked.endpoint), timeout=10) as sock:
        sock.sendall(f"POST / HTTP/1.1\r\n{many}\r\n".encode())
        status, headers, body = read_answer(sock)
    assert status == 431 and headers["content-type"] == "application/x-amz-json-1.0" and "__type" in json.loads(body)


def test_a_chunked_body_is_read_no_further_than_the_limit(clocked: ClockedSWF) -> None:
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    tracemalloc.start()
    try:
        with socket.create_connection(address(clocked.endpoint), timeout=10) as sock:
            sock.sendall(head(clocked.endpoint, "ListDomains", length="", extra={"Transfer-Encoding": "chunked"}))
            try:
                while sent < 50 * 1024 * 1024:  # 50 MB, unless the server stops taking them
                    sock.sendall(frame)
                    sent += len(chunk)
            except OSError:  # the server answered and closed: the rest is not read
                pass
            try:
                status, headers, body = read_answer(sock, timeout=5)
                assert status == 400 and "1048576" in json.loads(body)["message"]
            except OSError:  # a reset can overtake the answer; what the server kept is the point
                pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sent < 20 * 1024 * 1024 and peak < 8 * 1024 * 1024


def test_ids_follow_swfs_character_rules(clocked: ClockedSWF, swf: Swf) -> None:
    for workflow_id in ("a:b", "a/b", "a|b", "arn", "x\x1b[31mred", "bell\x07", "c1\x85", " w", "w\t"):
        with pytest.raises(ClientError) as info:
            swf.c.start_workflow_execution(domain=DOMAIN, workflowId=workflow_id, workflowType=WORKFLOW)
        assert code(info.value) == ("ValidationException", 400), workflow_id
        assert "workflowId" in info.value.response["Error"]["Message"]
    for name in ("D:2", " D2", "arn"):
        with pytest.raises(ClientError) as info:
            swf.c.register_domain(name=name, workflowExecutionRetentionPeriodInDays="1")
        assert code(info.value) == ("ValidationException", 400), name
    swf.start("arnold is fine - and so are spaces inside")
    task = swf.poll_decision()
    for bad in (schedule("a:1"), schedule("a-1", task_list="T/1"),
                {"decisionType": "StartTimer", "startTimerDecisionAttributes": {"timerId": "t|1", "startToFireTimeout": "5"}}):
        with pytest.raises(ClientError) as info:
            swf.c.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[bad])
        assert code(info.value) == ("ValidationException", 400)
    assert [w["execution"]["workflowId"] for w in swf.c.list_open_workflow_executions(
        domain=DOMAIN, startTimeFilter={"oldestDate": 0})["executionInfos"]] == ["arnold is fine - and so are spaces inside"]
