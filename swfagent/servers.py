"""The commands that serve until stopped, and the demo: the embedded SWF (`local`), the web console (`web`), and
the article's walkthrough on an embedded SWF of its own (`demo`)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from .client import Target, boundary
from .config import load_config
from .errors import Exit, SwfAgentError, UsageError
from .runtime import Runtime

# the web console's port beside the embedded SWF's, unless --port 0 asks for any free one
CONSOLE_PORT = 5056


def need_local() -> None:
    """UsageError, in one line, when the embedded SWF's extra (moto and what its server imports) is not installed."""
    try:
        import flask_cors  # noqa: F401
        import moto  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"the embedded SWF needs {exc.name or 'moto'}, which this install lacks: "
                         "pip install 'swfagent[local]' (a host that talks to real SWF does not need it)") from None


def target_of(swf: Any) -> Target:
    """Where a client in this process reaches the embedded SWF `swf`, its test credentials included."""
    from .local import LOCAL_ENV

    return Target(swf.endpoint, LOCAL_ENV["AWS_DEFAULT_REGION"],
                  (LOCAL_ENV["AWS_ACCESS_KEY_ID"], LOCAL_ENV["AWS_SECRET_ACCESS_KEY"]))


def cannot_listen(host: str, port: int, exc: OSError) -> str:
    """The start of the line for a port that cannot be had (taken, or not allowed)."""
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def wait_for_stop() -> None:
    """Block until Ctrl-C or SIGTERM (a server in the foreground)."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()


def cmd_local(args: argparse.Namespace, rt: Runtime) -> int:
    """Run the embedded SWF in the foreground until Ctrl-C."""
    from .local import EmbeddedSWF, exports
    from .local.faults import describe_limits, parse_faults

    need_local()
    limits = parse_faults(args.faults)
    if args.data and os.environ.get("INITIAL_NO_AUTH_ACTION_COUNT"):
        raise UsageError("--data does not go with INITIAL_NO_AUTH_ACTION_COUNT: the journal keeps no signatures "
                         "to check again on replay")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    server_log = logging.getLogger("swfagent.local")
    server_log.addHandler(handler)  # before the start: a restore from --data may have something to say
    server_log.setLevel(logging.INFO)
    try:
        swf = EmbeddedSWF(args.port, poll_seconds=args.poll_seconds, faults=limits, test_api=args.test_api,
                          data=args.data).start()
    except SwfAgentError:
        server_log.removeHandler(handler)
        raise
    except OSError as exc:
        server_log.removeHandler(handler)
        raise UsageError(f"{cannot_listen('127.0.0.1', args.port, exc)}: give another port, "
                         "--port N, or --port 0 for any free one") from None
    console = None
    try:
        print(f"Persistence: {swf.data}" if swf.data else "Persistence: in memory (everything is lost when it stops)")
        if swf.durable is not None and swf.durable.restored:
            print(f"Restored in {swf.durable.seconds:.2f} s: {swf.durable.restored}")
        print(f"Embedded SWF (moto) listening on {swf.endpoint}: for development only, no credentials checked.")
        if args.faults:
            print(f"Faults in force: {describe_limits(limits) or 'none'}")
        print("Point the scripts at it, in each terminal:")
        print(exports(swf.env()))
        console = _local_console(args, swf)
        print("Stop it with Ctrl-C; " + (f"what it holds stays in {swf.data}." if swf.data else
                                         "everything it holds is gone then."), flush=True)
        wait_for_stop()
    finally:
        if console is not None:
            console.stop()
        swf.stop()
        server_log.removeHandler(handler)
    return Exit.OK


def _local_console(args: argparse.Namespace, swf: Any) -> Any:
    """The web console beside the embedded SWF, or None (said in one line) when it cannot be had."""
    from .client import make_client
    from .web import WebConsole

    if args.no_console:
        return None
    port = args.console_port if args.console_port is not None else 0 if args.port == 0 else CONSOLE_PORT
    try:
        config = load_config(args.config)
        console = WebConsole(make_client(target=target_of(swf)), config, port=port).start()
    except SwfAgentError as exc:
        print(f"Web console not started: {exc}")
        return None
    except OSError as exc:
        print(f"Web console not started: {cannot_listen('127.0.0.1', port, exc)}: "
              "--console-port N, or 0 for any free one")
        return None
    print(f"Web console: {console.url} (serving {config.path.resolve()})")
    return console


def cmd_web(args: argparse.Namespace, rt: Runtime) -> int:
    """Serve the web console in the foreground until Ctrl-C."""
    import os

    from .web import TOKEN_ENV, WebConsole, check_exposure

    config = load_config(args.config)
    token = args.token or os.environ.get(TOKEN_ENV) or None
    check_exposure(args.host, token)
    with boundary():
        client = rt.client()
    web = WebConsole(client, config, args.host, args.port, token, args.behind_tls)
    try:
        web.start()
    except OSError as exc:
        raise UsageError(f"{cannot_listen(args.host, args.port, exc)}: give another port, "
                         "--port N, or --port 0 for any free one") from None
    try:
        print(f"Web console: {web.url} (serving {config.path.resolve()}; SWF at {client.meta.endpoint_url}, domain "
              f"{config.domain.name}{'; it asks for its token' if token else ''}). Ctrl-C stops it.", flush=True)
        wait_for_stop()
    finally:
        web.stop()
    return Exit.OK


def cmd_demo(args: argparse.Namespace, rt: Runtime, run: Callable[..., int]) -> int:
    """The article's walkthrough on an embedded SWF of its own; `run(argv, prog, target=...)` runs one command."""
    from .client import make_client
    from .demo import run_demo
    from .local import EmbeddedSWF

    need_local()
    with EmbeddedSWF() as swf:
        target = target_of(swf)
        return run_demo(args.config, swf.endpoint, lambda argv, prog: run(argv, prog, target=target),
                        make_client(target=target))
