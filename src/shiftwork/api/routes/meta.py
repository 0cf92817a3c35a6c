"""Runtime environments, config and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from shiftwork.models import OUTPUT_FORMATS

router = Router()


@router.get("/runtime_environments")
def runtime_environments() -> list[dict[str, Any]]:
    """Jupyter Scheduler's environments: the kernels jobs can run with, and the formats they can make."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().get_all_specs()
    return [
        {
            "name": name,
            "label": spec["spec"].get("display_name", name),
            "language": spec["spec"].get("language"),
            "output_formats": [{"name": f.name, "label": f.display_name} for f in OUTPUT_FORMATS.values()],
        }
        for name, spec in sorted(specs.items())
    ]


@router.get("/config")
def config() -> dict[str, Any]:
    from shiftwork import __version__
    from shiftwork.config import get_settings

    settings = get_settings()
    return {
        "version": __version__,
        "bucket": settings.bucket,
        "region": settings.region,
        "schedule_group": settings.schedule_group,
    }
