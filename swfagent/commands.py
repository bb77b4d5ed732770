"""The commands that read or steer SWF once and end: register, policies, and the console's (start, executions,
show, terminate, signal, cancel, graph, check). Each is `cmd_NAME(args, rt) -> exit code`; the command line
(cli.py) parses and dispatches, and errors reach it as SwfAgentError."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from . import alerts, executions, graph, render
from .client import boundary
from .config import Config, load_config
from .errors import Exit, SwfAgentError, UsageError
from .limits import MAX_DATA, MAX_REASON
from .policies import EVERY_ROLE, ROLES, check_account, check_region, policy
from .policies import render as render_policy
from .runtime import Runtime
from .status import Which


def print_error(prog: str, exc: SwfAgentError) -> None:
    """The one line every error gets."""
    print(f"{prog}: error: {exc}", file=sys.stderr)


def cmd_register(args: argparse.Namespace, rt: Runtime) -> int:
    """Register what the config names; with --check, only check it (and its commands; --remote: against SWF)."""
    from .register import check_commands, compare_registered, register_all

    config = load_config(args.config)
    if not (args.check or args.remote):
        with boundary():
            lines = register_all(rt.client(), config)
    else:
        problems = check_commands(config)
        for problem in problems:
            print(f"{rt.prog}: error: {problem}", file=sys.stderr)
        if problems:
            return Exit.USAGE
        print(f"{config.path.resolve()}: OK ({config.summary}, every command found)")
        if not args.remote:
            return Exit.OK
        with boundary():
            lines = compare_registered(rt.client(), config)
    for ok, line in lines:
        print(line, file=sys.stdout if ok else sys.stderr)
    return Exit.OK if all(ok for ok, _ in lines) else Exit.ERROR


def _text(value: str | None, flag: str) -> str | None:
    if value is not None and len(value) > MAX_DATA:
        raise UsageError(f"{flag}: {len(value)} characters; SWF takes at most {MAX_DATA}")
    return value


def _read_bounded(path: str) -> str:
    """A file's text, read with a bound: /dev/zero or a huge log must not fill the memory before its size is known."""
    try:
        with Path(path).open("rb") as f:
            data = f.read(4 * MAX_DATA + 1)  # a character is at most 4 bytes of UTF-8
        if len(data) > 4 * MAX_DATA:
            raise UsageError(f"--input-file {path}: over {4 * MAX_DATA} bytes; SWF takes at most {MAX_DATA} characters")
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--input-file {path}: {exc}") from None


def cmd_start(args: argparse.Namespace, rt: Runtime) -> int:
    """Start an execution of a workflow (--workflow, default the first), as the console's "Start a new Workflow
    Execution" does."""
    config = load_config(args.config)
    config = config.about(config.workflow_named(args.workflow))
    if args.workflow_id and args.id_template:
        raise UsageError("give --workflow-id or --id-template, not both")
    workflow_id = executions.new_workflow_id(config, args.workflow_id, args.id_template, dt.datetime.now())
    text = args.input
    if args.input_file:
        if text is not None:
            raise UsageError("give --input or --input-file, not both")
        text = _read_bounded(args.input_file)
    text = _text(text, "the input")
    with boundary():
        run_id, started = executions.start_execution(rt.client(), config, workflow_id, text)
    if started:
        print(f"Started {config.workflow.name} {config.workflow.version}: workflow id {workflow_id}, run id {run_id}")
    else:
        print(f"{workflow_id} is already open (run id {run_id}): not started again")
    return Exit.OK


def cmd_executions(args: argparse.Namespace, rt: Runtime) -> int:
    """List executions, newest first, as the console's My Workflow Executions."""
    config = load_config(args.config)
    which = Which.OPEN if args.open else Which.CLOSED if args.closed or args.status else Which.ALL
    since = executions.parse_since(args.since, dt.datetime.now(dt.timezone.utc)) if args.since else None
    with boundary():
        infos = executions.list_executions(rt.client(), config, which, since, args.status)
        among = executions.chain_runs(rt.client(), config, infos)
    rows = executions.execution_rows(infos, among)  # each run numbered in its chain
    print(render.to_json(rows) if args.json else render.format_executions(rows))
    return Exit.OK


def cmd_show(args: argparse.Namespace, rt: Runtime) -> int:
    """One execution's Summary, Events and Activities; or one activity whole."""
    config = load_config(args.config)
    with boundary():
        data = executions.show_data(rt.client(), config, args.workflow_id, args.run_id)
    if args.activity:
        found = data.activity(args.activity)
        if found is None:
            known = ", ".join(a.activity_id for a in data.activities) or "none yet"
            raise UsageError(f"no activity {args.activity!r} in {args.workflow_id} (its activities: {known})")
        print(render.to_json(found) if args.json else render.format_activity(found))
        return Exit.OK
    print(render.to_json(data) if args.json else render.format_show(data))
    return Exit.OK


def _not_found(config: Config, workflow_id: str) -> str:
    return f"no open execution with workflow id {workflow_id!r} in domain {config.domain.name}"


def cmd_terminate(args: argparse.Namespace, rt: Runtime) -> int:
    """Terminate an open execution now (TERMINATED); its running tasks are not told."""
    config = load_config(args.config)
    if not args.reason.strip() or len(args.reason) > MAX_REASON:
        raise UsageError(f"--reason must be 1 to {MAX_REASON} characters")
    with boundary(_not_found(config, args.workflow_id)):
        executions.terminate(rt.client(), config, args.workflow_id, args.reason, args.run_id)
    print(f"Terminated {args.workflow_id}: {args.reason}")
    return Exit.OK


def cmd_signal(args: argparse.Namespace, rt: Runtime) -> int:
    """Send a signal to an open execution: it lands in the history and a decision task follows."""
    config = load_config(args.config)
    with boundary(_not_found(config, args.workflow_id)):
        executions.signal_execution(rt.client(), config, args.workflow_id, args.name,
                                    _text(args.input, "--input"), args.run_id)
    print(f"Signaled {args.workflow_id}: {args.name}")
    return Exit.OK


def cmd_cancel(args: argparse.Namespace, rt: Runtime) -> int:
    """Ask for an execution's cancellation; the decider cancels it on its next decision task."""
    config = load_config(args.config)
    with boundary(_not_found(config, args.workflow_id)):
        executions.request_cancel(rt.client(), config, args.workflow_id, args.run_id)
    print(f"Cancellation requested for {args.workflow_id}: the decider cancels it on its next decision task")
    return Exit.OK


def cmd_graph(args: argparse.Namespace, rt: Runtime) -> int:
    """Print a workflow's flow chart (Mermaid or DOT), with an execution's step states when one is named."""
    config = load_config(args.config)
    workflow, status, notes = config.workflow_named(args.workflow), None, None
    if args.execution:
        if args.workflow:
            raise UsageError("give --workflow or --execution (whose workflow type it draws), not both")
        with boundary():
            workflow, status, notes = executions.execution_chart(rt.client(), config, args.execution, args.run_id)
    elif args.run_id:
        raise UsageError("--run-id goes with --execution")
    print(graph.render(workflow, args.format, status, notes), end="")
    return Exit.OK


def cmd_check(args: argparse.Namespace, rt: Runtime) -> int:
    """Report executions that closed other than COMPLETED within --since, alert on each; exit 1 if any."""
    config = load_config(args.config)
    since = executions.parse_since(args.since, dt.datetime.now(dt.timezone.utc))
    try:
        with boundary():
            rows = executions.failures(rt.client(), config, since)
    except SwfAgentError as exc:  # for cron: 1 means "failures found", 2 "could not look"
        print_error(rt.prog, exc)
        return Exit.USAGE
    if args.json:
        print(render.to_json(rows))
    elif not rows:
        print(f"No execution closed other than COMPLETED since {render.local_time(since)}.")
    else:
        print(render.format_failures(rows))
    if rows and not args.no_alert:
        problems = sum(bool(alerts.send(config, row.alert)) for row in rows)
        if config.alerts is None:
            print("No alert sent: config.yaml has no alerts: section.", file=sys.stderr)
        elif problems:
            print(f"{problems} of {len(rows)} alerts could not be sent in full.", file=sys.stderr)
    return Exit.ERROR if rows else Exit.OK


def cmd_policies(args: argparse.Namespace, rt: Runtime) -> int:
    """Print the IAM policy of a role (or of all, as one JSON object); --out-dir writes ROLE.json files."""
    config = load_config(args.config)
    account, region = check_account(args.account), check_region(args.region)
    roles = ROLES if args.role == EVERY_ROLE else (args.role,)
    docs = {r: policy(config, r, account, region, args.wildcard_resources) for r in roles}
    if args.out_dir:
        out = Path(args.out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
            for role, doc in docs.items():
                (out / f"{role}.json").write_text(render_policy(doc), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--out-dir {out}: {exc.strerror or exc}") from None
        print(f"Wrote {', '.join(f'{r}.json' for r in docs)} to {out}")
        return Exit.OK
    sys.stdout.write(render_policy(docs[roles[0]] if len(roles) == 1 else docs))
    return Exit.OK
