"""Repository of job definitions. Updates are conditional on the version the caller read."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shiftwork.errors import Conflict, NotFound
from shiftwork.models import DescribeJobDefinition, ListJobDefinitionsResponse
from shiftwork.models.definition import ListJobDefinitionsQuery
from shiftwork.models.limits import check_lookup_id
from shiftwork.store.jobs import now_ms
from shiftwork.store.listing import Listing, all_of, read_page
from shiftwork.store.tables import ALL_DEFINITIONS, DefinitionRecord, bound

_CONDITION_FAILED = "ConditionalCheckFailedException"


def _table() -> type[DefinitionRecord]:
    return bound(DefinitionRecord)  # type: ignore[return-value]


def _to_dto(record: DefinitionRecord) -> DescribeJobDefinition:
    return DescribeJobDefinition.model_validate(record.attribute_values)


def put(definition: DescribeJobDefinition, *, replacing: int | None = None) -> DescribeJobDefinition:
    """Store a definition: a new id, or (replacing=N) in place of the stored version N; else a Conflict.

    A replacement rewrites every field but the count of slots its jobs hold, so two replacements that read the
    same version cannot both win, and a job admitted meanwhile keeps its slot.
    """
    table = _table()
    if replacing is not None:
        fields = definition.model_dump(mode="json", exclude={"job_definition_id"})
        actions = [
            getattr(table, name).remove() if v is None else getattr(table, name).set(v) for name, v in fields.items()
        ]
        try:
            table(definition.job_definition_id).update(actions=actions, condition=table.version == replacing)
        except UpdateError as error:
            if error.cause_response_code == _CONDITION_FAILED:
                raise Conflict(definition.job_definition_id, "changed", f"version {replacing}") from error
            raise
        return definition
    record = table(**definition.model_dump(exclude_none=True, mode="json"))
    try:
        record.save(condition=table.job_definition_id.does_not_exist())
    except PutError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            raise Conflict(definition.job_definition_id, "existing", "absent") from error
        raise
    return definition


def get(definition_id: str) -> DescribeJobDefinition:
    check_lookup_id("job definition", definition_id)
    try:
        return _to_dto(_table().get(definition_id, consistent_read=True))
    except DoesNotExist as error:
        raise NotFound("job definition", definition_id) from error


def update(
    definition_id: str, expected_version: int, *, unchanged: dict[str, int] | None = None, **changes: Any
) -> DescribeJobDefinition:
    """Apply changes if the definition is still at expected_version (None removes an attribute).

    unchanged: other definitions' versions the change was checked against (a run-after chain); the change and
    those checks are one transaction, so two changes that each checked the other's old state cannot both win.
    """
    table = _table()
    actions: list[Action] = [table.update_time.set(now_ms())]
    for name, value in changes.items():
        attribute = getattr(table, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    record = table(definition_id)
    if unchanged:
        _update_checked(record, actions, expected_version, unchanged)
        return get(definition_id)
    try:
        record.update(actions=actions, condition=table.version == expected_version)
    except UpdateError as error:
        if error.cause_response_code != _CONDITION_FAILED:
            raise
        current = get(definition_id)
        raise Conflict(definition_id, f"version {current.version}", f"version {expected_version}") from error
    return _to_dto(record)


def _update_checked(
    record: DefinitionRecord, actions: list[Action], expected_version: int, unchanged: dict[str, int]
) -> None:
    """The update and a version check of each `unchanged` definition, in one transaction."""
    table = _table()
    others = [other for other in unchanged if other != record.job_definition_id]
    try:
        with TransactWrite(connection=table._get_connection().connection) as transaction:
            transaction.update(record, actions=actions, condition=table.version == expected_version)
            for other in others:
                transaction.condition_check(table, other, condition=table.version == unchanged[other])
    except TransactWriteError as error:
        reasons = list(error.cancellation_reasons)
        if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
            current = get(record.job_definition_id)
            raise Conflict(
                record.job_definition_id, f"version {current.version}", f"version {expected_version}"
            ) from error
        moved = [other for other, reason in zip(others, reasons[1:], strict=False) if reason is not None]
        if moved:
            raise Conflict(
                record.job_definition_id, f"run after {moved[0]}, which changed meanwhile", "it unchanged: try again"
            ) from error
        raise


def delete(definition_id: str) -> None:
    table = _table()
    try:
        table(definition_id).delete(condition=table.job_definition_id.exists())
    except DeleteError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            raise NotFound("job definition", definition_id) from error
        raise


def list_definitions(
    max_items: int | None = None, next_token: str | None = None, *, query: ListJobDefinitionsQuery | None = None
) -> ListJobDefinitionsResponse:
    """One page of the definitions `query` selects (default: all, newest first): a Query on the by-create-time
    index, never a Scan. max_items and next_token, when given, replace the query's.

    See shiftwork.store.listing.read_page for how sorting and next_token work.
    """
    query = query or ListJobDefinitionsQuery()
    paging = {"max_items": max_items, "next_token": next_token}
    query = ListJobDefinitionsQuery.model_validate(
        {**query.model_dump(), **{key: value for key, value in paging.items() if value is not None}}
    )
    table = _table()
    conditions: list[Condition] = []
    if query.name:
        conditions.append(table.name.startswith(query.name))
    if query.schedule is not None:
        conditions.append(table.schedule == query.schedule)
    if query.paused is not None:
        conditions.append(table.active == (not query.paused))
    # tags are stored as one JSON string: `contains` finds the quoted tag, `matches` checks exactly
    conditions += [table.tags.contains(tag) for tag in query.tags]
    listing: Listing[DescribeJobDefinition] = Listing(
        kind="job definitions",
        index=table.by_create_time,
        hash_name="list_pk",
        hash_value=ALL_DEFINITIONS,
        id_name="job_definition_id",
        to_dto=_to_dto,
        query=query,
        filters="name, schedule, paused, tags, create_time",
        filter_condition=all_of(conditions),
        range_key_condition=table.create_time >= query.create_time if query.create_time is not None else None,
        matches=lambda definition: all(tag in definition.tags for tag in query.tags),
    )
    items, token = read_page(listing, query.max_items, query.next_token)
    return ListJobDefinitionsResponse(job_definitions=items, next_token=token)


def downstream_of(definition_id: str) -> list[str]:
    """The ids of the definitions that run after `definition_id`: a Query on the sparse by-upstream index."""
    table = _table()
    return sorted(record.job_definition_id for record in table.by_upstream.query(definition_id))


def find_by_name(name: str) -> list[DescribeJobDefinition]:
    """The definitions named exactly `name` (a Query on the by-create-time index, filtered; never a Scan)."""
    table = _table()
    found = table.by_create_time.query(ALL_DEFINITIONS, filter_condition=table.name == name)
    return [get(record.job_definition_id) for record in found]
