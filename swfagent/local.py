"""The embedded SWF: moto's server on 127.0.0.1, for the demo, the tests and trying things out."""

from __future__ import annotations

import logging
import socket
from typing import Any

LOCAL_HOST = "127.0.0.1"  # never another interface: this server checks no credentials
DEFAULT_PORT = 5055
LOCAL_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


class EmbeddedSWF:
    """moto's server in a thread of this process; `with EmbeddedSWF() as swf: swf.endpoint`."""

    def __init__(self, port: int = 0):
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._port = port
        self._server = ThreadedMotoServer(ip_address=LOCAL_HOST, port=port, verbose=False)
        self.endpoint = ""

    def start(self) -> EmbeddedSWF:
        """Start serving; the endpoint is known once this returns. OSError if the port cannot be had."""
        if self._port:  # moto's server thread dies quietly on a taken port, and its start() then waits for ever
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((LOCAL_HOST, self._port))
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        """Stop serving; everything registered or started is gone."""
        self._server.stop()

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
