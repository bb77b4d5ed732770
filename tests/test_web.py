"""The web console's pages through Flask's test client, on the embedded SWF: what they show, and what they refuse."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient

from swfagent.config import Config
from swfagent.errors import UsageError
from swfagent.executions import fetch_history, list_executions
from swfagent.history import fold
from swfagent.web import WebConsole, is_loopback
from swfagent.web.app import create_app
from swfagent.web.pages import PAGE_SIZE
from swfagent.web.security import HEADERS
from tests.e2e import Driver
from tests.support import Server

HOST = "localhost"  # what the test client sends


def _csrf(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, "no CSRF field on the page"
    return m.group(1)


def _text(response: Any) -> str:
    return str(response.get_data(as_text=True))


@pytest.fixture
def web(server: Server, demo_config: Config) -> tuple[FlaskClient, Driver]:
    client = server.client()
    app = create_app(client, demo_config, hosts=frozenset({HOST}))
    return app.test_client(), Driver(client, demo_config)


def test_the_executions_page_lists_open_and_closed_with_their_current_step(web: tuple[FlaskClient, Driver]) -> None:
    browser, d = web
    d.complete_demo("done")
    d.fail_demo("bad")
    d.start("busy")
    d.decide()
    page = _text(browser.get("/"))
    open_part, closed_part = page.split('data-kind="closed"')
    assert ">busy</a>" in open_part and "Test_Task_A-1" in open_part
    rows = re.findall(r'<tr class="execution">(.*?)</tr>', closed_part, re.S)
    assert [re.search(r">(\w+)</a>", r).group(1) for r in rows] == ["bad", "done"]  # type: ignore[union-attr]
    assert 'status failed">FAILED' in rows[0] and "Test_Task_A-1" in rows[0]
    assert 'status completed">COMPLETED' in rows[1] and "Test_Task_B-1" in rows[1]
    only_failed = _text(browser.get("/?which=FAILED"))
    assert ">bad</a>" in only_failed and ">done</a>" not in only_failed and 'data-kind="open"' not in only_failed
    by_id = _text(browser.get("/?which=closed&workflow_id=done"))
    assert ">done</a>" in by_id and ">bad</a>" not in by_id
    assert "No closed executions that match." in _text(browser.get("/?which=closed&since=1s&workflow_id=nobody"))
    bad = browser.get("/?since=yesterday")
    assert bad.status_code == 400 and "give a number and a unit" in _text(bad)


def test_the_executions_page_is_paged_as_swf_pages(web: tuple[FlaskClient, Driver]) -> None:
    browser, d = web
    for i in range(PAGE_SIZE + 7):
        d.start(f"run-{i:03}")
    first = _text(browser.get("/?which=open"))
    assert first.count('<tr class="execution">') == PAGE_SIZE
    more = re.search(r'class="more" href="([^"]+)"', first)
    assert more
    second = _text(browser.get(html.unescape(more.group(1))))
    assert second.count('<tr class="execution">') == 7
    assert 'class="more"' not in second
    shown = set(re.findall(r">(run-\d+)</a>", first + second))
    assert len(shown) == PAGE_SIZE + 7
    # the next page is asked for with the first page's arguments: `since` as the date it stood for then
    within = _text(browser.get("/?which=open&since=1h"))
    link = html.unescape(re.search(r'class="more" href="([^"]+)"', within).group(1))  # type: ignore[union-attr]
    assert "oldest=" in link and "since=1h" in link
    assert _text(browser.get(link)).count('<tr class="execution">') == 7
    stale = browser.get("/?which=open&page=not-a-token")
    assert stale.status_code == 400 and "start from the first page" in _text(stale)


def test_an_executions_tabs_and_its_chart(web: tuple[FlaskClient, Driver]) -> None:
    browser, d = web
    run_id = d.complete_demo("Demo")
    base = f"/execution?workflow_id=Demo&run_id={run_id}"
    summary = _text(browser.get(base))
    assert 'id="status">COMPLETED' in summary and '<pre id="result">apple</pre>' in summary
    assert 'http-equiv="refresh"' not in summary  # closed: nothing more to see
    assert re.search(r'data-step="Test_Task_A" data-status="completed"><title>[^<]*</title><rect [^>]*fill="#c8e6c9"',
                     summary)
    events = _text(browser.get(base + "&tab=events"))
    assert re.search(r'<tr id="event-7"><td>7</td><td class="type">ActivityTaskCompleted</td>', events)
    assert '<span class="k">result</span> a</div>' in events
    activities = _text(browser.get(base + "&tab=activities"))
    assert activities.count('class="activity"') == 2 and '<pre class="result">apple</pre>' in activities
    missing = browser.get("/execution?workflow_id=nobody")
    assert missing.status_code == 404 and "no execution with workflow id &#39;nobody&#39;" in _text(missing)


def test_an_open_execution_refreshes_and_a_failed_step_shows_its_stderr(web: tuple[FlaskClient, Driver]) -> None:
    browser, d = web
    d.start("broken")
    assert 'http-equiv="refresh"' in _text(browser.get("/execution?workflow_id=broken"))
    d.decide()
    task = d.client.poll_for_activity_task(domain="TEST_SWF", taskList={"name": "TestTasks"}, identity="t")
    d.client.respond_activity_task_failed(taskToken=task["taskToken"], reason="exit code 2",
                                          details="line 1\n" * 20 + "python: can't open file 'c.py'\n")
    page = _text(browser.get("/execution?workflow_id=broken&tab=activities"))
    tail = re.search(r'<div class="stderr">.*?<pre>(.*?)</pre>', page, re.S)
    assert tail and tail.group(1).splitlines()[-1] == "python: can&#39;t open file &#39;c.py&#39;"
    assert "all SWF kept (" in page


def test_text_from_swf_and_tasks_is_escaped(web: tuple[FlaskClient, Driver]) -> None:
    browser, d = web
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    run_id = d.start(hostile.replace("/", "").replace("<", "").replace(">", "")[:40], input=hostile)
    d.decide()
    d.work(hostile)
    wid = list_executions(d.client, d.config, "open")[0]["execution"]["workflowId"]
    for tab in ("summary", "events", "activities"):
        page = _text(browser.get("/execution", query_string={"workflow_id": wid, "run_id": run_id, "tab": tab}))
        assert "<script>alert" not in page and "<img src=x" not in page
        assert html.escape(hostile) in page or html.escape(hostile)[:40] in page


def test_start_from_the_page_with_the_start_commands_rules(web: tuple[FlaskClient, Driver]) -> None:
    browser, d = web
    page = _text(browser.get("/start"))
    form = {"csrf": _csrf(page), "workflow_id": "from-the-page", "input": "x"}
    started = browser.post("/start", data=form)
    assert started.status_code == 303 and "said=started" in started.location
    again = browser.post("/start", data=form)
    assert "said=already-open" in again.location
    assert "already open" in _text(browser.get(again.location))
    [run] = list_executions(d.client, d.config, "open")
    assert fold(fetch_history(d.client, d.config, "from-the-page", run["execution"]["runId"])).input == "x"

    upload = {"csrf": form["csrf"], "id_template": "daily-{date}", "input_file": (io.BytesIO(b"from a file"), "in.txt")}
    done = browser.post("/start", data=upload, content_type="multipart/form-data")
    wid = re.search(r"workflow_id=(daily-[\d-]+)", done.location)
    assert wid
    run_id = re.search(r"run_id=(\w+)", done.location).group(1)  # type: ignore[union-attr]
    assert fold(fetch_history(d.client, d.config, wid.group(1), run_id)).input == "from a file"

    both = browser.post("/start", data={"csrf": form["csrf"], "workflow_id": "a", "id_template": "b"})
    assert both.status_code == 400 and "not both" in _text(both)
    big = browser.post("/start", data={"csrf": form["csrf"], "input": "x" * 40000})
    assert big.status_code == 400 and "SWF takes at most 32768" in _text(big)


def test_signal_cancel_and_terminate_ask_first_then_act(web: tuple[FlaskClient, Driver]) -> None:
    browser, d = web
    d.start("steer")
    d.decide()
    confirm = _text(browser.get("/action?do=terminate&workflow_id=steer"))
    assert "Terminate steer?" in confirm and 'name="reason"' in confirm
    csrf = _csrf(confirm)
    assert list_executions(d.client, d.config, "open")  # asking did nothing
    browser.post("/action", data={"csrf": csrf, "do": "signal", "workflow_id": "steer", "signal_name": "poke",
                                  "input": "hello"})
    browser.post("/action", data={"csrf": csrf, "do": "cancel", "workflow_id": "steer"})
    [run] = list_executions(d.client, d.config, "open")
    types = [e["eventType"] for e in fetch_history(d.client, d.config, "steer", run["execution"]["runId"])]
    assert "WorkflowExecutionSignaled" in types and "WorkflowExecutionCancelRequested" in types
    no_reason = browser.post("/action", data={"csrf": csrf, "do": "terminate", "workflow_id": "steer"})
    assert no_reason.status_code == 400
    done = browser.post("/action", data={"csrf": csrf, "do": "terminate", "workflow_id": "steer", "reason": "enough"})
    assert done.status_code == 303
    assert [e["closeStatus"] for e in list_executions(d.client, d.config, "closed")] == ["TERMINATED"]
    assert browser.get("/action?do=delete&workflow_id=steer").status_code == 400


def test_the_types_page_compares_the_config_with_swf(server: Server, demo_config: Config) -> None:
    browser = create_app(server.client(), demo_config).test_client()
    assert "Domain TEST_SWF</td><td>not registered: run python register_swf.py" in _text(browser.get("/types"))
    Driver(server.client(), demo_config)  # registers
    page = _text(browser.get("/types"))
    assert page.count('<tr class="ok">') == 4 and "Activity type Test_Task_B 1.0</td><td>registered as config.yaml says" in page


def test_a_post_without_the_csrf_token_is_refused(web: tuple[FlaskClient, Driver]) -> None:
    browser, d = web
    for data in ({}, {"csrf": "guessed"}):
        refused = browser.post("/start", data={**data, "workflow_id": "forged"})
        assert refused.status_code == 403 and "stale or was not sent from this console" in _text(refused)
    refused = browser.post("/action", data={"do": "terminate", "workflow_id": "x", "reason": "r"})
    assert refused.status_code == 403
    assert list_executions(d.client, d.config, "all") == []


def test_only_its_own_host_name_and_the_security_headers(web: tuple[FlaskClient, Driver]) -> None:
    browser, _ = web
    rebound = browser.get("/", headers={"Host": "attacker.example"})
    assert rebound.status_code == 400
    page = browser.get("/")
    for name, value in HEADERS.items():
        assert page.headers[name] == value
    assert "script-src" not in HEADERS["Content-Security-Policy"]  # default-src 'none': no script runs at all


def test_a_token_guards_every_page(server: Server, demo_config: Config) -> None:
    browser = create_app(server.client(), demo_config, token="s3cret-token-long-enough").test_client()
    first = browser.get("/types")
    assert first.status_code == 302 and first.location.startswith("/login?next=")
    login = _text(browser.get(first.location))
    assert browser.post("/action", data={"csrf": _csrf(login), "do": "cancel", "workflow_id": "x"}).status_code == 401
    wrong = browser.post("/login", data={"csrf": _csrf(login), "token": "nope", "next": "/types"})
    assert wrong.status_code == 401 and "not the token" in _text(wrong)
    assert "TEST_SWF" not in login and "127.0.0.1" not in login  # nothing about the SWF behind it before the token
    probe = create_app(server.client(), demo_config, token="s3cret-token-long-enough").test_client()
    probe_login = _text(probe.get("/login"))
    for elsewhere in ("//evil.example/", "/\t/evil.example/", "/\\evil.example", "https://evil.example/", "/%09/x"):
        gone = probe.post("/login", data={"csrf": _csrf(probe_login), "token": "nope", "next": elsewhere})
        assert 'name="next" value="/"' in _text(gone) or "evil" not in _text(gone), elsewhere
    outside = browser.post("/login", data={"csrf": _csrf(login), "token": "s3cret-token-long-enough", "next": "/\t/evil.example/"})
    assert outside.location == "/"
    cookie = outside.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "s3cret-token-long-enough" not in cookie
    page = _text(browser.get("/start"))
    assert _csrf(page) != _csrf(login)  # the forms' token is only on pages served after the token was given
    assert browser.post("/start", data={"csrf": _csrf(login), "workflow_id": "x"}).status_code == 403
    other = create_app(server.client(), demo_config, token="s3cret-token-long-enough").test_client()
    assert other.get("/types", headers={"Authorization": "Bearer s3cret-token-long-enough"}).status_code == 200
    assert other.get("/types", headers={"Authorization": "Bearer wrong"}).status_code == 302
    # a script with the token sends no cookie a page could ride on: no form token needed
    Driver(server.client(), demo_config)
    scripted = other.post("/start", data={"workflow_id": "scripted"}, headers={"Authorization": "Bearer s3cret-token-long-enough"})
    assert scripted.status_code == 303


def test_no_credentials_in_any_page(web: tuple[FlaskClient, Driver], server: Server) -> None:
    browser, d = web
    run_id = d.complete_demo("Demo")
    secret = server.env["AWS_SECRET_ACCESS_KEY"]
    for url in ("/", "/start", "/types", f"/execution?workflow_id=Demo&run_id={run_id}&tab=events",
                "/action?do=signal&workflow_id=Demo"):
        page = _text(browser.get(url))
        assert secret not in page and "taskToken" not in page, url


def test_off_loopback_needs_a_token() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.5") and not is_loopback("example.com")
    with pytest.raises(UsageError, match="--host 0.0.0.0 lets other machines in: give a token too"):
        WebConsole(None, None, host="0.0.0.0")  # type: ignore[arg-type]
    WebConsole(None, None, host="0.0.0.0", token="t" * 16)  # type: ignore[arg-type]
    for weak in ("t", " " * 20, "short-token", " padded-token-of-twenty "):
        with pytest.raises(UsageError, match="token must be at least 16 characters"):
            WebConsole(None, None, host="0.0.0.0", token=weak)  # type: ignore[arg-type]


def test_the_console_reads_an_edited_config_and_names_it(server: Server, demo_config: Config) -> None:
    client = server.client()
    browser = create_app(client, demo_config, hosts=frozenset({HOST})).test_client()
    d = Driver(client, demo_config)
    d.start("edited")
    page = _text(browser.get("/execution?workflow_id=edited"))
    assert html.escape(str(demo_config.path)) in page and "Test_Task_Late" not in page  # the header names the file
    data = yaml.safe_load(demo_config.path.read_text())
    data["workflow"]["steps"].append({"id": "Test_Task_Late", "activity": "Test_Task_B", "after": ["Test_Task_B"]})
    demo_config.path.write_text(yaml.safe_dump(data))
    page = _text(browser.get("/execution?workflow_id=edited"))
    assert "Test_Task_Late" in page  # the chart as the file is now, as a --loop poller runs it
    demo_config.path.write_text("workflow: [")  # an edit that does not load: the config before it is served
    assert "Test_Task_Late" in _text(browser.get("/execution?workflow_id=edited"))


def test_a_page_s_words_are_the_page_s(web: tuple[FlaskClient, Driver]) -> None:
    browser, d = web
    missing = browser.get("/execution?workflow_id=nobody")
    assert missing.status_code == 404 and "<h1>Not found</h1>" in _text(missing)
    bad = html.unescape(_text(browser.get("/?since=2x")))
    assert "Started in the last '2x': give a number and a unit" in bad and "--since" not in bad
    since = re.search(r'<input name="since"[^>]*placeholder="([^"]+)" size="(\d+)"', _text(browser.get("/")))
    assert since and int(since.group(2)) >= len(since.group(1))  # the placeholder is not clipped


def test_the_last_step_of_an_execution_whose_step_could_not_be_scheduled_is_that_step(
        web: tuple[FlaskClient, Driver], server: Server) -> None:
    browser, d = web
    client = server.client()
    d.start("unscheduled")
    d.decide()  # Test_Task_A scheduled
    d.work()
    client.deprecate_activity_type(domain="TEST_SWF", activityType={"name": "Test_Task_B", "version": "1.0"})
    d.decide()  # Test_Task_B refused (ACTIVITY_TYPE_DEPRECATED)
    d.decide()  # the execution fails on it
    row = re.search(r'<tr class="execution">(.*?)</tr>', _text(browser.get("/?which=closed")), re.S)
    assert row and "Test_Task_B-1" in row.group(1) and "Test_Task_A-1" not in row.group(1)
