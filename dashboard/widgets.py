"""Widgets more than one page draws the same way."""

from __future__ import annotations

import streamlit as st


def pager(
    tokens: list[str | None],
    next_token: str | None,
    *,
    previous_key: str,
    next_key: str,
    labels: tuple[str, str] = ("Previous page", "Next page"),
) -> None:
    """Previous/next buttons over a stack of next_tokens (the last one is the shown page's; [None] is the first)."""
    back, forward, _ = st.columns([1, 1, 6])
    if back.button(labels[0], key=previous_key, disabled=len(tokens) == 1):
        tokens.pop()
        st.rerun()
    if forward.button(labels[1], key=next_key, disabled=next_token is None):
        tokens.append(next_token)
        st.rerun()


def pointer_to_list(title: str, message: str, page: str, label: str, icon: str) -> None:
    """A detail page opened without an id: its title, what to do, and a link to the list to pick one from."""
    st.title(title)
    st.info(message)
    st.page_link(page, label=label, icon=icon)
