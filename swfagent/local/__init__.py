"""The embedded SWF: moto's server on 127.0.0.1, with the layer that makes it answer like SWF.

- server.py   EmbeddedSWF: the HTTP server, in a thread of this process
- api.py      the WSGI layer: SWF's limits and throttles, then each operation under the engine's lock
- engine.py   one lock, task-list queues and long polls, one clock for timeouts, timers and retention
- models.py   moto's SWF models, corrected where they answer other than SWF; the engine reached through EngineHooks
- moto_adapter.py  the one importer of moto, and the list of what the layer relies on in it
- faults.py   SWF's quotas, and faults on demand (--faults)
- durable.py  --data DIR: a journal of every change (group commit), replayed at start, snapshots, one process per DIR

Each correction is a row of the README's table "The embedded SWF and moto", with the test that proves it.
"""

from .server import DEFAULT_PORT, LOCAL_ENV, LOCAL_HOST, POLL_SECONDS, EmbeddedSWF, exports

__all__ = ["DEFAULT_PORT", "LOCAL_ENV", "LOCAL_HOST", "POLL_SECONDS", "EmbeddedSWF", "exports"]
