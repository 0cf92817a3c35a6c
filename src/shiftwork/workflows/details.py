"""A run's details: per task its times, state, resources and estimated cost; totals for the run."""

from __future__ import annotations

from shiftwork.models import DescribeJob
from shiftwork.models.workflow import DescribeTask, RunDetails, TaskDetails


def _seconds(start: int | None, end: int | None) -> float | None:
    return None if start is None or end is None else max(0.0, (end - start) / 1000)


def task_details(task: DescribeTask) -> TaskDetails:
    from shiftwork.models.resources import STACK_ARCH, describe_rounding, estimate_cost

    run_seconds = _seconds(task.start_time, task.end_time)
    launch_seconds = _seconds(task.submit_time, task.start_time)
    cost = None
    if task.reused_from is None and task.map_count is None and task.resources is not None:
        billed = _seconds(task.provision_time or task.submit_time, task.end_time)  # billed from provisioning on
        cost = (
            estimate_cost(task.resources, task.executor, billed or 0.0, arch=STACK_ARCH) if billed is not None else None
        )
    sizing = describe_rounding(task.requested, task.resources) if task.resources is not None else None
    return TaskDetails(
        **task.model_dump(), launch_seconds=launch_seconds, run_seconds=run_seconds, cost_usd=cost, sizing=sizing
    )


def run_details(run: DescribeJob, tasks: list[DescribeTask]) -> RunDetails:
    detailed = [task_details(task) for task in tasks]
    own = [t for t in detailed if t.reused_from is None and t.map_count is None]
    return RunDetails(
        run=run.model_dump(mode="json"),
        tasks=detailed,
        total_cost_usd=round(sum(t.cost_usd or 0.0 for t in own), 6),
        wall_seconds=_seconds(run.start_time or run.create_time, run.end_time),
        launch_seconds_total=round(sum(t.launch_seconds or 0.0 for t in own), 3),
        run_seconds_total=round(sum(t.run_seconds or 0.0 for t in own), 3),
        reused=sum(1 for t in detailed if t.reused_from is not None),
    )
