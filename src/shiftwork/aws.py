"""The only place boto3 clients are made: endpoint (moto locally) and region come from settings."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from shiftwork.config import get_settings

if TYPE_CHECKING:
    from shiftwork.config import Settings

_session_lock = threading.Lock()
_session: Any = None


def _shared_session() -> Any:
    """One botocore session per process: it caches service models, so each further client is cheap."""
    global _session
    if _session is None:
        import boto3

        _session = boto3.session.Session()
    return _session


@lru_cache(maxsize=64)
def _client(service: str, endpoint_url: str | None, region: str) -> Any:
    from botocore.config import Config

    config = Config(
        retries={"max_attempts": 5, "mode": "standard"},
        s3={"addressing_style": "path"},
        connect_timeout=5,
        read_timeout=60,
    )
    with _session_lock:  # boto3 sessions are not thread-safe; the clients they make are
        return _shared_session().client(service, endpoint_url=endpoint_url, region_name=region, config=config)


def client(service: str, settings: Settings | None = None) -> Any:
    """A boto3 client for `service`, shared per endpoint and region."""
    settings = settings or get_settings()
    return _client(service, settings.endpoint_url, settings.region)


@contextmanager
def botocore_session() -> Iterator[Any]:
    """The shared botocore session, locked, for a library that makes its own clients (pynamodb, in store/)."""
    with _session_lock:
        yield _shared_session()._session


def preload(services: list[str]) -> None:
    """Load service models into the shared session ahead of use (resolves no credentials, makes no client)."""
    with _session_lock:
        session = _shared_session()
        for service in services:
            session._session.get_service_model(service)


def clear_clients() -> None:
    """Forget cached clients and the session (after the endpoint or credentials changed)."""
    global _session
    _client.cache_clear()
    _session = None
