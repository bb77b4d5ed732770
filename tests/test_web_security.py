"""The web console's guard (web/security.py) on a bare Flask app: it guards any page put behind it, not only the
console's (whose pages are tested with it in test_web.py)."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template_string

from swfagent.errors import UsageError
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
    assert one.csrf != two.csrf and not two.sessions.valid(one.sessions.new())  # void once its console stops


@pytest.mark.parametrize("target,expected", [
    ("/execution?workflow_id=x", "/execution?workflow_id=x"), ("//evil.example/", "/"), ("/\\evil.example", "/"),
    ("https://evil.example/", "/"), ("/\t/evil.example", "/"), ("relative", "/"),
])
def test_after_login_only_a_path_on_this_console(target: str, expected: str) -> None:
    assert local_path(target) == expected


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _login(client: Any, token: str) -> Any:
    page = client.get("/login?next=/page").get_data(as_text=True)
    return client.post("/login", data={"csrf": _csrf(page), "token": token, "next": "/page"})


def test_each_login_is_its_own_session_which_expires_and_logs_out() -> None:
    clock = Clock()
    security = Security(TOKEN, None, clock=clock)
    app = Flask(__name__, template_folder=str(Path(pages.__file__).parent / "templates"))
    security.init_app(app)
    app.register_blueprint(pages.bp)
    app.context_processor(lambda: {"csrf": security.form_token(), "config": None, "Shown": (), "colors": {}})
    app.add_url_rule("/page", "page", lambda: render_template_string('ok <input name="csrf" value="{{ csrf }}">'),
                     methods=["GET", "POST"])
    one, two = app.test_client(), app.test_client()
    cookies = [_login(c, TOKEN).headers["Set-Cookie"] for c in (one, two)]
    assert cookies[0] != cookies[1]  # not one value for every login
    assert f"Max-Age={12 * 3600}" in cookies[0]
    assert one.get("/page").status_code == 200 and two.get("/page").status_code == 200
    csrf = _csrf(one.get("/page").get_data(as_text=True))
    assert one.post("/logout", data={"csrf": csrf}).status_code == 303
    assert one.get("/page").status_code == 302  # logged out: the token is asked again
    assert two.get("/page").status_code == 200  # the other login is its own
    clock.now += 12 * 3600 + 1
    assert two.get("/page").status_code == 302  # expired


def test_wrong_tokens_slow_down_that_client_and_no_other() -> None:
    app = _app(TOKEN, None)
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "10.0.0.66"
    for _ in range(5):
        assert _login(guesser, "wrong-wrong-wrong-wrong").status_code == 401
    slowed = _login(guesser, TOKEN)  # even the right token waits: a guesser learns nothing from the answer
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) >= 1
    assert "Too many wrong tokens" in slowed.get_data(as_text=True)
    person = app.test_client()
    person.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    assert _login(person, TOKEN).status_code == 303  # the guesses lock nobody else out


def test_wrong_bearer_tokens_count_and_are_slowed_too() -> None:
    client = _app(TOKEN, None).test_client()
    for _ in range(5):
        assert client.get("/page", headers={"Authorization": "Bearer wrong-wrong-wrong-wrong"}).status_code == 302
    assert client.get("/page", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 429
    assert _login(client, TOKEN).status_code == 429  # the same client, by the form


@pytest.mark.parametrize("token", ["", " ", "short", " " + TOKEN])
def test_a_weak_token_is_refused_at_start(token: str) -> None:
    with pytest.raises(UsageError, match="at least 16 characters"):
        Security(token, None)


def test_behind_tls_the_cookie_is_secure_and_the_proxy_s_scheme_believed() -> None:
    app = _app(TOKEN, None)
    plain = _login(app.test_client(), TOKEN).headers["Set-Cookie"]
    assert "Secure" not in plain
    tls = Flask(__name__, template_folder=str(Path(pages.__file__).parent / "templates"))
    security = Security(TOKEN, None, behind_tls=True)
    security.init_app(tls)
    tls.register_blueprint(pages.bp)
    tls.context_processor(lambda: {"csrf": security.form_token(), "config": None, "Shown": (), "colors": {}})
    client = tls.test_client()
    page = client.get("/login?next=/", headers={"X-Forwarded-Proto": "https"}).get_data(as_text=True)
    given = client.post("/login", data={"csrf": _csrf(page), "token": TOKEN, "next": "/"},
                        headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in given.headers["Set-Cookie"]


def test_a_large_upload_before_login_is_refused_before_it_is_written(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import http.client
    import tempfile

    from werkzeug.serving import make_server

    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))  # where werkzeug would spool a large form
    server = make_server("127.0.0.1", 0, _app(TOKEN, None), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        chunk = b"x" * (1 << 20)
        for chunked in (False, True):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            boundary = "b0undary"
            head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"token\"; filename=\"t\"\r\n\r\n").encode()
            conn.putrequest("POST", "/login")
            conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
            if chunked:
                conn.putheader("Transfer-Encoding", "chunked")
            else:
                conn.putheader("Content-Length", str(len(head) + 100 * len(chunk)))
            conn.endheaders()
            status = None
            try:
                body = [head, *[chunk] * 100]
                for part in body:
                    conn.send(f"{len(part):x}\r\n".encode() + part + b"\r\n" if chunked else part)
                if chunked:
                    conn.send(b"0\r\n\r\n")
                status = conn.getresponse().status
            except (BrokenPipeError, ConnectionResetError):
                status = 413  # the server stopped reading and closed: refused before the body was taken
            finally:
                conn.close()
            assert status == 413, (chunked, status)
            assert sum(f.stat().st_size for f in spool.rglob("*")) == 0  # nothing of it reached the disk
    finally:
        server.shutdown()
        server.server_close()
