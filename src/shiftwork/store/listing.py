"""Lists over an index, in any order, a page at a time with keyset next_tokens: shared by jobs and definitions."""

from __future__ import annotations

import base64
import hashlib
import json
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from functools import cmp_to_key, partial, reduce
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pynamodb.expressions.condition import Condition

from shiftwork.errors import InvalidSpec
from shiftwork.models.job import DEFAULT_SORT, SortDirection, SortField

MAX_SORTED_ITEMS = 10_000  # a list sorted by anything but create_time holds at most this many matches
_BAD_TOKEN = "pass the next_token of the previous page unchanged"

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class Listing(Generic[T]):
    """One list request over one index (whose range key is create_time): what it reads, what matches, the order."""

    kind: str  # "jobs", "job definitions": for messages
    index: Any  # a pynamodb GlobalSecondaryIndex
    hash_name: str  # the index's hash key attribute and the value queried
    hash_value: str
    id_name: str  # the table's hash key: the last tiebreak
    to_dto: Callable[[Any], T]
    query: BaseModel  # the List...Query: its sort_by, and its filters for the token's fingerprint
    filters: str  # the filters a user can add, for the message when too many match
    filter_condition: Condition | None = None
    range_key_condition: Condition | None = None
    matches: Callable[[T], bool] = field(default=lambda item: True)

    @property
    def sort_by(self) -> list[SortField]:
        return list(getattr(self.query, "sort_by", DEFAULT_SORT))

    @property
    def fingerprint(self) -> str:
        criteria = self.query.model_dump(mode="json", exclude={"max_items", "next_token"})
        return hashlib.sha256(json.dumps(criteria, sort_keys=True).encode()).hexdigest()[:16]


def read_page(listing: Listing[T], max_items: int, next_token: str | None) -> tuple[list[T], str | None]:
    """One page of `listing` and the next page's token (None after the last page).

    Sorted by create_time alone (either direction), the page is read straight from the index in that
    direction: a Query for about max_items items, however many exist. Sorted by anything else, every match is
    read through the index (at most MAX_SORTED_ITEMS, else InvalidSpec naming sort_by: filter more or sort by
    create_time), sorted in memory with missing values last and the id as the final tiebreak, and cut after the
    previous page's last item. next_token is keyset pagination either way: base64 JSON of the last item's sort
    values and id, plus a fingerprint of the query's filters and sort_by (a token used with another query is
    refused). Items that do not change between requests are never repeated or skipped.
    """
    after = _decode_after(next_token, listing)
    if _in_index_order(listing):
        items, more = _read_in_index_order(listing, max_items, after)
    else:
        try:
            items, more = _read_sorted(listing, max_items, after)
        except TypeError as error:  # a token whose values are not of the sort fields' types
            raise InvalidSpec("next_token", next_token, _BAD_TOKEN) from error
    if not (more and items):
        return items, None
    state = {"q": listing.fingerprint, "after": _sort_key(items[-1], listing)}
    return items, base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def _read_in_index_order(listing: Listing[T], max_items: int, after: list[Any] | None) -> tuple[list[T], bool]:
    start = None
    if after is not None:
        start = {
            listing.hash_name: {"S": listing.hash_value},
            "create_time": {"N": str(after[0])},
            listing.id_name: {"S": after[1]},
        }
    records = listing.index.query(
        listing.hash_value,
        range_key_condition=listing.range_key_condition,
        filter_condition=listing.filter_condition,
        scan_index_forward=listing.sort_by[0].direction == SortDirection.ASC,
        last_evaluated_key=start,
        # unfiltered, one more than a page tells whether another follows; filtered, a few pages' worth per request:
        # most filters keep most items (hiding SKIPPED runs), and each item read costs capacity (and, on moto,
        # time: a page of 50 read 1000 items and took 3.8 s over 10,000 jobs, 1.0 s with 4 pages' worth)
        page_size=max_items + 1 if listing.filter_condition is None else min(1000, 4 * (max_items + 1)),
    )
    items: list[T] = []
    for record in records:
        item = listing.to_dto(record)
        if listing.matches(item):
            items.append(item)
            if len(items) > max_items:
                return items[:max_items], True
    return items, False


def _read_sorted(listing: Listing[T], max_items: int, after: list[Any] | None) -> tuple[list[T], bool]:
    records = listing.index.query(
        listing.hash_value,
        range_key_condition=listing.range_key_condition,
        filter_condition=listing.filter_condition,
        page_size=1000,
    )
    keyed: list[tuple[list[Any], T]] = []
    for record in records:
        item = listing.to_dto(record)
        if not listing.matches(item):
            continue
        keyed.append((_sort_key(item, listing), item))
        if len(keyed) > MAX_SORTED_ITEMS:
            given = ",".join(("-" if f.direction == SortDirection.DESC else "") + f.name for f in listing.sort_by)
            raise InvalidSpec(
                "sort_by",
                given,
                f"more than {MAX_SORTED_ITEMS} {listing.kind} match: narrow the list with filters "
                f"({listing.filters}) or sort by create_time (either direction), which has no limit",
            )
    directions = [f.direction for f in listing.sort_by]
    order = cmp_to_key(partial(_compare, directions=directions))
    keyed.sort(key=lambda pair: order(pair[0]))
    if after is not None:
        keyed = [pair for pair in keyed if _compare(pair[0], after, directions) > 0]
    return [item for _, item in keyed[:max_items]], len(keyed) > max_items


def _in_index_order(listing: Listing[Any]) -> bool:
    return [f.name for f in listing.sort_by] == ["create_time"]


def _sort_key(item: BaseModel, listing: Listing[Any]) -> list[Any]:
    values = [getattr(item, f.name) for f in listing.sort_by] + [getattr(item, listing.id_name)]
    return [value.value if isinstance(value, Enum) else value for value in values]


def _compare(a: list[Any], b: list[Any], directions: list[SortDirection]) -> int:
    """-1, 0 or 1: a before, with or after b; missing values last either way; the trailing id ascending."""
    for x, y, direction in zip(a, b, [*directions, SortDirection.ASC], strict=True):
        if x == y:
            continue
        if x is None or y is None:
            return 1 if x is None else -1
        before = x < y if direction == SortDirection.ASC else x > y
        return -1 if before else 1
    return 0


def _decode_after(token: str | None, listing: Listing[Any]) -> list[Any] | None:
    """The previous page's last sort key, from a token this query made; else InvalidSpec naming next_token."""
    if not token:
        return None
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        raise InvalidSpec("next_token", token, _BAD_TOKEN) from None
    after = state.get("after") if isinstance(state, dict) else None
    if not isinstance(after, list) or len(after) != len(listing.sort_by) + 1 or not isinstance(after[-1], str):
        raise InvalidSpec("next_token", token, _BAD_TOKEN)
    if _in_index_order(listing) and (type(after[0]) is not int):  # the index's create_time, a number
        raise InvalidSpec("next_token", token, _BAD_TOKEN)
    if state.get("q") != listing.fingerprint:
        raise InvalidSpec(
            "next_token",
            token,
            "it belongs to a list with other filters or sort_by: repeat that query with it, or leave it out to "
            "start from the first page",
        )
    return after


def all_of(conditions: list[Condition]) -> Condition | None:
    return reduce(operator.and_, conditions) if conditions else None
