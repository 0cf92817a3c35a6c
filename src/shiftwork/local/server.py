"""moto server on 127.0.0.1 with a journaling middleware, so the embedded stack's state survives restarts."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server
from werkzeug.test import Client

from shiftwork.local.journal import Journal, Request, action_in_body, is_mutating

log = logging.getLogger(__name__)
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise in a CLI

StartResponse = Callable[..., Any]


class JournalingApp:
    """WSGI middleware: a successful mutating request is journaled (fsynced) before its response is returned.

    Mutating requests are applied one at a time, so the journal's order is the order moto applied them in.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.journal: Journal | None = None
        self._write_lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        journal = self.journal
        # the body is read first only for services that name their action in it (SNS)
        body = self._buffer_body(environ) if journal is not None and action_in_body(environ) else None
        if journal is None or not is_mutating(environ, body or b""):
            return self.app(environ, start_response)
        if body is None:
            body = self._buffer_body(environ)
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers, exc_info]
            return lambda data: None

        with self._write_lock:
            result = self.app(environ, capture)
            try:
                content = b"".join(result)
            finally:
                getattr(result, "close", lambda: None)()
            if captured and captured[0][:1] == "2":
                journal.append(Request.from_environ(environ, body))
        start_response(*captured)
        return [content]

    @staticmethod
    def _buffer_body(environ: dict[str, Any]) -> bytes:
        """The request's body, read once; the app reads it again from the buffer."""
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return body

    def replay(self, journal: Journal) -> int:
        """Apply the journal's records to the (empty, bootstrapped) backends; returns how many."""
        client = Client(self.app)
        count = 0
        for request in journal.records():
            response = client.open(
                path=request.path,
                method=request.method,
                query_string=request.query,
                headers=request.headers,
                data=request.body,
            )
            response.close()
            count += 1
        return count


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        return bytes(stream.read(int(length)))
    if environ.get("wsgi.input_terminated") or environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        return bytes(stream.read())
    return b""


class JournalingMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer serving the journaling app; port 0 picks a free port."""

    def __init__(self, ip_address: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(ip_address=ip_address, port=port, verbose=False)
        self.app = JournalingApp(DomainDispatcherApplication(create_backend_app))

    def _server_entry(self) -> None:
        self._server = make_server(self._ip_address, self._port, self.app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=0.05)

    @property
    def endpoint_url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"
