"""The one rule for the embedded stack's background loops: an error is logged with its traceback and the loop goes on.

A thread that dies silently takes its duty with it (the launcher's monitor: every later job stays QUEUED), so no
loop body runs unguarded. Once its loop is stopping, an error is expected (the server may already be gone) and is
logged without a traceback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

ERROR_PAUSE_SECONDS = 0.5  # after a failed step, so a persistent fault does not spin a core


def guarded(what: str, step: Callable[[], object], stopping: threading.Event | None = None) -> bool:
    """Run one step of a background loop; True if it returned, False if it raised (and was logged)."""
    try:
        step()
    except Exception:
        if stopping is not None and stopping.is_set():
            log.debug("%s failed while stopping", what, exc_info=True)
        else:
            log.exception("%s failed; carrying on", what)
        return False
    return True


def run_loop(what: str, step: Callable[[], object], stopping: threading.Event, *, idle: float = 0.0) -> None:
    """Call step() until stopping is set, waiting `idle` seconds between calls (more after an error)."""
    while not stopping.is_set():
        if guarded(what, step, stopping):
            if idle:
                stopping.wait(idle)
        else:
            stopping.wait(max(idle, ERROR_PAUSE_SECONDS))
