"""The DAG comes from the code: what a @workflow body records, and what it refuses, naming the task."""

from __future__ import annotations

import json
import sys

import pytest
from pydantic import ValidationError

from shiftwork.errors import DuplicateJobNameError, InvalidSpec, NotAValueError
from shiftwork.models.limits import as_invalid_spec
from shiftwork.models.workflow import REQUIRED, WorkflowSpec, run_parameters
from shiftwork.workflows import Workflow
from tests.unit.workflow_modules import (
    Project,
    task_of,
)


def test_the_issue_example_records_its_dag(example: Workflow) -> None:
    spec = example.spec()
    assert spec.names == ["load", "fit_0", "fit_1", "fit_2", "best", "alphas", "score", "report"]
    assert (spec.name, spec.function, spec.module_file) == ("daily-models", "pipeline:daily", "pipeline.py")
    assert spec.parameters == {"day": "2026-01-01"}
    assert spec.python_requirements == ["numpy"]
    assert task_of(spec, "load")["arguments"] == {"day": {"$param": "day"}}
    fit_1 = task_of(spec, "fit_1")
    assert fit_1["function"] == "pipeline:fit"
    assert fit_1["arguments"] == {"data": {"$ref": "load"}, "alpha": 1.0}
    assert (fit_1["retries"], fit_1["timeout_seconds"]) == (2, 600.0)
    assert task_of(spec, "best")["arguments"] == {"models": [{"$ref": "fit_0"}, {"$ref": "fit_1"}, {"$ref": "fit_2"}]}
    assert spec.roots() == ["load", "alphas"]
    assert spec.downstream()["load"] == ["fit_0", "fit_1", "fit_2", "score"]


def test_resources_are_the_tasks_own_or_else_the_workflows(example: Workflow) -> None:
    spec = example.spec()
    assert spec.task("load").resources.describe() == "0.5 vCPU, 512 MB"
    assert spec.task("fit_0").resources.describe() == "1 vCPU, 2 GB"
    assert spec.task("best").resources.describe() == "1 vCPU, 1 GB"  # @task() asks for nothing: the workflow's
    assert spec.task("report").resources.describe() == "1 vCPU, 1 GB"


def test_map_fans_out_over_a_tasks_list_and_fans_in_downstream(example: Workflow) -> None:
    spec = example.spec()
    score = task_of(spec, "score")
    assert score["map_argument"] == "alpha"  # the first parameter not given by keyword
    assert score["arguments"] == {"alpha": {"$ref": "alphas"}, "data": {"$ref": "load"}}
    report = task_of(spec, "report")
    assert (report["kind"], report["notebook"], report["function"]) == ("notebook", "report.ipynb", None)
    assert report["arguments"] == {"winner": {"$ref": "best"}, "day": {"$param": "day"}, "scores": {"$ref": "score"}}


def test_the_spec_round_trips_through_json_and_is_recorded_once(example: Workflow) -> None:
    spec = example.spec()
    assert WorkflowSpec.model_validate_json(spec.model_dump_json()) == spec
    assert WorkflowSpec.model_validate(json.loads(json.dumps(spec.model_dump(mode="json")))) == spec
    assert example.spec() is spec
    runs = sys.modules["pipeline"].BODY_RUNS
    assert [repr(day) for day in runs] == ["<Param 'day': known when a run is given it>"]  # once, with a placeholder


def test_tasks_outside_a_workflow_body_are_plain_functions(example: Workflow) -> None:
    module = sys.modules["pipeline"]
    example.spec()  # the recording is over: calls run again
    assert module.fit([1.0, 2.0], 2.0) == {"alpha": 2.0, "score": 6.0}
    assert module.score.map([1.0, 10.0], data=[1.0, 2.0]) == [3.0, 30.0]
    assert module.fit.fn is not module.fit and module.fit.__name__ == "fit"


def test_deploy_options_are_definition_fields(example: Workflow) -> None:
    assert example.deploy_options() == {
        "name": "daily-models",
        "schedule": "0 0 6 * * 1,5",
        "timezone": "Europe/London",
        "max_running_jobs": 2,
    }


def test_a_parameter_without_a_default_is_required_per_run(project: Project) -> None:
    spec = project.spec_of("""
        @workflow
        def daily(day: str, n: int = 3, alphas: tuple = (0.1, 1.0)):
            fit(load(day), alpha=n).alias("fit")
    """)
    assert spec.parameters == {"day": REQUIRED, "n": 3, "alphas": [0.1, 1.0]}
    assert spec.name == "daily" and spec.task("fit").arguments == {"data": {"$ref": "load"}, "alpha": {"$param": "n"}}
    assert run_parameters(spec, {"day": "2026-03-02"}) == {"day": "2026-03-02", "n": 3, "alphas": [0.1, 1.0]}
    with pytest.raises(InvalidSpec, match=r"parameters.day None: daily needs it"):
        run_parameters(spec, {})


def test_a_default_that_is_not_json_is_refused(project: Project) -> None:
    with pytest.raises(InvalidSpec, match=r"parameters.day .*a parameter is stored as JSON"):
        project.spec_of("""
            import datetime

            @workflow
            def daily(day=datetime.date(2026, 1, 1)):
                load(day)
        """)


def test_two_tasks_with_one_name_are_a_duplicate_job_name(project: Project) -> None:
    with pytest.raises(DuplicateJobNameError, match=r"'fit': two tasks .* give one .alias"):
        project.spec_of("""
            @workflow
            def daily(day: str = "d"):
                data = load(day)
                fit(data, 0.1)
                fit(data, 1.0)
        """)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("fit(data, alpha=1, beta=2)", r"tasks.fit.arguments 'beta': fit\(\) takes no argument 'beta'"),
        ("fit(data)", r"tasks.fit.arguments 'alpha': fit\(\) needs this argument"),
        ("fit(data, 1, 2)", r"tasks.fit.arguments '3 positional arguments': fit\(\) takes at most 2 \(data, alpha\)"),
        ("fit(data, alpha={1, 2})", r"tasks.fit.arguments.alpha .*set, not a JSON value.*pass it through a task or"),
        ("fit(data, alpha=[1, object()])", r"tasks.fit.arguments.alpha\[1\] .*object, not a JSON value"),
        ("fit(data, alpha=float('nan'))", r"tasks.fit.arguments.alpha .*not a JSON value"),
        ("fit(data, alpha={'$ref': 'load'})", r"tasks.fit.arguments.alpha .*reads as a reference"),
        ("fit(load, 1.0)", r"tasks.fit.arguments.data 'load': is the task itself: pass its result, load\(...\)"),
        ("fit(data, 1.0).alias('fit 0')", r"tasks.fit.alias 'fit 0': a task name starts with a letter"),
        ("score.map(items=[1, 2], data=data)", r"tasks.score.map .*for a list known now, call the task once"),
        ("score.map(items=data, argument='beta')", r"tasks.score.map 'beta': score\(\) takes no such argument"),
        ("score.map(items=data, alpha=1, data=data)", r"tasks.score.map .*every parameter is given"),
    ],
)
def test_a_bad_call_is_refused_naming_the_task_and_the_fix(project: Project, call: str, message: str) -> None:
    with pytest.raises(InvalidSpec, match=message):
        project.spec_of(f"""
            @workflow
            def daily(day: str = "d"):
                data = load(day)
                {call}
        """)


@pytest.mark.parametrize(
    ("use", "shown"),
    [
        ("if data: pass", "a truth test"),
        ("for x in data: pass", "iteration"),
        ("data + 1", "arithmetic"),
        ("1 - data", "arithmetic"),
        ("data == [1.0]", "a comparison"),
        ("data[0]", "indexing"),
        ("len(data)", "len()"),
        ("f'{data}'", "an f-string"),
        ("str(data)", "str()"),
        ("data.mean()", "attribute .mean"),
        ("day.upper()", "attribute .upper"),
        ("data.label = 'x'", "setting .label"),
        ("a, b = data", "iteration"),
    ],
)
def test_a_result_used_as_a_value_in_the_body_is_refused(project: Project, use: str, shown: str) -> None:
    with pytest.raises(NotAValueError) as caught:
        project.spec_of(f"""
            @workflow
            def daily(day: str = "d"):
                data = load(day)
                {use}
        """)
    message = str(caught.value)
    what = "workflow parameter 'day'" if use.startswith("day") else "the result of task 'load'"
    assert message.startswith(f"{what} is used as a value ({shown}")
    assert "the body only wires tasks together" in message and "Pass it to a @task" in message
    assert hasattr(sys.modules["pipeline"].load, "fn")


def test_a_result_still_works_where_python_probes_it(project: Project) -> None:
    spec = project.spec_of("""
        import copy

        @workflow
        def daily(day: str = "d"):
            data = load(day)
            assert not hasattr(data, "mean") and "TaskResult of 'load'" in repr(data)
            fit(copy.copy(data), 1.0).alias("fit_a")
            fit({"xs": [data, data]}, 2.0).alias("fit_b")
    """)
    assert spec.task("fit_b").arguments["data"] == {"xs": [{"$ref": "load"}, {"$ref": "load"}]}


def test_map_takes_its_list_first_and_the_argument_by_name(project: Project) -> None:
    spec = project.spec_of("""
        @workflow
        def daily(day: str = "d"):
            data = load(day)
            by_alpha = score.map(load(day).alias("alphas"), data=data)
            by_data = score.map(items=data, argument="data", alpha=2.0).alias("by_data")
            best([by_alpha, by_data])
    """)
    assert (spec.task("score").map_argument, spec.task("by_data").map_argument) == ("alpha", "data")
    assert spec.task("by_data").arguments == {"data": {"$ref": "load"}, "alpha": 2.0}
    assert spec.task("best").arguments == {"models": [{"$ref": "score"}, {"$ref": "by_data"}]}


def _validate(data: dict) -> WorkflowSpec:
    """As the service checks a spec posted to it."""
    try:
        return WorkflowSpec.model_validate(data)
    except ValidationError as error:
        raise as_invalid_spec(error) from None


def test_a_spec_edited_by_hand_is_checked_as_strictly(example: Workflow) -> None:
    """The server validates a posted spec with the same model: a cycle, an unknown parameter, a clash."""
    data = example.spec().model_dump(mode="json")
    cyclic = json.loads(json.dumps(data))
    cyclic["tasks"][0]["arguments"] = {"day": {"$ref": "best"}}
    with pytest.raises(InvalidSpec, match=r"tasks.best .*these tasks depend on each other in a cycle"):
        _validate(cyclic)
    unknown = {**data, "parameters": {}}
    with pytest.raises(InvalidSpec, match=r"tasks.load.arguments 'day': is not a parameter of the workflow"):
        _validate(unknown)
    assert _validate({**data, "parameters": {"day": REQUIRED}}).parameters == {"day": REQUIRED}


def test_an_alias_given_after_the_result_is_used_still_names_the_reference(project: Project) -> None:
    spec = project.spec_of("""
        @workflow
        def daily(day: str = "d"):
            model = fit(load(day), 1.0)
            best([model])
            model.alias("fit_late")
    """)
    assert spec.names == ["load", "fit_late", "best"]
    assert spec.task("best").arguments == {"models": [{"$ref": "fit_late"}]}


def test_the_workflows_retries_and_timeout_are_its_tasks_defaults(project: Project) -> None:
    spec = project.spec_of("""
        @workflow(retries=1, timeout=60)
        def daily(day: str = "d"):
            fit(load(day), 1.0)
    """)
    assert (spec.task("load").retries, spec.task("load").timeout_seconds) == (1, 60.0)
    assert (spec.task("fit").retries, spec.task("fit").timeout_seconds) == (2, 600.0)  # its own
    with pytest.raises(InvalidSpec, match=r"^retries 11: Input should be less than or equal to 10"):
        project.spec_of("@workflow(retries=11)\ndef daily(day='d'):\n    load(day)\n", name="other")
