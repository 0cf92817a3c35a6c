"""Fire -> idempotent job -> launch; and completion handling when the runner's task stops.

Light imports only: this is the dispatch Lambda's path (no papermill, nbconvert, pandas or streamlit).
"""

from __future__ import annotations

from shiftwork.dispatch.completion import handle_task_state_change
from shiftwork.dispatch.dispatcher import dispatch_job

__all__ = ["dispatch_job", "handle_task_state_change"]
