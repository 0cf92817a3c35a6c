"""Workflow tests run on the session's embedded stack (tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def service(stack: object):
    from shiftwork.api.service import Service

    return Service()
