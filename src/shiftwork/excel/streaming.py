"""Streaming cells: each function's values as server-sent events, one cell per request or many on one connection.

A browser keeps about six HTTP/1.1 connections to a server: six streaming cells, each on a request of its own,
would hold them all and every other call would wait. So a client sends all its streaming cells on one
POST /excel/streams and opens it again (with each cell's `last` value) when a cell is added or cleared.

Each function runs in a thread of its own feeding one queue, so the window holds even while a function blocks.
`buffered` is for a transport that sends a response only once it is complete (a Lambda behind API Gateway): the
response ends at the first value a client does not show yet, and the client reconnects at once.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Field, field_validator

from shiftwork.excel.errors import ExcelError
from shiftwork.excel.protocol import (
    DEFAULT_WINDOW_SECONDS,
    HEARTBEAT_SECONDS,
    MAX_WINDOW_SECONDS,
    Call,
    Registry,
    StreamCall,
    cell_error,
)

MAX_STREAMS = 1000  # streaming cells on one connection
MAX_STREAM_ID = 64


class StreamCell(Call):
    id: str = Field(min_length=1, max_length=MAX_STREAM_ID, description="The client's name for the cell.")
    last: Any = Field(default=None, description="The value the cell shows: not sent again if it comes first.")


class StreamBatch(BaseModel):
    streams: list[StreamCell] = Field(min_length=1, max_length=MAX_STREAMS)
    window_seconds: float = Field(
        default=DEFAULT_WINDOW_SECONDS,
        gt=0,
        le=MAX_WINDOW_SECONDS,
        description="Longest time this response stays open; the server may hold it shorter. Reconnect after.",
    )

    @field_validator("streams")
    @classmethod
    def _ids_are_unique(cls, streams: list[StreamCell]) -> list[StreamCell]:
        seen: set[str] = set()
        for stream in streams:
            if stream.id in seen:
                raise ValueError(f"id {stream.id!r} is given twice: give each cell its own")
            seen.add(stream.id)
        return streams


class _Done:
    pass


_DONE = _Done()


def streams_events(
    registry: Registry,
    batch: StreamBatch,
    *,
    longest_window: float = MAX_WINDOW_SECONDS,
    buffered: bool = False,
    cancelled: threading.Event | None = None,
) -> Iterator[dict[str, Any]]:
    """Events of many streaming cells: {"id", "value"}, {"id", "error"}, {"id", "done": why}, heartbeats, and
    last {"end": "done"} (every cell ended) or {"end": "window"}."""
    stop = cancelled or threading.Event()
    feed: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=64 * len(batch.streams))
    last = {cell.id: cell.last for cell in batch.streams}
    running = set(last)
    try:
        for cell in batch.streams:
            yield from _start(registry, cell, feed, stop, running)
        deadline = time.monotonic() + min(batch.window_seconds, longest_window)
        while running:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                yield {"end": "window"}
                return
            try:
                cell_id, item = feed.get(timeout=min(remaining, HEARTBEAT_SECONDS))
            except queue.Empty:
                if not buffered and time.monotonic() < deadline:
                    yield {"heartbeat": True}
                continue
            if item is _DONE or isinstance(item, BaseException):
                running.discard(cell_id)
                if isinstance(item, BaseException):
                    yield {"id": cell_id, "error": cell_error(item)}
                yield {"id": cell_id, "done": "error" if isinstance(item, BaseException) else "done"}
                continue
            if item == last[cell_id]:
                continue  # the client shows it already (a reconnect's first value, usually)
            last[cell_id] = item
            yield {"id": cell_id, "value": item}
            if buffered:
                yield {"end": "window"}
                return
        yield {"end": "done"}
    finally:
        stop.set()


def _start(
    registry: Registry, cell: StreamCell, feed: queue.Queue[tuple[str, Any]], stop: threading.Event, running: set[str]
) -> Iterator[dict[str, Any]]:
    """The cell's function started in its thread; a cell that cannot start ends at once with its error."""
    try:
        function = registry.find(cell.function)
        if not function.streaming:
            raise ExcelError("#VALUE!", f"{function.qualified_name} is not streaming: call it on /excel/call")
        values = function.stream(cell.args)
    except Exception as error:  # noqa: BLE001  the cell's error, never the request's
        running.discard(cell.id)
        yield {"id": cell.id, "error": cell_error(error)}
        yield {"id": cell.id, "done": "error"}
        return
    threading.Thread(
        target=_produce, args=(cell.id, values, feed, stop), daemon=True, name=f"excel-stream-{cell.id}"
    ).start()


def _produce(cell_id: str, values: Iterator[Any], feed: queue.Queue[tuple[str, Any]], stop: threading.Event) -> None:
    try:
        for value in values:
            while not stop.is_set():
                try:
                    feed.put((cell_id, value), timeout=0.5)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
        feed.put((cell_id, _DONE))
    except Exception as error:  # noqa: BLE001  the function's failure is the cell's error
        feed.put((cell_id, error))
    finally:
        close = getattr(values, "close", None)
        if close is not None:
            close()


def stream_events(
    registry: Registry,
    call: StreamCall,
    *,
    longest_window: float = MAX_WINDOW_SECONDS,
    buffered: bool = False,
    cancelled: threading.Event | None = None,
) -> Iterator[dict[str, Any]]:
    """One streaming cell's events (POST /excel/stream): {"value"}, {"error"}, heartbeats, last {"end": why}."""
    batch = StreamBatch(
        streams=[StreamCell(id="cell", function=call.function, args=call.args, last=call.last)],
        window_seconds=call.window_seconds,
    )
    for event in streams_events(registry, batch, longest_window=longest_window, buffered=buffered, cancelled=cancelled):
        if "done" in event:
            yield {"end": event["done"]}
            return
        yield {key: value for key, value in event.items() if key != "id"}


def sse(event: dict[str, Any]) -> bytes:
    """One server-sent event: a value or an error as `data:`, a cell's end as `event: done`, the response's end as
    `event: end`, a heartbeat as a comment."""
    if "heartbeat" in event:
        return b": heartbeat\n\n"
    if "end" in event:
        return f"event: end\ndata: {json.dumps({'reason': event['end']})}\n\n".encode()
    if "done" in event:
        return f"event: done\ndata: {json.dumps({'id': event['id'], 'reason': event['done']})}\n\n".encode()
    return f"data: {json.dumps(event, separators=(',', ':'))}\n\n".encode()
