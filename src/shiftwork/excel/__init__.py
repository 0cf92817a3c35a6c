"""Python functions as Excel worksheet functions: Addin, expose, ExcelError, and the protocol clients speak."""

from __future__ import annotations

from shiftwork.excel.addin import Addin, ExposedFunction
from shiftwork.excel.errors import ExcelError

__all__ = ["Addin", "ExcelError", "ExposedFunction"]
