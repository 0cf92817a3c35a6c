"""Which Shiftwork JupyterLab's scheduler talks to: a REST API, the Service in this process, or the running `up`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from shiftwork.errors import StackUnavailable

# Settings that put this process in a stack's environment (the embedded stack's, or a deployed one's with AWS
# credentials): then the Service works here, as it does in the CLI
STACK_ENVIRONMENT = ("SHIFTWORK_ENDPOINT_URL", "SHIFTWORK_BUCKET")


def in_stack_environment() -> bool:
    return any(os.environ.get(name) for name in STACK_ENVIRONMENT)


def choose_backend(api_url: str, api_token: str, use_service: bool, state_dir: Path) -> Any:
    """A Client of api_url; else the Service (use_service); else the API of the `shiftwork up` over state_dir,
    looked up on each call until one runs (so JupyterLab may start first)."""
    from shiftwork.connection import RunningStack, client_for

    if api_url:
        return client_for(api_url.rstrip("/"), api_token or None, state_dir)
    if use_service:
        from shiftwork.api.service import Service

        return Service()
    return RunningStack(state_dir, lambda: StackUnavailable(str(state_dir), NO_STACK))


NO_STACK = (
    "no `shiftwork up` is running over it: start one in a terminal, or point JupyterLab at a deployed stack "
    "(--ShiftworkScheduler.api_url=URL or SHIFTWORK_API_URL)"
)


def describe(backend: Any, state_dir: str) -> str:
    """Where jobs go, for the server's log."""
    from shiftwork.connection import RunningStack

    if isinstance(backend, RunningStack):
        return f"the `shiftwork up` running over {state_dir} (looked up on each call until one runs)"
    endpoint = getattr(backend, "endpoint", None)
    return f"the REST API at {endpoint}" if endpoint else "the Service, on this process's stack"
