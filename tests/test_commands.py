"""Guarantees of the command line stated once and checked over every command (the COMMANDS table, so a new command is
covered without editing these tests) and every top-level script:

- run from a folder with its own config.yaml, a command uses that file (demo alone uses the article's);
- no parser default leaks from one subcommand to another;
- a reader that stops reading (`| head`) ends the command quietly.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swfagent import cli, servers
from swfagent import config as config_module
from swfagent.config import ARTICLE_CONFIG, load_config
from swfagent.errors import Exit
from tests.e2e import e2e_config, final_state, register_and_start
from tests.support import ROOT, Server, run_script

# A flow chart of four steps whose names are nowhere in the shipped configs: what a command shows or runs tells
# which file it read.
STEPS = [{"activity": "Trial_A"}, {"activity": "Trial_B", "after": ["Trial_A"]},
         {"activity": "Trial_C", "after": ["Trial_A"]}, {"activity": "Trial_D", "after": ["Trial_B", "Trial_C"]}]
WORKFLOW_ID = "trial"


def folder_config(tmp_path: Path) -> Path:
    """tmp_path/config.yaml: domain TRIAL_SWF, workflow TrialWorkflow, steps Trial_A..D that each echo a line."""
    activities = {name: {"command": ["echo.py", name.lower()]} for name in ("Trial_A", "Trial_B", "Trial_C", "Trial_D")}
    config = e2e_config(tmp_path, STEPS, activities, name="TrialWorkflow", task_list="TrialTasks")
    text = config.path.read_text().replace("TEST_SWF", "TRIAL_SWF")
    path = tmp_path / "config.yaml"
    path.write_text(text)
    assert load_config(path).domain.name == "TRIAL_SWF"
    return path


def subparsers() -> dict[str, argparse.ArgumentParser]:
    """Each command's own parser in `swfagent`'s command line."""
    p = cli.parser()
    [sub] = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_command_is_in_the_command_line() -> None:
    assert set(subparsers()) == set(cli.COMMANDS)


def test_no_argument_is_shared_between_two_commands() -> None:
    # argparse's parents= shares action objects by reference: one command's set_defaults would change them all
    seen: dict[int, str] = {}
    for name, p in subparsers().items():
        for action in p._actions:
            assert id(action) not in seen, f"{name} and {seen[id(action)]} share {action.dest}"
            seen[id(action)] = name


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_each_command_s_default_config_is_the_folder_s(name: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder_config(tmp_path)
    args = cli.parser().parse_args([name, *required(name)])
    expected = ARTICLE_CONFIG if name == "demo" else Path("config.yaml")
    assert Path(args.config) == expected
    if name in cli.SCRIPTS.values():  # and under the top-level script's name
        prog = next(script for script, command in cli.SCRIPTS.items() if command == name)
        assert Path(cli.script_parser(name, prog).parse_args(required(name)).config) == expected


# ---- every command, run from the folder ---------------------------------------------------------------------------

# What a command needs beyond its required arguments to finish by itself in a test.
FINISH = {
    "decider": ["--until-idle"],
    "worker": ["--until-idle"],
    "local": ["--port", "0"],
    "web": ["--port", "0"],
    "start": ["--workflow-id", WORKFLOW_ID],
}
# What each command's output says of the folder's flow chart (a command left out is checked by the file it loaded).
SHOWS = {
    "register": "TRIAL_SWF", "graph": "Trial_D", "show": "TrialWorkflow", "executions": WORKFLOW_ID,
    "policies": "TRIAL_SWF", "start": "TrialWorkflow", "decider": "Trial_A", "worker": "trial_a",
}
# The order they run in: what a command needs made first (registered, started, a task scheduled), and closing last.
ORDER = ["register", "start", "decider", "worker", "graph", "show", "executions", "check", "policies", "signal",
         "web", "local", "demo", "cancel", "terminate"]


def required(name: str) -> list[str]:
    """Values for a command's required arguments (positionals, required options), by their names."""
    values = {"workflow_id": WORKFLOW_ID, "name": "go", "reason": "the test is over"}
    argv: list[str] = []
    for action in subparsers()[name]._actions:
        if not action.required:
            continue
        value = values.get(action.dest, "x")
        argv += [value] if not action.option_strings else [action.option_strings[-1], value]
    return argv


@contextlib.contextmanager
def loads_recorded() -> Iterator[list[Path]]:
    """Every config file any swfagent module loads while the block runs."""
    loaded: list[Path] = []
    original = config_module.load_config

    def recording(path: Any) -> Any:
        loaded.append(Path(path).resolve())
        return original(path)

    modules = [m for name, m in sys.modules.items() if name.startswith("swfagent") and m is not None
               and getattr(m, "load_config", None) is original]
    with pytest.MonkeyPatch.context() as mp:
        for module in modules:
            mp.setattr(module, "load_config", recording)
        yield loaded


def test_every_command_run_from_a_folder_uses_that_folder_s_config(server: Server, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert set(ORDER) == set(cli.COMMANDS), "put the new command in ORDER (and FINISH if it needs it to end)"
    here = folder_config(tmp_path).resolve()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(servers, "wait_for_stop", lambda: None)  # local, web: serve, then stop at once
    for name in ORDER:
        capsys.readouterr()
        with loads_recorded() as loaded:
            code = cli.run([name, *required(name), *FINISH.get(name, [])], signals=False)
        out, err = capsys.readouterr()
        assert code in (Exit.OK, Exit.ERROR if name == "check" else Exit.OK), (name, out, err)
        assert loaded, f"{name} loaded no config"
        expected = ARTICLE_CONFIG if name == "demo" else here
        assert set(loaded) == {expected}, (name, loaded)
        if name in SHOWS:
            assert SHOWS[name] in out, (name, out, err)
        if name in ("decider", "worker"):
            assert err.startswith(f"Config: {here} (TrialWorkflow 1.0: 4 steps, 4 activities)\n"), err
        if name in ("local", "web"):
            assert f"serving {here}" in out, out


def test_the_pollers_run_the_folder_s_four_steps_to_completed(server: Server, tmp_path: Path) -> None:
    """The trial's fault: from a folder with a 4-step config, swfagent decider and worker ran the shipped a.py and
    b.py and closed the execution COMPLETED with two steps never run. Here, as subprocesses, the folder's steps run."""
    path = folder_config(tmp_path)
    config = load_config(path)
    register_and_start(server, config, WORKFLOW_ID)
    runs = [["-m", "swfagent", "decider"], ["-m", "swfagent", "worker"], [str(ROOT / "decider.py")],
            [str(ROOT / "worker.py")]]
    for _ in range(6):
        for argv in runs:
            done = subprocess.run([sys.executable, *argv, "--until-idle"], cwd=tmp_path, env=server.env,
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
            assert done.stderr.startswith(f"Config: {path.resolve()} "), done.stderr
        state = final_state(server, config, WORKFLOW_ID)
        if state.close_status is not None:
            break
    assert state.close_status == "COMPLETED"
    assert sorted(a.step_id or "" for a in state.activities.values()) == ["Trial_A", "Trial_B", "Trial_C", "Trial_D"]
    assert all(a.status == "COMPLETED" for a in state.activities.values())


# ---- a closed pipe -------------------------------------------------------------------------------------------------


class ClosedPipe(io.StringIO):
    """A stdout whose reader has gone: every write fails as a closed pipe does."""

    def write(self, _text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_a_closed_pipe_ends_every_command_quietly(name: str, server: Server, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    if name == "demo":
        pytest.skip("the demo's walkthrough is run whole elsewhere; its output goes through the same run()")
    monkeypatch.chdir(tmp_path)
    folder_config(tmp_path)
    register_and_start(server, load_config(tmp_path / "config.yaml"), WORKFLOW_ID)
    monkeypatch.setattr(servers, "wait_for_stop", lambda: None)
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    code = cli.run([name, *required(name), *FINISH.get(name, [])], signals=False)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert code in (Exit.OK, Exit.PIPE_CLOSED, Exit.ERROR if name == "check" else Exit.OK), (code, err)


@pytest.mark.parametrize("args", [["executions"], ["show", WORKFLOW_ID, "--json"], ["graph"], ["--help"]])
def test_output_into_head_ends_quietly(server: Server, tmp_path: Path, args: list[str]) -> None:
    folder_config(tmp_path)
    register_and_start(server, load_config(tmp_path / "config.yaml"), WORKFLOW_ID)
    code = ("import sys, swfagent.cli as c; sys.argv[0] = 'swfagent'; sys.exit(c.main())")
    with subprocess.Popen([sys.executable, "-c", code, *args], cwd=tmp_path, env=server.env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(1)  # then stop reading, as `head -c 1` does
        proc.stdout.close()
        err = proc.stderr.read()
        proc.wait(timeout=60)
    assert err == "", err
    assert proc.returncode in (Exit.OK, Exit.PIPE_CLOSED)


def test_the_embedded_swf_without_its_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "moto", None)  # as on a host that installed swfagent without [local]
    for name in ("local", "demo"):
        assert cli.run([name], signals=False) == Exit.USAGE
        err = capsys.readouterr().err
        assert err == (f"swfagent {name}: error: the embedded SWF needs moto, which this install lacks: pip install "
                       "'swfagent[local]' (a host that talks to real SWF does not need it)\n")



def test_scripts_run_from_a_folder_use_its_config(server: Server, tmp_path: Path) -> None:
    path = folder_config(tmp_path).resolve()
    done = subprocess.run([sys.executable, str(ROOT / "register_swf.py"), "--check"], cwd=tmp_path, env=server.env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{path}: OK (TrialWorkflow 1.0: 4 steps, 4 activities"), done.stdout
    shown = run_script("swfagent", "graph", "--config", str(path), env=server.env)
    assert "Trial_D" in shown.stdout
