"""JupyterLab's Notebook Jobs on Shiftwork: `--SchedulerApp.scheduler_class=shiftwork.jupyter.ShiftworkScheduler`.

A translation layer only: jupyter-scheduler's models and calls to Shiftwork's, over its Service or Client. Needs
the [jupyter] extra (jupyter-scheduler, JupyterLab).
"""

from shiftwork.jupyter.environments import ShiftworkEnvironmentManager, ShiftworkExecutionManager
from shiftwork.jupyter.scheduler import ShiftworkScheduler

__all__ = ["ShiftworkEnvironmentManager", "ShiftworkExecutionManager", "ShiftworkScheduler"]
