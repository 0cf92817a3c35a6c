"""What each AWS service a user-chosen value reaches accepts, in one place, checked before anything is written.

The DTOs carry these as pydantic constraints (so /openapi.json shows them); the service makes the checks that
need the whole request: the derived schedule names, the S3 keys under their prefix, the record's size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, Field

from shiftwork.errors import InvalidSpec, NotFound, shorten

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

# Strings a user chooses: generous, and far inside every service limit they reach.
MAX_NAME = 256
MAX_TAG = 128
MAX_TAGS = 50
MAX_PARAMETERS_BYTES = 64 * 1024  # all of a job's parameters as JSON
MAX_SCHEDULE = 2048  # a JSON trigger can be long; EventBridge gets what it compiles to
MAX_TIMEZONE = 64
MAX_KERNEL_NAME = 128
MAX_TOKEN = 128  # idempotency tokens
MAX_EMAIL = 254  # RFC 5321
MAX_QUERY_TEXT = 1024  # a list filter's text

# Numbers: bounded so that no arithmetic on them overflows (timedelta, datetime) anywhere.
MAX_TIMEOUT_SECONDS = 30 * 24 * 3600.0
MAX_RUNNING_JOBS = 1000
MAX_MISFIRE_GRACE_SECONDS = 366 * 24 * 3600.0
MAX_INTERVAL_DAYS = 3660  # ten years: EventBridge Scheduler's rate() and our interval triggers

# Ids: a definition id a user chooses names S3 keys (definitions/<id>/...) and EventBridge Scheduler schedules
# (<id>-<n>, at most 64 of [0-9A-Za-z-_.]); we make job ids, always UUIDs.
DEFINITION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
MAX_DEFINITION_ID = 48
SCHEDULE_NAME = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

# S3 keys are at most 1,024 bytes of UTF-8; file names at most 255 bytes on the disks notebooks land on.
MAX_S3_KEY_BYTES = 1024
MAX_FILE_NAME_BYTES = 255
# DynamoDB holds items of at most 400 KB; a new record leaves room for what the runner adds (files, messages).
MAX_NEW_RECORD_BYTES = 300 * 1024


def _file_name(value: str) -> str:
    check_file_name("input_filename", value)
    return value


Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
Tag = Annotated[str, Field(min_length=1, max_length=MAX_TAG)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS)]
Schedule = Annotated[str, Field(min_length=1, max_length=MAX_SCHEDULE)]
Timezone = Annotated[str, Field(min_length=1, max_length=MAX_TIMEZONE)]
KernelName = Annotated[str, Field(min_length=1, max_length=MAX_KERNEL_NAME)]
Token = Annotated[str, Field(min_length=1, max_length=MAX_TOKEN)]
DefinitionId = Annotated[str, Field(pattern=DEFINITION_ID_PATTERN, min_length=1, max_length=MAX_DEFINITION_ID)]
# DynamoDB numbers underflow below 1e-130: durations are whole milliseconds, and a timeout at least a second
Milliseconds = AfterValidator(lambda seconds: round(seconds, 3))
# strict: a number is a JSON number, as the OpenAPI document says, never true/false or "5"
TimeoutSeconds = Annotated[float, Field(strict=True, ge=1, le=MAX_TIMEOUT_SECONDS), Milliseconds]
GraceSeconds = Annotated[float, Field(strict=True, ge=1, le=MAX_MISFIRE_GRACE_SECONDS), Milliseconds]
BackoffSeconds = Annotated[float, Field(strict=True, ge=0, le=900), Milliseconds]
StartTimeoutSeconds = Annotated[float, Field(strict=True, ge=1, le=3600), Milliseconds]  # a kernel's start
Retries = Annotated[int, Field(strict=True, ge=0, le=10)]
Flag = Annotated[bool, Field(strict=True)]
NotebookFileName = Annotated[
    str, Field(pattern=r"^[^/\\\x00-\x1f]+\.ipynb$", max_length=MAX_FILE_NAME_BYTES), AfterValidator(_file_name)
]


MAX_KEY_BYTES = 1024  # DynamoDB takes partition keys of 1 to 2,048 bytes; ours are far shorter


def check_lookup_id(kind: str, value: str) -> str:
    """An id to look up: one DynamoDB can be asked for (non-empty, not huge), else NotFound, as no record has it."""
    if not value or len(value.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise NotFound(kind, value)
    return value


def check_definition_id(value: str) -> str:
    """A definition id a user chooses: letters, digits, - and _, so that its keys and schedule names are valid."""
    if not (0 < len(value) <= MAX_DEFINITION_ID and re.match(DEFINITION_ID_PATTERN, value)):
        raise InvalidSpec(
            "job_definition_id",
            value,
            f"use 1-{MAX_DEFINITION_ID} letters, digits, - and _, starting with a letter or digit, e.g. daily-report",
        )
    return value


def check_schedule_names(names: Iterable[str]) -> None:
    """Each EventBridge Scheduler schedule name we derive is one it accepts."""
    for name in names:
        if not SCHEDULE_NAME.match(name):
            raise InvalidSpec(
                "job_definition_id", name, "makes a schedule name EventBridge Scheduler refuses: choose a shorter id"
            )


def check_file_name(field: str, name: str) -> None:
    """A file or folder name that every disk and S3 takes: no control characters, at most 255 bytes."""
    if any(ord(char) < 0x20 for char in name) or len(name.encode("utf-8", "surrogatepass")) > MAX_FILE_NAME_BYTES:
        raise InvalidSpec(field, name, f"use at most {MAX_FILE_NAME_BYTES} bytes and no control characters")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidSpec(field, name, "must be valid Unicode text (no lone surrogates)") from None


def check_s3_key(field: str, key: str, prefix: str = "") -> str:
    """prefix + key, if S3 takes it and it stays under prefix (no absolute path, no `..` or empty segments)."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts[:-1]) or parts[-1] in ("..",):
        raise InvalidSpec(field, key, "must be a relative path that stays inside its folder (no /, . or .. parts)")
    for part in parts:
        check_file_name(field, part)
    full = prefix + key
    if len(full.encode("utf-8")) > MAX_S3_KEY_BYTES:
        raise InvalidSpec(field, key, f"makes an S3 key over {MAX_S3_KEY_BYTES} bytes ({full[:40]}…): shorten it")
    return full


def check_parameters_size(parameters: dict[str, Any]) -> dict[str, Any]:
    """All parameters as JSON fit in MAX_PARAMETERS_BYTES."""
    size = len(json.dumps(parameters, default=str).encode())
    if size > MAX_PARAMETERS_BYTES:
        raise InvalidSpec(
            "parameters",
            f"{size:,} bytes",
            f"exceed {MAX_PARAMETERS_BYTES >> 10} KiB: pass large data as a file (S3) and its path as a parameter",
        )
    return parameters


def check_record_size(kind: str, record: BaseModel) -> None:
    """The record's DynamoDB item, estimated from its JSON (names and values, as DynamoDB counts), fits."""
    fields = record.model_dump(mode="json")
    sizes = {name: len(json.dumps({name: value}).encode()) for name, value in fields.items()}
    total = sum(sizes.values())
    if total > MAX_NEW_RECORD_BYTES:
        largest = max(sizes, key=sizes.__getitem__)
        raise InvalidSpec(
            largest,
            shorten(fields[largest]),
            f"makes the {kind} record {total >> 10} KiB, over the {MAX_NEW_RECORD_BYTES >> 10} KiB it may have "
            f"in DynamoDB (items hold 400 KB): shorten {largest}",
        )


def as_invalid_spec(error: ValidationError) -> InvalidSpec:
    """The first problem pydantic found, as the field, the (shortened) value and what to do."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")) or "input"
    message = str(first.get("msg", "is invalid"))
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, InvalidSpec):  # our own check inside a validator: keep its field and fix
        return cause
    return InvalidSpec(field, first.get("input"), message.removeprefix("Value error, "))
