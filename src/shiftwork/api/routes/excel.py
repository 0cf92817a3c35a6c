"""/excel: the worksheet-call protocol (shiftwork.excel.protocol) as routes, with its own OpenAPI document.

One app for both servers: the add-in's Lambda behind API Gateway (functions/excel.py) and `shiftwork excel serve`
(shiftwork.local.excel_server), which hands it the same events; only the stream route's transport differs there.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from shiftwork.excel.protocol import CallBatch, CallResults, Functions, Registry, StreamCall, call_batch
from shiftwork.excel.streaming import StreamBatch, sse, stream_events, streams_events

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

PREFIX = "/excel"
LAMBDA_WINDOW_SECONDS = 25.0  # API Gateway ends an integration at 30 s
SSE = "text/event-stream"


class ExcelConfig(BaseModel):
    """How a client signs in: with the token `shiftwork excel serve` printed, or with the stack's Cognito pool."""

    auth: Literal["token", "cognito"] = "token"
    region: str | None = None
    user_pool_id: str | None = None
    client_id: str | None = None
    api_url: str | None = Field(default=None, description="Where the functions are called (default: this origin).")


def build_excel_app(
    registry: Registry, config: ExcelConfig, *, longest_window: float = LAMBDA_WINDOW_SECONDS
) -> APIGatewayHttpResolver:
    """The routes; the stream route answers buffered (the whole response at once), as a Lambda must."""
    from aws_lambda_powertools.event_handler import Response, content_types

    from shiftwork import __version__
    from shiftwork.api.routes.admission import ShiftworkResolver
    from shiftwork.api.routes.errors import RESPONSES, install_error_handlers

    app = ShiftworkResolver(enable_validation=True)

    @app.get(f"{PREFIX}/functions", responses=RESPONSES)
    def functions() -> Functions:
        """The add-ins served here and their functions' metadata, from which the clients are generated."""
        return registry.describe()

    @app.post(f"{PREFIX}/call", responses=RESPONSES)
    def call(batch: CallBatch) -> CallResults:
        """Many cells in one request: each gets its value or its error, in order; one cell never fails another."""
        return call_batch(registry, batch)

    stream_responses = {**RESPONSES, 200: {"description": "Server-sent events.", "content": {SSE: {}}}}

    def _sse_response(body: str) -> Response:
        return Response(status_code=HTTPStatus.OK, content_type=SSE, body=body, headers={"Cache-Control": "no-store"})

    @app.post(f"{PREFIX}/stream", responses=stream_responses)
    def stream(request: StreamCall) -> Any:  # a Response: annotated Any so that no JSON schema is made for it
        """One streaming cell's values as server-sent events; reconnect after `event: end` with reason window."""
        events = stream_events(registry, request, longest_window=longest_window, buffered=True)
        return _sse_response(b"".join(sse(event) for event in events).decode())

    @app.post(f"{PREFIX}/streams", responses=stream_responses)
    def streams(request: StreamBatch) -> Any:  # a Response, as stream's
        """A client's streaming cells on one connection: each event names its cell's id."""
        events = streams_events(registry, request, longest_window=longest_window, buffered=True)
        return _sse_response(b"".join(sse(event) for event in events).decode())

    @app.get(f"{PREFIX}/config", responses=RESPONSES)
    def client_config() -> ExcelConfig:
        """How to sign in (public: settings only, no data)."""
        return config

    app.configure_openapi(
        title="Shiftwork Excel add-in",
        version=__version__,
        description="Worksheet functions: a batched call endpoint and a stream endpoint.",
    )

    @app.get(f"{PREFIX}/openapi.json", include_in_schema=False)
    def openapi() -> Any:
        return Response(
            status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=app.get_openapi_json_schema()
        )

    install_error_handlers(app)
    return app


PUBLIC_PATHS = (f"{PREFIX}/config", f"{PREFIX}/openapi.json")
