"""Test-only botocore hooks for the scripts run as subprocesses (this folder goes first on PYTHONPATH).

SWFAGENT_TEST_CHAOS=0.3: that share of SWF calls fail before they are sent, with ThrottlingException or a 500.
SWFAGENT_TEST_STALL=Operation:SECONDS: the first call of that operation waits that long first.
"""

import os
import random
import time

_chaos = float(os.environ.get("SWFAGENT_TEST_CHAOS") or 0)
_stall = os.environ.get("SWFAGENT_TEST_STALL", "")

if _chaos or _stall:
    import botocore.session
    from botocore.awsrequest import AWSResponse

    class _Raw:
        def __init__(self, body: bytes):
            self._body = body

        def stream(self, **_):
            yield self._body

    def _fail(request, **_):
        if random.random() >= _chaos:
            return None
        if random.random() < 0.5:
            status, body = 400, b'{"__type":"ThrottlingException","message":"Rate exceeded (injected)"}'
        else:
            status, body = 500, b'{"__type":"InternalFailure","message":"injected failure"}'
        return AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body))

    _stalled = []

    def _stall_once(**_):
        if not _stalled:
            _stalled.append(1)
            time.sleep(float(_stall.split(":")[1]))

    _original = botocore.session.Session.create_client

    def create_client(self, *args, **kwargs):
        client = _original(self, *args, **kwargs)
        if client.meta.service_model.service_name == "swf":
            if _chaos:
                client.meta.events.register("before-send.swf", _fail)
            if _stall:
                client.meta.events.register(f"before-call.swf.{_stall.split(':')[0]}", _stall_once)
        return client

    botocore.session.Session.create_client = create_client
