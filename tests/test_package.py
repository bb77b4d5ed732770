"""The package installs like one: a wheel with the code, the article's demo and the `swfagent` command, which
works from any folder; the declared dependencies are requirements.txt's."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from tests.support import ROOT


def _requirement(text: str) -> tuple[str, frozenset[str]]:
    """A requirement as (name with extras, its specifiers), whatever their order."""
    name, specs = re.fullmatch(r"([\w.\-\[\]]+)(.*)", text.split(";")[0].strip()).groups()  # type: ignore[union-attr]
    return name.lower(), frozenset(specs.split(","))


def test_the_dependencies_are_requirements_txt_s() -> None:
    # the installed copy's metadata (a build's swfagent.egg-info in the clone, first on the path, may be older)
    [installed] = importlib.metadata.distributions(name="swfagent", path=[sysconfig.get_paths()["purelib"]])
    declared = installed.metadata.get_all("Requires-Dist") or []
    listed = {line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")}
    assert {_requirement(r) for r in declared} == {_requirement(r) for r in listed}
    assert {_requirement(r) for r in declared if "extra ==" not in r} == {
        _requirement(r) for r in ("boto3>=1.34.0", "botocore>=1.34.0", "PyYAML>=6.0", "Flask>=3.0", "grandalf>=0.8")}
    local = {_requirement(r) for r in declared if 'extra == "local"' in r}
    assert local == {_requirement("moto>=5.2,<5.3"), _requirement("flask-cors>=4.0")}  # not moto[server]'s whole list
    pinned = {re.split(r"[<>=\[]", r)[0].lower() for r in listed}
    constraints = {line.split("==")[0].lower() for line in (ROOT / "constraints.txt").read_text().splitlines()
                   if "==" in line}
    assert pinned <= constraints  # each one's tested version is pinned


def test_pip_install_gives_a_swfagent_command_that_works_from_any_folder(tmp_path: Path) -> None:
    wheels, target, elsewhere = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    # built from a copy: a build writes swfagent.egg-info into its source folder, which other tests read
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "test-artifacts", "bench"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)], check=True,
                   capture_output=True, timeout=300)
    [wheel] = wheels.glob("swfagent-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"swfagent/cli.py", "swfagent/local/api.py", "swfagent/article/config.yaml", "swfagent/article/tasks/a.py",
            "swfagent/article/tasks/b.py", "swfagent/web/templates/execution.html", "swfagent/web/static/console.css"} <= names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "swfagent = swfagent.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)], check=True,
                   capture_output=True, timeout=300)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, "PYTHONPATH": str(target)}
    where = subprocess.run([sys.executable, "-c", "import swfagent; print(swfagent.__file__)"], cwd=elsewhere, env=env,
                           capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(target))  # the installed copy, not the clone
    demo = subprocess.run([str(target / "bin" / "swfagent"), "demo"], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=120)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "Execution Demo closed COMPLETED" in demo.stdout
    listed = subprocess.run([str(target / "bin" / "swfagent"), "--help"], cwd=elsewhere, env=env, capture_output=True,
                            text=True, check=True)
    assert all(c in listed.stdout for c in ("decider", "worker", "register", "local", "demo", "show", "policies",
                                          "web"))
