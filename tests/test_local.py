"""The embedded SWF from the command line, and the demo that `make demo` runs."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
import pytest

from tests.support import ROOT, docs, run_script


def test_local_serves_on_127_0_0_1_and_prints_how_to_point_at_it_and_its_console() -> None:
    # --port 0 alone: the console takes a free port too (not 5056, which another run may hold)
    proc = subprocess.Popen([sys.executable, "-m", "swfagent", "local", "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not any(line.startswith("Web console: ") for line in lines):
            line = proc.stdout.readline()  # type: ignore[union-attr]
            assert line, proc.stderr.read()  # type: ignore[union-attr]
            lines.append(line.strip())
        env = dict(line[len("export "):].split("=", 1) for line in lines if line.startswith("export "))
        endpoint = env["AWS_ENDPOINT_URL_SWF"]
        assert endpoint.startswith("http://127.0.0.1:")
        client = boto3.client("swf", endpoint_url=endpoint, region_name=env["AWS_DEFAULT_REGION"],
                              aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
        client.register_domain(name="D", workflowExecutionRetentionPeriodInDays="1")
        for path in ("/moto-api/data.json", "/swfagent-api/settings"):  # the test API: only with --test-api
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(endpoint + path, timeout=10)
            assert info.value.code == 404
        assert [d["name"] for d in client.list_domains(registrationStatus="REGISTERED")["domainInfos"]] == ["D"]
        said = next(line for line in lines if line.startswith("Web console: "))
        console = said.split()[2]
        assert console.startswith("http://127.0.0.1:") and not console.endswith(":5056/")
        assert said.endswith(f"(serving {ROOT / 'config.yaml'})")
        page = urllib.request.urlopen(console + "types", timeout=10).read().decode()
        assert "Domain TEST_SWF</td><td>not registered: run python register_swf.py" in page
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    assert proc.returncode == 0


def test_the_demo_runs_the_walkthrough_to_completed() -> None:
    done = run_script("swfagent", "demo", timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for line in ("$ python register_swf.py", "$ python decider.py", "$ python worker.py",
                 "Decision Made: Schedule activity -- Test_Task_A", "Decision Made: Schedule activity -- Test_Task_B",
                 "Decision Made: Complete the workflow execution", "$ python -m swfagent show Demo"):
        assert line in out
    assert out.count("$ python decider.py") == 3 and out.count("$ python worker.py") == 2
    assert "Execution Demo closed COMPLETED; Test_Task_B's result: " in out
    # the line the README's walkthrough shows, word for word
    line = "Execute Test_Task_A with command - python tasks/a.py"
    assert f"\n{line}\n" in out and f"\n{line}\n" in (ROOT / "README.md").read_text()


def test_the_cron_credentials_file_is_never_committed() -> None:
    assert "swf.env" in docs()  # the cron section's file of credentials
    assert "swf.env" in (ROOT / ".gitignore").read_text().split()
