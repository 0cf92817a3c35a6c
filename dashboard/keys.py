"""Session-state keys and widget keys the pages share, written once (tests address widgets by these)."""

from __future__ import annotations

# query parameters a detail page is opened with (links and st.switch_page carry them)
JOB_PARAM = "job"
DEFINITION_PARAM = "definition"
RUN_PARAM = "run"

# workflow runs (pages/runs.py) and one run (pages/run.py)
RUNS_STATUS = "runs_status"
RUNS_DEFINITION = "runs_definition"
RUNS_NAME = "runs_name"
RUNS_OPEN = "runs_open"
RUNS_OPEN_BUTTON = "runs_open_button"
RUNS_NEXT = "runs_next"
RUNS_PREVIOUS = "runs_previous"
RUNS_TOKENS = "runs_tokens"  # session state: the next_tokens of the pages before this one
RUN_TASK = "run_task"
RUN_STOP = "run_stop"
RUN_RERUN_PARTIAL = "run_rerun_partial"
RUN_RERUN_FULL = "run_rerun_full"

# overview (pages/overview.py)
OVERVIEW_WINDOW = "overview_window"
