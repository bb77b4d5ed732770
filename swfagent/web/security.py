"""The web console's guard, in one place: its own Host names only (no DNS rebinding), a token before anything when
one is set (required off loopback), a session of its own per login (with an expiry, and a logout), a slow-down after
wrong tokens, a CSRF token on every form, a bound on every request's size, and the security headers on every answer."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, abort, g, redirect, render_template, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from ..errors import UsageError
from ..limits import MAX_DATA

COOKIE = "swfagent_console"
HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
STALE_FORM = "This form is stale or was not sent from this console: reload the page and send it again."
OPEN = ("security.login", "static")  # the endpoints served before the token is given
MIN_TOKEN = 16  # characters: a token anyone could guess protects nothing
SESSION_SECONDS = 12 * 3600  # a login lasts this long, then the token is asked again
MAX_SESSIONS = 1000  # live logins kept; past it the oldest is dropped
# a request's body, read before anything else (a form, the Start page's file): the input SWF takes, with room for
# the form around it and a multipart's framing. Larger is refused (413) before any of it is written anywhere.
MAX_REQUEST = 4 * MAX_DATA + 64 * 1024
FREE_TRIES, LOCKOUT_CAP = 5, 300  # wrong tokens before the slow-down; its longest wait, in seconds


def check_token(token: str | None) -> None:
    """UsageError when a token is too weak to guard anything: blank, or shorter than MIN_TOKEN characters."""
    if token is not None and (len(token.strip()) < MIN_TOKEN or token != token.strip()):
        raise UsageError(f"the console's token must be at least {MIN_TOKEN} characters, with no space at either end "
                         "(make one: python -c 'import secrets; print(secrets.token_urlsafe())')")


class Sessions:
    """The logins made with the token: a random id each, valid until its expiry or its logout."""

    def __init__(self, seconds: float = SESSION_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.clock = seconds, clock
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def new(self) -> str:
        """A new session's id."""
        sid = secrets.token_urlsafe(32)
        with self._lock:
            now = self.clock()
            self._expiry = {k: v for k, v in self._expiry.items() if v > now}
            while len(self._expiry) >= MAX_SESSIONS:
                del self._expiry[min(self._expiry, key=self._expiry.__getitem__)]
            self._expiry[sid] = now + self.seconds
        return sid

    def valid(self, sid: str | None) -> bool:
        """True for a session that was made here, has not expired and was not logged out."""
        if not sid:
            return False
        with self._lock:
            expiry = self._expiry.get(sid)
            return expiry is not None and expiry > self.clock()

    def end(self, sid: str | None) -> None:
        """Log this session out."""
        with self._lock:
            self._expiry.pop(sid or "", None)


class SlowDown:
    """Wrong tokens, counted per client address: after FREE_TRIES in a row, that client's next try waits twice as
    long as the last (up to LOCKOUT_CAP). One client's guesses never lock another out."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._wrong: dict[str, tuple[int, float]] = {}  # client -> (wrong tokens in a row, when it may try again)
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """Seconds until this client may try a token again (0: now)."""
        with self._lock:
            return max(0.0, self._wrong.get(client, (0, 0.0))[1] - self.clock())

    def failed(self, client: str) -> None:
        with self._lock:
            wrong = self._wrong.get(client, (0, 0.0))[0] + 1
            until = self.clock() + min(LOCKOUT_CAP, 2 ** (wrong - FREE_TRIES)) if wrong >= FREE_TRIES else 0.0
            if client not in self._wrong and len(self._wrong) >= MAX_SESSIONS:  # bounded: forget the oldest
                del self._wrong[next(iter(self._wrong))]
            self._wrong[client] = (wrong, until)

    def passed(self, client: str) -> None:
        with self._lock:
            self._wrong.pop(client, None)


def _client() -> str:
    """Who is asking: the client's address (behind --behind-tls, the one the proxy names)."""
    return request.remote_addr or "?"


def same(given: str | None, expected: str) -> bool:
    """A constant-time comparison of a secret the request gave with the expected one."""
    return hmac.compare_digest((given or "").encode(), expected.encode())


def local_path(target: str) -> str:
    """A path on this console to go back to, or '/': never another site (`//host`, `/\\host`, hidden controls)."""
    target = "".join(c for c in target if c.isprintable() and not c.isspace())
    parts = urllib.parse.urlsplit(target)
    if not target.startswith("/") or target.startswith(("//", "/\\")) or parts.scheme or parts.netloc:
        return "/"
    return target


class Security:
    """The guard of one console: its token, its logins, and its CSRF tokens, derived from a key made at start (so
    every cookie and form is void once the console stops). `behind_tls`: served by a TLS proxy that says so in
    X-Forwarded-Proto, which the cookie's Secure flag and the pages' links then follow."""

    def __init__(self, token: str | None, hosts: frozenset[str] | None, *, behind_tls: bool = False,
                 clock: Callable[[], float] = time.monotonic):
        check_token(token)
        self.token, self.hosts, self.behind_tls = token, hosts, behind_tls  # hosts None: any Host (a token guards it)
        self._key = secrets.token_bytes(32)
        self.sessions, self.slow_down = Sessions(clock=clock), SlowDown(clock)
        # the forms' CSRF token: only pages served after the token was given carry it (the login form has its own)
        self.csrf, self.login_csrf = self._derived("csrf"), self._derived("login")

    def _derived(self, what: str) -> str:
        return hmac.new(self._key, what.encode(), hashlib.sha256).hexdigest()

    def init_app(self, app: Flask) -> None:
        """Guard every request of `app`, and serve the login and logout pages."""
        app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST
        app.config["MAX_FORM_MEMORY_SIZE"] = MAX_REQUEST
        if self.behind_tls:  # the proxy's X-Forwarded-Proto and -Host, from one proxy only
            app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
        app.before_request(self.guard)
        app.after_request(self.headers)
        app.register_blueprint(self.blueprint())

    def form_token(self) -> str:
        """The CSRF token for the forms of the page being served."""
        return self.csrf if g.get("allowed") else self.login_csrf

    def guard(self) -> Response | None:
        """Before each request: the Host, then the token (cookie or bearer), then the form's CSRF token."""
        if self.hosts is not None and request.host not in self.hosts:
            abort(400, "This console answers only at its own address.")  # a rebound DNS name
        if request.endpoint in OPEN:
            if request.method == "POST" and not same(request.form.get("csrf"), self.login_csrf):
                abort(403, STALE_FORM)
            return None
        by_bearer = self._bearer()
        if self.token is not None and not (by_bearer or self.sessions.valid(request.cookies.get(COOKIE))):
            if request.method == "GET":
                return redirect(url_for("security.login", next=request.full_path))
            abort(401, "Give the console's token first.")
        g.allowed = True
        # a browser sends a cookie by itself, never an Authorization header: only a cookie's session needs the form's token
        if request.method == "POST" and not by_bearer and not same(request.form.get("csrf"), self.csrf):
            abort(403, STALE_FORM)
        return None

    def _bearer(self) -> bool:
        """True for a request with the right `Authorization: Bearer TOKEN`; a wrong one counts as a wrong token, and a
        client in its slow-down is answered 429 before its token is looked at."""
        bearer = request.headers.get("Authorization", "")
        if self.token is None or not bearer.startswith("Bearer "):
            return False
        self._not_slowed()
        if same(bearer[7:], self.token):
            self.slow_down.passed(_client())
            return True
        self.slow_down.failed(_client())
        return False

    def _not_slowed(self) -> None:
        """429, with Retry-After, while this client waits after wrong tokens."""
        wait = self.slow_down.wait(_client())
        if wait > 0:
            page = render_template("login.html", next="/", wrong=False, wait=int(wait) + 1)
            abort(Response(page, 429, {"Retry-After": str(int(wait) + 1)}))

    @staticmethod
    def headers(response: Response) -> Response:
        """After each request: the security headers."""
        response.headers.update(HEADERS)
        return response

    def blueprint(self) -> Blueprint:
        """The login page."""
        bp = Blueprint("security", __name__)

        @bp.route("/login", methods=["GET", "POST"])
        def login() -> Any:
            target = local_path(request.values.get("next", "/"))
            if request.method == "POST":
                self._not_slowed()
                if self.token is not None and same(request.form.get("token"), self.token):
                    self.slow_down.passed(_client())
                    response = redirect(target, 303)
                    response.set_cookie(COOKIE, self.sessions.new(), max_age=int(self.sessions.seconds), httponly=True,
                                        samesite="Strict", secure=self.behind_tls or request.is_secure)
                    return response
                self.slow_down.failed(_client())
                return render_template("login.html", next=target, wrong=True, wait=0), 401
            return render_template("login.html", next=target, wrong=False, wait=0)

        @bp.post("/logout")
        def logout() -> Any:
            self.sessions.end(request.cookies.get(COOKIE))
            response = redirect(url_for("security.login"), 303)
            response.delete_cookie(COOKIE, httponly=True, samesite="Strict", secure=self.behind_tls or request.is_secure)
            return response

        return bp
