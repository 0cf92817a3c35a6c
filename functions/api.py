"""API: the REST API on an API Gateway HTTP API (IAM or JWT authorised)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

logger = Logger(service="shiftwork-api")


@functools.cache
def api() -> APIGatewayHttpResolver:
    """The routes, built on the first request (with the models and the store they load), as the other handlers
    load theirs: the import stays light and the first call pays once."""
    from shiftwork.api.routes import build_app

    return build_app()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api().resolve(event, context)
