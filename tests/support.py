"""What the tests share besides fixtures: paths, the embedded SWF of the session, configs, script runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from swfagent.client import make_client
from swfagent.config import S3Location
from swfagent.local import EmbeddedSWF
from swfagent.local.faults import parse_faults
from swfagent.payloads import SCHEME, S3Store
from tests.swf import FakeClock

ROOT = Path(__file__).resolve().parent.parent
TASKS = ROOT / "tasks"
HELPERS = Path(__file__).resolve().parent / "helpers"


def docs() -> str:
    """The README and every guide in docs/, as one text: what a reader of the documentation can find."""
    return "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


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


@dataclass
class ClockedSWF:
    """An embedded SWF whose clock the test moves (tests.swf.FakeClock): timeouts without waiting."""

    swf: EmbeddedSWF
    clock: FakeClock

    @property
    def endpoint(self) -> str:
        return self.swf.endpoint


def demo_config_data() -> dict[str, Any]:
    """The shipped config.yaml as data, commands made absolute so any folder works."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    for spec in data["activities"].values():
        spec["command"] = [spec["command"][0], str(ROOT / spec["command"][1])]
    return data


def two_workflows_data() -> dict[str, Any]:
    """The shipped config with workflows: instead of workflow:, the article's workflow and a second one (Backwards:
    B, then A) with a task list of its own."""
    data = demo_config_data()
    first = data.pop("workflow")
    name = first.pop("name")
    second = {**first, "task_list": "BackwardsTasks",
              "steps": [{"activity": "Test_Task_B"}, {"activity": "Test_Task_A", "after": ["Test_Task_B"]}]}
    data = {"domain": data.pop("domain"), "workflows": {name: first, "Backwards": second}, **data}
    return data


def write_config(path: Path, data: dict[str, Any] | str) -> Path:
    """Write a config file (data or YAML text) and return its path."""
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    path.write_text(textwrap.dedent(text))
    return path


def run_script(script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60,
               input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run one of the project's scripts (decider.py, worker.py, register_swf.py, -m swfagent) as a subprocess."""
    argv = [sys.executable, "-m", "swfagent", *args] if script == "swfagent" else [sys.executable, str(ROOT / script), *args]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, input=input)


def start_script(script: str, *args: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.Popen[str]:
    """Start a script in the background (a looping poller); its output piped unless stdout/stderr say otherwise."""
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen([sys.executable, str(ROOT / script), *args], cwd=ROOT, env=env, text=True, **kwargs)


class FakeStore(S3Store):
    """An S3Store whose bucket "b" is two dicts: what was put (a file's bytes, a text), and what it holds to get."""

    def __init__(self, held: dict[str, str | bytes] | None = None):
        super().__init__(S3Location("b", ""), lambda: None)
        self.put: dict[str, str | bytes] = {}
        self.held = held or {}

    def put_file(self, path: Path, key: str) -> str:
        self.put[key] = path.read_bytes()
        return f"{SCHEME}b/{key}"

    def put_text(self, text: str, key: str) -> str:
        self.put[key] = text
        return f"{SCHEME}b/{key}"

    def get_text(self, reference: str) -> str:
        value = self.held[reference]
        return value.decode() if isinstance(value, bytes) else value

    def get_file(self, reference: str, out: Any) -> None:
        value = self.held[reference]
        out.write(value if isinstance(value, bytes) else value.encode())
