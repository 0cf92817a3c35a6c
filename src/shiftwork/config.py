"""Settings read from SHIFTWORK_* environment variables, and the names infra/ shares with the library."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Environment variables the runner container receives (ECS overrides, or the LocalLauncher's subprocess).
ENV_JOB_ID = "SHIFTWORK_JOB_ID"
ENV_ENDPOINT_URL = "SHIFTWORK_ENDPOINT_URL"
ENV_STATE_DIR = "SHIFTWORK_STATE_DIR"
ENV_WARM_KERNEL = "SHIFTWORK_WARM_KERNEL"  # the kernel a local warm runner starts ahead of its job

# Default resource names; the CDK app passes the real (generated) names to functions and containers by env.
JOBS_TABLE = "shiftwork-jobs"
DEFINITIONS_TABLE = "shiftwork-definitions"
BUCKET = "shiftwork-data"
CLUSTER = "shiftwork"
TASK_FAMILY = "shiftwork-runner"
CONTAINER_NAME = "runner"
LOG_GROUP = "/shiftwork/runner"
LOG_STREAM_PREFIX = "runner"
SCHEDULE_GROUP = "shiftwork"


def default_state_dir() -> Path:
    """Where the embedded stack keeps its state when neither --state-dir nor SHIFTWORK_STATE_DIR says."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "shiftwork"


class Settings(BaseSettings):
    """Everything configurable, from SHIFTWORK_<FIELD> environment variables."""

    model_config = SettingsConfigDict(env_prefix="SHIFTWORK_", extra="ignore")

    state_dir: Path = Field(default_factory=default_state_dir)
    endpoint_url: str | None = None  # the AWS endpoint: moto server locally, None for real AWS
    region: str = "us-east-1"
    jobs_table: str = JOBS_TABLE
    definitions_table: str = DEFINITIONS_TABLE
    bucket: str = BUCKET
    cluster: str = CLUSTER
    task_definition: str = TASK_FAMILY
    container_name: str = CONTAINER_NAME
    log_group: str = LOG_GROUP
    subnets: list[str] = Field(default_factory=list)
    security_groups: list[str] = Field(default_factory=list)
    dispatch_queue_url: str | None = None  # locally, run-now requests go through this queue
    schedule_group: str = SCHEDULE_GROUP
    scheduler_target_arn: str | None = None  # what schedules invoke: the dispatch Lambda (its queue, locally)
    scheduler_role_arn: str = "arn:aws:iam::123456789012:role/shiftwork-scheduler"
    notifications_topic_arn: str | None = None  # SNS topic for job failure/success notifications
    launcher: Literal["local", "fargate"] = "fargate"
    max_parallel_jobs: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    stop_timeout_seconds: float = Field(default=10.0, gt=0)  # SIGTERM to SIGKILL, like ECS stopTimeout
    moto_port: int = Field(default=0, ge=0, le=65535)  # the embedded stack's endpoint; 0 picks a free port
    journal_compact_bytes: int = Field(default=16 << 20, ge=1)  # fold the journal into a snapshot past this


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once; call get_settings.cache_clear() after changing the environment."""
    return Settings()
