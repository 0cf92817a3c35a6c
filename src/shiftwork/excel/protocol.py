"""The worksheet-call protocol every client speaks (Office.js, xlwings, the formulas test, the benchmark).

- POST /excel/call: many cells in one request (Microsoft's batching pattern for custom functions): a list of
  {function, args}, answered by a list of {value} or {error: {code, message}} in the same order. One cell's error
  never fails the others; a request that is not a batch is a 400 naming the field.
- POST /excel/stream: one streaming cell, as server-sent events: `data: {"value": ...}` per value, then
  `event: end` with why it ended (`done`, `error`, `window`). A client reconnects after `window` (the server's
  longest response) with `last`, the value it shows, so a repeat of that value is not sent again.
- GET /excel/functions: the namespaces and their functions' metadata, from which the clients are generated.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, Field

from shiftwork.excel.addin import MAX_ARGUMENTS, Addin, ExposedFunction
from shiftwork.excel.errors import ExcelError, as_excel_error, clip

MAX_CALLS = 10_000  # cells in one batch request
MAX_BATCH_BYTES = 6_000_000  # a Lambda's synchronous request and response payloads (6 MB)
MAX_FUNCTION_TEXT = 200
HEARTBEAT_SECONDS = 15.0  # a comment line on a quiet stream: proxies keep it open, a gone client is noticed
DEFAULT_WINDOW_SECONDS = 25.0  # under API Gateway's 30 s integration timeout
MAX_WINDOW_SECONDS = 3600.0


class Call(BaseModel):
    function: str = Field(
        min_length=1, max_length=MAX_FUNCTION_TEXT, description="NAMESPACE.NAME, as in the formula (any case)."
    )
    args: list[Any] = Field(
        default_factory=list,
        max_length=MAX_ARGUMENTS,
        description="The cell's arguments in order: numbers, text, booleans, null for empty, 2-D lists for ranges.",
    )


class CallBatch(BaseModel):
    calls: list[Call] = Field(min_length=1, max_length=MAX_CALLS, description="One entry per cell.")

    def __repr__(self) -> str:
        # Powertools formats its route's arguments into a debug message on every request, logged or not: pydantic's
        # repr of 1,000 calls was a fifth of a batch's time (bench/excel_calls.py)
        return f"CallBatch(calls=<{len(self.calls):,} cells>)"


class CellError(BaseModel):
    code: str = Field(description="#VALUE!, #N/A, #DIV/0!, #NUM!, #NAME?, #NULL!, #REF! or #BUSY!")
    message: str


class CellResult(BaseModel):
    value: Any = Field(default=None, description="A scalar, or rows of a range; absent when error is set.")
    error: CellError | None = None


class CallResults(BaseModel):
    results: list[CellResult]


class StreamCall(Call):
    last: Any = Field(default=None, description="The value the cell shows: not sent again if it comes first.")
    window_seconds: float = Field(
        default=DEFAULT_WINDOW_SECONDS,
        gt=0,
        le=MAX_WINDOW_SECONDS,
        description="Longest time this response stays open; the server may hold it shorter. Reconnect after.",
    )


class FunctionParameter(BaseModel):
    name: str
    description: str
    type: str  # number, integer, string, boolean, date, datetime, any
    office_type: str
    dimensionality: str  # scalar, vector, matrix
    optional: bool
    repeating: bool
    nullable: bool


class FunctionResult(BaseModel):
    type: str
    office_type: str
    dimensionality: str


class FunctionInfo(BaseModel):
    name: str
    qualified_name: str
    description: str
    help: str
    volatile: bool
    streaming: bool
    signature: str
    parameters: list[FunctionParameter]
    result: FunctionResult


class AddinInfo(BaseModel):
    namespace: str
    name: str
    description: str
    functions: list[FunctionInfo]


class Functions(BaseModel):
    addins: list[AddinInfo]


class Registry:
    """The functions a server answers for, by qualified name (case-insensitive, as Excel is)."""

    def __init__(self, addins: Iterable[Addin]) -> None:
        self.addins: list[Addin] = []
        self._functions: dict[str, ExposedFunction] = {}
        for addin in addins:
            if any(a.namespace == addin.namespace for a in self.addins):
                raise ValueError(f"two add-ins have the namespace {addin.namespace}: pass Addin(..., namespace=...)")
            self.addins.append(addin)
            for function in addin.functions.values():
                self._functions[function.qualified_name] = function

    def find(self, name: str) -> ExposedFunction:
        function = self._functions.get(name.strip().upper())
        if function is None:
            known = ", ".join(a.namespace for a in self.addins) or "none"
            raise ExcelError("#NAME?", f"{name[:MAX_FUNCTION_TEXT]} is not a function here (namespaces: {known})")
        return function

    def describe(self) -> Functions:
        return Functions(addins=[_addin_info(addin) for addin in self.addins])


def _addin_info(addin: Addin) -> AddinInfo:
    return AddinInfo(
        namespace=addin.namespace,
        name=addin.name,
        description=addin.description,
        functions=[_function_info(f) for f in addin.functions.values()],
    )


def _function_info(function: ExposedFunction) -> FunctionInfo:
    return FunctionInfo(
        name=function.name,
        qualified_name=function.qualified_name,
        description=function.description,
        help=function.help,
        volatile=function.volatile,
        streaming=function.streaming,
        signature=function.signature(),
        parameters=[
            FunctionParameter(
                name=p.name,
                description=p.description,
                type=p.type.kind,
                office_type=p.type.office_type,
                dimensionality=p.type.dimensionality,
                optional=p.optional,
                repeating=p.repeating,
                nullable=p.type.nullable,
            )
            for p in function.parameters
        ],
        result=FunctionResult(
            type=function.result.kind,
            office_type=function.result.office_type,
            dimensionality=function.result.dimensionality,
        ),
    )


def _error(error: BaseException) -> CellResult:
    excel = as_excel_error(error)
    return CellResult(error=CellError(code=excel.code, message=clip(excel.message)))


def call_one(registry: Registry, call: Call) -> CellResult:
    """One cell: its value, or its error; no exception leaves (a cell never fails its batch)."""
    try:
        function = registry.find(call.function)
        if function.streaming:
            raise ExcelError("#VALUE!", f"{function.qualified_name} is a streaming function: call it on /excel/stream")
        return CellResult(value=function.call(call.args))
    except Exception as error:  # noqa: BLE001  whatever the user's function raises becomes the cell's error
        return _error(error)


def call_batch(registry: Registry, batch: CallBatch) -> CallResults:
    return CallResults(results=[call_one(registry, call) for call in batch.calls])


# -- streaming ------------------------------------------------------------------------------------------------
class _Done:
    pass


_DONE = _Done()


def stream_events(
    registry: Registry,
    call: StreamCall,
    *,
    longest_window: float = MAX_WINDOW_SECONDS,
    buffered: bool = False,
    cancelled: threading.Event | None = None,
) -> Iterator[dict[str, Any]]:
    """A streaming cell's events: {"value": v}, {"error": {...}}, {"heartbeat": True} and last {"end": why}.

    The function runs in a thread of its own feeding a queue, so the window holds even while it blocks. buffered
    (a transport that sends the response only when it is complete, as a Lambda behind API Gateway does) ends the
    response at the first value the client does not show yet, to be reconnected at once.
    """
    try:
        function = registry.find(call.function)
        if not function.streaming:
            raise ExcelError("#VALUE!", f"{function.qualified_name} is not streaming: call it on /excel/call")
        values = function.stream(call.args)
    except Exception as error:  # noqa: BLE001
        yield {"error": _error(error).error.model_dump()}  # type: ignore[union-attr]
        yield {"end": "error"}
        return
    window = min(call.window_seconds, longest_window)
    stop = cancelled or threading.Event()
    feed: queue.Queue[Any] = queue.Queue(maxsize=64)
    producer = threading.Thread(target=_produce, args=(values, feed, stop), daemon=True, name="excel-stream")
    producer.start()
    deadline = time.monotonic() + window
    last = call.last
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                yield {"end": "window"}
                return
            try:
                item = feed.get(timeout=min(remaining, HEARTBEAT_SECONDS))
            except queue.Empty:
                if time.monotonic() < deadline and not buffered:
                    yield {"heartbeat": True}
                continue
            if item is _DONE:
                yield {"end": "done"}
                return
            if isinstance(item, BaseException):
                yield {"error": _error(item).error.model_dump()}  # type: ignore[union-attr]
                yield {"end": "error"}
                return
            if item == last:
                continue  # the client shows it already (a reconnect's first value, usually)
            last = item
            yield {"value": item}
            if buffered:
                yield {"end": "window"}
                return
    finally:
        stop.set()


def _produce(values: Iterator[Any], feed: queue.Queue[Any], stop: threading.Event) -> None:
    try:
        for value in values:
            while not stop.is_set():
                try:
                    feed.put(value, timeout=0.5)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                break
        else:
            feed.put(_DONE)
    except Exception as error:  # noqa: BLE001  the function's failure is the cell's error
        feed.put(error)
    finally:
        close = getattr(values, "close", None)
        if close is not None:
            close()


def sse(event: dict[str, Any]) -> bytes:
    """One server-sent event: a value or an error as `data:`, the end as `event: end`, a heartbeat as a comment."""
    if "heartbeat" in event:
        return b": heartbeat\n\n"
    if "end" in event:
        return f"event: end\ndata: {json.dumps({'reason': event['end']})}\n\n".encode()
    return f"data: {json.dumps(event, separators=(',', ':'))}\n\n".encode()
