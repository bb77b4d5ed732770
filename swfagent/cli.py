"""One command line: `swfagent COMMAND` (or `python -m swfagent COMMAND`); decider.py, worker.py and
register_swf.py are shims that call main() under their own names.

This module parses and dispatches, nothing else: the commands live in pollers.py (decider, worker), commands.py
(register, policies, the console's) and servers.py (local, web, demo). Every error is one line, `PROG: error: ...`,
and a named exit code. The pollers' signal handlers are installed here, by the entry point, never by the library.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import commands, executions, graph, policies, servers
from .client import Target
from .commands import print_error
from .config import ARTICLE_CONFIG, PROJECT_DIR
from .errors import Exit, SwfAgentError
from .limits import MAX_REASON
from .logs import log
from .poller import Mode, Stop
from .pollers import cmd_poller
from .runner import RunningTasks, become_subreaper
from .runtime import Runtime

SCRIPTS = {"decider.py": "decider", "worker.py": "worker", "register_swf.py": "register"}
Command = Callable[[argparse.Namespace, Runtime], int]


# ---- argument types -----------------------------------------------------------------------------


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0: {value}")
    return value


def port_number(text: str) -> int:
    """argparse type: a TCP port, 0 to 65535."""
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return int(text)


def default_config() -> str:
    """config.yaml in this folder, or else the one beside the scripts (a clone of the project)."""
    here = Path("config.yaml")
    return str(here if here.is_file() else PROJECT_DIR / "config.yaml")


def install_signal_handlers(stop: Stop, running: RunningTasks) -> None:
    """First SIGTERM/SIGINT: finish the task under way, then exit 0. Second: kill the tasks, exit now."""

    def handler(signum: int, _frame: Any) -> None:
        if stop.request() == 1:
            log.warning(f"{signal.Signals(signum).name}: stopping after the task or poll under way "
                        "(send it again to stop at once)")
            return
        running.kill_all()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


# ---- each command's arguments --------------------------------------------------------------------


def _poller_arguments(p: argparse.ArgumentParser) -> None:
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--loop", dest="mode", action="store_const", const=Mode.LOOP, help="keep handling tasks until stopped")
    mode.add_argument("--until-idle", dest="mode", action="store_const", const=Mode.UNTIL_IDLE,
                      help="handle tasks until none is queued, then exit 0 (for cron)")
    p.set_defaults(mode=Mode.ONCE)
    p.add_argument("--max-tasks", type=positive_int, help="stop after this many tasks")
    p.add_argument("--max-seconds", type=positive_float, help="stop polling after this many seconds")
    p.add_argument("--task-list", help="the one task list to poll (default: the decider each workflow's, the worker the first's)")
    p.add_argument("--concurrency", type=positive_int, default=1,
                   help="poll threads, each handling its own task: up to N tasks at once (default 1)")
    p.add_argument("--log-format", choices=("text", "json"), default="text")
    p.add_argument("--stats", action="store_true", help="print the API calls made, by operation, at exit")
    p.add_argument("-v", "--verbose", action="store_true")


def _local_arguments(c: argparse.ArgumentParser) -> None:
    from .local import DEFAULT_PORT, POLL_SECONDS
    from .local.faults import FAULTS_HELP

    c.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free one)")
    c.add_argument("--poll-seconds", type=positive_float, default=POLL_SECONDS,
                   help=f"how long an empty poll is held (default {POLL_SECONDS:g}, as SWF)")
    c.add_argument("--faults", help=f"SWF's faults on demand, {FAULTS_HELP}")
    c.add_argument("--console-port", type=port_number,
                   help="the web console's port (default 5056, or any free one with --port 0; 0: any free one)")
    c.add_argument("--no-console", action="store_true", help="serve the embedded SWF only, without the web console")
    c.add_argument("--data", metavar="DIR",
                   help="keep everything in DIR across stops and crashes (default: in memory, lost when it stops)")
    c.add_argument("--test-api", action="store_true",
                   help="also serve /swfagent-api/settings and moto's /moto-api/ (reset, data): for tests only")


def _web_arguments(c: argparse.ArgumentParser) -> None:
    from .web import DEFAULT_HOST, DEFAULT_PORT, TOKEN_ENV

    c.add_argument("--host", default=DEFAULT_HOST,
                   help=f"the address to listen on (default {DEFAULT_HOST}; any other needs a token)")
    c.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free one)")
    c.add_argument("--token", help=f"ask for this token (at least 16 characters) before serving anything (better: set "
                                   f"{TOKEN_ENV}, which other users cannot see in the process list)")
    c.add_argument("--behind-tls", action="store_true",
                   help="served through a TLS proxy (nginx, a load balancer) that sets X-Forwarded-Proto: cookies get "
                        "the Secure flag, and the proxy's scheme and host are believed")


def _policies_arguments(c: argparse.ArgumentParser) -> None:
    c.add_argument("--role", choices=(*policies.ROLES, policies.EVERY_ROLE), default=policies.EVERY_ROLE,
                   help="one role, or all (default) as one object")
    c.add_argument("--account", default=policies.PLACEHOLDER_ACCOUNT,
                   help=f"the AWS account id in the ARNs (default: the placeholder {policies.PLACEHOLDER_ACCOUNT})")
    c.add_argument("--region", default=policies.DEFAULT_REGION,
                   help=f"the domain's region (default {policies.DEFAULT_REGION})")
    c.add_argument("--wildcard-resources", action="store_true",
                   help='resources "*" and no conditions (for IAM emulators that match every request against "*")')
    c.add_argument("--out-dir", help="write ROLE.json files into this folder instead of printing")


def _start_arguments(c: argparse.ArgumentParser) -> None:
    c.add_argument("--workflow", metavar="NAME", help="the workflow type to start (default: the config's first)")
    c.add_argument("--workflow-id", help="the execution's workflow id (default: the workflow name, a time and a random part)")
    c.add_argument("--id-template", help="a workflow id with {date}, {time}, {datetime} or {uuid}, e.g. 'daily-{date}'")
    c.add_argument("--input", help="the execution's input: the first steps get it on stdin")
    c.add_argument("--input-file", help="read the input from this file")


def _executions_arguments(c: argparse.ArgumentParser) -> None:
    g = c.add_mutually_exclusive_group()
    g.add_argument("--open", action="store_true", help="open ones only")
    g.add_argument("--closed", action="store_true", help="closed ones only")
    c.add_argument("--status", choices=executions.CLOSE_STATUSES, help="closed ones with this close status")
    c.add_argument("--since", help="started within this long, e.g. 24h, 30m, 7d")
    c.add_argument("--json", action="store_true")


def _show_arguments(c: argparse.ArgumentParser) -> None:
    c.add_argument("workflow_id")
    c.add_argument("--run-id", help="the run (default: the latest)")
    c.add_argument("--activity", metavar="ACTIVITY_ID", help="one activity whole, its stderr included (e.g. Test_Task_A-1)")
    c.add_argument("--json", action="store_true")


def _steer_arguments(*extra: str) -> Callable[[argparse.ArgumentParser], None]:
    def add(c: argparse.ArgumentParser) -> None:
        c.add_argument("workflow_id")
        if "reason" in extra:
            c.add_argument("--reason", required=True, help=f"why (recorded in the history, at most {MAX_REASON} characters)")
        if "name" in extra:
            c.add_argument("name", help="the signal's name")
            c.add_argument("--input", help="the signal's input")
        c.add_argument("--run-id", help="the run (default: the open one)")
    return add


def _graph_arguments(c: argparse.ArgumentParser) -> None:
    c.add_argument("--workflow", metavar="NAME", help="the workflow to draw (default: the config's first)")
    c.add_argument("--execution", metavar="WORKFLOW_ID", help="mark each step with its state in this execution")
    c.add_argument("--run-id", help="with --execution: the run (default: the latest)")
    c.add_argument("--format", choices=graph.FORMATS, default="mermaid",
                   help="mermaid (default), dot (for Graphviz), or svg (drawn here, no Graphviz needed)")


def _check_arguments(c: argparse.ArgumentParser) -> None:
    c.add_argument("--since", default="1h", help="closed within this long (default 1h), e.g. 30m, 24h, 7d")
    c.add_argument("--no-alert", action="store_true", help="report only, send no alert")
    c.add_argument("--json", action="store_true")


def _register_arguments(c: argparse.ArgumentParser) -> None:
    c.add_argument("--check", action="store_true",
                   help="register nothing: check the config, and that each command can run on this host")
    c.add_argument("--remote", action="store_true",
                   help="with --check: also compare what SWF holds with the config (missing, deprecated, other defaults)")


COMMANDS: dict[str, tuple[Command, str, Callable[[argparse.ArgumentParser], None]]] = {
    "decider": (cmd_poller, "poll SWF for decision tasks, walk the whole history, decide what runs next "
                            "(the article's decider.py)", _poller_arguments),
    "worker": (cmd_poller, "poll SWF for activity tasks and run each one's command from config.yaml "
                           "(the article's worker.py)", _poller_arguments),
    "register": (commands.cmd_register, "register the SWF domain, workflow type and activity types config.yaml "
                                        "names; safe to run again", _register_arguments),
    "local": (servers.cmd_local, "run the embedded SWF (moto's server with swfagent's layer) on 127.0.0.1",
              _local_arguments),
    "web": (servers.cmd_web, "serve the web console (the AWS console's SWF pages, with the live flow chart) on "
                             "127.0.0.1", _web_arguments),
    # the demo runs the article's workflow, wherever it runs from
    "demo": (lambda args, rt: servers.cmd_demo(args, rt, run), "the article's walkthrough on the embedded SWF",
             lambda c: c.set_defaults(config=str(ARTICLE_CONFIG))),
    "start": (commands.cmd_start, "start a workflow execution", _start_arguments),
    "executions": (commands.cmd_executions, "list executions, newest first", _executions_arguments),
    "show": (commands.cmd_show, "one execution: summary, events, activities", _show_arguments),
    "terminate": (commands.cmd_terminate, "terminate an open execution now", _steer_arguments("reason")),
    "signal": (commands.cmd_signal, "send a signal to an open execution", _steer_arguments("name")),
    "cancel": (commands.cmd_cancel, "ask for an open execution's cancellation (RequestCancelWorkflowExecution)",
               _steer_arguments()),
    "graph": (commands.cmd_graph, "print the flow chart as Mermaid or Graphviz DOT", _graph_arguments),
    "check": (commands.cmd_check, "report executions that closed other than COMPLETED, and alert; exit 1 if any",
              _check_arguments),
    "policies": (commands.cmd_policies, policies.HELP, _policies_arguments),
}


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=default_config(),
                        help="config file (default: config.yaml in this folder, else the one beside the scripts)")
    return common


def parser() -> argparse.ArgumentParser:
    """The whole command line: swfagent COMMAND [options]."""
    p = argparse.ArgumentParser(prog="swfagent", description=(
        "Run existing batch scripts as AWS Simple Workflow (SWF) workflows: the article's decider and worker, the "
        "embedded SWF, and the AWS console's pages from a terminal."))
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (func, help, arguments) in COMMANDS.items():
        # a parent's actions are shared by reference: one per command, so that one command's set_defaults (the
        # demo's config) cannot become every command's default
        c = sub.add_parser(name, help=help, description=help, parents=[_common()])
        arguments(c)
        c.set_defaults(func=func)
    return p


def script_parser(command: str, prog: str) -> argparse.ArgumentParser:
    """One command's parser under a top-level script's name (decider.py is `swfagent decider`)."""
    func, help, arguments = COMMANDS[command]
    p = argparse.ArgumentParser(prog=prog, description=help[0].upper() + help[1:] + ".", parents=[_common()])
    arguments(p)
    p.set_defaults(func=func, command=command)
    return p


def run(argv: list[str] | None = None, prog: str | None = None, *, signals: bool = True,
        target: Target | None = None) -> int:
    """Parse and run one command; `signals` installs the pollers' SIGTERM/SIGINT handlers (the entry point's);
    `target`: the SWF to reach instead of boto3's own settings (the demo's embedded SWF)."""
    try:  # a closed pipe (`| head`), --help's included, ends the command quietly
        args = (script_parser(SCRIPTS[prog], prog) if prog in SCRIPTS else parser()).parse_args(argv)
        rt = Runtime(prog or f"swfagent {args.command}", target=target)
        if signals and args.command in ("decider", "worker"):
            install_signal_handlers(rt.stop, rt.running)
            if args.command == "worker":
                become_subreaper()  # a task's daemons come back to the worker, which stops them with the task
        code = int(args.func(args, rt))
        sys.stdout.flush()  # here, where a closed pipe can be told apart, not at the interpreter's exit
        return code
    except BrokenPipeError:
        return _pipe_closed()
    except SwfAgentError as exc:
        print_error(rt.prog, exc)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return Exit.INTERRUPTED


def _pipe_closed() -> int:
    """What reads our output has stopped (`| head`): end quietly, as other commands do, with nothing more written."""
    with contextlib.suppress(AttributeError, OSError, ValueError):  # a stdout with no file behind it (a test's)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush at exit finds nowhere to fail
        os.close(devnull)
    return Exit.PIPE_CLOSED


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """The entry point of `swfagent`, `python -m swfagent` and the top-level scripts (prog: their name)."""
    return run(argv, prog)
