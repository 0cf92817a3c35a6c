"""Job files in S3: inputs under jobs/<id>/input/, outputs and side-effect files under jobs/<id>/output/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from shiftwork import aws
from shiftwork.config import get_settings
from shiftwork.errors import InvalidSpec

if TYPE_CHECKING:
    from shiftwork.config import Settings


OWN_PREFIXES = ("jobs/", "definitions/")  # what Shiftwork writes to the bucket: jobs' files, definitions' snapshots


def input_prefix(job_id: str) -> str:
    return f"jobs/{job_id}/input/"


def output_prefix(job_id: str) -> str:
    return f"jobs/{job_id}/output/"


def logs_key(job_id: str) -> str:
    """Where the embedded stack archives a job's output (JSON lines of CloudWatch-shaped events)."""
    return f"jobs/{job_id}/logs/runner.jsonl"


def _bucket(settings: Settings | None) -> str:
    return (settings or get_settings()).bucket


def safe_relative(relative: str) -> PurePosixPath:
    """A relative path that cannot leave its prefix or folder (no absolute paths, no '..')."""
    path = PurePosixPath(relative)
    if path.is_absolute() or not path.parts or ".." in path.parts:
        raise InvalidSpec("file path", relative, "must be relative and stay inside its folder")
    return path


def check_tree(files: dict[str, Path], prefix: str) -> list[str]:
    """The keys upload_tree would write, each checked against what S3 takes, before anything is written."""
    from shiftwork.models.limits import check_s3_key

    return [check_s3_key("input file", relative, prefix) for relative in sorted(files)]


def upload_file(path: Path, key: str, settings: Settings | None = None) -> None:
    # put_object, not upload_file: one request per file, no multipart, so the local journal replays it exactly
    aws.client("s3", settings).put_object(Bucket=_bucket(settings), Key=key, Body=path.read_bytes())


def upload_tree(files: dict[str, Path], prefix: str, settings: Settings | None = None) -> list[str]:
    """Upload {relative name: local path} under prefix; returns the keys."""
    keys = []
    for relative, path in sorted(files.items()):
        key = prefix + str(safe_relative(relative))
        upload_file(path, key, settings)
        keys.append(key)
    return keys


def iter_keys(prefix: str, settings: Settings | None = None) -> Iterator[str]:
    paginator = aws.client("s3", settings).get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=_bucket(settings), Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"]


def download_tree(prefix: str, destination: Path, settings: Settings | None = None) -> list[Path]:
    """Download every object under prefix into destination, keeping relative paths; returns the files."""
    s3 = aws.client("s3", settings)
    written = []
    for key in iter_keys(prefix, settings):
        relative = safe_relative(key[len(prefix) :])
        target = destination.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        body = s3.get_object(Bucket=_bucket(settings), Key=key)["Body"]
        target.write_bytes(body.read())
        written.append(target)
    return written


def delete_prefix(prefix: str, settings: Settings | None = None) -> int:
    s3 = aws.client("s3", settings)
    keys = list(iter_keys(prefix, settings))
    for start in range(0, len(keys), 1000):
        batch = [{"Key": key} for key in keys[start : start + 1000]]
        s3.delete_objects(Bucket=_bucket(settings), Delete={"Objects": batch, "Quiet": True})
    return len(keys)
