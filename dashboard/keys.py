"""Session-state keys and widget keys the pages share, written once (tests address widgets by these)."""

from __future__ import annotations

# query parameters a detail page is opened with (links and st.switch_page carry them)
JOB_PARAM = "job"
DEFINITION_PARAM = "definition"
RUN_PARAM = "run"

# Jobs page (views/jobs.py): the widgets tests and the browser test address
JOBS_NAME = "jobs_name"  # "Name starts with"
JOBS_OPEN = "jobs_open"  # "Open a job": the shown jobs, "<name> · <id[:8]>"
JOBS_OPEN_BUTTON = "jobs_open_button"
JOBS_TABLE = "jobs_table"  # the table's selection; the key gets a suffix each time the rows shown change
JOBS_STATUS = "jobs_status"
JOBS_DEFINITION = "jobs_definition"
JOBS_TAG = "jobs_tag"
JOBS_STARTED_FROM = "jobs_started_from"
JOBS_STARTED_TO = "jobs_started_to"
JOBS_SORT = "jobs_sort"
JOBS_DESCENDING = "jobs_descending"
JOBS_SHOW_SKIPPED = "jobs_show_skipped"
JOBS_PAGE_SIZE = "jobs_page_size"
JOBS_NEXT = "jobs_next"
JOBS_PREVIOUS = "jobs_previous"
JOBS_STOP = "jobs_stop"
JOBS_DELETE = "jobs_delete"
JOBS_DELETE_CONFIRM = "jobs_delete_confirm"
JOBS_DOWNLOAD = "jobs_download"

# Job page (views/job.py)
JOB_STOP = "job_stop"
JOB_DELETE = "job_delete"
JOB_DELETE_CONFIRM = "job_delete_confirm"
JOB_RERUN = "job_rerun"

# workflow runs (views/runs.py) and one run (views/run.py)
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

# overview (views/overview.py)
OVERVIEW_WINDOW = "overview_window"
