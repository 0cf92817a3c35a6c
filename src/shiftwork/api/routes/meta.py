"""Runtime environments, the inbox, config, uploads, schedule previews and notification subscriptions."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from shiftwork.api.routes.errors import RESPONSES
from shiftwork.api.routes.paging import NextToken
from shiftwork.api.service import Service
from shiftwork.models import SchedulePreview
from shiftwork.models.limits import MAX_EMAIL, MAX_QUERY_TEXT, MAX_S3_KEY_BYTES
from shiftwork.models.stack import InboxPage, RuntimeEnvironment
from shiftwork.schedules.preview import MAX_PREVIEW_FIRES

router = Router()


@router.get("/runtime_environments", responses=RESPONSES)
def runtime_environments() -> list[RuntimeEnvironment]:
    """Jupyter Scheduler's environments: the kernels jobs can run with, and the formats they can make."""
    return Service().runtime_environments()


@router.get("/inbox", responses=RESPONSES)
def inbox(max_items: Annotated[int, Query(ge=1, le=1000)] = 100, next_token: NextToken = None) -> InboxPage:
    """One page of the notebooks under inbox/ (each ran as a job when it landed), in key order."""
    return Service().inbox(max_items, next_token or None)


class InboxUrl(BaseModel):
    key: str
    url: str


@router.get("/inbox/download_url", responses=RESPONSES)
def inbox_download_url(
    key: Annotated[str, Query(min_length=1, max_length=MAX_S3_KEY_BYTES, description="An inbox notebook's key.")],
) -> InboxUrl:
    """A presigned GET URL (valid 15 minutes) of a notebook under inbox/, to use it as a job's input."""
    return InboxUrl(key=key, url=Service().inbox_url(key))


class StackConfig(BaseModel):
    version: str
    bucket: str
    region: str
    schedule_group: str
    stop_timeout_seconds: float


@router.get("/config", responses=RESPONSES)
def config() -> StackConfig:
    from shiftwork import __version__
    from shiftwork.config import get_settings

    settings = get_settings()
    return StackConfig(
        version=__version__,
        bucket=settings.bucket,
        region=settings.region,
        schedule_group=settings.schedule_group,
        stop_timeout_seconds=settings.stop_timeout_seconds,
    )


@router.get("/schedules/preview", responses=RESPONSES)
def preview_schedule(
    schedule: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_TEXT,
            description='Unix cron ("0 9 * * mon-fri"), cron(...)/rate(...)/at(...), or a JSON trigger.',
        ),
    ],
    timezone: Annotated[str, Query(max_length=MAX_QUERY_TEXT, description="IANA time zone.")] = "UTC",
    count: Annotated[int, Query(ge=1, le=MAX_PREVIEW_FIRES, description="How many fires.")] = 5,
    start: Annotated[
        str | None, Query(max_length=MAX_QUERY_TEXT, description="Wall time in timezone to start from [now].")
    ] = None,
) -> SchedulePreview:
    """When a schedule fires, from `start` on, and the schedule in words: what `shiftwork schedule preview` shows."""
    return Service().preview_schedule(schedule, timezone, count, start)


class UploadRequest(BaseModel):
    key: str = Field(
        min_length=1,
        max_length=MAX_S3_KEY_BYTES,
        description="Where the file goes in the bucket; a notebook under inbox/ runs as a job.",
    )


class UploadUrl(BaseModel):
    key: str
    url: str


@router.post("/uploads", responses=RESPONSES)
def upload(request: UploadRequest) -> UploadUrl:
    """A presigned PUT URL (valid 15 minutes) for a file to land in the bucket, as `shiftwork upload` sends it."""
    return UploadUrl(key=request.key, url=Service().upload_url(request.key))


class SubscribeRequest(BaseModel):
    email: str = Field(min_length=3, max_length=MAX_EMAIL)


class Subscription(BaseModel):
    email: str
    subscription_arn: str


class Subscriber(BaseModel):
    protocol: str
    endpoint: str
    subscription_arn: str


@router.post("/notifications/subscriptions", responses=RESPONSES)
def subscribe(request: SubscribeRequest) -> Subscription:
    """Email a definition's failure/success notifications (SNS asks the address to confirm)."""
    return Subscription(email=request.email, subscription_arn=Service().subscribe(request.email))


@router.get("/notifications/subscriptions", responses=RESPONSES)
def subscriptions() -> list[Subscriber]:
    """Who gets notifications."""
    return [Subscriber(**s) for s in Service().subscriptions()]
