"""One command line: `swfagent COMMAND` (or `python -m swfagent COMMAND`); decider.py, worker.py and
register_swf.py are shims that call main() under their own names.

Every error is one line, `PROG: error: ...`, and a named exit code. The signal handlers of the pollers
are installed here, by the entry point, never by the library.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import alerts, executions, graph, policies, render
from .activity_tasks import handle_activity_task, pending_activity_tasks, poll_activity_task
from .client import CallStats, boundary, make_client
from .config import ARTICLE_CONFIG, PROJECT_DIR, Config, load_config
from .decision_tasks import foreign, handle_decision_task, pending_decision_tasks, poll_decision_task
from .errors import Exit, SwfAgentError, UsageError
from .limits import MAX_DATA, MAX_REASON
from .live import LiveConfig
from .logs import NOTICE, log, setup_logging
from .payloads import S3Store
from .poller import LOOP, ONCE, UNTIL_IDLE, LoopOptions, Poll, Stop, identity, run_threads
from .runner import RunningTasks

SCRIPTS = {"decider.py": "decider", "worker.py": "worker", "register_swf.py": "register"}


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


# ---- the pollers: decider and worker -------------------------------------------------------------


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


# A single run says it waits when its poll has not answered within this long (a poll is held up to 60 s).
WAIT_NOTICE = 1.0


class BeforePoll:
    """What a run does around each long poll: a cron run asks what is queued first and ends when nothing is; a
    single run polls at once (no extra call) and says it waits when the poll has not answered within WAIT_NOTICE."""

    def __init__(self, mode: str, what: str, notice: float = WAIT_NOTICE):
        self.mode, self.what, self.notice = mode, what, notice
        self.said = False

    def go(self, count: Callable[[], int]) -> bool:
        """False when the poll is not worth making: a cron run with nothing queued."""
        return self.mode != UNTIL_IDLE or count() > 0

    @contextlib.contextmanager
    def polling(self, task_list: str) -> Iterator[None]:
        """Around one poll: in a single run, the waiting line once, if the poll is still held after `notice`."""
        if self.mode != ONCE or self.said:
            yield
            return
        timer = threading.Timer(self.notice, self._say, (task_list,))
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def _say(self, task_list: str) -> None:
        self.said = True
        log.info(f"Waiting for {self.what} on task list {task_list} (Ctrl-C stops)")


def _options(args: argparse.Namespace) -> LoopOptions:
    # a bound alone (`worker.py --max-tasks 2`) means a loop with that bound, not one task
    bounded = args.max_tasks is not None or args.max_seconds is not None
    mode = LOOP if args.mode == ONCE and bounded else args.mode
    return LoopOptions(mode=mode, max_tasks=args.max_tasks, max_seconds=args.max_seconds)


def cmd_poller(args: argparse.Namespace) -> int:
    """decider or worker: poll, handle, respond, in --concurrency poll threads."""
    setup_logging(args.log_format, args.verbose)
    live = LiveConfig(load_config(args.config))
    client = make_client()
    _say_config(live.config)
    stats = CallStats()
    stats.attach(client)
    decider = args.command == "decider"
    me, options = identity(), _options(args)
    pending = pending_decision_tasks if decider else pending_activity_tasks
    before = BeforePoll(options.mode, "a decision task" if decider else "an activity task")
    said: set[str] = set()  # the foreign workflow types already reported

    def once() -> Poll:
        config = live.current()
        task_list = args.task_list or config.workflow.task_list
        if not before.go(lambda: pending(client, config, task_list)):
            return Poll.EMPTY
        with before.polling(task_list):
            task = (poll_decision_task if decider else poll_activity_task)(client, config, task_list, me)
        if task is None:
            return Poll.EMPTY
        if isinstance(task, Poll):
            return task
        config = live.current()  # as the file is now: a long poll may have lasted through an edit
        if decider:
            why = foreign(config, task)
            if why is not None:  # left to SWF, which hands it to another decider after its timeout
                wtype = task.get("workflowType") or {}
                name = f"{wtype.get('name')} {wtype.get('version')}"
                if name not in said:
                    said.add(name)
                    log.error(why)
                return Poll.DROPPED
            handle_decision_task(client, config, task, live.store(config))
        else:
            handle_activity_task(client, config, task, live.store(config), args.running)
        return Poll.HANDLED

    try:
        with boundary():
            run_threads(once, options, args.stop, args.concurrency)
    finally:
        if args.stats:
            print(stats.summary(), file=sys.stderr)
    return Exit.OK


def _say_config(config: Config) -> None:
    """A poller's first line: the config it runs, on stderr, so that stdout stays the article's lines."""
    w = config.workflow
    log.info(f"Config: {config.path.resolve()} ({w.name} {w.version}: {len(w.steps)} steps, "
             f"{len(config.activities)} activities)", extra=NOTICE)


def _poller_arguments(p: argparse.ArgumentParser) -> None:
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--loop", dest="mode", action="store_const", const=LOOP, help="keep handling tasks until stopped")
    mode.add_argument("--until-idle", dest="mode", action="store_const", const=UNTIL_IDLE,
                      help="handle tasks until none is queued, then exit 0 (for cron)")
    p.set_defaults(mode=ONCE)
    p.add_argument("--max-tasks", type=positive_int, help="stop after this many tasks")
    p.add_argument("--max-seconds", type=positive_float, help="stop polling after this many seconds")
    p.add_argument("--task-list", help="task list to poll (default: the workflow's task list)")
    p.add_argument("--concurrency", type=positive_int, default=1,
                   help="poll threads, each handling its own task: up to N tasks at once (default 1)")
    p.add_argument("--log-format", choices=("text", "json"), default="text")
    p.add_argument("--stats", action="store_true", help="print the API calls made, by operation, at exit")
    p.add_argument("-v", "--verbose", action="store_true")


# ---- register ------------------------------------------------------------------------------------


def cmd_register(args: argparse.Namespace) -> int:
    """Register what the config names; with --check, only check it (and its commands; --remote: against SWF)."""
    from .register import check_commands, compare_registered, register_all

    config = load_config(args.config)
    if not (args.check or args.remote):
        with boundary():
            lines = register_all(make_client(), config)
    else:
        problems = check_commands(config)
        for problem in problems:
            print(f"{args.prog}: error: {problem}", file=sys.stderr)
        if problems:
            return Exit.USAGE
        w = config.workflow
        print(f"{config.path.resolve()}: OK ({w.name} {w.version}: {len(w.steps)} steps, {len(config.activities)} activities, "
              "every command found)")
        if not args.remote:
            return Exit.OK
        with boundary():
            lines = compare_registered(make_client(), config)
    for ok, line in lines:
        print(line, file=sys.stdout if ok else sys.stderr)
    return Exit.OK if all(ok for ok, _ in lines) else Exit.ERROR


# ---- the embedded SWF and the demo ---------------------------------------------------------------


def need_local() -> None:
    """UsageError, in one line, when the embedded SWF's extra (moto and what its server imports) is not installed."""
    try:
        import flask_cors  # noqa: F401
        import moto  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"the embedded SWF needs {exc.name or 'moto'}, which this install lacks: "
                         "pip install 'swfagent[local]' (a host that talks to real SWF does not need it)") from None


def cmd_local(args: argparse.Namespace) -> int:
    """Run the embedded SWF in the foreground until Ctrl-C."""
    from .local import EmbeddedSWF, exports
    from .local.faults import describe_limits, parse_faults

    need_local()

    limits = parse_faults(args.faults)
    try:
        swf = EmbeddedSWF(args.port, poll_seconds=args.poll_seconds, faults=limits).start()
    except OSError as exc:
        raise UsageError(f"{_cannot_listen('127.0.0.1', args.port, exc)}: give another port, "
                         "--port N, or --port 0 for any free one") from None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    server_log = logging.getLogger("swfagent.local")
    server_log.addHandler(handler)
    server_log.setLevel(logging.INFO)
    console = None
    try:
        print(f"Embedded SWF (moto) listening on {swf.endpoint}: for development only, no credentials checked.")
        if args.faults:
            print(f"Faults in force: {describe_limits(limits) or 'none'}")
        print("Point the scripts at it, in each terminal:")
        print(exports(swf.env()))
        console = _local_console(args, swf)
        print("Stop it with Ctrl-C; everything it holds is gone then.", flush=True)
        _wait_for_stop()
    finally:
        if console is not None:
            console.stop()
        swf.stop()
        server_log.removeHandler(handler)
    return Exit.OK


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    """The start of the line for a port that cannot be had (taken, or not allowed)."""
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def _wait_for_stop() -> None:
    """Block until Ctrl-C or SIGTERM (a server in the foreground)."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()


def _local_console(args: argparse.Namespace, swf: Any) -> Any:
    """The web console beside the embedded SWF, or None (said in one line) when it cannot be had."""
    from .web import WebConsole

    if args.no_console:
        return None
    from .web import DEFAULT_PORT

    port = args.console_port if args.console_port is not None else 0 if args.port == 0 else DEFAULT_PORT
    try:
        config = load_config(args.config)
        with environment(swf.env()):
            client = make_client()
        console = WebConsole(client, config, port=port).start()
    except SwfAgentError as exc:
        print(f"Web console not started: {exc}")
        return None
    except OSError as exc:
        print(f"Web console not started: {_cannot_listen('127.0.0.1', port, exc)}: "
              "--console-port N, or 0 for any free one")
        return None
    print(f"Web console: {console.url} (serving {config.path.resolve()})")
    return console


def cmd_web(args: argparse.Namespace) -> int:
    """Serve the web console in the foreground until Ctrl-C."""
    from .web import TOKEN_ENV, WebConsole, check_exposure

    config = load_config(args.config)
    token = args.token or os.environ.get(TOKEN_ENV) or None
    check_exposure(args.host, token)
    with boundary():
        client = make_client()
    web = WebConsole(client, config, args.host, args.port, token)
    try:
        web.start()
    except OSError as exc:
        raise UsageError(f"{_cannot_listen(args.host, args.port, exc)}: give another port, "
                         "--port N, or --port 0 for any free one") from None
    try:
        print(f"Web console: {web.url} (serving {config.path.resolve()}; SWF at {client.meta.endpoint_url}, domain "
              f"{config.domain.name}{'; it asks for its token' if token else ''}). Ctrl-C stops it.", flush=True)
        _wait_for_stop()
    finally:
        web.stop()
    return Exit.OK


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
    from .local import EmbeddedSWF

    need_local()
    with EmbeddedSWF() as swf, environment(swf.env()):
        return run_demo(args.config, swf.endpoint, lambda argv, prog: run(argv, prog, signals=False))


# ---- the console's pages -------------------------------------------------------------------------


def _text(value: str | None, flag: str) -> str | None:
    if value is not None and len(value) > MAX_DATA:
        raise UsageError(f"{flag}: {len(value)} characters; SWF takes at most {MAX_DATA}")
    return value


def cmd_start(args: argparse.Namespace) -> int:
    """Start an execution, as the console's "Start a new Workflow Execution" does."""
    config = load_config(args.config)
    if args.workflow_id and args.id_template:
        raise UsageError("give --workflow-id or --id-template, not both")
    workflow_id = executions.new_workflow_id(config, args.workflow_id, args.id_template, dt.datetime.now())
    text = args.input
    if args.input_file:
        if text is not None:
            raise UsageError("give --input or --input-file, not both")
        try:
            text = Path(args.input_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--input-file {args.input_file}: {exc}") from None
    text = _text(text, "the input")
    with boundary():
        run_id, started = executions.start_execution(make_client(), config, workflow_id, text)
    if started:
        print(f"Started {config.workflow.name} {config.workflow.version}: workflow id {workflow_id}, run id {run_id}")
    else:
        print(f"{workflow_id} is already open (run id {run_id}): not started again")
    return Exit.OK


def cmd_executions(args: argparse.Namespace) -> int:
    """List executions, newest first, as the console's My Workflow Executions."""
    config = load_config(args.config)
    which = "open" if args.open else "closed" if args.closed or args.status else "all"
    since = executions.parse_since(args.since, dt.datetime.now(dt.timezone.utc)) if args.since else None
    with boundary():
        rows = executions.list_executions(make_client(), config, which, since, args.status)
    print(render.to_json(rows) if args.json else render.format_executions(rows))
    return Exit.OK


def cmd_show(args: argparse.Namespace) -> int:
    """One execution's Summary, Events and Activities; or one activity whole."""
    config = load_config(args.config)
    with boundary():
        data = executions.show_data(make_client(), config, args.workflow_id, args.run_id)
    if args.activity:
        found = [a for a in data["activities"] if a["activity_id"] == args.activity]
        if not found:
            known = ", ".join(a["activity_id"] for a in data["activities"]) or "none yet"
            raise UsageError(f"no activity {args.activity!r} in {args.workflow_id} (its activities: {known})")
        print(render.to_json(found[0]) if args.json else render.format_activity(found[0]))
        return Exit.OK
    print(render.to_json(data) if args.json else render.format_show(data))
    return Exit.OK


def _not_found(config: Config, workflow_id: str) -> str:
    return f"no open execution with workflow id {workflow_id!r} in domain {config.domain.name}"


def cmd_terminate(args: argparse.Namespace) -> int:
    """Terminate an open execution now (TERMINATED); its running tasks are not told."""
    config = load_config(args.config)
    if not args.reason.strip() or len(args.reason) > MAX_REASON:
        raise UsageError(f"--reason must be 1 to {MAX_REASON} characters")
    with boundary(_not_found(config, args.workflow_id)):
        executions.terminate(make_client(), config, args.workflow_id, args.reason, args.run_id)
    print(f"Terminated {args.workflow_id}: {args.reason}")
    return Exit.OK


def cmd_signal(args: argparse.Namespace) -> int:
    """Send a signal to an open execution: it lands in the history and a decision task follows."""
    config = load_config(args.config)
    with boundary(_not_found(config, args.workflow_id)):
        executions.signal_execution(make_client(), config, args.workflow_id, args.name,
                                    _text(args.input, "--input"), args.run_id)
    print(f"Signaled {args.workflow_id}: {args.name}")
    return Exit.OK


def cmd_cancel(args: argparse.Namespace) -> int:
    """Ask for an execution's cancellation; the decider cancels it on its next decision task."""
    config = load_config(args.config)
    with boundary(_not_found(config, args.workflow_id)):
        executions.request_cancel(make_client(), config, args.workflow_id, args.run_id)
    print(f"Cancellation requested for {args.workflow_id}: the decider cancels it on its next decision task")
    return Exit.OK


def cmd_graph(args: argparse.Namespace) -> int:
    """Print the flow chart (Mermaid or DOT), with an execution's step states when one is named."""
    config = load_config(args.config)
    status = None
    if args.execution:
        with boundary():
            status = executions.execution_steps(make_client(), config, args.execution, args.run_id)
    elif args.run_id:
        raise UsageError("--run-id goes with --execution")
    print(graph.render(config.workflow, args.format, status), end="")
    return Exit.OK


def cmd_check(args: argparse.Namespace) -> int:
    """Report executions that closed other than COMPLETED within --since, alert on each; exit 1 if any."""
    config = load_config(args.config)
    since = executions.parse_since(args.since, dt.datetime.now(dt.timezone.utc))
    try:
        with boundary():
            rows = executions.failures(make_client(), config, since)
    except SwfAgentError as exc:  # for cron: 1 means "failures found", 2 "could not look"
        print_error(args.prog, exc)
        return Exit.USAGE
    if args.json:
        print(render.to_json(rows))
    elif not rows:
        print(f"No execution closed other than COMPLETED since {render.local_time(since)}.")
    else:
        print(render.format_failures(rows))
    if rows and not args.no_alert:
        problems = sum(bool(alerts.send(config, row["alert"])) for row in rows)
        if config.alerts is None:
            print("No alert sent: config.yaml has no alerts: section.", file=sys.stderr)
        elif problems:
            print(f"{problems} of {len(rows)} alerts could not be sent in full.", file=sys.stderr)
    return Exit.ERROR if rows else Exit.OK


# ---- the command line --------------------------------------------------------------------------


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


def _web_arguments(c: argparse.ArgumentParser) -> None:
    from .web import DEFAULT_HOST, DEFAULT_PORT, TOKEN_ENV

    c.add_argument("--host", default=DEFAULT_HOST,
                   help=f"the address to listen on (default {DEFAULT_HOST}; any other needs a token)")
    c.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free one)")
    c.add_argument("--token", help=f"ask for this token before serving anything (better: set {TOKEN_ENV}, which "
                                   "other users cannot see in the process list)")


def _demo_arguments(c: argparse.ArgumentParser) -> None:
    c.set_defaults(config=str(ARTICLE_CONFIG))  # the article's workflow, wherever the demo runs from


def _start_arguments(c: argparse.ArgumentParser) -> None:
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


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str, Callable[[argparse.ArgumentParser], None]]] = {
    "decider": (cmd_poller, "poll SWF for decision tasks, walk the whole history, decide what runs next "
                            "(the article's decider.py)", _poller_arguments),
    "worker": (cmd_poller, "poll SWF for activity tasks and run each one's command from config.yaml "
                           "(the article's worker.py)", _poller_arguments),
    "register": (cmd_register, "register the SWF domain, workflow type and activity types config.yaml names; "
                               "safe to run again", _register_arguments),
    "local": (cmd_local, "run the embedded SWF (moto's server with swfagent's layer) on 127.0.0.1", _local_arguments),
    "web": (cmd_web, "serve the web console (the AWS console's SWF pages, with the live flow chart) on "
                     "127.0.0.1", _web_arguments),
    "demo": (cmd_demo, "the article's walkthrough on the embedded SWF", _demo_arguments),
    "start": (cmd_start, "start a workflow execution", _start_arguments),
    "executions": (cmd_executions, "list executions, newest first", _executions_arguments),
    "show": (cmd_show, "one execution: summary, events, activities", _show_arguments),
    "terminate": (cmd_terminate, "terminate an open execution now", _steer_arguments("reason")),
    "signal": (cmd_signal, "send a signal to an open execution", _steer_arguments("name")),
    "cancel": (cmd_cancel, "ask for an open execution's cancellation (RequestCancelWorkflowExecution)",
               _steer_arguments()),
    "graph": (cmd_graph, "print the flow chart as Mermaid or Graphviz DOT", _graph_arguments),
    "check": (cmd_check, "report executions that closed other than COMPLETED, and alert; exit 1 if any",
              _check_arguments),
    "policies": (policies.cmd_policies, policies.HELP, policies.arguments),
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


def print_error(prog: str, exc: SwfAgentError) -> None:
    """The one line every error gets."""
    print(f"{prog}: error: {exc}", file=sys.stderr)


def run(argv: list[str] | None = None, prog: str | None = None, *, signals: bool = True) -> int:
    """Parse and run one command; `signals` installs the pollers' SIGTERM/SIGINT handlers (the entry point's)."""
    try:
        args = (script_parser(SCRIPTS[prog], prog) if prog in SCRIPTS else parser()).parse_args(argv)
    except BrokenPipeError:  # --help into `| head`
        return _pipe_closed()
    name = prog or f"swfagent {args.command}"
    args.prog, args.stop, args.running = name, Stop(), RunningTasks()
    if signals and args.command in ("decider", "worker"):
        install_signal_handlers(args.stop, args.running)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # here, where a closed pipe can be told apart, not at the interpreter's exit
        return code
    except BrokenPipeError:
        return _pipe_closed()
    except SwfAgentError as exc:
        print_error(name, exc)
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
