"""Following next_token: one loop for every list, whoever serves the pages (the store, the REST API)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel


class Page(Protocol):
    next_token: str | None


Q = TypeVar("Q", bound=BaseModel)
P = TypeVar("P", bound=Page)
T = TypeVar("T")


def pages(fetch: Callable[[Q], P], query: Q) -> Iterator[P]:
    """Each page `fetch` answers for `query`, then for its next_token, until there is none."""
    while True:
        page = fetch(query)
        yield page
        if not page.next_token:
            return
        query = query.model_copy(update={"next_token": page.next_token})


def take(fetch: Callable[[Q], P], query: Q, items: Callable[[P], Sequence[T]], limit: int) -> list[T]:
    """The first `limit` items of the pages `fetch` answers, reading no page more than it needs."""
    found: list[T] = []
    for page in pages(fetch, query):
        found += items(page)[: limit - len(found)]
        if len(found) >= limit:
            break
    return found


def whole_query(query: Q | None, model: type[Q], **replacing: Any) -> Q:
    """`query` (default: the model's defaults) in large pages from the start, with the given fields replaced."""
    changes = {key: value for key, value in replacing.items() if value is not None}
    return (query or model()).model_copy(update={**changes, "next_token": None, "max_items": 1000})
