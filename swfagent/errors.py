"""The project's own errors: each one ends a command with one clear line."""

from __future__ import annotations


class SwfAgentError(Exception):
    """Base of every error this project reports as one line."""

    exit_code = 1


class ConfigError(SwfAgentError):
    """config.yaml is missing, unreadable or invalid."""

    exit_code = 2


class UsageError(SwfAgentError):
    """A command was given arguments it cannot act on."""

    exit_code = 2


class SwfError(SwfAgentError):
    """SWF (or the endpoint standing in for it) refused or could not be reached."""


class NotFound(SwfError):
    """A domain, type or execution named by the user does not exist."""


class TaskError(SwfAgentError):
    """Handling one task went wrong; the message names its workflow id."""
