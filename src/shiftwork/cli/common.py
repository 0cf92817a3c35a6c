"""What every command shares: the state directory option, the stack, and errors turned into exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from shiftwork.config import ENV_STATE_DIR, default_state_dir
from shiftwork.connection import state_dir_or_default
from shiftwork.errors import InvalidSpec, ShiftworkError

# Piped output is not cut to 80 columns: job ids must survive `| grep`.
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

StateDirOption = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help=f"Where the embedded stack keeps its state \\[default: ${ENV_STATE_DIR}, else {default_state_dir()}]",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
SortOption = Annotated[
    str | None,
    typer.Option(
        "--sort",
        help="Order: fields comma-separated, -field descending (e.g. -update_time,name) \\[default: -create_time]",
    ),
]
SinceOption = Annotated[
    str | None,
    typer.Option("--since", help="Only those from this time on (ISO 8601, UTC unless it has an offset)."),
]
TagOption = Annotated[list[str] | None, typer.Option("--tag", help="Only those with this tag (repeat: all of them).")]

F = TypeVar("F", bound=Callable[..., Any])


def resolve_state_dir(state_dir: Path | None) -> Path:
    return state_dir_or_default(state_dir)


@dataclass
class Remote:
    """Set by `shiftwork --endpoint URL`: commands call that REST API instead of an embedded stack."""

    endpoint: str | None = None
    token: str | None = None
    mode: str = "remote"


REMOTE = Remote()


def use_endpoint(endpoint: str | None, token: str | None) -> None:
    REMOTE.endpoint, REMOTE.token = (endpoint.rstrip("/") if endpoint else None), token


def is_remote() -> bool:
    return REMOTE.endpoint is not None


@contextmanager
def stack(state_dir: Path | None, *, run_jobs: bool = False) -> Iterator[Any]:
    """The stack for this command: the API given by --endpoint, the running one, or one embedded for the command."""
    if REMOTE.endpoint is not None:
        yield REMOTE
        return
    from shiftwork.local.stack import open_stack

    with open_stack(resolve_state_dir(state_dir), run_jobs=run_jobs) as info:
        yield info


def backend(state_dir: Path | None = None) -> Any:
    """What commands call: a Client of the --endpoint API, else the library's Service on the stack.

    Both have the same methods (create_job, get_job, list_jobs, iter_jobs, stop_job, ..., definitions.*).
    """
    if REMOTE.endpoint is None:
        from shiftwork.api.service import Service

        return Service()
    from shiftwork.connection import client_for

    return client_for(REMOTE.endpoint, REMOTE.token, state_dir)


def fail(message: str, code: int) -> typer.Exit:
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def handle_errors(function: F) -> F:
    """One line on stderr for an error a user can fix: exit 2 for bad input, 1 for the rest."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from pydantic import ValidationError

        try:
            return function(*args, **kwargs)
        except InvalidSpec as error:
            raise fail(str(error), 2) from None
        except ValidationError as error:
            from shiftwork.models.limits import as_invalid_spec

            raise fail(str(as_invalid_spec(error)), 2) from None
        except ShiftworkError as error:
            raise fail(str(error), 1) from None

    return wrapper  # type: ignore[return-value]
