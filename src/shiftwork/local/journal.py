"""Durable state for the embedded stack: a snapshot plus a journal of every successful mutating AWS request.

moto keeps state in memory. Every request that changes DynamoDB, S3, CloudWatch Logs or SNS subscription state
is appended to the journal and fsynced before its response is returned, so whatever a command was told succeeded
is on disk.
Start-up loads the snapshot and replays the journal; compaction folds the journal into a new snapshot.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CREDENTIAL = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")
_READ_ACTIONS = ("Get", "Query", "Scan", "BatchGet", "Describe", "List", "TransactGet", "Filter", "Test")
_TARGET_SERVICES = {"dynamodb": "DynamoDB_", "logs": "Logs_"}
_METHOD_SERVICES = {"s3"}  # EventBridge Scheduler is rebuilt from the definitions at start instead
# Query-protocol services name the action in the form body; SNS topics come from bootstrap, subscriptions from users.
_BODY_ACTIONS = {"sns": ("Subscribe", "Unsubscribe", "SetSubscriptionAttributes", "ConfirmSubscription")}


def service_of(environ: dict[str, Any]) -> str | None:
    """The AWS service a request is for, from its SigV4 credential scope (header or presigned query)."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match.group(1)
    query = environ.get("QUERY_STRING", "")
    match = re.search(r"X-Amz-Credential=[^&]*?%2F([a-z0-9-]+)%2Faws4_request", query)
    return match.group(1) if match else None


def action_in_body(environ: dict[str, Any]) -> bool:
    """Whether is_mutating needs the request's body (the service names its action there)."""
    return service_of(environ) in _BODY_ACTIONS


def is_mutating(environ: dict[str, Any], body: bytes = b"") -> bool:
    """Whether a request changes state the embedded stack must keep."""
    service = service_of(environ)
    if service in _BODY_ACTIONS:
        from urllib.parse import parse_qs

        action = parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
        return action in _BODY_ACTIONS[service]
    if service in _TARGET_SERVICES:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        action = target.split(".", 1)[-1]
        return bool(action) and not action.startswith(_READ_ACTIONS)
    if service in _METHOD_SERVICES:
        return environ.get("REQUEST_METHOD") in ("PUT", "POST", "DELETE")
    return False


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes

    def to_line(self) -> bytes:
        record = {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": base64.b64encode(self.body).decode(),
        }
        return json.dumps(record, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> Request:
        record = json.loads(line)
        headers = [(str(k), str(v)) for k, v in record["headers"]]
        body = base64.b64decode(record["body"])
        return cls(record["method"], record["path"], record["query"], headers, body)

    @classmethod
    def from_environ(cls, environ: dict[str, Any], body: bytes) -> Request:
        headers = [
            (key[5:].replace("_", "-").title(), str(value))
            for key, value in environ.items()
            if key.startswith("HTTP_") and key not in ("HTTP_CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING")
        ]
        if environ.get("CONTENT_TYPE"):
            headers.append(("Content-Type", environ["CONTENT_TYPE"]))
        return cls(
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO", "/"),
            environ.get("QUERY_STRING", ""),
            headers,
            body,
        )


class Journal:
    """The state directory's store: snapshot-<generation>/ and journal-<generation>.jsonl."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._file: Any = None
        self.generation = self._current_generation()

    def _current_generation(self) -> int:
        old = self.directory / "snapshot.old"
        if old.exists() and not self.snapshot_dir.exists():  # a crash between the two renames of a commit
            old.rename(self.snapshot_dir)
        meta = self.snapshot_dir / "meta.json"
        if meta.exists():
            return int(json.loads(meta.read_text())["generation"])
        return 0

    @property
    def snapshot_dir(self) -> Path:
        return self.directory / "snapshot"

    @property
    def path(self) -> Path:
        return self.directory / f"journal-{self.generation}.jsonl"

    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def records(self) -> Iterator[Request]:
        """Records of the current generation; a torn last line (a crash mid-write) is dropped."""
        if not self.path.exists():
            return
        good = 0
        with self.path.open("rb") as handle:
            for line in handle:
                if not line.endswith(b"\n"):
                    break
                try:
                    record = Request.from_line(line)
                except ValueError:
                    break
                good += len(line)
                yield record
        if good != self.size():
            with self.path.open("r+b") as handle:
                handle.truncate(good)

    def open(self) -> None:
        self._file = self.path.open("ab")
        for stale in self.directory.glob("journal-*.jsonl"):
            if stale != self.path:
                stale.unlink()

    def append(self, request: Request) -> None:
        with self._lock:
            self._file.write(request.to_line())
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def commit_snapshot(self, written: Path) -> None:
        """Make `written` (a finished snapshot folder) current and start a new, empty journal."""
        self.close()
        generation = self.generation + 1
        (written / "meta.json").write_text(json.dumps({"generation": generation}))
        old = self.directory / "snapshot.old"
        shutil.rmtree(old, ignore_errors=True)
        if self.snapshot_dir.exists():
            self.snapshot_dir.rename(old)
        written.rename(self.snapshot_dir)  # the commit point: a new generation with no journal yet
        shutil.rmtree(old, ignore_errors=True)
        self.generation = generation
        self.open()
