"""Workflows in code: @task functions wired together in a @workflow body become a DAG spec (WorkflowSpec)."""

from shiftwork.workflows.code import import_callable, load_workflow
from shiftwork.workflows.dag import Param, TaskResult
from shiftwork.workflows.define import Workflow, workflow
from shiftwork.workflows.tasks import Task, notebook_task, task

__all__ = [
    "Param",
    "Task",
    "TaskResult",
    "Workflow",
    "import_callable",
    "load_workflow",
    "notebook_task",
    "task",
    "workflow",
]
