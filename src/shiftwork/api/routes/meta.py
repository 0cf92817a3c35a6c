"""Runtime environments, config, uploads and notification subscriptions."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, Field

from shiftwork.api.service import Service
from shiftwork.models import OUTPUT_FORMATS

router = Router()


@router.get("/runtime_environments")
def runtime_environments() -> list[dict[str, Any]]:
    """Jupyter Scheduler's environments: the kernels jobs can run with, and the formats they can make."""
    from shiftwork.api.validation import installed_kernels

    return [
        {
            "name": name,
            "label": spec["display_name"],
            "language": spec["language"],
            "output_formats": [{"name": f.name, "label": f.display_name} for f in OUTPUT_FORMATS.values()],
        }
        for name, spec in installed_kernels().items()
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
        "stop_timeout_seconds": settings.stop_timeout_seconds,
    }


class UploadRequest(BaseModel):
    key: str = Field(description="Where the file goes in the bucket; a notebook under inbox/ runs as a job.")


@router.post("/uploads")
def upload(request: UploadRequest) -> dict[str, Any]:
    """A presigned PUT URL (valid 15 minutes) for a file to land in the bucket, as `shiftwork upload` sends it."""
    return {"key": request.key, "url": Service().upload_url(request.key)}


class SubscribeRequest(BaseModel):
    email: str


@router.post("/notifications/subscriptions")
def subscribe(request: SubscribeRequest) -> dict[str, Any]:
    """Email a definition's failure/success notifications (SNS asks the address to confirm)."""
    return {"email": request.email, "subscription_arn": Service().subscribe(request.email)}


@router.get("/notifications/subscriptions")
def subscriptions() -> list[dict[str, str]]:
    """Who gets notifications."""
    return Service().subscriptions()
