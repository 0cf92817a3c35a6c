"""The run views' computations on tasks built here: DOT text, Gantt bars, the runs list's rows and query."""

from __future__ import annotations

from dashboard.helpers.runs import (
    MAX_INSTANCES_DRAWN,
    STATE_COLOURS,
    dag_dot,
    details_rows,
    gantt_rows,
    run_row,
    runs_query,
)
from shiftwork.models import DescribeJob, Status
from shiftwork.models.resources import Resources
from shiftwork.models.workflow import DescribeTask, RunDetails, TaskDetails, TaskStatus
from tests.dashboard.charts import dot_edges, dot_nodes

RUN = "r1"


def task(task_id: str, status: TaskStatus = TaskStatus.COMPLETED, **fields: object) -> DescribeTask:
    name = task_id.split("[")[0]
    return DescribeTask(job_id=RUN, task_id=task_id, name=name, status=status, **fields)


def test_a_mapped_task_with_many_instances_is_one_stacked_node_with_their_counts():
    count = MAX_INSTANCES_DRAWN + 1
    statuses = [TaskStatus.FAILED] + [TaskStatus.COMPLETED] * (count - 1)
    tasks = [
        task("load"),
        task("fit", TaskStatus.FAILED, upstream=["load"], map_count=count),
        *(task(f"fit[{i}]", s, upstream=["load"], map_index=i) for i, s in enumerate(statuses)),
        task("best", TaskStatus.UPSTREAM_FAILED, upstream=["fit"]),
    ]
    dot = dag_dot(tasks)
    nodes = dot_nodes(dot)
    assert set(nodes) == {"load", "fit", "best"}
    assert nodes["fit"]["shape"] == "box3d" and nodes["fit"]["fillcolor"] == STATE_COLOURS[TaskStatus.FAILED]
    assert f"{count} instances: 1 FAILED, {count - 1} COMPLETED" in nodes["fit"]["label"]
    assert dot_edges(dot) == {("load", "fit"), ("fit", "best")}


def test_a_few_instances_are_a_cluster_each_coloured_by_its_own_state():
    tasks = [
        task("load"),
        task("fit", TaskStatus.IN_PROGRESS, upstream=["load"], map_count=2),
        task("fit[0]", TaskStatus.COMPLETED, upstream=["load"], map_index=0),
        task("fit[1]", TaskStatus.IN_PROGRESS, upstream=["load"], map_index=1),
        task("best", TaskStatus.PENDING, upstream=["fit"]),
    ]
    dot = dag_dot(tasks)
    nodes = dot_nodes(dot)
    assert {k: v["fillcolor"] for k, v in nodes.items()} == {
        "load": STATE_COLOURS[TaskStatus.COMPLETED],
        "fit[0]": STATE_COLOURS[TaskStatus.COMPLETED],
        "fit[1]": STATE_COLOURS[TaskStatus.IN_PROGRESS],
        "best": STATE_COLOURS[TaskStatus.PENDING],
    }
    assert f'color="{STATE_COLOURS[TaskStatus.IN_PROGRESS]}"' in dot.split('subgraph "cluster_fit"')[1]
    assert dot_edges(dot) == {("load", "fit[0]"), ("load", "fit[1]"), ("fit[0]", "best"), ("fit[1]", "best")}


def test_a_reused_task_says_so():
    nodes = dot_nodes(dag_dot([task("load", reused_from="r0"), task("fit", upstream=["load"])]))
    assert nodes["load"]["label"] == "load\\nCOMPLETED (reused)" and nodes["fit"]["label"] == "fit\\nCOMPLETED"


def test_a_mapped_task_not_yet_expanded_is_a_plain_node():
    tasks = [task("load", TaskStatus.IN_PROGRESS), task("fit", TaskStatus.PENDING, upstream=["load"])]
    assert dot_edges(dag_dot(tasks)) == {("load", "fit")}


def test_the_gantt_has_provisioning_then_running_and_a_running_task_ends_now():
    tasks = [
        task("done", submit_time=1_000, provision_time=1_100, start_time=3_000, end_time=4_000),
        task("live", TaskStatus.IN_PROGRESS, submit_time=2_000, start_time=2_500),
        task("queued", TaskStatus.QUEUED, submit_time=4_000),
        task("pending", TaskStatus.PENDING),
        task("reused", reused_from="r0", start_time=500, end_time=900),
    ]
    rows = gantt_rows(tasks, now_ms=9_000)
    seen = [(r["task"], r["phase"], r["seconds"], r["state"]) for r in rows]
    assert seen == [
        ("done", "provisioning", 2.0, "COMPLETED"),
        ("done", "running", 1.0, "COMPLETED"),
        ("live", "provisioning", 0.5, "IN_PROGRESS"),
        ("live", "running", 6.5, "IN_PROGRESS"),  # to now
        ("queued", "provisioning", 5.0, "QUEUED"),  # still waiting for its container
    ]  # the reused task ran in the original run: its times are that run's


def test_the_runs_list_row_counts_completed_and_failed_tasks():
    run = DescribeJob(
        job_id=RUN, name="daily", status=Status.FAILED, input_filename="m.py", create_time=0, update_time=0,
        start_time=1_000, end_time=61_000, output_prefix="p/", kind="workflow", original_run_id="r0",
    )  # fmt: skip
    tasks = [task("a"), task("b", TaskStatus.FAILED), task("c", TaskStatus.UPSTREAM_FAILED), task("d")]
    row = run_row(run, tasks, now_ms=0)
    assert (row["completed"], row["failed"], row["duration_s"], row["rerun_of"]) == ("2/4", 2, 60.0, "r0")


def test_the_runs_query_asks_for_workflow_runs_with_the_filters_given():
    query = runs_query("FAILED", "def-1", "  daily ", "tok")
    assert (query.kind, query.status, query.job_definition_id, query.name, query.next_token) == (
        "workflow", Status.FAILED, "def-1", "daily", "tok"
    )  # fmt: skip
    blank = runs_query(None, "", "  ")
    assert (blank.status, blank.job_definition_id, blank.name) == (None, None, None)


def test_the_details_rows_show_the_fargate_rounding():
    rounded = TaskDetails(
        job_id=RUN, task_id="fit", name="fit", status=TaskStatus.COMPLETED, requested=Resources(cpu=0.3, memory="700m"),
        resources=Resources(cpu=0.5, memory_mb=1024), sizing="0.3 vCPU, 700 MB -> 0.5 vCPU, 1 GB", cost_usd=0.001,
    )  # fmt: skip
    details = RunDetails(run={}, tasks=[rounded], total_cost_usd=0.001)
    (row,) = details_rows(details)
    assert (row["requested"], row["launched"], row["cost_usd"]) == (
        "0.3 vCPU, 700 MB", "0.3 vCPU, 700 MB -> 0.5 vCPU, 1 GB", 0.001
    )  # fmt: skip
