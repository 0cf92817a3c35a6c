"""The rule for every background loop of the embedded stack: an error is logged with its traceback, the loop goes on."""

from __future__ import annotations

import itertools
import logging
import threading

import pytest

from shiftwork.launchers.local import stop_reason
from shiftwork.local.background import run_loop


def test_a_loop_logs_each_error_with_its_traceback_and_goes_on(caplog):
    stopping = threading.Event()
    calls = itertools.count(1)

    def step():
        call = next(calls)
        if call in (1, 3):
            raise ValueError(f"bad step {call}")
        if call == 4:
            stopping.set()

    with caplog.at_level(logging.DEBUG, logger="shiftwork.local.background"):
        run_loop("the test loop", step, stopping)

    assert next(calls) == 5  # it went on after each error, and stopped when asked
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == ["the test loop failed; carrying on"] * 2
    assert [str(r.exc_info[1]) for r in errors] == ["bad step 1", "bad step 3"]  # with the traceback


def test_an_error_while_the_loop_is_stopping_is_no_alarm(caplog):
    stopping = threading.Event()

    def step():
        stopping.set()
        raise ConnectionError("the server is already gone")

    with caplog.at_level(logging.DEBUG, logger="shiftwork.local.background"):
        run_loop("the test loop", step, stopping)
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]


@pytest.mark.parametrize(
    ("stop_requested", "reason", "timeout", "expected"),
    [
        (True, "Stopped by user (shiftwork job stop)", None, "Stopped by user (shiftwork job stop)"),
        (True, "Stopped by user (shiftwork job stop)", 5.0, "Stopped by user (shiftwork job stop)"),
        (True, None, None, "Task stopped by StopTask (no reason given)"),  # killed the monitor before
        (True, "", 5.0, "Task stopped by StopTask (no reason given)"),
        (False, None, 5.0, "timed out after 5 s"),
        (False, None, 0.5, "timed out after 0.5 s"),
        (False, None, None, "timed out"),
    ],
)
def test_every_stop_has_a_reason(stop_requested, reason, timeout, expected):
    assert stop_reason(stop_requested, reason, timeout) == expected
