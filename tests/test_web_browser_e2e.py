"""The web console in a real browser: the system's headless Chromium, driven by Selenium through its chromedriver.

`swfagent local` serves the embedded SWF and the console; a decider and a worker run in --loop as subprocesses.
Screenshots go to test-artifacts/ (or $SWFAGENT_TEST_ARTIFACTS). Without Chromium and chromedriver installed
(`.ci/run` installs them), the browser tests are skipped with one line saying so.
"""

from __future__ import annotations

import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swfagent.config import Config, load_config
from tests.e2e import Local, e2e_config, pollers, register_and_start, run_to_close, two_workflows_config, wait_for
from tests.support import ROOT, Server, demo_config_data, run_script, write_config

BROWSER = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
DRIVER = shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(not (BROWSER and DRIVER),
                                   reason="no Chromium and chromedriver here (apt-get install chromium chromium-driver)")
ARTIFACTS = Path(os.environ.get("SWFAGENT_TEST_ARTIFACTS", ROOT / "test-artifacts"))
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
COMPLETED_FILL = "#c8e6c9"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(BROWSER)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,900", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _screenshot(driver: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def _wait(condition: Any, timeout: float = 30, what: str = "") -> Any:
    """What the condition returns once it is true; a page refreshing itself meanwhile is looked at again."""
    from selenium.common.exceptions import WebDriverException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got = condition()
        except WebDriverException:  # the element went with the page it was on (stale, missing, "not in the document")
            got = None
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"not seen within {timeout} s: {what}")


def _no_dialog(driver: Any) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert  # noqa: B018 (the property raises when no dialog is open)


@needs_browser
def test_start_watch_and_read_an_execution_in_the_browser(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    data = demo_config_data()
    data["activities"]["Test_Task_A"]["command"] += ["--out", str(tmp_path / "a.out")]
    config = load_config(write_config(tmp_path / "config.yaml", data))
    local = Local("--console-port", "0", "--config", str(config.path))
    try:
        assert run_script("register_swf.py", "--config", str(config.path), env=local.env).returncode == 0
        with pollers() as p:
            p.loop(config, local.env)
            browser.get(local.console + "start")
            browser.find_element(By.NAME, "workflow_id").send_keys("from-the-browser")
            browser.find_element(By.NAME, "input").send_keys("hello")
            _screenshot(browser, "1-start")
            browser.find_element(By.ID, "start").click()
            _wait(lambda: "/execution?" in browser.current_url, what="the execution's page")
            _wait(lambda: browser.find_element(By.ID, "note").text == "Started.", what="the note")
            # the page refreshes itself while the execution is open
            _wait(lambda: browser.find_element(By.ID, "status").text == "COMPLETED", what="COMPLETED")
            _screenshot(browser, "2-execution-summary")
            fruit = browser.find_element(By.ID, "result").text
            letter = fruit[:1]
            chart = browser.find_element(By.ID, "chart")
            for step in ("Test_Task_A", "Test_Task_B"):
                node = chart.find_element(By.CSS_SELECTOR, f'g[data-step="{step}"]')
                assert node.get_attribute("data-status") == "completed"
                assert node.find_element(By.CSS_SELECTOR, "rect").get_attribute("fill") == COMPLETED_FILL

            browser.find_element(By.ID, "tab-events").click()
            row = _wait(lambda: browser.find_elements(By.ID, "event-7"), what="event 7")[0]
            assert row.find_element(By.CSS_SELECTOR, "td.type").text == "ActivityTaskCompleted"
            assert f"result {letter}" in row.text
            _screenshot(browser, "3-execution-events")

            browser.find_element(By.ID, "tab-activities").click()
            rows = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "tr.activity"), what="the activities")
            assert [r.find_element(By.CSS_SELECTOR, "td").text for r in rows] == ["Test_Task_A-1", "Test_Task_B-1"]
            assert all("COMPLETED" in r.text for r in rows) and fruit in rows[1].text
            out = rows[1].find_element(By.CSS_SELECTOR, "td.out")
            assert out.size["width"] >= 300, out.size  # the result column fits a sentence, not three words
            _screenshot(browser, "4-execution-activities")

            browser.get(local.console)
            listed = browser.find_element(By.CSS_SELECTOR, 'section[data-kind="closed"] tr.execution')
            assert "from-the-browser" in listed.text and "COMPLETED" in listed.text and "Test_Task_B-1" in listed.text
            _screenshot(browser, "5-executions")
    finally:
        local.stop()


@needs_browser
def test_the_start_page_picks_one_of_several_workflows(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    config = two_workflows_config(tmp_path)
    local = Local("--console-port", "0", "--config", str(config.path))
    try:
        assert run_script("register_swf.py", "--config", str(config.path), env=local.env).returncode == 0
        with pollers() as p:
            p.loop(config, local.env)
            browser.get(local.console + "start")
            select = Select(browser.find_element(By.ID, "workflow"))
            assert [o.text for o in select.options] == ["Forwards 1.0 (task list ForwardTasks)",
                                                        "Backwards 2.0 (task list BackwardTasks)"]
            assert select.first_selected_option.get_attribute("value") == "Forwards"
            select.select_by_value("Backwards")
            browser.find_element(By.NAME, "input").send_keys("x")
            _screenshot(browser, "workflows-1-start")
            browser.find_element(By.ID, "start").click()
            _wait(lambda: "/execution?" in browser.current_url, what="the execution's page")
            _wait(lambda: browser.find_element(By.ID, "status").text == "COMPLETED", what="COMPLETED")
            assert "Backwards 2.0" in browser.find_element(By.CSS_SELECTOR, "p.run").text
            assert browser.find_element(By.ID, "result").text == "xba"  # B, then A: Backwards' own flow chart
            chart = browser.find_element(By.ID, "chart")
            for step in ("A", "B"):
                node = chart.find_element(By.CSS_SELECTOR, f'g[data-step="{step}"]')
                assert node.get_attribute("data-status") == "completed"
            _screenshot(browser, "workflows-2-execution")
            browser.get(local.console + "start")  # a name the config lacks: the page says so, nothing starts
            browser.execute_script("document.querySelector('#workflow option').value = 'Nope'")
            browser.find_element(By.ID, "start").click()
            error = _wait(lambda: browser.find_elements(By.ID, "error"), what="the error")[0].text
            assert "no workflow 'Nope' in config.yaml (its workflows: Forwards, Backwards)" in error
    finally:
        local.stop()


@needs_browser
def test_a_hostile_result_shows_as_text_and_opens_no_dialog(browser: Any, server: Server, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from swfagent.web import WebConsole

    config = e2e_config(tmp_path, [{"activity": "Say"}], {"Say": {"command": ["echo.py", HOSTILE]}})
    register_and_start(server, config, "hostile", input=HOSTILE)
    with pollers() as p:
        p.loop(config, server.env)
        with WebConsole(server.client(), config, port=0) as web:
            query = urllib.parse.urlencode({"workflow_id": "hostile"})
            browser.get(f"{web.url}execution?{query}")
            _wait(lambda: browser.find_element(By.ID, "status").text == "COMPLETED", what="COMPLETED")
            _no_dialog(browser)
            assert browser.find_element(By.ID, "result").text == HOSTILE
            assert browser.find_elements(By.CSS_SELECTOR, "main script, main img") == []
            for tab in ("events", "activities"):
                browser.find_element(By.ID, f"tab-{tab}").click()
                _wait(lambda: HOSTILE in browser.find_element(By.TAG_NAME, "main").text, what=f"the text on {tab}")
                _no_dialog(browser)
                assert browser.find_elements(By.CSS_SELECTOR, "main script, main img") == []
            _screenshot(browser, "6-hostile-result")


@needs_browser
def test_the_child_link_on_a_parent_s_step_opens_the_child_s_page(browser: Any, server: Server, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from swfagent.web import WebConsole
    from tests.test_runs_e2e import _config as runs_config
    from tests.test_runs_e2e import _start as runs_start

    config = runs_config(tmp_path, [{"activity": "A"}, {"id": "Run_Sub", "workflow": "Sub", "after": ["A"]}],
                         [{"activity": "C"}])
    runs_start(server, config, "parent")
    run_to_close(server, config, 2)
    with WebConsole(server.client(), config, port=0) as web:
        browser.get(f"{web.url}execution?workflow_id=parent")
        link = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, 'tr[data-step="Run_Sub"] a.child'),
                     what="the child link")[0]
        assert link.text == "child workflow parent--Run_Sub-1"
        link.click()
        _wait(lambda: "workflow_id=parent--Run_Sub-1" in browser.current_url, what="the child's page")
        assert browser.find_element(By.TAG_NAME, "h1").text.startswith("parent--Run_Sub-1")
        assert browser.find_element(By.ID, "status").text == "COMPLETED"
        assert "Sub 1.0" in browser.find_element(By.CSS_SELECTOR, "p.run").text
        _screenshot(browser, "chain-1-child")
        browser.find_element(By.ID, "parent").click()  # and back to its parent
        _wait(lambda: browser.find_element(By.TAG_NAME, "h1").text.split()[0] == "parent", what="the parent's page")
        _no_dialog(browser)


@needs_browser
def test_a_repeating_workflow_s_runs_link_to_each_other(browser: Any, server: Server, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from swfagent.executions import list_executions
    from swfagent.web import WebConsole
    from tests.test_runs_e2e import _config as runs_config
    from tests.test_runs_e2e import _start as runs_start

    config = runs_config(tmp_path, [{"activity": "A"}], [{"activity": "C"}], {"repeat": {"every": 1}})
    runs_start(server, config, "daily")
    client = server.client()
    with pollers() as p:
        p.loop(config, server.env)
        wait_for(lambda: len(list_executions(client, config, "closed")) >= 2, 60, p.all_output)
        client.terminate_workflow_execution(domain="TEST_SWF", workflowId="daily", reason="the test is over")
    runs = len(list_executions(client, config, "all"))
    with WebConsole(client, config, port=0) as web:
        browser.get(f"{web.url}execution?workflow_id=daily")  # the latest run
        assert browser.find_element(By.ID, "run-number").text == f"Run {runs} of {runs} under this workflow id"
        assert browser.find_elements(By.ID, "next-run") == []
        browser.find_element(By.ID, "previous-run").click()
        _wait(lambda: browser.find_element(By.ID, "run-number").text.startswith(f"Run {runs - 1} of"),
              what="the previous run's page")
        assert browser.find_element(By.ID, "status").text == "CONTINUED_AS_NEW"
        _screenshot(browser, "chain-2-previous-run")
        browser.find_element(By.ID, "next-run").click()
        _wait(lambda: browser.find_element(By.ID, "run-number").text.startswith(f"Run {runs} of"), what="back")


def test_a_post_without_the_csrf_token_is_refused_over_http(server: Server, demo_config: Config) -> None:
    from swfagent.web import WebConsole

    register_and_start(server, demo_config)
    with WebConsole(server.client(), demo_config, port=0) as web:
        form = urllib.parse.urlencode({"workflow_id": "forged"}).encode()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(web.url + "start", data=form), timeout=10)
        assert refused.value.code == 403
        page = urllib.request.urlopen(web.url + "start", timeout=10).read().decode()
        assert 'name="csrf"' in page
    assert server.client().list_open_workflow_executions(
        domain="TEST_SWF", startTimeFilter={"oldestDate": 0}).get("executionInfos", []) == []


def test_a_non_loopback_host_without_a_token_is_refused(demo_config: Config) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SWFAGENT_WEB_TOKEN"}
    done = run_script("swfagent", "web", "--host", "0.0.0.0", "--port", "0", "--config", str(demo_config.path), env=env)
    assert done.returncode == 2
    assert done.stderr == ("swfagent web: error: --host 0.0.0.0 lets other machines in: give a token too (--token, "
                           "or SWFAGENT_WEB_TOKEN)\n")
