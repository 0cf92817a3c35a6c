"""Session-state keys and widget keys the pages share, written once (tests address widgets by these)."""

from __future__ import annotations

# query parameters a detail page is opened with (links and st.switch_page carry them)
JOB_PARAM = "job"
DEFINITION_PARAM = "definition"
RUN_PARAM = "run"
