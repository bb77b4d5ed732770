"""The web console: `swfagent web`, and beside the embedded SWF in `swfagent local`."""

from .server import DEFAULT_HOST, DEFAULT_PORT, TOKEN_ENV, WebConsole, check_exposure, is_loopback

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "TOKEN_ENV", "WebConsole", "check_exposure", "is_loopback"]
