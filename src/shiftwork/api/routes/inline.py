"""Notebooks sent inline: a client without the server's disk sends the notebook's JSON (and, for an input folder,
its other files base64-encoded); the route writes them to a scratch folder and hands the library a path."""

from __future__ import annotations

import base64
import binascii
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field

from shiftwork.errors import InvalidSpec
from shiftwork.models.limits import MAX_S3_KEY_BYTES, NotebookFileName, check_s3_key

# A Lambda behind an HTTP API takes at most 6 MB of request; base64 grows files by a third.
MAX_INLINE_BYTES = 4 * 1024 * 1024


# A whole, valid notebook: the documented example of every request that sends one (schemathesis sends it too)
EXAMPLE_NOTEBOOK: dict[str, Any] = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {
            "cell_type": "code",
            "id": "parameters",
            "metadata": {"tags": ["parameters"]},
            "execution_count": None,
            "outputs": [],
            "source": "n = 1",
        },
        {"cell_type": "code", "id": "work", "metadata": {}, "execution_count": None, "outputs": [], "source": "n * 2"},
    ],
}


class InlineNotebook(BaseModel):
    input_filename: NotebookFileName = Field(description="The notebook's file name.")
    input_notebook: dict[str, Any] = Field(description="The notebook itself (nbformat JSON).")
    input_files: dict[Annotated[str, Field(max_length=MAX_S3_KEY_BYTES)], str] = Field(
        default_factory=dict,
        description="Other files of its folder, {relative path: base64 content}; sent, the folder is packaged.",
    )


class OptionalInlineNotebook(BaseModel):
    """An update may replace the notebook, or not."""

    input_filename: NotebookFileName | None = None
    input_notebook: dict[str, Any] | None = None
    input_files: dict[Annotated[str, Field(max_length=MAX_S3_KEY_BYTES)], str] = Field(default_factory=dict)


INLINE_FIELDS = {"input_filename", "input_notebook", "input_files"}


@contextmanager
def materialised(filename: str, notebook: dict[str, Any], extra: dict[str, str]) -> Iterator[Path]:
    """The notebook (and its folder's files) written to a scratch folder, for as long as the block runs.

    An error about them names the files as the client sent them, never the scratch folder's path.
    """
    decoded = _decoded(filename, extra)
    with tempfile.TemporaryDirectory(prefix="shiftwork-inline-") as scratch:
        folder = Path(scratch)
        path = folder / filename
        path.write_text(json.dumps(notebook))
        for relative, data in decoded.items():
            target = folder.joinpath(*relative.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        try:
            yield path
        except InvalidSpec as error:
            raise _without_scratch(error, scratch) from None


@contextmanager
def materialised_files(extra: dict[str, str], field: str) -> Iterator[dict[str, Path]]:
    """A folder's files sent inline (a workflow's code), {relative: scratch file}, for as long as the block runs."""
    decoded = _decoded(None, extra, field)
    with tempfile.TemporaryDirectory(prefix="shiftwork-inline-") as scratch:
        written: dict[str, Path] = {}
        for relative, data in decoded.items():
            written[relative] = Path(scratch).joinpath(*relative.split("/"))
            written[relative].parent.mkdir(parents=True, exist_ok=True)
            written[relative].write_bytes(data)
        try:
            yield written
        except InvalidSpec as error:
            raise _without_scratch(error, scratch) from None


def _decoded(filename: str | None, extra: dict[str, str], field: str = "input_files") -> dict[str, bytes]:
    """The folder's files, decoded, once each path is checked: inside the folder, not under another file.

    Their total size is checked as they are decoded, before anything is written.
    """
    decoded: dict[str, bytes] = {}
    total = 0
    files = {filename, *extra} if filename else set(extra)
    for relative, content in extra.items():
        check_s3_key(field, relative)
        if relative == filename:
            raise InvalidSpec(field, relative, "must not repeat the notebook itself (input_notebook)")
        parents = ["/".join(relative.split("/")[:n]) for n in range(1, relative.count("/") + 1)]
        if any(parent in files for parent in parents):
            raise InvalidSpec(field, relative, "is under a path that is a file: a path is a file or a folder")
        try:
            decoded[relative] = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidSpec(f"{field}.{relative}", content[:20], "must be base64-encoded content") from None
        total += len(decoded[relative])
        if total > MAX_INLINE_BYTES:
            raise InvalidSpec(
                field,
                f"{total} bytes",
                f"exceeds {MAX_INLINE_BYTES >> 20} MiB sent inline: put large data in S3 and read it from the code",
            )
    return decoded


def _without_scratch(error: InvalidSpec, scratch: str) -> InvalidSpec:
    """The same refusal, the scratch folder's path taken out of its value and fix."""

    def scrub(text: object) -> object:
        return text.replace(f"{scratch}/", "").replace(scratch, ".") if isinstance(text, str) else text

    return InvalidSpec(error.field, scrub(error.value), str(scrub(error.fix)))
