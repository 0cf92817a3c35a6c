"""LogPump: a runner process's output to CloudWatch Logs in batches, as the awslogs driver sends a container's."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections import deque
from typing import IO, TYPE_CHECKING, Any

from shiftwork import aws
from shiftwork.local.background import guarded, run_loop
from shiftwork.store import files

if TYPE_CHECKING:
    from shiftwork.config import Settings

FLUSH_SECONDS = 0.3
BATCH_EVENTS = 5000  # PutLogEvents' limit per call


class LogPump(threading.Thread):
    """Drains a process's output to its log stream until the process closes it.

    It also archives the whole output in S3 (logs_key), because moto refuses log events older than 14 days:
    without the archive, a restart of the embedded stack would lose the logs of older jobs. Draining never stops
    on an error elsewhere: a pipe nobody reads would block the runner, and its job with it.
    """

    def __init__(
        self, stream: IO[bytes], settings: Settings, log_stream: str, job_id: str, archive_key: str | None = None
    ) -> None:
        super().__init__(daemon=True, name=f"logs-{log_stream[-8:]}")
        self._stream = stream
        self._settings = settings
        self._log_stream = log_stream
        self._job_id = job_id
        self._archive_key = archive_key or files.logs_key(job_id)
        self._lines: deque[tuple[int, str]] = deque()
        self._lock = threading.Lock()
        self._drained = threading.Event()
        self._logs: Any = None  # the client, once the stream exists
        self._archive: IO[bytes] | None = None

    def run(self) -> None:
        what = f"the log pump of job {self._job_id}"
        with tempfile.SpooledTemporaryFile(max_size=1 << 20) as archive:
            self._archive = archive
            flusher = threading.Thread(
                target=run_loop, args=(f"{what} (flush)", self._flush, self._drained), kwargs={"idle": FLUSH_SECONDS}
            )
            flusher.daemon = True
            flusher.start()
            guarded(f"{what} (read)", self._drain)
            self._drained.set()
            flusher.join()
            guarded(f"{what} (last flush)", self._flush)
            guarded(f"{what} (archive)", self._upload_archive)

    def _drain(self) -> None:
        for raw in iter(self._stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self._lines.append((int(time.time() * 1000), line))

    def _flush(self) -> None:
        """Archive and send what was read since the last flush; a batch CloudWatch refused stays in the archive."""
        with self._lock:
            batch = [{"timestamp": ts, "message": msg or " "} for ts, msg in self._lines]
            self._lines.clear()
        if self._archive is not None:
            for event in batch:
                self._archive.write(json.dumps(event).encode() + b"\n")
        if not batch:
            return
        if self._logs is None:
            logs = aws.client("logs", self._settings)
            logs.create_log_stream(logGroupName=self._settings.log_group, logStreamName=self._log_stream)
            self._logs = logs
        for start in range(0, len(batch), BATCH_EVENTS):
            self._logs.put_log_events(
                logGroupName=self._settings.log_group,
                logStreamName=self._log_stream,
                logEvents=batch[start : start + BATCH_EVENTS],
            )

    def _upload_archive(self) -> None:
        assert self._archive is not None
        self._archive.seek(0)
        aws.client("s3", self._settings).put_object(
            Bucket=self._settings.bucket, Key=self._archive_key, Body=self._archive.read()
        )
