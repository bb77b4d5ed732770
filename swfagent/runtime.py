"""Runtime: what a command runs with besides its arguments, made by the entry point and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .client import Target, make_client
from .poller import Stop
from .runner import RunningTasks


@dataclass
class Runtime:
    """The command's name for its error line, the pollers' stop flag and running tasks, and where SWF is."""

    prog: str
    stop: Stop = field(default_factory=Stop)
    running: RunningTasks = field(default_factory=RunningTasks)
    target: Target | None = None  # None: boto3's own settings (environment, profile)

    def client(self, service: str = "swf") -> Any:
        """A client for this command (make_client with the runtime's target)."""
        return make_client(service, self.target)
