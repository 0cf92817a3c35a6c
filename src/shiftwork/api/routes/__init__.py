"""The REST API: a Powertools HTTP API resolver; routes live in routers, errors map to 4xx naming the field.

Only this package and functions/ import aws_lambda_powertools.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

TITLE = "Shiftwork"


def build_app() -> APIGatewayHttpResolver:
    from aws_lambda_powertools.event_handler import Response, content_types

    from shiftwork import __version__
    from shiftwork.api.routes import definitions, jobs, meta, runs
    from shiftwork.api.routes.admission import ShiftworkResolver
    from shiftwork.api.routes.errors import install_error_handlers

    app = ShiftworkResolver(enable_validation=True)
    app.include_router(jobs.router, prefix="/jobs")
    app.include_router(definitions.router, prefix="/job_definitions")
    app.include_router(meta.router)
    app.include_router(runs.router)
    app.configure_openapi(
        title=TITLE, version=__version__, description="Run Jupyter notebooks as jobs, now or on a schedule."
    )

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> Any:  # a Response: annotated Any so that no schema is made for it
        return Response(
            status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=app.get_openapi_json_schema()
        )

    install_error_handlers(app)
    return app
