"""Shiftwork's dashboard: this script only routes (st.navigation); each page renders itself.

Run it with `shiftwork dashboard` (which points it at the running stack or at --endpoint).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent

st.set_page_config(page_title="Shiftwork", page_icon=":material/schedule:", layout="wide")

PAGES = {
    "Monitor": [
        st.Page(HERE / "views/overview.py", title="Overview", icon=":material/monitoring:", url_path="overview"),
        st.Page(HERE / "views/jobs.py", title="Jobs", icon=":material/list:", url_path="jobs", default=True),
        st.Page(HERE / "views/runs.py", title="Workflow runs", icon=":material/account_tree:", url_path="runs"),
        st.Page(
            HERE / "views/definitions.py", title="Definitions", icon=":material/event_repeat:", url_path="definitions"
        ),
    ],
    "Act": [
        st.Page(HERE / "views/create.py", title="Create", icon=":material/add_circle:", url_path="create"),
    ],
    # detail pages: reached from a list (a link or a selection) with the id in the URL, so not in the menu
    "Details": [
        st.Page(HERE / "views/job.py", title="Job", icon=":material/description:", url_path="job", visibility="hidden"),
        st.Page(
            HERE / "views/run.py", title="Run", icon=":material/account_tree:", url_path="run", visibility="hidden"
        ),
        st.Page(
            HERE / "views/definition.py",
            title="Definition",
            icon=":material/event:",
            url_path="definition",
            visibility="hidden",
        ),
    ],
}

st.navigation(PAGES).run()
