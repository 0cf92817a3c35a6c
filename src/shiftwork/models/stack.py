"""What the stack offers a front end: the kernels and formats jobs can use, the notebooks waiting in its inbox."""

from __future__ import annotations

from datetime import datetime

from shiftwork.models.base import Model


class OutputFormatChoice(Model):
    name: str
    label: str


class RuntimeEnvironment(Model):
    """Jupyter Scheduler's environment: a kernel jobs can run with, and the formats they can make."""

    name: str
    label: str
    language: str | None = None
    output_formats: list[OutputFormatChoice]


class InboxNotebook(Model):
    """A notebook under the bucket's inbox/ (each one uploaded there ran as a job, and can be used again)."""

    key: str
    size: int
    last_modified: datetime


class InboxPage(Model):
    notebooks: list[InboxNotebook]
    next_token: str | None = None
