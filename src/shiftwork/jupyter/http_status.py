"""The HTTP status of the scheduler's errors: jupyter-scheduler's handlers answer every error with 500 (an
IdempotencyTokenError excepted), so a client's mistake would look like a server fault. ShiftworkScheduler gives
those handlers the status each error means, keeping the message they write.

The rule: an error from Shiftwork carries its status (400 bad input, 404, 409, 502, 503; anything unexpected 500);
an error the handler raised itself before calling the scheduler (reading the request's JSON, query or status) is
the request's: 400.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jupyter_scheduler.environments import EnvironmentRetrievalError
from jupyter_scheduler.exceptions import SchedulerError
from tornado.web import HTTPError

from shiftwork.errors import Conflict, InvalidSpec, NotFound, StackUnavailable

BAD_STATUS_MESSAGE = "Invalid value for field 'status'"  # jupyter-scheduler's own refusal of a PATCH


class ShiftworkSchedulerError(SchedulerError):
    """A Shiftwork error as jupyter-scheduler's handlers pass on its message (a SchedulerError), with its status."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.shiftwork_status = _status(error) or 500


class ShiftworkEnvironmentError(EnvironmentRetrievalError):
    """Shiftwork's kernels could not be listed (the one error the environments handler passes on), with why."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"Shiftwork's kernels are unavailable: {error}")
        self.shiftwork_status = _status(error) or 500


def status_of(error: BaseException | None) -> int | None:
    """The status an error reaching a handler means; None: leave the handler's."""
    if isinstance(error, HTTPError) and (error.log_message or "").startswith(BAD_STATUS_MESSAGE):
        return 400
    chain = list(_chain(error))
    for link in chain:
        status = getattr(link, "shiftwork_status", None) or _status(link)
        if status is not None:
            return int(status)
    return 400 if any(not isinstance(link, HTTPError) for link in chain) else None


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    for _ in range(6):
        if error is None:
            return
        yield error
        error = error.__cause__ or error.__context__


def _status(error: BaseException) -> int | None:
    """400 for bad input, 404 for what is not there, 409 for a conflict, 503 for no stack, 502 for the API's own
    failure."""
    from jupyter_scheduler.exceptions import InputUriError
    from jupyter_scheduler.pydantic_v1 import ValidationError as JupyterValidationError
    from pydantic import ValidationError

    from shiftwork.client import ApiError

    for kinds, status in (
        ((NotFound,), 404),
        ((Conflict,), 409),
        ((InvalidSpec, InputUriError, JupyterValidationError, ValidationError), 400),
        ((StackUnavailable,), 503),
        ((ApiError,), 502),  # the deployed API's own failure, passed on
    ):
        if isinstance(error, kinds):
            return status
    return None


def install() -> None:
    """Give jupyter-scheduler's handlers the statuses above (once per process)."""
    from jupyter_scheduler import handlers

    for handler in vars(handlers).values():
        ours = isinstance(handler, type) and handler.__module__ == handlers.__name__
        if ours and issubclass(handler, handlers.APIHandler) and "write_error" not in vars(handler):
            handler.write_error = _write_error
            handler.log_exception = _log_exception


def _write_error(self: Any, status_code: int, **kwargs: Any) -> None:
    exc_info = kwargs.get("exc_info")
    status = status_of(exc_info[1]) if exc_info else None
    if status is not None and status != status_code:
        self.set_status(status)
        status_code = status
    from jupyter_server.base.handlers import APIHandler

    APIHandler.write_error(self, status_code, **kwargs)


def _log_exception(self: Any, typ: Any, value: BaseException | None, tb: Any) -> None:
    """A client's mistake is logged with its own status, in one line (tornado would log the handler's 500)."""
    from jupyter_server.base.handlers import APIHandler

    status = status_of(value)
    if status is not None and status < 500:
        self.log.info(
            "%d %s: %s", status, self._request_summary(), value.log_message if isinstance(value, HTTPError) else value
        )
        return
    APIHandler.log_exception(self, typ, value, tb)
