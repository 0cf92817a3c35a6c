"""Every version a definition had: the record keeps only the latest, so each version is also kept in S3 as JSON
under definitions/<id>/versions/ (deleted with the definition's snapshots)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shiftwork import aws
from shiftwork.models import DescribeJobDefinition
from shiftwork.store.files import iter_keys

if TYPE_CHECKING:
    from shiftwork.config import Settings

MAX_VERSIONS_SHOWN = 100  # the newest ones: older versions stay in S3 but are not read


def versions_prefix(definition_id: str) -> str:
    return f"definitions/{definition_id}/versions/"


def keep(definition: DescribeJobDefinition, settings: Settings) -> None:
    """Keep this version's record (a later write of the same version, e.g. a race's winner, replaces it)."""
    key = f"{versions_prefix(definition.job_definition_id)}{definition.version:09d}.json"
    body = definition.model_dump_json(exclude={"compiled"}).encode()
    aws.client("s3", settings).put_object(Bucket=settings.bucket, Key=key, Body=body)


def list_versions(definition_id: str, settings: Settings) -> list[DescribeJobDefinition]:
    """The versions kept, newest first (at most MAX_VERSIONS_SHOWN)."""
    keys = sorted(iter_keys(versions_prefix(definition_id), settings), reverse=True)[:MAX_VERSIONS_SHOWN]
    s3 = aws.client("s3", settings)
    found = []
    for key in keys:
        try:
            body = s3.get_object(Bucket=settings.bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:  # deleted meanwhile
            continue
        found.append(DescribeJobDefinition.model_validate_json(body))
    return found
