"""Durable: the embedded SWF's state kept in a folder (`swfagent local --data DIR`), across stops and kill -9.

- The journal: every change the engine makes (each mutating request with its answer, each task a poller takes,
  each firing of the clock, each reset and change of the faults), with the time and the random seed it ran with.
  A record is on disk before its answer leaves: group commit, one fdatasync for the records of every request that
  came in meanwhile (writers append under the engine's lock; one flusher thread writes and syncs each batch).
- Records are framed by length and CRC-32: a torn last write (a crash mid-append) is found at start and cut off.
- Replay at start: each record runs again through the same code (`api.run`, `Engine.take`, `Engine.catch_up`) with
  its time and ids pinned (`moto_adapter.pinned`), so histories, run ids and task tokens come back as they were.
- Snapshots bound the restart: every so many records a forked child pickles the whole engine while serving goes
  on, and the journal starts a new segment; a start loads the newest snapshot and replays the segments after it.
- One process per folder (an fcntl lock); a FORMAT file names the format and moto's version: another is refused.
"""

from __future__ import annotations

import contextlib
import copyreg
import fcntl
import gc
import io
import logging
import os
import pickle
import random
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import DataError
from .api import answer_crc, run
from .engine import Engine
from .models import Execution
from .moto_adapter import moto_version, pinned, reduce_execution

log = logging.getLogger("swfagent.local")

FORMAT = 1
JOURNAL_MAGIC = b"swfagent journal 1\n"
SNAPSHOT_MAGIC = b"swfagent snapshot 1\n"
FRAME = struct.Struct("<II")  # length, CRC-32 of the pickled record
SNAPSHOT_EVERY = 1_200  # records after which a snapshot is taken: a restart replays at most about this many
EVERY_ENV = "SWFAGENT_SNAPSHOT_EVERY"  # another count (the tests take snapshots often)


def snapshot_every() -> int:
    """SNAPSHOT_EVERY, or the count SWFAGENT_SNAPSHOT_EVERY gives."""
    text = os.environ.get(EVERY_ENV, "")
    return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else SNAPSHOT_EVERY


def format_line() -> str:
    """What FORMAT holds: the format's number and the moto that pickled the snapshots."""
    return f"swfagent embedded SWF data, format {FORMAT}, moto {moto_version()}"


def frame(record: Any) -> bytes:
    """One record as written: length, CRC-32, the pickle."""
    data = pickle.dumps(record, protocol=5)
    return FRAME.pack(len(data), zlib.crc32(data)) + data


def records(data: bytes, start: int) -> Iterator[tuple[int, Any]]:
    """(end offset, record) for each whole record from `start`; stops at the first torn or damaged one."""
    at = start
    while at + FRAME.size <= len(data):
        size, crc = FRAME.unpack_from(data, at)
        end = at + FRAME.size + size
        if end > len(data) or zlib.crc32(data[at + FRAME.size:end]) != crc:
            return
        try:
            record = pickle.loads(data[at + FRAME.size:end])
        except Exception:  # a CRC that matched garbage: as damaged
            return
        yield end, record
        at = end


def dump_state(engine: Engine) -> bytes:
    """The engine's whole state as a pickle (moto's per-execution lock left out)."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=5)
    pickler.dispatch_table = {**copyreg.dispatch_table, Execution: reduce_execution}
    pickler.dump(engine)
    return out.getvalue()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Store:
    """The folder: its lock, its FORMAT, the journal's segments and the snapshots."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock_fd: int | None = None

    def open(self) -> None:
        """Create the folder if need be, take its lock, check its format; DataError in one line otherwise."""
        where = f"--data {self.path}"
        if self.path.exists() and not self.path.is_dir():
            raise DataError(f"{where}: not a folder")
        try:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)  # request bodies and pickled state: private
            fd = os.open(self.path / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise DataError(f"{where}: cannot write there: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise DataError(f"{where} is in use by another swfagent local (pid {holder}): one process per folder") \
                from None
        self._lock_fd = fd
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            self._check_format(where)
        except OSError as exc:
            self.close()
            raise DataError(f"{where}: cannot write there: {exc.strerror or exc}") from None
        except DataError:
            self.close()
            raise

    def _check_format(self, where: str) -> None:
        marker = self.path / "FORMAT"
        if marker.exists():
            found = marker.read_text(errors="replace").strip()
            if found != format_line():
                raise DataError(f"{where} was written in another format ({found[:100]!r}); this swfagent reads "
                                f"{format_line()!r}: give another folder")
            return
        others = sorted(p.name for p in self.path.iterdir() if p.name not in ("lock", "FORMAT.tmp"))
        if others:
            raise DataError(f"{where} holds other files ({', '.join(others[:3])}), not an embedded SWF's data: "
                            "give an empty or new folder")
        tmp = self.path / "FORMAT.tmp"
        tmp.write_text(format_line() + "\n")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        tmp.rename(marker)
        _sync_dir(self.path)

    def close(self) -> None:
        """Let the folder go."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # the lock goes with it
            self._lock_fd = None

    def numbers(self, prefix: str, suffix: str) -> list[int]:
        """The numbers of the files named PREFIX-N.SUFFIX, in order."""
        found = []
        for p in self.path.glob(f"{prefix}-*{suffix}"):
            digits = p.name[len(prefix) + 1:-len(suffix)]
            if digits.isascii() and digits.isdigit():
                found.append(int(digits))
        return sorted(found)

    def segment_path(self, n: int) -> Path:
        return self.path / f"journal-{n:06d}.log"

    def snapshot_path(self, n: int) -> Path:
        return self.path / f"snapshot-{n:06d}.pickle"

    def new_segment(self, n: int) -> int:
        """A new journal segment, its header on disk; its file descriptor, for appending."""
        fd = os.open(self.segment_path(n), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        _write_all(fd, JOURNAL_MAGIC)
        os.fsync(fd)
        _sync_dir(self.path)
        return fd

    def write_snapshot(self, n: int, engine: Engine, go: Callable[[], bool] | None = None) -> None:
        """The engine's state before segment n, on disk whole (written aside, then renamed, if `go()` says so)."""
        data = dump_state(engine)
        tmp = self.path / f"snapshot-{n:06d}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, SNAPSHOT_MAGIC + FRAME.pack(len(data), zlib.crc32(data)) + data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if go is not None and not go():
            tmp.unlink(missing_ok=True)
            raise OSError("the journal before it was not confirmed on disk")
        tmp.rename(self.snapshot_path(n))
        _sync_dir(self.path)

    def read_snapshot(self, n: int) -> Engine:
        """The engine a snapshot holds; DataError if it is damaged."""
        path = self.snapshot_path(n)
        data = path.read_bytes()
        body = data[len(SNAPSHOT_MAGIC) + FRAME.size:]
        if not data.startswith(SNAPSHOT_MAGIC) or len(data) < len(SNAPSHOT_MAGIC) + FRAME.size:
            raise DataError(f"--data {self.path}: {path.name} is not a snapshot of this format")
        size, crc = FRAME.unpack_from(data, len(SNAPSHOT_MAGIC))
        if len(body) != size or zlib.crc32(body) != crc:
            raise DataError(f"--data {self.path}: {path.name} is damaged (its checksum does not match)")
        engine = pickle.loads(body)
        if not isinstance(engine, Engine):
            raise DataError(f"--data {self.path}: {path.name} holds no engine")
        return engine

    def drop_before(self, n: int) -> None:
        """Segments and snapshots that the snapshot before segment n makes useless."""
        for prefix, suffix, path_of in (("journal", ".log", self.segment_path),
                                        ("snapshot", ".pickle", self.snapshot_path)):
            for old in self.numbers(prefix, suffix):
                if old < n:
                    path_of(old).unlink(missing_ok=True)
        for tmp in self.path.glob("snapshot-*.tmp"):
            tmp.unlink(missing_ok=True)


class Journal:
    """The journal being written: records appended under the engine's lock, one flusher syncing them in batches."""

    def __init__(self, store: Store, engine: Engine, segment: int, *, every: int = SNAPSHOT_EVERY):
        self.store = store
        self.engine = engine
        self.segment = segment
        self.every = every
        self.appended = 0  # records appended since this process started
        self.durable = 0  # of which on disk
        self.since_snapshot = 0
        self.failed: OSError | None = None
        self._rand = random.Random()
        self._pending: list[bytes | int] = []  # records, and (an int) "a new segment from here"
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._done = threading.Condition(self._lock)
        self._closing = False
        self._child: int | None = None
        self._reaper: threading.Thread | None = None
        self._fd = store.new_segment(segment)
        self._flusher = threading.Thread(target=self._flush, name="swf-journal", daemon=True)
        self._flusher.start()

    @contextlib.contextmanager
    def change(self, now: float | None = None) -> Iterator[list[Any]]:
        """Within: the time and ids pinned; what the caller puts in the list is appended as the record (none: none)."""
        record: list[Any] = []
        when = self.engine.base_clock() if now is None else now
        seed = self._rand.getrandbits(63)
        try:
            with pinned(when, seed):
                yield record
        finally:
            if record:
                self.append([when, seed, *record])

    def append(self, record: Any) -> int:
        """Queue a record for the flusher (the engine's lock held, so records keep the order of the changes)."""
        data = frame(record)
        with self._lock:
            self._pending.append(data)
            self.appended += 1
            self.since_snapshot += 1
            self._work.notify()
            return self.appended

    def wait(self, seq: int) -> None:
        """Return once the first `seq` records are on disk; OSError if they cannot be written."""
        with self._lock:
            while self.durable < seq and self.failed is None:
                self._done.wait()
            if self.durable < seq and self.failed is not None:
                raise self.failed

    def _flush(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closing:
                    self._work.wait()
                if not self._pending:
                    return
                batch, self._pending = self._pending, []
                upto = self.appended
            try:
                self._write(batch)
            except OSError as exc:
                log.error("the embedded SWF cannot write its journal in %s: %s; it answers InternalFailure from now",
                          self.store.path, exc.strerror or exc)
                with self._lock:
                    self.failed = exc
                    self._done.notify_all()
                return
            with self._lock:
                self.durable = upto
                self._done.notify_all()

    def _write(self, batch: list[bytes | int]) -> None:
        chunk: list[bytes] = []
        for item in batch:
            if isinstance(item, int):  # the snapshot's point: what follows goes to a new segment
                _write_all(self._fd, b"".join(chunk))
                chunk = []
                os.fdatasync(self._fd)
                os.close(self._fd)
                self._fd = self.store.new_segment(item)
            else:
                chunk.append(item)
        _write_all(self._fd, b"".join(chunk))
        os.fdatasync(self._fd)

    def maybe_snapshot(self) -> None:
        """A snapshot, if enough records came since the last and none is being written (the engine's lock held)."""
        if self.since_snapshot >= self.every and self._child is None and self.failed is None:
            self.snapshot()

    def snapshot(self) -> None:
        """Fork a child that writes the engine's state as it is now; the journal goes on in a new segment."""
        number = self.segment + 1
        # The snapshot holds every change appended so far, some perhaps not yet on disk: the child puts it in place
        # only once its parent says those are (a byte on this pipe), never if its parent died first (end of file).
        ready, confirm = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: the state as it was at the fork, under the engine's lock
            code = 1
            try:
                _close_inherited(keep=ready)
                self.store.write_snapshot(number, self.engine, go=lambda: os.read(ready, 1) == b"1")
                code = 0
            finally:
                os._exit(code)
        os.close(ready)
        upto = self.appended
        self._child, self.segment, self.since_snapshot = pid, number, 0
        with self._lock:
            self._pending.append(number)
            self._work.notify()
        self._reaper = threading.Thread(target=self._reap, args=(pid, number, upto, confirm), name="swf-snapshot",
                                        daemon=True)
        self._reaper.start()

    def _reap(self, pid: int, number: int, upto: int, confirm: int) -> None:
        try:
            self.wait(upto)
            os.write(confirm, b"1")
        except OSError:
            pass  # the journal failed: the child gets the end of the pipe and puts nothing in place
        finally:
            os.close(confirm)
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            status = -1
        if status == 0:
            with contextlib.suppress(OSError):  # the journal failed: it has said so; the older segments stay
                self.wait(self.appended)  # the segment it starts exists on disk
                self.store.drop_before(number)
        else:
            log.error("a snapshot of the embedded SWF could not be written (status %s); the journal keeps everything",
                      status)
        with self.engine.lock:
            self._child = None

    def close(self) -> None:
        """A snapshot being written waited for; what is pending written; the flusher stopped."""
        if self._reaper is not None:
            self._reaper.join(timeout=120)
        with self._lock:
            self._closing = True
            self._work.notify()
        self._flusher.join(timeout=30)
        with contextlib.suppress(OSError):
            os.close(self._fd)


def _close_inherited(keep: int) -> None:
    """In a forked child: close what it inherited (the lock, the listening socket) but `keep`, so that its parent's
    end frees them."""
    try:
        fds = [int(n) for n in os.listdir("/proc/self/fd")]
    except OSError:
        fds = [fd for fd in range(3, os.sysconf("SC_OPEN_MAX")) if fd != keep]
    for fd in fds:
        if fd > 2 and fd != keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def replay(engine: Engine, record: list[Any]) -> str | None:
    """Run one journal record again, its time and ids pinned; what differs from when it first ran, if anything."""
    now, seed, kind, *rest = record
    with engine.lock, pinned(now, seed):
        if kind == "tick":
            engine.catch_up()
        elif kind == "take":
            key, identity, token = rest
            task = engine.take(tuple(key), identity)
            if task is None or task.task_token != token:
                return f"a take on {key[4]} handed out {getattr(task, 'task_token', None)}, not {token}"
        elif kind == "limits":
            engine.set_limits(rest[0], configured=rest[1])
        elif kind == "reset":
            engine.reset()
        elif kind == "req":
            operation, credential, body, *answer = rest
            try:
                status, _, out = run(engine, operation, credential, body)
            except Exception as exc:  # it failed the same way when it first ran (it has no answer recorded then)
                return f"{operation} failed again: {exc!r}" if answer else None
            if answer and (status, answer_crc(out)) != tuple(answer):
                return f"{operation} answered {status} again, {answer[0]} first"
        else:
            return f"an unknown record {kind!r}"
    return None


class Durable:
    """The folder behind an engine: open (lock, format, load, replay), then the journal it writes to."""

    def __init__(self, path: str | Path, *, every: int = SNAPSHOT_EVERY):
        self.store = Store(path)
        self.every = every
        self.journal: Journal | None = None
        self.replayed = 0
        self.seconds = 0.0
        self.dropped = 0  # bytes of a torn last write cut off
        self.snapshot: int | None = None  # the snapshot loaded, if any

    def open(self, make: Callable[[], Engine]) -> Engine:
        """The engine as the folder left it (its clock not started), writing its changes to the journal from now."""
        began = time.monotonic()
        self.store.open()
        collecting = gc.isenabled()
        gc.disable()  # a snapshot is 100,000s of objects: the collector would walk them again and again meanwhile
        try:
            engine, segment = self._restore(make)
        except DataError:
            self.store.close()
            raise
        except Exception as exc:  # a snapshot pickled by other code: refused, never misread
            self.store.close()
            raise DataError(f"--data {self.store.path} cannot be read: {exc!r}"[:300]) from None
        finally:
            if collecting:
                gc.enable()
        try:
            journal = self.journal = Journal(self.store, engine, segment, every=self.every)
        except OSError as exc:
            self.store.close()
            raise DataError(f"--data {self.store.path}: cannot write there: {exc.strerror or exc}") from None
        journal.since_snapshot = self.replayed
        engine.journal = journal
        self.seconds = time.monotonic() - began
        return engine

    def _restore(self, make: Callable[[], Engine]) -> tuple[Engine, int]:
        store = self.store
        snapshots = store.numbers("snapshot", ".pickle")
        segments = store.numbers("journal", ".log")
        first = snapshots[-1] if snapshots else 1
        engine = store.read_snapshot(first) if snapshots else make()
        self.snapshot = first if snapshots else None
        todo = [n for n in segments if n >= first]
        if todo and todo != list(range(first, todo[-1] + 1)):
            raise DataError(f"--data {store.path}: journal segments are missing after {first} (found {todo[:5]})")
        for i, n in enumerate(todo):
            self._replay_segment(engine, n, last=i == len(todo) - 1)
        return engine, (todo[-1] + 1 if todo else first)

    def _replay_segment(self, engine: Engine, n: int, *, last: bool) -> None:
        path = self.store.segment_path(n)
        data = path.read_bytes()
        if not data.startswith(JOURNAL_MAGIC):
            if last and len(data) < len(JOURNAL_MAGIC) and JOURNAL_MAGIC.startswith(data):
                # created, its header torn: nothing in it was ever answered. Written again as an empty segment,
                # not removed, so the segments stay numbered without a gap for the next start
                os.close(self.store.new_segment(n))
                return
            raise DataError(f"--data {self.store.path}: {path.name} is not a journal of this format")
        end = len(JOURNAL_MAGIC)
        for after, record in records(data, end):
            problem = replay(engine, record)
            self.replayed += 1
            end = after
            if problem is not None:
                log.warning("replaying %s: record %d: %s", path.name, self.replayed, problem)
        if end < len(data):
            if not last:
                raise DataError(f"--data {self.store.path}: {path.name} is damaged at byte {end}")
            self.dropped = len(data) - end
            log.warning("%s: a torn last write (%d bytes) dropped: it was never answered", path.name, self.dropped)
            with open(path, "r+b") as f:
                f.truncate(end)
                os.fsync(f.fileno())

    @property
    def restored(self) -> str:
        """What the start found in the folder, in words ('' if it was new)."""
        said = [f"snapshot {self.snapshot}"] if self.snapshot is not None else []
        if self.replayed:
            said.append(f"{self.replayed} journaled changes replayed")
        if self.dropped:
            said.append(f"a torn last write of {self.dropped} bytes dropped")
        return ", ".join(said)

    def close(self) -> None:
        """Everything pending on disk, a snapshot of it all (the next start replays nothing), the folder let go."""
        journal = self.journal
        if journal is not None:
            journal.close()
            if journal.since_snapshot and journal.failed is None:
                with journal.engine.lock:
                    try:
                        self.store.write_snapshot(journal.segment + 1, journal.engine)
                        self.store.drop_before(journal.segment + 1)
                    except OSError as exc:  # the journal has it all: the next start replays it
                        log.error("no snapshot at the stop: %s", exc.strerror or exc)
            self.journal = None
        self.store.close()
