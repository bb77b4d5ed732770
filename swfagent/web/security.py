"""The web console's guard, in one place: its own Host names only (no DNS rebinding), a token before anything when
one is set (required off loopback), a CSRF token on every form, and the security headers on every answer."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import urllib.parse
from typing import Any

from flask import Blueprint, Flask, abort, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

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
    """The guard of one console: its token, its session cookie and its CSRF tokens, derived from a key made at start
    (so the token itself is not stored, and every cookie is void once the console stops)."""

    def __init__(self, token: str | None, hosts: frozenset[str] | None):
        self.token, self.hosts = token, hosts  # hosts None: any Host (a token guards it)
        self._key = secrets.token_bytes(32)
        self.session = self._derived(f"session:{token or ''}")
        # the forms' CSRF token: only pages served after the token was given carry it (the login form has its own)
        self.csrf, self.login_csrf = self._derived("csrf"), self._derived("login")

    def _derived(self, what: str) -> str:
        return hmac.new(self._key, what.encode(), hashlib.sha256).hexdigest()

    def init_app(self, app: Flask) -> None:
        """Guard every request of `app`, and serve the login page."""
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
        bearer = request.headers.get("Authorization", "")
        by_bearer = self.token is not None and bearer.startswith("Bearer ") and same(bearer[7:], self.token)
        if self.token is not None and not (by_bearer or same(request.cookies.get(COOKIE), self.session)):
            if request.method == "GET":
                return redirect(url_for("security.login", next=request.full_path))
            abort(401, "Give the console's token first.")
        g.allowed = True
        # a browser sends a cookie by itself, never an Authorization header: only a cookie's session needs the form's token
        if request.method == "POST" and not by_bearer and not same(request.form.get("csrf"), self.csrf):
            abort(403, STALE_FORM)
        return None

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
                if self.token is not None and same(request.form.get("token"), self.token):
                    response = redirect(target, 303)
                    response.set_cookie(COOKIE, self.session, httponly=True, samesite="Strict", secure=request.is_secure)
                    return response
                return render_template("login.html", next=target, wrong=True), 401
            return render_template("login.html", next=target, wrong=False)

        return bp
