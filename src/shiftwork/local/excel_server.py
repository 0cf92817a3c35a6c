"""`shiftwork excel serve`: the worksheet-call protocol and the Office.js add-in's files, over HTTPS on 127.0.0.1.

The /excel routes are the add-in Lambda's own app (api/routes/excel.py), handed API Gateway events as `shiftwork
up` hands its API's; only /excel/stream is answered here directly, as real server-sent events that follow the
function for as long as the client listens (a Lambda can only answer buffered). Files and the add-in's files share
one origin, so the functions need no CORS. Every /excel route but config and openapi.json wants the token.
"""

from __future__ import annotations

import hmac
import json
import secrets
import ssl
import threading
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from werkzeug.security import safe_join
from werkzeug.wrappers import Request, Response

from shiftwork.api.routes.excel import PREFIX, PUBLIC_PATHS, SSE, ExcelConfig, build_excel_app
from shiftwork.excel.protocol import MAX_WINDOW_SECONDS, Registry, StreamCall
from shiftwork.excel.streaming import StreamBatch, sse, stream_events, streams_events

TOKEN_FILE = "excel-token"
MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


def excel_token(state_dir: Path) -> str:
    """The token the add-in's clients send (`Authorization: Bearer ...`), made on first use, owner-readable only."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / TOKEN_FILE
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


WORKERS = 16  # threads answering requests; an idle keep-alive connection holds none (cheroot waits on a selector)
MAX_WORKERS = 512  # each open stream adds one for as long as it runs, so calls never wait behind streams


class _Context:
    function_name = "shiftwork-excel-local"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:shiftwork-excel-local"
    aws_request_id = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


class ExcelServer:
    """The add-in's server: registry's functions, static_dir's files (the Office.js add-in), behind token."""

    def __init__(
        self,
        registry: Registry,
        *,
        token: str,
        port: int = 0,
        tls: tuple[Path, Path] | None = None,
        static_dir: Path | None = None,
        config: ExcelConfig | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.registry = registry
        self.token = token
        self.static_dir = static_dir
        self.app = build_excel_app(registry, config or ExcelConfig(), longest_window=MAX_WINDOW_SECONDS)
        from cheroot import wsgi

        # cheroot, not werkzeug's development server: it keeps connections alive (werkzeug closes each one, so
        # every cell would pay a TLS handshake) and streams a response as it is written
        self._server = wsgi.Server((host, port), self, numthreads=WORKERS, max=MAX_WORKERS, timeout=60)
        if tls is not None:
            from cheroot.ssl.builtin import BuiltinSSLAdapter

            adapter = BuiltinSSLAdapter(str(tls[0]), str(tls[1]))
            adapter.context.minimum_version = ssl.TLSVersion.TLSv1_2
            self._server.ssl_adapter = adapter
        self.tls = tls is not None
        self._server.prepare()  # binds now: the port is known, and a port in use fails here
        self._thread = threading.Thread(target=self._server.serve, daemon=True, name="excel-server")

    @property
    def port(self) -> int:
        return int(self._server.bind_addr[1])

    @property
    def url(self) -> str:
        # localhost, not 127.0.0.1: the development certificate (and Office's add-in rules) name localhost
        return f"https://localhost:{self.port}" if self.tls else f"http://127.0.0.1:{self.port}"

    def start(self) -> ExcelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    # -- WSGI ---------------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith(PREFIX + "/") or request.path == PREFIX:
            response = self._excel(request)
        else:
            response = self._file(request)
        return response(environ, start_response)

    def _authorised(self, request: Request) -> bool:
        return hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {self.token}")

    def _excel(self, request: Request) -> Response:
        if request.path not in PUBLIC_PATHS and not self._authorised(request):
            return _error(
                HTTPStatus.UNAUTHORIZED,
                "send Authorization: Bearer <token>: the token `shiftwork excel serve` printed (paste it in the "
                "Shiftwork task pane)",
            )
        if request.path in (f"{PREFIX}/stream", f"{PREFIX}/streams") and request.method == "POST":
            return self._stream(request)
        from shiftwork.local.http_api import to_event

        result = self.app.resolve(to_event(request), _Context())  # type: ignore[arg-type]
        response = Response(result.get("body") or "", status=result.get("statusCode", 200))
        for key, value in (result.get("headers") or {}).items():
            response.headers[key] = value
        for key, values in (result.get("multiValueHeaders") or {}).items():
            for value in values:
                response.headers.add(key, value)
        return response

    def _stream(self, request: Request) -> Response:
        """Server-sent events for as long as the client listens; a gone client stops the function."""
        from shiftwork.api.routes.admission import BodyRefused, admit_body
        from shiftwork.local.http_api import to_event
        from shiftwork.models.limits import as_invalid_spec

        try:
            admit_body(to_event(request))
            body = json.loads(request.get_data() or b"null")
            many = request.path.endswith("/streams")
            call = StreamBatch.model_validate(body) if many else StreamCall.model_validate(body)
        except BodyRefused as refused:
            return _error(refused.status, str(refused), field="body")
        except ValidationError as invalid:
            refusal = as_invalid_spec(invalid)
            return _error(HTTPStatus.BAD_REQUEST, str(refusal), field=refusal.field)
        cancelled = threading.Event()
        workers = self._server.requests

        def events() -> Iterator[bytes]:
            workers.grow(1)  # this stream holds a worker: one more answers the calls meanwhile
            try:
                events = (
                    streams_events(self.registry, call, cancelled=cancelled)  # type: ignore[arg-type]
                    if many
                    else stream_events(self.registry, call, cancelled=cancelled)  # type: ignore[arg-type]
                )
                for event in events:
                    yield sse(event)
            finally:
                cancelled.set()  # the client went away (a write failed) or the stream ended
                workers.shrink(1)

        response = Response(events(), status=200, mimetype=SSE, direct_passthrough=True)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Accel-Buffering"] = "no"
        return response

    def _file(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _error(HTTPStatus.METHOD_NOT_ALLOWED, f"{request.method} {request.path}: files take GET")
        if self.static_dir is None:
            return _error(HTTPStatus.NOT_FOUND, "this server has no add-in files (the Office.js build)")
        relative = request.path.lstrip("/") or "index.html"
        path = safe_join(str(self.static_dir), relative)
        if path is None or not Path(path).is_file():
            return _error(HTTPStatus.NOT_FOUND, f"no file {request.path!r}")
        file = Path(path)
        response = Response(file.read_bytes(), mimetype=MIME_TYPES.get(file.suffix, "application/octet-stream"))
        # a rebuilt add-in is picked up on reload; images must be cacheable (Office requires it of add-in icons)
        response.headers["Cache-Control"] = "max-age=86400" if file.suffix == ".png" else "no-cache"
        return response


def _error(status: HTTPStatus, message: str, field: str | None = None) -> Response:
    from shiftwork.api.routes.errors import ErrorBody

    body = ErrorBody(error=status.phrase, message=message, field=field)
    return Response(body.model_dump_json(), status=status.value, mimetype="application/json")
