"""WebConsole: the web console's HTTP server, in a thread of this process (swfagent web, swfagent local)."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from typing import Any

from ..config import Config
from ..errors import UsageError
from .security import check_token

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5056  # beside the embedded SWF's 5055
TOKEN_ENV = "SWFAGENT_WEB_TOKEN"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses no other machine reaches."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None) -> None:
    """UsageError when the console would listen where other machines reach it with no token to ask for, or when
    its token is too weak to guard it."""
    if not is_loopback(host) and not token:
        raise UsageError(f"--host {host} lets other machines in: give a token too (--token, or {TOKEN_ENV})")
    check_token(token)


class WebConsole:
    """The console on host:port; `with WebConsole(client, config) as web: web.url`."""

    def __init__(self, client: Any, config: Config, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 token: str | None = None, behind_tls: bool = False):
        check_exposure(host, token)
        self.client, self.config, self.host, self.port, self.token = client, config, host, port, token or None
        self.behind_tls = behind_tls
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> WebConsole:
        """Start serving; OSError if the port cannot be had."""
        from werkzeug.serving import make_server

        from .app import create_app

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        if self.port:  # werkzeug would exit the process on a taken port: find out first
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            with socket.socket(family) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((self.host, self.port))
        self._server = make_server(self.host, self.port, None, threaded=True)  # type: ignore[arg-type]
        port = self._server.server_address[1]
        shown = f"[{self.host}]" if ":" in self.host else self.host
        # on loopback, only its own address: a page from elsewhere cannot reach it through a rebound DNS name
        hosts = (frozenset({f"{shown}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"}) if is_loopback(self.host)
                 else None)
        self._server.app = create_app(self.client, self.config, token=self.token, hosts=hosts,
                                      behind_tls=self.behind_tls)
        self._thread = threading.Thread(target=self._server.serve_forever, name="web-console", daemon=True)
        self._thread.start()
        self.url = f"http://{shown}:{port}/"
        return self

    def stop(self) -> None:
        """Stop serving, and the pages' shared state with it."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            from .pages import EXTENSION

            self._server.app.extensions[EXTENSION].close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> WebConsole:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
