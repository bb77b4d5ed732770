"""A hostile page on another local origin, in the system's headless Chromium, against the web console: it tries a
cross-site form, a cross-site fetch that would read a page, a login by form, and a frame; each must fail, and the
assertions are on what the console did (nothing started, nothing signaled), not only on what the page saw."""

from __future__ import annotations

import http.server
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swfagent.config import Config
from swfagent.web import WebConsole
from tests.e2e import register_and_start
from tests.support import Server
from tests.test_web_browser_e2e import browser, needs_browser  # noqa: F401 (the browser fixture)

TOKEN = "a-long-enough-token-for-the-hostile-test"


@pytest.fixture
def hostile_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A web server for the attacker's pages, on another port of 127.0.0.1 (another origin)."""
    root = tmp_path / "site"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()


def _page(console: str) -> str:
    """The attacker's page: it forges a Start, reads the list, logs in by form and frames the console."""
    return f"""<!doctype html><html><body>
<form id="start" method="post" action="{console}start" target="sink">
  <input name="workflow_id" value="forged-by-form"><input name="csrf" value="guessed">
</form>
<form id="login" method="post" action="{console}login" target="sink2">
  <input name="token" value="guess-guess-guess-guess"><input name="next" value="/">
</form>
<iframe name="sink"></iframe><iframe name="sink2"></iframe>
<iframe id="framed" src="{console}"></iframe>
<pre id="out">...</pre>
<script>
const out = document.getElementById("out");
const said = [];
function note(what) {{ said.push(what); out.textContent = said.join("\\n"); }}
document.getElementById("start").submit();
document.getElementById("login").submit();
fetch("{console}", {{credentials: "include"}}).then(r => r.text()).then(t => note("read " + t.length))
  .catch(e => note("read refused"));
fetch("{console}start", {{method: "POST", mode: "no-cors", credentials: "include",
  headers: {{"Content-Type": "application/x-www-form-urlencoded"}}, body: "workflow_id=forged-by-fetch"}})
  .then(() => note("posted")).catch(() => note("post refused"));
fetch("{console}action", {{method: "POST", mode: "no-cors", credentials: "include",
  headers: {{"Content-Type": "text/plain"}}, body: "do=terminate&workflow_id=victim&reason=x"}})
  .then(() => note("action posted")).catch(() => note("action refused"));
</script></body></html>"""


@needs_browser
@pytest.mark.parametrize("token", [None, TOKEN], ids=["no token", "token"])
def test_a_hostile_page_gets_nothing_from_the_console(browser: Any, server: Server, demo_config: Config,  # noqa: F811
                                                      hostile_site: tuple[str, Path], token: str | None) -> None:
    from selenium.webdriver.common.by import By

    register_and_start(server, demo_config, "victim")
    site, root = hostile_site
    with WebConsole(server.client(), demo_config, port=0, token=token) as web:
        if token:  # the person is logged in, in this browser: the attack rides on their cookie if it can
            browser.get(web.url + "login")
            browser.find_element(By.NAME, "token").send_keys(token)
            browser.find_element(By.CSS_SELECTOR, "form button").click()
            time.sleep(0.5)
        (root / "attack.html").write_text(_page(web.url))
        browser.get(site + "attack.html")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and browser.find_element(By.ID, "out").text.count("\n") < 2:
            time.sleep(0.2)
        seen = browser.find_element(By.ID, "out").text
        time.sleep(1)  # the forms' posts land
    assert "read refused" in seen and not re.search(r"read \d", seen)  # the page could not read the console
    client = server.client()
    runs = client.list_open_workflow_executions(domain="TEST_SWF", startTimeFilter={"oldestDate": 0})["executionInfos"]
    assert [r["execution"]["workflowId"] for r in runs] == ["victim"]  # nothing started, the victim not terminated
    closed = client.list_closed_workflow_executions(domain="TEST_SWF", startTimeFilter={"oldestDate": 0})
    assert closed["executionInfos"] == []
    # framing is refused by the console's headers (X-Frame-Options DENY, frame-ancestors 'none')
    browser.switch_to.frame(browser.find_element(By.ID, "framed"))
    assert "Workflow executions" not in browser.page_source
