"""Shiftwork: run Jupyter notebooks and Python workflows on a schedule, serverless on AWS.

Public API only; importing this package has no side effects.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
