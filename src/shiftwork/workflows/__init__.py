"""Workflows: DAGs of Python functions and notebooks, each task its own container.

The SDK (@task, @workflow, notebook_task, load_workflow) is loaded when first used: the dispatch path imports this
package's core modules (advance, completion) and must not pay for the models the SDK needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Param": "shiftwork.workflows.dag",
    "TaskResult": "shiftwork.workflows.dag",
    "Task": "shiftwork.workflows.tasks",
    "task": "shiftwork.workflows.tasks",
    "notebook_task": "shiftwork.workflows.tasks",
    "Workflow": "shiftwork.workflows.define",
    "workflow": "shiftwork.workflows.define",
    "load_workflow": "shiftwork.workflows.code",
}
__all__ = ["Param", "Task", "TaskResult", "Workflow", "load_workflow", "notebook_task", "task", "workflow"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'shiftwork.workflows' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:
    from shiftwork.workflows.code import load_workflow
    from shiftwork.workflows.dag import Param, TaskResult
    from shiftwork.workflows.define import Workflow, workflow
    from shiftwork.workflows.tasks import Task, notebook_task, task
