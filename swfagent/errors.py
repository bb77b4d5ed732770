"""The project's own errors, each ending a command with one clear line, and the exit codes of every command."""

from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    """The exit codes of every command."""

    OK = 0
    ERROR = 1  # SWF refused or could not be reached, or a check found failed executions
    USAGE = 2  # bad arguments or config.yaml, or a check could not ask SWF
    INTERRUPTED = 130
    PIPE_CLOSED = 141  # what reads our output stopped reading (`| head`): 128 + SIGPIPE, as other commands end


class SwfAgentError(Exception):
    """Base of every error this project reports as one line."""

    exit_code = Exit.ERROR


class ConfigError(SwfAgentError):
    """config.yaml is missing, unreadable or invalid."""

    exit_code = Exit.USAGE


class UsageError(SwfAgentError):
    """A command was given arguments it cannot act on."""

    exit_code = Exit.USAGE


class DataError(UsageError):
    """The embedded SWF's --data folder cannot be used: held by another process, of another format, or unwritable."""


class SwfError(SwfAgentError):
    """SWF (or the endpoint standing in for it) refused or could not be reached."""


class NotFound(SwfError):
    """A domain, type or execution named by the user does not exist."""


class TaskError(SwfAgentError):
    """Handling one task went wrong; the message names its workflow id."""
