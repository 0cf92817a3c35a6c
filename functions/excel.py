"""Excel add-in: the worksheet-call protocol for one module's add-in and SHIFTWORK.*, behind the stack's API."""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

logger = Logger(service="shiftwork-excel")
ENV_MODULE = "SHIFTWORK_ADDIN_MODULE"  # the module's name: its layer puts it on the path (/opt/python)


@functools.cache
def app() -> APIGatewayHttpResolver:
    """The user's module imported and the routes built on the first request, as the other handlers load theirs."""
    from shiftwork.api.excel import shiftwork_addin
    from shiftwork.api.routes.excel import ExcelConfig, build_excel_app
    from shiftwork.api.service import Service
    from shiftwork.config import get_settings
    from shiftwork.excel.loading import load_addins
    from shiftwork.excel.protocol import Registry

    module = os.environ.get(ENV_MODULE)
    addins = load_addins(module) if module else []
    config = ExcelConfig(
        auth="cognito",
        region=get_settings().region,
        user_pool_id=os.environ.get("SHIFTWORK_EXCEL_USER_POOL_ID"),
        client_id=os.environ.get("SHIFTWORK_EXCEL_CLIENT_ID"),
        api_url=os.environ.get("SHIFTWORK_EXCEL_API_URL"),
    )
    return build_excel_app(Registry([*addins, shiftwork_addin(Service())]), config)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app().resolve(event, context)
