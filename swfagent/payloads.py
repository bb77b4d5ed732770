"""Values too large for SWF (over 32,768 characters) kept in S3, a reference going through SWF instead.

With `results: {s3: s3://BUCKET/PREFIX}` in config.yaml, a task's result that is too large is put at
PREFIX/WORKFLOW_ID/RUN_ID/ACTIVITY_ID/result and its reference, `swfagent+s3://BUCKET/KEY`, is what SWF
records; the next step still gets the whole text on stdin (simpleflow calls these "jumbo fields").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .config import S3Location

SCHEME = "swfagent+s3://"
CHUNK = 1024 * 1024


def is_reference(text: str | None) -> bool:
    """True for a reference to a value kept in S3."""
    return text is not None and text.startswith(SCHEME) and len(text) < 2048 and not any(c.isspace() for c in text)


def _bucket_key(reference: str) -> tuple[str, str]:
    bucket, _, key = reference[len(SCHEME):].partition("/")
    return bucket, key


class S3Store:
    """Puts and gets values too large for SWF, in the bucket and under the prefix config.yaml names."""

    def __init__(self, location: S3Location, client: Callable[[], Any]):
        self.location = location
        self._make_client = client
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def key(self, execution: dict[str, Any], owner: str, kind: str) -> str:
        """Where one value of an execution goes (owner: an activity id, or "execution"): deterministic, so a task
        run again writes over its own earlier value."""
        parts = [self.location.prefix] if self.location.prefix else []
        return "/".join([*parts, execution.get("workflowId", "-"), execution.get("runId", "-"), owner, kind])

    def put_file(self, path: Path, key: str) -> str:
        """Upload a file, read as it is sent (up to S3's 5 GB for one object); its reference."""
        with path.open("rb") as f:
            self.client.put_object(Bucket=self.location.bucket, Key=key, Body=f)
        return f"{SCHEME}{self.location.bucket}/{key}"

    def put_text(self, text: str, key: str) -> str:
        """Store a text; its reference."""
        self.client.put_object(Bucket=self.location.bucket, Key=key, Body=text.encode("utf-8"))
        return f"{SCHEME}{self.location.bucket}/{key}"

    def get_text(self, reference: str) -> str:
        """The text a reference stands for."""
        bucket, key = _bucket_key(reference)
        body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        return str(body.read().decode("utf-8", errors="replace"))

    def get_file(self, reference: str, out: IO[bytes]) -> None:
        """Download what a reference stands for into a file, a chunk at a time."""
        bucket, key = _bucket_key(reference)
        body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        for chunk in body.iter_chunks(CHUNK):
            out.write(chunk)


def references_in(text: str | None) -> list[str]:
    """The references a step input holds: itself, or the values of a fan-in's JSON object of results."""
    if not text:
        return []
    if is_reference(text):
        return [text]
    if text.startswith("{") and SCHEME in text:
        try:
            data = json.loads(text)
        except ValueError:
            return []
        if isinstance(data, dict):
            return [v for v in data.values() if isinstance(v, str) and is_reference(v)]
    return []


def expand(text: str, store: S3Store) -> str:
    """A fan-in's JSON object of results with each reference replaced by its text."""
    data = json.loads(text)
    return json.dumps({k: store.get_text(v) if isinstance(v, str) and is_reference(v) else v for k, v in data.items()},
                      ensure_ascii=False)
