"""The exception hierarchy: every error Shiftwork raises derives from ShiftworkError.

Each exception subclasses the matching builtin so callers may catch either, takes the offending value as an
argument and builds its message in one place, saying what was wrong and how to fix it.
"""

from __future__ import annotations

SHORT_VALUE = 40  # characters of a refused value an error repeats


def shorten(value: object) -> object:
    """A refused value as an error repeats it: long text cut to its first SHORT_VALUE characters and '…'."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= SHORT_VALUE else text[:SHORT_VALUE] + "…"


class ShiftworkError(Exception):
    """Root of every error Shiftwork raises."""


class InvalidSpec(ShiftworkError, ValueError):
    """User input that cannot be accepted: names the field, the value and the fix."""

    def __init__(self, field: str, value: object, fix: str) -> None:
        self.field = field
        self.value = value
        self.fix = fix
        super().__init__(f"{field} {shorten(value)!r}: {fix}")


class DuplicateJobNameError(InvalidSpec):
    """Two tasks of one workflow with the same name (Datatailr's name for it)."""

    def __init__(self, name: str) -> None:
        super().__init__("task name", name, 'two tasks of the workflow have this name: give one .alias("other")')


class NotAValueError(ShiftworkError, TypeError):
    """A task's result or a run parameter used as a value in a @workflow body, where it is only a placeholder."""

    def __init__(self, what: str, use: str) -> None:
        self.what = what
        self.use = use
        super().__init__(
            f"{what} is used as a value ({use}) in a @workflow function's body: the body only wires tasks together "
            "and runs once, when the workflow is defined; the value exists only when the run executes. "
            "Pass it to a @task and use it inside that task"
        )


class NotAnAttributeError(NotAValueError, AttributeError):
    """An attribute of a task's result or a run parameter read in a @workflow body (hasattr() sees False)."""


class NotFound(ShiftworkError, LookupError):
    """A job, definition or file that does not exist."""

    def __init__(self, kind: str, identifier: str) -> None:
        self.kind = kind
        self.identifier = identifier
        super().__init__(f"{kind} {shorten(identifier)!r} not found; list them with `shiftwork jobs`")


class Conflict(ShiftworkError):
    """A state change refused because the record is not in the state the change expects."""

    def __init__(self, job_id: str, current: str, expected: str) -> None:
        self.job_id = job_id
        self.current = current
        self.expected = expected
        super().__init__(f"job {job_id} is {current}, expected {expected}")


class LimitReached(Conflict):
    """A definition already has max_running_jobs jobs queued or running: no slot for one more."""

    def __init__(self, definition_id: str, limit: int, running: int) -> None:
        self.job_id = definition_id
        self.definition_id = definition_id
        self.limit = limit
        self.running = running
        self.current = f"{running} queued or running"
        self.expected = f"fewer than {limit}"
        ShiftworkError.__init__(
            self,
            f"job definition {definition_id}: {self.reason}; wait for one to end, stop one "
            "(shiftwork job stop ID), or raise it (shiftwork definitions update ID --max-running-jobs N)",
        )

    @property
    def reason(self) -> str:
        """What a SKIPPED job's status_message says."""
        return f"max_running_jobs ({self.limit}) reached: {self.running} queued or running"


class LaunchError(ShiftworkError, RuntimeError):
    """The launcher could not start the runner for a job."""

    def __init__(self, job_id: str, reason: str) -> None:
        self.job_id = job_id
        self.reason = reason
        super().__init__(f"could not launch job {job_id}: {reason}")


class StackUnavailable(ShiftworkError, ConnectionError):
    """No embedded stack could be started or reached for a state directory."""

    def __init__(self, state_dir: str, reason: str) -> None:
        self.state_dir = state_dir
        super().__init__(f"embedded stack for {state_dir}: {reason}")


class WaitTimeout(ShiftworkError, TimeoutError):
    """A job did not end within the time a caller was willing to wait."""

    def __init__(self, job_id: str, seconds: float, status: str) -> None:
        self.job_id = job_id
        self.seconds = seconds
        self.status = status
        super().__init__(f"job {job_id} is still {status} after {seconds:g} s; wait longer or stop it")
