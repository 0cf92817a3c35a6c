"""Every refusal as one JSON body, {error, message, field, value}, documented on every route of /openapi.json."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from shiftwork.errors import Conflict, InvalidSpec, NotFound, shorten

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """What every 4xx and 5xx answers."""

    error: str = Field(description="The HTTP status phrase, e.g. Bad Request.")
    message: str = Field(description="What was wrong, with the value (shortened), and how to fix it.")
    field: str | None = Field(default=None, description="The request field refused, when one was.")
    value: Any = Field(default=None, description="The refused value, its first 40 characters when long.")


_DESCRIPTIONS = {
    HTTPStatus.BAD_REQUEST: "A value was refused (the field, the value and the fix are named).",
    HTTPStatus.NOT_FOUND: "No such job, definition or route.",
    HTTPStatus.METHOD_NOT_ALLOWED: "The route exists, not with this method.",
    HTTPStatus.CONFLICT: "The job or definition is not in a state that allows this.",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "The body is larger than the API takes.",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "The body is not application/json.",
    HTTPStatus.UNPROCESSABLE_ENTITY: "The request's shape is wrong: a field missing, unknown or of the wrong type.",
    HTTPStatus.INTERNAL_SERVER_ERROR: "Our fault, logged: never an answer to a client's mistake.",
}
_ERROR_CONTENT = {content_types.APPLICATION_JSON: {"model": ErrorBody}}
RESPONSES: dict[int, Any] = {
    200: {"description": "Success."},  # its content is the route's return type
    **{status.value: {"description": text, "content": _ERROR_CONTENT} for status, text in _DESCRIPTIONS.items()},
}
# pydantic error types that mean the request has the wrong shape (422), not a refused value (400)
SHAPE_ERRORS = {"missing", "extra_forbidden", "model_type", "model_attributes_type", "dict_type", "list_type"}


def error_response(status: HTTPStatus, message: str, **details: Any) -> Response:
    body = ErrorBody(error=status.phrase, message=message, **details)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body.model_dump())


def refusal(error: InvalidSpec, status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> Response:
    return error_response(status, str(error), field=error.field, value=shorten(error.value))


def _status_of(error_type: str) -> HTTPStatus:
    shape = error_type in SHAPE_ERRORS or error_type.endswith(("_type", "_parsing"))
    return HTTPStatus.UNPROCESSABLE_ENTITY if shape else HTTPStatus.BAD_REQUEST


def install_error_handlers(app: APIGatewayHttpResolver) -> None:
    """Each error a request can cause, as its 4xx; anything else logged and a 500 that names no internals."""
    from shiftwork.models.limits import as_invalid_spec

    app.exception_handler(InvalidSpec)(refusal)

    @app.exception_handler(RequestValidationError)
    def malformed(error: RequestValidationError) -> Response:
        first = error.errors()[0]
        return refusal(as_invalid_spec(error), _status_of(str(first.get("type", ""))))  # type: ignore[arg-type]

    @app.exception_handler(ValidationError)
    def invalid_model(error: ValidationError) -> Response:
        return refusal(as_invalid_spec(error))

    @app.exception_handler(NotFound)
    def missing(error: NotFound) -> Response:
        return error_response(HTTPStatus.NOT_FOUND, str(error))

    @app.exception_handler(Conflict)
    def conflict(error: Conflict) -> Response:
        return error_response(HTTPStatus.CONFLICT, str(error))

    @app.not_found
    def no_route(_: NotFoundError) -> Response:
        event = app.current_event
        allowed = allowed_methods(app, event.path)
        if allowed:
            response = error_response(
                HTTPStatus.METHOD_NOT_ALLOWED, f"{event.http_method} {event.path}: use {', '.join(allowed)}"
            )
            response.headers["Allow"] = ", ".join(allowed)
            return response
        return error_response(HTTPStatus.NOT_FOUND, f"no route {shorten(event.path)!r}: see /openapi.json")

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unexpected error in %s %s", app.current_event.http_method, app.current_event.path)
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error ({type(error).__name__}), logged")


def allowed_methods(app: APIGatewayHttpResolver, path: str) -> list[str]:
    """The methods some route takes at `path` (Powertools keeps its routes in these two lists)."""
    routes = app._static_routes + app._dynamic_routes
    return sorted({route.method for route in routes if route.rule.match(path)})
