"""connect(): the one way a script reaches Shiftwork, as the CLI does: an API, the running stack, or one of its own."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from shiftwork.config import ENV_API_TOKEN, ENV_API_URL, ENV_STATE_DIR, default_state_dir

if TYPE_CHECKING:
    from shiftwork.api.service import Service
    from shiftwork.client import Client


def state_dir_or_default(state_dir: Path | None) -> Path:
    """--state-dir, else $SHIFTWORK_STATE_DIR, else ~/.local/share/shiftwork."""
    if state_dir is not None:
        return state_dir
    from_env = os.environ.get(ENV_STATE_DIR)
    return Path(from_env) if from_env else default_state_dir()


def client_for(endpoint: str, token: str | None = None, state_dir: Path | None = None) -> Client:
    """A Client of the API at `endpoint`: with `token`, else a local `shiftwork up`'s own token, else SigV4."""
    from shiftwork.client import Client

    if token is None and urlsplit(endpoint).hostname in ("127.0.0.1", "localhost"):
        saved = state_dir_or_default(state_dir).expanduser() / "api-token"
        token = saved.read_text().strip() if saved.is_file() else None
    return Client(endpoint, token=token)


@contextmanager
def connect(
    endpoint: str | None = None, token: str | None = None, state_dir: Path | None = None
) -> Iterator[Service | Client]:
    """Shiftwork for the duration of the block, with the same methods whichever it is.

    - `endpoint` (or $SHIFTWORK_API_URL): a Client of that REST API (a deployed stack, or `shiftwork up`'s), with
      `token` (or $SHIFTWORK_API_TOKEN) or SigV4 from your AWS credentials;
    - else the stack `shiftwork up` runs over `state_dir`, or, when none runs, one embedded for the block that
      runs the jobs made in it (as a CLI command does; its state is kept in `state_dir` for later).
    """
    endpoint = endpoint or os.environ.get(ENV_API_URL) or None
    if endpoint:
        yield client_for(endpoint.rstrip("/"), token or os.environ.get(ENV_API_TOKEN) or None, state_dir)
        return
    from shiftwork.api.service import Service
    from shiftwork.local.stack import open_stack

    with open_stack(state_dir_or_default(state_dir), run_jobs=True):
        yield Service()


class RunningStack:
    """Shiftwork through the REST API of the `shiftwork up` running over state_dir, looked up on each use until one
    runs (so `up` may start after the front end that uses it); `missing()` is raised while none does."""

    def __init__(self, state_dir: Path, missing: Callable[[], Exception]) -> None:
        self.state_dir = state_dir
        self.missing = missing
        self._client: Client | None = None
        self._lock = threading.Lock()

    def client(self) -> Client:
        from shiftwork.local.stack import running_stack

        with self._lock:
            if self._client is None:
                info = running_stack(self.state_dir)
                if info is None or not info.api_url:
                    raise self.missing()
                self._client = client_for(info.api_url, None, self.state_dir)
            return self._client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client(), name)
