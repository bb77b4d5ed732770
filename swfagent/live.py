"""config.yaml as a long-running process sees it: the pollers and the web console read it again when it changes."""

from __future__ import annotations

import threading

from .activity_tasks import store_for
from .config import Config, load_config
from .errors import SwfAgentError
from .logs import log
from .payloads import S3Store


class LiveConfig:
    """config.yaml as a long-running poller sees it: read again between tasks when the file changed; an edit that
    does not load keeps the config in use, and says why."""

    def __init__(self, config: Config):
        self.config = config
        self._stamp = self._stat()
        self._lock = threading.Lock()
        self._store: tuple[Config, S3Store | None] = (config, store_for(config))

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.config.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def current(self) -> Config:
        """The config to handle the next task with."""
        stamp = self._stat()
        if stamp == self._stamp or stamp is None:
            return self.config
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    config = load_config(self.config.path)
                except SwfAgentError as exc:
                    log.error(f"{exc}: going on with the config loaded before")
                    return self.config
                log.warning(f"{config.path.name} changed: reloaded ({config.summary})")
                self.config = config
        return self.config

    def store(self, config: Config) -> S3Store | None:
        """Where a config's large values go: made once per config loaded, not once per task."""
        made = self._store
        if made[0] is not config:
            made = self._store = (config, store_for(config))
        return made[1]
