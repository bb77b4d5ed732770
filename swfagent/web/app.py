"""create_app(): the web console's Flask app, assembled from its parts.

- security.py  the guard: its own Host names, the token, CSRF, the security headers; the login page
- pages.py     the pages, as a Blueprint, and the ConsoleState they share (closed when the console stops)

It talks to whatever SWF the client it is given points at. Jinja escapes every value that reaches a page.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, g, render_template
from werkzeug.exceptions import HTTPException

from .. import graph
from ..client import describe_error, error_code
from ..config import Config
from ..errors import NotFound, SwfAgentError, UsageError
from ..live import LiveConfig
from ..render import duration, local_time
from ..status import Shown
from .pages import EXTENSION, ConsoleState, bp, console, current_config
from .security import Security

Page = tuple[str, int]


def create_app(client: Any, config: Config | LiveConfig, *, token: str | None = None,
               hosts: frozenset[str] | None = None, behind_tls: bool = False) -> Flask:
    """The console's Flask app; `hosts`: the Host headers it answers to (None: any, when a token guards it).

    Each request sees config.yaml as it is then: an edit is shown at the next page, as the looping pollers run it.
    """
    app = Flask(__name__)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters.update(local_time=local_time, duration=duration)
    app.extensions[EXTENSION] = ConsoleState(client, config)
    security = Security(token, hosts, behind_tls=behind_tls)
    security.init_app(app)
    app.register_blueprint(bp)
    app.context_processor(lambda: _common(security))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(SwfAgentError, _our_error)
    app.register_error_handler(ClientError, _swf_error)
    app.register_error_handler(BotoCoreError, _swf_error)
    return app


def _common(security: Security) -> dict[str, Any]:
    """What every page's template gets: nothing about the SWF behind it until the request is let in."""
    shared = {"csrf": security.form_token(), "Shown": Shown, "colors": graph.COLORS, "guarded": security.token is not None}
    if not g.get("allowed"):  # the login page, a refused request
        return {**shared, "config": None, "endpoint": None}
    return {**shared, "config": current_config(), "endpoint": console().client.meta.endpoint_url}


def _http_error(exc: HTTPException) -> Page:
    return render_template("error.html", message=exc.description, title=exc.name), exc.code or 500


def _our_error(exc: SwfAgentError) -> Page:
    code, title = ((404, "Not found") if isinstance(exc, NotFound) else (400, "Cannot do that")
                   if isinstance(exc, UsageError) else (502, "SWF refused"))
    return render_template("error.html", message=str(exc), title=title), code


def _swf_error(exc: Exception) -> Page:
    # a value from the request SWF found invalid is the request's fault (400); anything else SWF's answer (502)
    code = 400 if error_code(exc) in ("ValidationException", "ValidationError") else 502
    return render_template("error.html", message=describe_error(exc), title="SWF refused"), code
