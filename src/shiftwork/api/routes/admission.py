"""A request's body is admitted before any route sees it: its size, its media type, UTF-8 JSON.

The same check runs on AWS (API Gateway's event) and under `shiftwork up` (the local adapter makes the same event).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from shiftwork.errors import shorten

# A Lambda behind an HTTP API is handed at most 6 MB of request.
MAX_BODY_BYTES = 6 * 1024 * 1024
BODY_METHODS = {"POST", "PUT", "PATCH"}
JSON = "application/json"


class BodyRefused(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        self.status = status
        super().__init__(message)


def _raw(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return body.encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise BodyRefused(HTTPStatus.BAD_REQUEST, "body: isBase64Encoded, but it is not base64") from None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def admit_body(event: Mapping[str, Any]) -> None:
    """Raise BodyRefused (413, 415 or 400) unless the body is small enough and, sent with a method that takes
    one, UTF-8 JSON declared as application/json."""
    raw = _raw(event)
    if len(raw) > MAX_BODY_BYTES:
        raise BodyRefused(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"body: {len(raw):,} bytes, over the {MAX_BODY_BYTES >> 20} MiB the API takes: "
            "put large files in S3 (shiftwork upload) and read them from the notebook",
        )
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "")
    if method.upper() not in BODY_METHODS or not raw:
        return
    headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "")
    media, _, options = content_type.partition(";")
    charset = options.partition("charset=")[2].strip().strip('"').lower()
    if media.strip().lower() != JSON or charset not in ("", "utf-8", "utf8"):
        raise BodyRefused(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"content-type {shorten(content_type)!r}: send the body as application/json (UTF-8)",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BodyRefused(
            HTTPStatus.BAD_REQUEST, f"body: not UTF-8 (byte {error.start}): send JSON text encoded as UTF-8"
        ) from None
    try:
        json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise BodyRefused(HTTPStatus.BAD_REQUEST, "body: JSON nested too deeply") from None
    except ValueError as error:
        raise BodyRefused(HTTPStatus.BAD_REQUEST, f"body: not valid JSON ({shorten(str(error))})") from None


class ShiftworkResolver(APIGatewayHttpResolver):
    """Powertools' resolver, with the body admitted before routing (its validation would read it first)."""

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        try:
            admit_body(event)
        except BodyRefused as refused:
            from shiftwork.api.routes.errors import ErrorBody

            body = ErrorBody(error=refused.status.phrase, message=str(refused), field="body")
            return {
                "statusCode": refused.status.value,
                "headers": {"Content-Type": JSON},
                "body": body.model_dump_json(),
                "isBase64Encoded": False,
                "cookies": [],
            }
        return super().resolve(event, context)
