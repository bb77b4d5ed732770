"""A hostile web page on another local origin, in the system's headless Chromium, against `swfagent local`.

The page tries what a page could once do: read /moto-api/data.json (every token, input and result), start an
execution with fetch and x-amz-target, change /swfagent-api/settings with a text/plain POST, wipe everything
with /moto-api/reset (by fetch and by a form). The server runs with --test-api, its most exposed form. The test
checks what the server did: nothing started, changed, reset or read.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.e2e import Local
from tests.test_web_browser_e2e import browser, needs_browser  # noqa: F401 (the fixture, shared)

SECRET = "the-secret-input-4f2a"

PAGE = """<!doctype html><html><body>
<form id="reset" method="POST" action="{swf}/moto-api/reset" target="sink"></form>
<form id="settings" method="POST" action="{swf}/swfagent-api/settings" target="sink" enctype="text/plain">
  <input name='{{"faults": "throttle=1", "poll_seconds": 1, "x": "' value='"}}'></form>
<iframe name="sink"></iframe>
<script>
const swf = "{swf}";
const results = {{}};
async function attempt(name, run) {{
  try {{ results[name] = "answered: " + await run(); }} catch (e) {{ results[name] = "failed: " + e; }}
}}
(async () => {{
  await attempt("read data.json", async () => (await fetch(swf + "/moto-api/data.json")).text());
  await attempt("read data.json no-cors", async () => (await fetch(swf + "/moto-api/data.json", {{mode: "no-cors"}})).text());
  await attempt("start an execution", async () => (await fetch(swf + "/", {{method: "POST", headers: {{
      "x-amz-target": "SimpleWorkflowService.StartWorkflowExecution",
      "content-type": "application/x-amz-json-1.0",
      "authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/swf/aws4_request, SignedHeaders=host, Signature=0"}},
    body: JSON.stringify({{domain: "D", workflowId: "from-the-page", workflowType: {{name: "W", version: "1"}},
                          input: "rm -rf /"}})}})).text());
  await attempt("start an execution no-cors", async () => (await fetch(swf + "/", {{method: "POST", mode: "no-cors",
    headers: {{"content-type": "text/plain"}},
    body: JSON.stringify({{domain: "D", workflowId: "from-the-page-2", workflowType: {{name: "W", version: "1"}}}})}})).type);
  await attempt("settings text/plain", async () => (await fetch(swf + "/swfagent-api/settings", {{method: "POST",
    mode: "no-cors", headers: {{"content-type": "text/plain"}}, body: '{{"faults": "throttle=1", "poll_seconds": 1}}'}})).type);
  await attempt("reset", async () => (await fetch(swf + "/moto-api/reset", {{method: "POST", mode: "no-cors"}})).type);
  document.getElementById("settings").submit();
  await new Promise(r => setTimeout(r, 500));
  document.getElementById("reset").submit();
  await new Promise(r => setTimeout(r, 500));
  window.hostileResults = results;
  document.title = "done";
}})();
</script></body></html>"""


@pytest.fixture
def hostile_site() -> Iterator[tuple[str, list[bytes]]]:
    """A page server on 127.0.0.1, reached as http://localhost:PORT (another origin): (its URL, its page)."""
    page: list[bytes] = [b""]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page[0])

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{server.server_address[1]}/", page
    finally:
        server.shutdown()
        server.server_close()


def _settings(endpoint: str) -> dict[str, Any]:
    with urllib.request.urlopen(endpoint + "/swfagent-api/settings", timeout=10) as answer:
        return dict(json.loads(answer.read()))


@needs_browser
def test_a_hostile_page_gets_nothing_from_the_embedded_swf(browser: Any, hostile_site: tuple[str, list[bytes]]) -> None:  # noqa: F811
    local = Local("--no-console", "--test-api", "--poll-seconds", "2")
    try:
        endpoint = local.env["AWS_ENDPOINT_URL_SWF"]
        swf = boto3.client("swf", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                           aws_secret_access_key="testing")
        swf.register_domain(name="D", workflowExecutionRetentionPeriodInDays="1")
        swf.register_workflow_type(domain="D", name="W", version="1", defaultTaskList={"name": "T"},
                                   defaultChildPolicy="TERMINATE", defaultExecutionStartToCloseTimeout="600",
                                   defaultTaskStartToCloseTimeout="60")
        swf.start_workflow_execution(domain="D", workflowId="mine", workflowType={"name": "W", "version": "1"},
                                     input=SECRET)
        before = _settings(endpoint)
        url, page = hostile_site
        page[0] = PAGE.format(swf=endpoint).encode()
        browser.get(url)
        deadline = time.monotonic() + 30
        while browser.title != "done":
            assert time.monotonic() < deadline, "the page did not finish"
            time.sleep(0.1)
        seen = browser.execute_script("return window.hostileResults")
        time.sleep(0.5)  # the last form's request has landed
        # what the page saw: nothing readable
        assert SECRET not in json.dumps(seen)
        assert seen["read data.json"].startswith("failed") and seen["start an execution"].startswith("failed")
        # what the server did: nothing started, changed or reset
        listed = swf.list_open_workflow_executions(domain="D", startTimeFilter={"oldestDate": 0})["executionInfos"]
        assert [e["execution"]["workflowId"] for e in listed] == ["mine"]
        assert _settings(endpoint) == before == {"faults": "", "poll_seconds": 2.0}
        assert swf.describe_workflow_execution(domain="D", execution=listed[0]["execution"])["executionInfo"]
    finally:
        err = local.stop()
    # and nothing read: each of the page's requests was refused before any answer was made
    refused = [line for line in err.splitlines() if "refused (403): AccessDeniedException" in line]
    assert any("GET /moto-api/data.json" in line for line in refused), err
    for what in ("OPTIONS /", "POST /swfagent-api/settings", "POST /moto-api/reset"):
        assert any(what in line for line in refused), (what, err)
    assert not any(" 200 " in line or "data.json" in line and "403" not in line for line in err.splitlines())
