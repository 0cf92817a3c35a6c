"""Smoke: a hand-written spec runs on the embedded stack."""

from __future__ import annotations

import time

from shiftwork.api.service import Service
from shiftwork.models.workflow import RunWorkflow, TaskSpec, WorkflowSpec

MODULE = """
def load(day):
    print("loading", day)
    return [1.0, 2.0, 3.0]

def fit(data, alpha):
    return {"alpha": alpha, "score": sum(data) * alpha}

def best(models):
    return max(models, key=lambda m: m["score"])

def square(x):
    return x * x

def total(xs):
    return sum(xs)
"""


def test_smoke(stack, tmp_path):
    (tmp_path / "pipe.py").write_text(MODULE)
    spec = WorkflowSpec(
        name="smoke",
        function="pipe:daily",
        module_file="pipe.py",
        parameters={"day": "d0"},
        tasks=[
            TaskSpec(name="load", function="pipe:load", arguments={"day": {"$param": "day"}}),
            TaskSpec(name="fit_0", function="pipe:fit", arguments={"data": {"$ref": "load"}, "alpha": 0.5}),
            TaskSpec(name="fit_1", function="pipe:fit", arguments={"data": {"$ref": "load"}, "alpha": 2.0}),
            TaskSpec(name="best", function="pipe:best", arguments={"models": [{"$ref": "fit_0"}, {"$ref": "fit_1"}]}),
            TaskSpec(name="square", function="pipe:square", arguments={"x": {"$ref": "load"}}, map_argument="x"),
            TaskSpec(name="total", function="pipe:total", arguments={"xs": {"$ref": "square"}}),
        ],
    )
    service = Service()
    t0 = time.time()
    run = service.workflows.run(RunWorkflow(spec=spec, parameters={"day": "d1"}), {"pipe.py": tmp_path / "pipe.py"})
    done = service.wait_job(run.job_id, timeout=120)
    print("took", time.time() - t0)
    for t in service.workflows.tasks(run.job_id):
        print(t.task_id, t.status, t.status_message, t.result_key, t.attempt)
    assert done.status == "COMPLETED", done.status_message
    assert service.workflows.result_value(run.job_id, "best") == {"alpha": 2.0, "score": 12.0}
    assert service.workflows.result_value(run.job_id, "total") == 14.0


def test_lambda_chain(stack, tmp_path):
    (tmp_path / "pipe.py").write_text(MODULE)
    spec = WorkflowSpec(name="chain", function="pipe:daily", module_file="pipe.py", parameters={}, tasks=[
        TaskSpec(name="load", function="pipe:load", arguments={"day": "x"}, executor="lambda"),
        TaskSpec(name="total", function="pipe:total", arguments={"xs": {"$ref": "load"}}, executor="lambda"),
        TaskSpec(name="square", function="pipe:square", arguments={"x": {"$ref": "total"}}, executor="lambda"),
    ])
    service = Service()
    t0 = time.time()
    run = service.workflows.run(RunWorkflow(spec=spec), {"pipe.py": tmp_path / "pipe.py"})
    done = service.wait_job(run.job_id, timeout=120)
    print("took", time.time() - t0)
    for t in service.workflows.tasks(run.job_id):
        print(t.task_id, t.status, t.submit_time - run.create_time, t.start_time - run.create_time, t.end_time - run.create_time)
    assert done.status == "COMPLETED", done.status_message
    assert service.workflows.result_value(run.job_id, "square") == 36.0
    events, _ = service.workflows.logs(run.job_id, "load")
    assert [e["message"] for e in events] == ["loading x"]
