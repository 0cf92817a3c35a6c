"""Where an element is on a page: what a user sees right under a widget (an error shown beside its field)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block


def under(app: AppTest, key: str) -> object:
    """The element directly below the widget with this key, in page order (blocks themselves skipped)."""
    elements = [node for node in app.main if not isinstance(node, Block)]
    for index, element in enumerate(elements):
        if getattr(element, "key", None) == key:
            return elements[index + 1] if index + 1 < len(elements) else None
    raise AssertionError(f"no widget {key!r} on the page")
