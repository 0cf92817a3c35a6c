"""Following next_token: one loop for every list, whoever serves the pages (the store, the REST API)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel


class Page(Protocol):
    next_token: str | None


Q = TypeVar("Q", bound=BaseModel)
P = TypeVar("P", bound=Page)


def pages(fetch: Callable[[Q], P], query: Q) -> Iterator[P]:
    """Each page `fetch` answers for `query`, then for its next_token, until there is none."""
    while True:
        page = fetch(query)
        yield page
        if not page.next_token:
            return
        query = query.model_copy(update={"next_token": page.next_token})


def whole_query(query: Q | None, model: type[Q], **replacing: Any) -> Q:
    """`query` (default: the model's defaults) in large pages from the start, with the given fields replaced."""
    changes = {key: value for key, value in replacing.items() if value is not None}
    return (query or model()).model_copy(update={**changes, "next_token": None, "max_items": 1000})
