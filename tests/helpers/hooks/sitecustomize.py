"""Test-only botocore hooks for the scripts run as subprocesses (this folder goes first on PYTHONPATH).

SWFAGENT_TEST_STALL=Operation:SECONDS: the first call of that operation waits that long first.
SWFAGENT_TEST_TOKEN_FILE=PATH: every taskToken an SWF poll answers with is appended to PATH, one a line.
SWFAGENT_TEST_ECHO_TOKEN=Operation: the first call of that operation fails, before it is sent, with a
ValidationException whose message quotes the request's taskToken (an SWF that echoes tokens in errors).
"""

import json
import os
import time

_stall = os.environ.get("SWFAGENT_TEST_STALL", "")
_token_file = os.environ.get("SWFAGENT_TEST_TOKEN_FILE", "")
_echo = os.environ.get("SWFAGENT_TEST_ECHO_TOKEN", "")

if _stall or _token_file or _echo:
    import botocore.session
    from botocore.awsrequest import AWSResponse

    class _Raw:
        def __init__(self, body: bytes):
            self._body = body

        def stream(self, **_):
            yield self._body

    def _answer(request, status, body):
        return AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body))

    _stalled = []

    def _stall_once(**_):
        if not _stalled:
            _stalled.append(1)
            time.sleep(float(_stall.split(":")[1]))

    def _record(parsed, **_):
        token = parsed.get("taskToken") if isinstance(parsed, dict) else None
        if token:
            with open(_token_file, "a", encoding="utf-8") as f:
                f.write(token + "\n")

    _echoed = []

    def _echo_token(request, **_):
        if _echoed:
            return None
        _echoed.append(1)
        token = json.loads(request.body or b"{}").get("taskToken", "")
        body = json.dumps({"__type": "ValidationException", "message": f"bad request for task token {token}"})
        return _answer(request, 400, body.encode())

    _original = botocore.session.Session.create_client

    def create_client(self, *args, **kwargs):
        client = _original(self, *args, **kwargs)
        if client.meta.service_model.service_name == "swf":
            events = client.meta.events
            if _stall:
                events.register(f"before-call.swf.{_stall.split(':')[0]}", _stall_once)
            if _token_file:
                events.register("after-call.swf", _record)
            if _echo:
                events.register(f"before-send.swf.{_echo}", _echo_token)
        return client

    botocore.session.Session.create_client = create_client
