"""Shared fixtures: the embedded SWF (moto's server) for end-to-end tests, configs, and script runs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, settings

from swfagent.config import Config, load_config
from swfagent.local import LOCAL_ENV, EmbeddedSWF
from tests.support import TEST_POLL_SECONDS, ClockedSWF, Server, demo_config_data, write_config
from tests.swf import FakeClock

# Property tests: "quick" in make test; "deep" (make fuzz, HYPOTHESIS_PROFILE=deep) tries 20 times as many inputs.
_PROPERTIES = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("quick", max_examples=60, **_PROPERTIES)
settings.register_profile("deep", max_examples=1200, **_PROPERTIES)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end modules first: under pytest-xdist the slow tests start early and the quick ones fill the end."""
    items.sort(key=lambda item: not item.path.stem.endswith("_e2e"))


@pytest.fixture(scope="session")
def _embedded() -> Iterator[EmbeddedSWF]:
    with EmbeddedSWF(poll_seconds=TEST_POLL_SECONDS, test_api=True) as swf:
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
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region for in-process moto (mock_aws)."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in LOCAL_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def demo_config(tmp_path: Path) -> Config:
    """The demo workflow's config, written to a temporary folder."""
    data = demo_config_data()
    data["activities"]["Test_Task_A"]["command"].append("--out")
    data["activities"]["Test_Task_A"]["command"].append(str(tmp_path / "a.out"))
    return load_config(write_config(tmp_path / "config.yaml", data))


