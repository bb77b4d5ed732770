#!/usr/bin/env python3
"""Register the SWF domain, workflow type and activity types that config.yaml names; safe to run again."""

from __future__ import annotations

import argparse
import sys

from swfagent.client import boundary, make_client
from swfagent.config import DEFAULT_CONFIG, load_config
from swfagent.errors import SwfAgentError
from swfagent.register import register_all


def main(argv: list[str] | None = None) -> int:
    """Register (or with --check only validate) what the config names."""
    parser = argparse.ArgumentParser(prog="register_swf.py", description=__doc__)
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="config file (default: config.yaml beside the scripts)")
    parser.add_argument("--check", action="store_true", help="validate the config without registering anything")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        if args.check:
            w = config.workflow
            print(f"{config.path}: OK ({w.name} {w.version}: {len(w.steps)} steps, {len(config.activities)} activities)")
            return 0
        with boundary():
            lines = register_all(make_client(), config)
    except SwfAgentError as exc:
        print(f"register_swf.py: error: {exc}", file=sys.stderr)
        return exc.exit_code
    for ok, line in lines:
        print(line, file=sys.stdout if ok else sys.stderr)
    return 0 if all(ok for ok, _ in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
