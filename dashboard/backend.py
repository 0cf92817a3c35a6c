"""The one object every page reads and acts through: the library's Service, or a Client of a REST API.

`shiftwork dashboard` starts Streamlit with SHIFTWORK_API_URL (and SHIFTWORK_API_TOKEN) set: the API of the running
`shiftwork up`, or of a deployed stack (`--endpoint`). Without them (tests, `streamlit run` in a process whose
environment already points at a stack) it is the Service over that stack. Both have the same methods.
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from shiftwork.config import ENV_API_TOKEN, ENV_API_URL

READ_TTL_SECONDS = 2  # a list or a record read by one render is reused by the next ones within this time


@st.cache_resource(show_spinner=False)
def _backend(endpoint: str | None, token: str | None) -> Any:
    if endpoint:
        from shiftwork.connection import client_for

        return client_for(endpoint.rstrip("/"), token)
    from shiftwork.api.service import Service

    return Service()


def backend() -> Any:
    """Service or Client, made once per process (per endpoint)."""
    return _backend(os.environ.get(ENV_API_URL) or None, os.environ.get(ENV_API_TOKEN) or None)


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def definition_name(definition_id: str) -> str | None:
    """A definition's name (an upstream's, for "after X"), None once it is deleted."""
    from shiftwork.errors import NotFound

    try:
        return str(backend().definitions.get(definition_id).name)
    except NotFound:
        return None
