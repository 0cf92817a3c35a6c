"""The stack's offer to front ends: its runtime environments, and the notebooks in its inbox (listed, fetched)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from shiftwork import aws
from shiftwork.errors import InvalidSpec, NotFound
from shiftwork.models.stack import InboxNotebook, InboxPage, OutputFormatChoice, RuntimeEnvironment
from shiftwork.store.files import safe_relative

if TYPE_CHECKING:
    from shiftwork.config import Settings

INBOX = "inbox/"  # a notebook uploaded under it runs as a job (dispatch/arrival.py)
MAX_INBOX_PAGE = 1000  # ListObjectsV2's own largest page


def runtime_environments() -> list[RuntimeEnvironment]:
    """The kernels jobs can run with (the runner's), each with the output formats a job can get there: a format
    whose converter is missing (pdf without xelatex) is left out, as a job asking for it would be refused."""
    from shiftwork.api.validation import available_formats, installed_kernels

    formats = [OutputFormatChoice(name=f.name, label=f.display_name) for f in available_formats()]
    return [
        RuntimeEnvironment(name=name, label=spec["display_name"], language=spec["language"], output_formats=formats)
        for name, spec in installed_kernels().items()
    ]


def check_inbox_key(key: str) -> str:
    """`key` if it names a notebook under inbox/ (no '..', no escaping it), else InvalidSpec naming it."""
    fix = "give the key of a notebook under inbox/, as the inbox lists it (e.g. inbox/report.ipynb)"
    if not isinstance(key, str) or not key.startswith(INBOX) or not key.endswith(".ipynb"):
        raise InvalidSpec("key", key, fix)
    try:
        safe_relative(key)
    except InvalidSpec:
        raise InvalidSpec("key", key, fix) from None
    if PurePosixPath(key).parts[0] != INBOX.rstrip("/") or "" in key[len(INBOX) :].split("/"):
        raise InvalidSpec("key", key, fix)
    return key


def inbox(settings: Settings, max_items: int = 100, next_token: str | None = None) -> InboxPage:
    """One page of the notebooks under inbox/, in key order (one ListObjectsV2); next_token for the next page.

    The token is the last key the page read (ListObjectsV2's StartAfter), so a bad one is a clear 400, not S3's.
    """
    if not 1 <= max_items <= MAX_INBOX_PAGE:
        raise InvalidSpec("max_items", max_items, f"ask for 1 to {MAX_INBOX_PAGE} notebooks a page")
    request = {"Bucket": settings.bucket, "Prefix": INBOX, "MaxKeys": max_items}
    if next_token:
        if not next_token.startswith(INBOX):
            raise InvalidSpec("next_token", next_token, "send back a next_token as an inbox page gave it")
        request["StartAfter"] = next_token
    page = aws.client("s3", settings).list_objects_v2(**request)
    contents = page.get("Contents", [])
    notebooks = [
        InboxNotebook(key=item["Key"], size=item["Size"], last_modified=item["LastModified"])
        for item in contents
        if item["Key"].endswith(".ipynb")
    ]
    more = page.get("IsTruncated") and contents
    return InboxPage(notebooks=notebooks, next_token=contents[-1]["Key"] if more else None)


def _head(settings: Settings, key: str) -> None:
    s3 = aws.client("s3", settings)
    try:
        s3.head_object(Bucket=settings.bucket, Key=key)
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise NotFound("inbox notebook", key) from None
        raise


def inbox_url(settings: Settings, key: str, expires_seconds: int = 900) -> str:
    """A presigned GET URL of an inbox notebook (NotFound unless it is there)."""
    _head(settings, check_inbox_key(key))
    return str(
        aws.client("s3", settings).generate_presigned_url(
            "get_object", Params={"Bucket": settings.bucket, "Key": key}, ExpiresIn=expires_seconds
        )
    )


def fetch_inbox(settings: Settings, key: str, destination: Path) -> Path:
    """Download an inbox notebook into the folder `destination`, under its own file name; returns the file."""
    check_inbox_key(key)
    s3 = aws.client("s3", settings)
    try:
        body = s3.get_object(Bucket=settings.bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        raise NotFound("inbox notebook", key) from None
    return write_fetched(destination, key, body)


def write_fetched(destination: Path, key: str, body: bytes) -> Path:
    """The fetched notebook written as destination/<its file name>."""
    destination.mkdir(parents=True, exist_ok=True)
    target = destination / PurePosixPath(key).name
    target.write_bytes(body)
    return target
