"""Fuzzing the embedded SWF's HTTP layer: any body, headers and content length. Nothing answers 5xx or an HTML
page, and the server's memory stays bounded whatever is sent, however it is sent.

One `swfagent local` runs as a subprocess for the module, so that its peak memory (VmHWM) can be read.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.model import Shape
from hypothesis import given
from hypothesis import strategies as st

from swfagent.local.api import _service_model, operations
from tests.e2e import Local
from tests.test_local_http import AUTH, address

MEBIBYTE = 1024 * 1024
STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


@pytest.fixture(scope="module")
def local() -> Iterator[Local]:
    server = Local("--no-console", "--poll-seconds", "0.2")
    yield server
    err = server.stop()
    assert "internal error" not in err, err  # a 5xx of moto's or of the layer logs one


def peak_kib(pid: int) -> int:
    """The process's peak resident memory so far, in KiB."""
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", text).group(1))  # type: ignore[union-attr]


def exchange(endpoint: str, request: bytes, body: bytes | Iterator[bytes] = b"") -> bytes:
    """Send a request, close the sending side, and read everything the server answers."""
    with socket.create_connection(address(endpoint), timeout=10) as sock:
        try:
            sock.sendall(request)
            for part in [body] if isinstance(body, bytes) else body:
                sock.sendall(part)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server answered and closed before taking it all
            pass
        got = b""
        try:
            while part := sock.recv(65536):
                got += part
        except OSError:  # a reset after the answer
            pass
    return got


def assert_no_failure(got: bytes) -> None:
    statuses = [int(s) for s in STATUS.findall(got)]
    assert all(s < 500 for s in statuses), got[:600]
    assert b"<html" not in got.lower() and b"<!doctype" not in got.lower(), got[:600]


# ---- what is sent ------------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20)
HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=40)


def from_shape(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped as SWF's model says, often right and sometimes not: what reaches moto's own code."""
    kind = shape.type_name
    wrong = JSON_VALUES if depth < 3 else st.none()
    if kind == "structure" and depth < 5:
        members = {name: from_shape(member, depth + 1) for name, member in shape.members.items()}
        required = {name: members[name] for name in shape.required_members}
        optional = {name: s for name, s in members.items() if name not in required}
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "list" and depth < 5:
        return st.lists(from_shape(shape.member, depth + 1), max_size=3)
    if kind == "string":
        enum = getattr(shape, "enum", None)
        plain = st.sampled_from(list(enum)) if enum else st.text(max_size=12) | st.sampled_from(
            ["D", "T", "W", "1", "NONE", "60", "-5", "99999999999999999999", "arn", "a:b", ""])
        return plain | wrong if depth else plain
    if kind in ("integer", "long"):
        return st.integers(-5, 2000) | st.integers()
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.floats(-1e13, 1e13, allow_nan=False) | st.integers(-10, 2_000_000_000)
    return wrong


@st.composite
def requests(draw: st.DrawFn, port: int) -> tuple[bytes, bytes]:
    known = sorted(operations())
    operation = draw(st.sampled_from(known) | st.text(max_size=30))
    if operation in known:
        shaped = from_shape(_service_model().operation_model(operation).input_shape)
        body = draw(st.one_of(
            shaped.map(lambda v: json.dumps(v).encode()),
            JSON_VALUES.map(lambda v: json.dumps(v).encode()),
            st.binary(max_size=300),
            st.integers(1, 120_000).map(lambda n: b"[" * n + b"]" * n),
            st.integers(1, 120_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
        ))
    else:
        body = draw(st.binary(max_size=100))
    headers = {"Host": f"127.0.0.1:{port}", "Authorization": AUTH, "Content-Type": "application/x-amz-json-1.0",
               "X-Amz-Target": f"SimpleWorkflowService.{operation}"}
    for name in draw(st.lists(st.sampled_from(list(headers)), max_size=2)):
        headers[name] = draw(HEADER_TEXT) if draw(st.booleans()) else ""
    headers.update(draw(st.dictionaries(st.sampled_from(
        ["Origin", "Expect", "Sec-Fetch-Site", "Content-Encoding", "X-Amz-Target", "Accept-Encoding"]),
        HEADER_TEXT, max_size=2)))
    method = draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "OPTIONS", "HEAD", "DELETE"]))
    mode = draw(st.sampled_from(["exact", "exact", "missing", "garbage", "smaller", "larger", "huge", "chunked"]))
    if mode == "chunked":
        headers["Transfer-Encoding"] = "chunked"
        body = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (body[:7], body[7:]) if part) + \
            draw(st.sampled_from([b"0\r\n\r\n", b"", b"zz\r\n", b"ffffffffffff\r\n"]))
    elif mode != "missing":
        headers["Content-Length"] = {
            "exact": str(len(body)), "garbage": draw(st.sampled_from(["abc", "-1", "1e3", " ", "0x10", "１２"])),
            "smaller": str(max(len(body) - 3, 0)), "larger": str(len(body) + 50), "huge": str(10 ** 15),
        }[mode]
    head = [f"{method} {draw(st.sampled_from(['/', '/moto-api/data.json', '/swfagent-api/settings', '//x']))} HTTP/1.1"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("utf-8"), body


@given(data=st.data())  # examples: the profile's (make fuzz: 20 times more)
def test_no_request_gets_a_5xx_or_an_html_page(local: Local, data: st.DataObject) -> None:
    endpoint = local.env["AWS_ENDPOINT_URL_SWF"]
    request, body = data.draw(requests(address(endpoint)[1]))
    assert_no_failure(exchange(endpoint, request, body))


def test_memory_stays_bounded_however_much_is_sent(local: Local) -> None:
    endpoint = local.env["AWS_ENDPOINT_URL_SWF"]
    port = address(endpoint)[1]
    head = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {AUTH}\r\n"
            "X-Amz-Target: SimpleWorkflowService.ListDomains\r\nContent-Type: application/x-amz-json-1.0\r\n")
    chunk = b" " * MEBIBYTE
    exchange(endpoint, (head + "Content-Length: 2\r\n\r\n{}").encode())  # warm: the first answers load moto
    before = peak_kib(local.proc.pid)
    started = time.monotonic()
    sent = [
        exchange(endpoint, (head + "Transfer-Encoding: chunked\r\n\r\n").encode(),
                 (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(40))),
        exchange(endpoint, (head + f"Content-Length: {40 * MEBIBYTE}\r\n\r\n").encode(), (chunk for _ in range(40))),
        exchange(endpoint, (head + "Transfer-Encoding: chunked\r\n\r\n").encode(),  # just under the limit, then over
                 iter([f"{MEBIBYTE - 10:x}\r\n".encode() + b"{" + b" " * (MEBIBYTE - 12) + b"}\r\n",
                       b"20\r\n" + b" " * 32 + b"\r\n0\r\n\r\n"])),
        exchange(endpoint, (head.replace("127.0.0.1", "evil.example") + f"Content-Length: {40 * MEBIBYTE}\r\n\r\n"
                            ).encode(), (chunk for _ in range(40))),
    ]
    for got in sent:
        assert_no_failure(got)
    assert peak_kib(local.proc.pid) - before < 16 * 1024, "the server kept what it was sent"
    assert time.monotonic() - started < 30
