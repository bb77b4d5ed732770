"""python -m swfagent COMMAND: the embedded SWF, the demo, and the console's pages from a terminal."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from . import alerts, console, graph, policies
from .cli import positive_float
from .client import boundary, make_client
from .config import DEFAULT_CONFIG, Config, load_config
from .errors import SwfAgentError, UsageError
from .local import DEFAULT_PORT, POLL_SECONDS, EmbeddedSWF, exports
from .local.faults import FAULTS_HELP, describe_limits, parse_faults


def port_number(text: str) -> int:
    """argparse type: a TCP port, 0 to 65535."""
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return int(text)


def cmd_local(args: argparse.Namespace) -> int:
    """Run the embedded SWF in the foreground until Ctrl-C."""
    limits = parse_faults(args.faults)
    try:
        swf = EmbeddedSWF(args.port, poll_seconds=args.poll_seconds, faults=limits).start()
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}") from None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    server_log = logging.getLogger("swfagent.local")
    server_log.addHandler(handler)
    server_log.setLevel(logging.INFO)
    print(f"Embedded SWF (moto) listening on {swf.endpoint}: for development only, no credentials checked.")
    if args.faults:
        print(f"Faults in force: {describe_limits(limits) or 'none'}")
    print("Point the scripts at it, in each terminal:")
    print(exports(swf.env()))
    print("Stop it with Ctrl-C; everything it holds is gone then.", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    swf.stop()
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    """Start an execution, as the console's "Start a new Workflow Execution" does."""
    config = load_config(args.config)
    now = dt.datetime.now()
    if args.workflow_id and args.id_template:
        raise UsageError("give --workflow-id or --id-template, not both")
    workflow_id = args.workflow_id or console.workflow_id_from_template(
        args.id_template or f"{config.workflow.name}-{{datetime}}-{{uuid}}", now)
    text = args.input
    if args.input_file:
        if text is not None:
            raise UsageError("give --input or --input-file, not both")
        try:
            with open(args.input_file, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--input-file {args.input_file}: {exc}") from None
    if text is not None and len(text) > 32_768:
        raise UsageError(f"the input is {len(text)} characters; SWF takes at most 32768")
    with boundary():
        run_id, started = console.start_execution(make_client(), config, workflow_id, text)
    if started:
        print(f"Started {config.workflow.name} {config.workflow.version}: workflow id {workflow_id}, run id {run_id}")
    else:
        print(f"{workflow_id} is already open (run id {run_id}): not started again")
    return 0


def cmd_executions(args: argparse.Namespace) -> int:
    """List executions, newest first, as the console's My Workflow Executions."""
    config = load_config(args.config)
    which = "open" if args.open else "closed" if args.closed or args.status else "all"
    since = console.parse_since(args.since, dt.datetime.now(dt.timezone.utc)) if args.since else None
    with boundary():
        rows = console.list_executions(make_client(), config, which, since, args.status)
    print(console.to_json(rows) if args.json else console.format_executions(rows))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """One execution's Summary, Events and Activities."""
    config = load_config(args.config)
    with boundary():
        data = console.show_data(make_client(), config, args.workflow_id, args.run_id)
    print(console.to_json(data) if args.json else console.format_show(data))
    return 0


def _not_found(config: Config, workflow_id: str) -> str:
    return f"no open execution with workflow id {workflow_id!r} in domain {config.domain.name}"


def cmd_terminate(args: argparse.Namespace) -> int:
    """Terminate an open execution now (TERMINATED); its running tasks are not told."""
    config = load_config(args.config)
    if not args.reason.strip() or len(args.reason) > 256:
        raise UsageError("--reason must be 1 to 256 characters")
    with boundary(_not_found(config, args.workflow_id)):
        console.terminate(make_client(), config, args.workflow_id, args.reason, args.run_id)
    print(f"Terminated {args.workflow_id}: {args.reason}")
    return 0


def cmd_signal(args: argparse.Namespace) -> int:
    """Send a signal to an open execution: it lands in the history and a decision task follows."""
    config = load_config(args.config)
    if args.input is not None and len(args.input) > 32_768:
        raise UsageError(f"the input is {len(args.input)} characters; SWF takes at most 32768")
    with boundary(_not_found(config, args.workflow_id)):
        console.signal(make_client(), config, args.workflow_id, args.name, args.input, args.run_id)
    print(f"Signaled {args.workflow_id}: {args.name}")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    """Ask for an execution's cancellation; the decider cancels it on its next decision task."""
    config = load_config(args.config)
    with boundary(_not_found(config, args.workflow_id)):
        console.request_cancel(make_client(), config, args.workflow_id, args.run_id)
    print(f"Cancellation requested for {args.workflow_id}: the decider cancels it on its next decision task")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    """Print the flow chart (Mermaid or DOT), with an execution's step statuses when one is named."""
    config = load_config(args.config)
    status = None
    if args.execution:
        with boundary():
            status = console.execution_steps(make_client(), config, args.execution, args.run_id)
    elif args.run_id:
        raise UsageError("--run-id goes with --execution")
    print(graph.render(config.workflow, args.format, status), end="")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Report executions that closed other than COMPLETED within --since, alert on each; exit 1 if any."""
    config = load_config(args.config)
    since = console.parse_since(args.since, dt.datetime.now(dt.timezone.utc))
    try:
        with boundary():
            rows = console.failures(make_client(), config, since)
    except SwfAgentError as exc:
        exc.exit_code = 2  # for cron: 1 means "failures found", 2 "could not look"
        raise
    if args.json:
        print(console.to_json(rows))
    elif not rows:
        print(f"No execution closed other than COMPLETED since {console.local_time(since)}.")
    else:
        print(console.format_failures(rows))
    if rows and not args.no_alert:
        problems = sum(bool(alerts.send(config, row["alert"])) for row in rows)
        if config.alerts is None:
            print("No alert sent: config.yaml has no alerts: section.", file=sys.stderr)
        elif problems:
            print(f"{problems} of {len(rows)} alerts could not be sent in full.", file=sys.stderr)
    return 1 if rows else 0


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """These environment variables set while the block runs, the old ones back after."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def cmd_demo(args: argparse.Namespace) -> int:
    """The article's walkthrough on the embedded SWF."""
    from .demo import run_demo

    with EmbeddedSWF() as swf, environment(swf.env()):
        return run_demo(args.config, swf.endpoint)


def parser() -> argparse.ArgumentParser:
    """The command line of python -m swfagent."""
    p = argparse.ArgumentParser(prog="python -m swfagent", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Any, help: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help, description=help)
        c.add_argument("--config", default=str(DEFAULT_CONFIG), help="config file (default: config.yaml)")
        c.set_defaults(func=func)
        return c

    c = command("local", cmd_local, "run the embedded SWF (moto's server) on 127.0.0.1 in the foreground")
    c.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free one)")
    c.add_argument("--poll-seconds", type=positive_float, default=POLL_SECONDS,
                   help=f"how long an empty poll is held (default {POLL_SECONDS:g}, as SWF)")
    c.add_argument("--faults", help=f"SWF's faults on demand, {FAULTS_HELP}")
    c = command("start", cmd_start, "start a workflow execution")
    c.add_argument("--workflow-id", help="the execution's workflow id (default: the workflow name, a time and a random part)")
    c.add_argument("--id-template", help="a workflow id with {date}, {time}, {datetime} or {uuid}, e.g. 'daily-{date}'")
    c.add_argument("--input", help="the execution's input: the first steps get it on stdin")
    c.add_argument("--input-file", help="read the input from this file")
    c = command("executions", cmd_executions, "list executions, newest first")
    g = c.add_mutually_exclusive_group()
    g.add_argument("--open", action="store_true", help="open ones only")
    g.add_argument("--closed", action="store_true", help="closed ones only")
    c.add_argument("--status", choices=console.CLOSE_STATUSES, help="closed ones with this close status")
    c.add_argument("--since", help="started within this long, e.g. 24h, 30m, 7d")
    c.add_argument("--json", action="store_true")
    c = command("show", cmd_show, "one execution: summary, events, activities")
    c.add_argument("workflow_id")
    c.add_argument("--run-id", help="the run (default: the latest)")
    c.add_argument("--json", action="store_true")
    c = command("terminate", cmd_terminate, "terminate an open execution now")
    c.add_argument("workflow_id")
    c.add_argument("--reason", required=True, help="why (recorded in the history, at most 256 characters)")
    c.add_argument("--run-id", help="the run (default: the open one)")
    c = command("signal", cmd_signal, "send a signal to an open execution")
    c.add_argument("workflow_id")
    c.add_argument("name", help="the signal's name")
    c.add_argument("--input", help="the signal's input")
    c.add_argument("--run-id", help="the run (default: the open one)")
    c = command("cancel", cmd_cancel, "ask for an open execution's cancellation (RequestCancelWorkflowExecution)")
    c.add_argument("workflow_id")
    c.add_argument("--run-id", help="the run (default: the open one)")
    c = command("graph", cmd_graph, "print the flow chart as Mermaid or Graphviz DOT")
    c.add_argument("--execution", metavar="WORKFLOW_ID", help="mark each step with its status in this execution")
    c.add_argument("--run-id", help="with --execution: the run (default: the latest)")
    c.add_argument("--format", choices=graph.FORMATS, default="mermaid", help="mermaid (default) or dot")
    c = command("check", cmd_check, "report executions that closed other than COMPLETED, and alert; exit 1 if any")
    c.add_argument("--since", default="1h", help="closed within this long (default 1h), e.g. 30m, 24h, 7d")
    c.add_argument("--no-alert", action="store_true", help="report only, send no alert")
    c.add_argument("--json", action="store_true")
    command("demo", cmd_demo, "the article's walkthrough on the embedded SWF")
    policies.add_command(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors are one line and a non-zero exit."""
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SwfAgentError as exc:
        print(f"swfagent {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
