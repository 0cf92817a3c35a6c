"""Repository of job definitions. Updates are conditional on the version the caller read."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from shiftwork.errors import Conflict, NotFound
from shiftwork.models import DescribeJobDefinition, ListJobDefinitionsResponse
from shiftwork.store.jobs import _decode_token, _encode_token, now_ms
from shiftwork.store.tables import ALL_DEFINITIONS, DefinitionRecord, bound

_CONDITION_FAILED = "ConditionalCheckFailedException"


def _table() -> type[DefinitionRecord]:
    return bound(DefinitionRecord)  # type: ignore[return-value]


def _to_dto(record: DefinitionRecord) -> DescribeJobDefinition:
    return DescribeJobDefinition.model_validate(record.attribute_values)


def put(definition: DescribeJobDefinition, *, overwrite: bool = False) -> DescribeJobDefinition:
    """Store a definition; without overwrite, an existing id is a Conflict."""
    table = _table()
    record = table(**definition.model_dump(exclude_none=True, mode="json"))
    try:
        record.save(condition=None if overwrite else table.job_definition_id.does_not_exist())
    except PutError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            raise Conflict(definition.job_definition_id, "existing", "absent") from error
        raise
    return definition


def get(definition_id: str) -> DescribeJobDefinition:
    try:
        return _to_dto(_table().get(definition_id, consistent_read=True))
    except DoesNotExist as error:
        raise NotFound("job definition", definition_id) from error


def update(definition_id: str, expected_version: int, **changes: Any) -> DescribeJobDefinition:
    """Apply changes if the definition is still at expected_version (None removes an attribute)."""
    table = _table()
    actions: list[Action] = [table.update_time.set(now_ms())]
    for name, value in changes.items():
        attribute = getattr(table, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    record = table(definition_id)
    try:
        record.update(actions=actions, condition=table.version == expected_version)
    except UpdateError as error:
        if error.cause_response_code != _CONDITION_FAILED:
            raise
        current = get(definition_id)
        raise Conflict(definition_id, f"version {current.version}", f"version {expected_version}") from error
    return _to_dto(record)


def delete(definition_id: str) -> None:
    table = _table()
    try:
        table(definition_id).delete(condition=table.job_definition_id.exists())
    except DeleteError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            raise NotFound("job definition", definition_id) from error
        raise


def list_definitions(max_items: int = 100, next_token: str | None = None) -> ListJobDefinitionsResponse:
    """Newest first, one page; a Query on the by-create-time index."""
    result = _table().by_create_time.query(
        ALL_DEFINITIONS,
        scan_index_forward=False,
        limit=max_items,
        page_size=max_items,
        last_evaluated_key=_decode_token(next_token),
    )
    items = [_to_dto(record) for record in result]
    return ListJobDefinitionsResponse(job_definitions=items, next_token=_encode_token(result.last_evaluated_key))
