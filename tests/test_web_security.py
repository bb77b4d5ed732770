"""The web console's guard (web/security.py) on a bare Flask app: it guards any page put behind it, not only the
console's (whose pages are tested with it in test_web.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask, render_template_string

from swfagent.web import pages
from swfagent.web.security import COOKIE, HEADERS, Security, local_path

TOKEN = "a-long-enough-token-for-tests"


def _app(token: str | None = None, hosts: frozenset[str] | None = frozenset({"localhost"})) -> Flask:
    app = Flask(__name__, template_folder=str(Path(pages.__file__).parent / "templates"))
    security = Security(token, hosts)
    security.init_app(app)
    app.register_blueprint(pages.bp)  # the login page's links name the console's pages; none is served here
    app.context_processor(lambda: {"csrf": security.form_token(), "config": None, "Shown": (), "colors": {}})

    @app.route("/page", methods=["GET", "POST"])
    def page() -> str:
        return render_template_string('ok <input name="csrf" value="{{ csrf }}">')

    return app


def _csrf(text: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', text)
    assert m
    return m.group(1)


def test_only_its_own_host_and_every_answer_has_the_security_headers() -> None:
    client = _app().test_client()
    ok = client.get("/page")
    assert ok.status_code == 200 and all(ok.headers[k] == v for k, v in HEADERS.items())
    rebound = client.get("/page", headers={"Host": "evil.example:5056"})
    assert rebound.status_code == 400 and all(rebound.headers[k] == v for k, v in HEADERS.items())


def test_a_post_needs_the_page_s_csrf_token() -> None:
    client = _app().test_client()
    token = _csrf(client.get("/page").get_data(as_text=True))
    assert client.post("/page", data={}).status_code == 403
    assert client.post("/page", data={"csrf": "guess"}).status_code == 403
    assert client.post("/page", data={"csrf": token}).status_code == 200


def test_a_token_guards_every_page_until_given() -> None:
    client = _app(TOKEN, None).test_client()
    first = client.get("/page")
    assert first.status_code == 302 and first.headers["Location"].startswith("/login?next=/page")
    assert client.post("/page", data={}).status_code == 401
    login = client.get("/login?next=/page").get_data(as_text=True)
    assert client.post("/login", data={"csrf": _csrf(login), "token": "wrong", "next": "/page"}).status_code == 401
    given = client.post("/login", data={"csrf": _csrf(login), "token": TOKEN, "next": "/page"})
    assert given.status_code == 303 and given.headers["Location"] == "/page"
    assert COOKIE in given.headers["Set-Cookie"] and TOKEN not in given.headers["Set-Cookie"]
    assert client.get("/page").status_code == 200
    bearer = _app(TOKEN, None).test_client()
    assert bearer.post("/page", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200  # a script: no CSRF


def test_two_consoles_share_no_secret() -> None:
    one, two = Security(TOKEN, None), Security(TOKEN, None)
    assert one.session != two.session and one.csrf != two.csrf  # a cookie is void once its console stops


@pytest.mark.parametrize("target,expected", [
    ("/execution?workflow_id=x", "/execution?workflow_id=x"), ("//evil.example/", "/"), ("/\\evil.example", "/"),
    ("https://evil.example/", "/"), ("/\t/evil.example", "/"), ("relative", "/"),
])
def test_after_login_only_a_path_on_this_console(target: str, expected: str) -> None:
    assert local_path(target) == expected
