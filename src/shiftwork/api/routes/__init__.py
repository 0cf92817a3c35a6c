"""The REST API: a Powertools HTTP API resolver; routes live in routers, errors map to 4xx naming the field.

Only this package and functions/ import aws_lambda_powertools.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ValidationError

from shiftwork.errors import Conflict, InvalidSpec, NotFound

TITLE = "Shiftwork"


def _error(status: HTTPStatus, message: str, **details: Any) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": status.phrase, "message": message, **details},
    )


def build_app() -> APIGatewayHttpResolver:
    from shiftwork import __version__
    from shiftwork.api.routes import definitions, jobs, meta

    app = APIGatewayHttpResolver(enable_validation=True)
    app.include_router(jobs.router, prefix="/jobs")
    app.include_router(definitions.router, prefix="/job_definitions")
    app.include_router(meta.router)
    app.configure_openapi(
        title=TITLE, version=__version__, description="Run Jupyter notebooks as jobs, now or on a schedule."
    )

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> Any:  # a Response: annotated Any so that no schema is made for it
        return Response(
            status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=app.get_openapi_json_schema()
        )

    @app.exception_handler(InvalidSpec)
    def invalid(error: InvalidSpec) -> Response:
        return _error(HTTPStatus.BAD_REQUEST, str(error), field=error.field, value=str(error.value))

    @app.exception_handler(RequestValidationError)
    def malformed(error: RequestValidationError) -> Response:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path"))
        # a value our validators refused is bad input (400), as from the library; a malformed request is 422
        status = HTTPStatus.BAD_REQUEST if first.get("type") == "value_error" else HTTPStatus.UNPROCESSABLE_ENTITY
        return _error(status, f"{field}: {first.get('msg')}", field=field)

    @app.exception_handler(ValidationError)
    def invalid_model(error: ValidationError) -> Response:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ()))
        return _error(HTTPStatus.BAD_REQUEST, f"{field}: {first.get('msg')}", field=field)

    @app.exception_handler(NotFound)
    def missing(error: NotFound) -> Response:
        return _error(HTTPStatus.NOT_FOUND, str(error))

    @app.exception_handler(Conflict)
    def conflict(error: Conflict) -> Response:
        return _error(HTTPStatus.CONFLICT, str(error))

    return app
