"""Shared fixtures: the embedded SWF (moto's server) for end-to-end tests, configs, and script runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from swfagent import poller
from swfagent.client import make_client
from swfagent.config import Config, load_config
from swfagent.local import LOCAL_ENV, EmbeddedSWF
from swfagent.local.faults import parse_faults
from tests.swf import FakeClock

ROOT = Path(__file__).resolve().parent.parent
TASKS = ROOT / "tasks"
HELPERS = Path(__file__).resolve().parent / "helpers"


class Server:
    """The moto server of this test session, reset before each test that uses it."""

    def __init__(self, swf: EmbeddedSWF):
        self.swf = swf
        self.endpoint = swf.endpoint
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env = {**env, **swf.env(), "PYTHONUNBUFFERED": "1"}

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).read()

    def faults(self, spec: str) -> None:
        """Put SWF's faults in force (`python -m swfagent local --faults` syntax) until the next test."""
        self.swf.engine.set_limits(parse_faults(spec))

    def client(self) -> Any:
        return make_client()


# An empty poll is held this long in the tests (60 s on SWF): a stopping poller lets its poll finish.
TEST_POLL_SECONDS = 5.0


@pytest.fixture(scope="session")
def _embedded() -> Iterator[EmbeddedSWF]:
    with EmbeddedSWF(poll_seconds=TEST_POLL_SECONDS) as swf:
        yield swf


@pytest.fixture
def server(_embedded: EmbeddedSWF, monkeypatch: pytest.MonkeyPatch) -> Server:
    """A clean embedded SWF; this process's boto3 points at it too."""
    s = Server(_embedded)
    s.reset()
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in _embedded.env().items():
        monkeypatch.setenv(key, value)
    return s


@dataclass
class ClockedSWF:
    """An embedded SWF whose clock the test moves (tests.swf.FakeClock): timeouts without waiting."""

    swf: EmbeddedSWF
    clock: FakeClock

    @property
    def endpoint(self) -> str:
        return self.swf.endpoint


@pytest.fixture(scope="session")
def _clocked() -> Iterator[ClockedSWF]:
    clock = FakeClock()
    with EmbeddedSWF(poll_seconds=0.5, clock=clock) as swf:
        yield ClockedSWF(swf, clock)


@pytest.fixture
def clocked(_clocked: ClockedSWF) -> ClockedSWF:
    """A clean embedded SWF on a fake clock; empty polls are held 0.5 s."""
    _clocked.swf.engine.reset()
    _clocked.swf.engine.poll_seconds = 0.5
    return _clocked


@pytest.fixture
def offline_client() -> Any:
    """An SWF client for botocore's Stubber: it never reaches a network."""
    return boto3.client("swf", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")


@pytest.fixture
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """retry_transient's backoff without the sleeping."""
    monkeypatch.setattr(poller, "_sleep", lambda s: None)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region for in-process moto (mock_aws)."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in LOCAL_ENV.items():
        monkeypatch.setenv(key, value)


def demo_config_data() -> dict[str, Any]:
    """The shipped config.yaml as data, commands made absolute so any folder works."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    for spec in data["activities"].values():
        spec["command"] = [spec["command"][0], str(ROOT / spec["command"][1])]
    return data


def write_config(path: Path, data: dict[str, Any] | str) -> Path:
    """Write a config file (data or YAML text) and return its path."""
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def demo_config(tmp_path: Path) -> Config:
    """The demo workflow's config, written to a temporary folder."""
    data = demo_config_data()
    data["activities"]["Test_Task_A"]["command"].append("--out")
    data["activities"]["Test_Task_A"]["command"].append(str(tmp_path / "a.out"))
    return load_config(write_config(tmp_path / "config.yaml", data))


def run_script(script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60,
               input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run one of the project's scripts (decider.py, worker.py, register_swf.py, -m swfagent) as a subprocess."""
    argv = [sys.executable, "-m", "swfagent", *args] if script == "swfagent" else [sys.executable, str(ROOT / script), *args]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, input=input)


def start_script(script: str, *args: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.Popen[str]:
    """Start a script in the background (a looping poller)."""
    return subprocess.Popen([sys.executable, str(ROOT / script), *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
