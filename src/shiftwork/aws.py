"""The only place boto3 clients are made: endpoint (moto locally) and region come from settings."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from shiftwork.config import get_settings

if TYPE_CHECKING:
    from shiftwork.config import Settings

_session_lock = threading.Lock()


@lru_cache(maxsize=64)
def _client(service: str, endpoint_url: str | None, region: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"max_attempts": 5, "mode": "standard"},
        s3={"addressing_style": "path"},
        connect_timeout=5,
        read_timeout=60,
    )
    with _session_lock:  # boto3 sessions are not thread-safe; the clients they make are
        return boto3.session.Session().client(
            service, endpoint_url=endpoint_url, region_name=region, config=config
        )


def client(service: str, settings: Settings | None = None) -> Any:
    """A boto3 client for `service`, shared per endpoint and region."""
    settings = settings or get_settings()
    return _client(service, settings.endpoint_url, settings.region)


def clear_clients() -> None:
    """Forget cached clients (after the endpoint changed)."""
    _client.cache_clear()
