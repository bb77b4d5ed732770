"""EmbeddedSWF: the embedded SWF's HTTP server on 127.0.0.1, in a thread of this process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .faults import Limits, parse_faults

LOCAL_HOST = "127.0.0.1"  # never another interface: this server checks no credentials
DEFAULT_PORT = 5055
POLL_SECONDS = 60.0  # SWF holds an empty poll this long
LOCAL_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


class EmbeddedSWF:
    """moto's server behind this layer; `with EmbeddedSWF() as swf: swf.endpoint`."""

    def __init__(self, port: int = 0, *, poll_seconds: float = POLL_SECONDS, faults: str | Limits | None = None,
                 clock: Callable[[], float] = time.time, test_api: bool = False, data: str | Path | None = None,
                 snapshot_every: int | None = None):
        self._port = port
        self.data = data  # with a folder: every change on disk before its answer leaves (durable.py)
        self._snapshot_every = snapshot_every
        self.durable: Any = None
        self._test_api = test_api  # /swfagent-api/ and moto's /moto-api/ (reset, data): for tests only
        self._poll_seconds = poll_seconds
        self._limits = faults if isinstance(faults, Limits) else parse_faults(faults)
        self._clock = clock
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.engine: Any = None
        self.endpoint = ""

    def start(self) -> EmbeddedSWF:
        """Start serving; the endpoint is known once this returns. OSError if the port cannot be had."""
        import logging

        from werkzeug.serving import make_server

        from .api import Handler, Layer
        from .engine import Engine

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # the server's lines are its own: not mixed into a poller's log when both run in one process (the demo)
        logging.getLogger("swfagent.local").propagate = False
        if self._port:  # werkzeug exits the process on a taken port: find out first
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((LOCAL_HOST, self._port))
        if self.data is None:
            self.engine = Engine(poll_seconds=self._poll_seconds, limits=self._limits, clock=self._clock)
        else:
            self.engine = self._durable_engine()
        app = Layer(self.engine, test_api=self._test_api)
        try:
            self._server = make_server(LOCAL_HOST, self._port, app, threaded=True, request_handler=Handler)
        except BaseException:
            self.stop()
            raise
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-swf", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.endpoint = f"http://{host}:{port}"
        return self

    def _durable_engine(self) -> Any:
        """The engine as --data left it, its changes journaled from now; DataError in one line if the folder
        cannot be used."""
        from .durable import Durable, snapshot_every
        from .engine import Engine, pinned_clock

        def fresh() -> Engine:
            return Engine(poll_seconds=self._poll_seconds, limits=self._limits, clock=self._clock, run_clock=False)

        self.durable = Durable(self.data, every=self._snapshot_every or snapshot_every())  # type: ignore[arg-type]
        engine = self.durable.open(fresh)
        engine.poll_seconds = self._poll_seconds
        engine.base_clock = self._clock
        engine.clock = pinned_clock(self._clock)
        engine.set_limits(self._limits, configured=True)  # this run's --faults, journaled: a replay runs with them
        with engine.lock:
            engine.journal.maybe_snapshot()
        engine.start_clock()  # what came due while it was down fires now, in time order
        return engine

    def stop(self) -> None:
        """Stop serving now, waiting polls included; without --data, everything registered or started is gone."""
        if self.engine is not None:
            self.engine.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.durable is not None:
            self.durable.close()
            self.durable = None

    def env(self) -> dict[str, str]:
        """The variables that point boto3 (and so every script here) at this server."""
        return {**LOCAL_ENV, "AWS_ENDPOINT_URL_SWF": self.endpoint}

    def __enter__(self) -> EmbeddedSWF:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def exports(env: dict[str, str]) -> str:
    """Shell lines that set these variables."""
    return "\n".join(f"export {k}={v}" for k, v in env.items())
