"""The query parameters every list route takes: a page's size and the token of the page after it."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from shiftwork.models.limits import MAX_QUERY_TEXT

MaxItems = Annotated[int, Query(ge=1, le=1000)]
NextToken = Annotated[
    str | None, Query(max_length=MAX_QUERY_TEXT, description="The previous page's next_token, with the same query.")
]
