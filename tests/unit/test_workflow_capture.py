"""The DAG comes from the code: real modules written to a folder, loaded as `shiftwork workflow run` loads them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from shiftwork.errors import DuplicateJobNameError, InvalidSpec, NotAValueError
from shiftwork.models.limits import as_invalid_spec
from shiftwork.models.workflow import WorkflowSpec
from shiftwork.workflows import Workflow, load_workflow

HEADER = "from shiftwork import Resources, Schedule, notebook_task, task, workflow\n"
NOTEBOOK = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})

TASKS = """
@task(memory="512m", cpu=0.5)
def load(day: str) -> list[float]:
    return [float(len(day)), 2.0]

@task(memory="2g", cpu=1, retries=2, timeout=600)
def fit(data: list[float], alpha: float) -> dict:
    return {"alpha": alpha, "score": sum(data) * alpha}

@task()
def best(models: list[dict]) -> dict:
    return max(models, key=lambda model: model["score"])

@task
def score(alpha: float, data: list[float]) -> float:
    return alpha * sum(data)
"""

EXAMPLE = (
    TASKS
    + """
BODY_RUNS = []

@workflow(name="daily-models", schedule=Schedule(at_hours=[6], weekdays=["Mon", "Fri"], timezone="Europe/London"),
          resources=Resources(memory="1g", cpu=1), python_requirements=["numpy"], max_running_jobs=2)
def daily(day: str = "2026-01-01"):
    BODY_RUNS.append(day)
    data = load(day)
    models = [fit(data, a).alias(f"fit_{i}") for i, a in enumerate([0.1, 1.0, 10.0])]
    winner = best(models)
    alphas = load(day).alias("alphas")
    scores = score.map(items=alphas, data=data)
    notebook_task("report.ipynb", parameters={"winner": winner, "day": day, "scores": scores})
"""
)


class Project:
    """A folder of user code; load() imports a workflow from it the way the CLI does."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def write(self, relative: str, source: str, header: bool = True) -> Path:
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = source if relative.endswith(".ipynb") else (HEADER if header else "") + textwrap.dedent(source)
        path.write_text(text)
        return path

    def load(self, target: str = "pipeline.py:daily") -> Workflow:
        return load_workflow(str(self.folder / target))

    def spec_of(self, body: str, tasks: str = TASKS, name: str = "pipeline") -> WorkflowSpec:
        """The spec of a module holding TASKS and `body` (a @workflow named daily)."""
        self.write(f"{name}.py", tasks + textwrap.dedent(body))
        return self.load(f"{name}.py:daily").spec()


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    path, modules = list(sys.path), set(sys.modules)
    yield Project(tmp_path)
    sys.path[:] = path  # each test's modules are its own: forget what it imported
    for name in set(sys.modules) - modules:
        del sys.modules[name]


@pytest.fixture
def example(project: Project) -> Workflow:
    project.write("report.ipynb", NOTEBOOK)
    project.write("pipeline.py", EXAMPLE)
    return project.load()


def _task(spec: WorkflowSpec, name: str) -> dict:
    return spec.task(name).model_dump(mode="json")


def test_the_issue_example_records_its_dag(example: Workflow) -> None:
    spec = example.spec()
    assert spec.names == ["load", "fit_0", "fit_1", "fit_2", "best", "alphas", "score", "report"]
    assert (spec.name, spec.function, spec.module_file) == ("daily-models", "pipeline:daily", "pipeline.py")
    assert spec.parameters == {"day": "2026-01-01"} and spec.required_parameters == []
    assert spec.python_requirements == ["numpy"]
    assert _task(spec, "load")["arguments"] == {"day": {"$param": "day"}}
    fit_1 = _task(spec, "fit_1")
    assert fit_1["function"] == "pipeline:fit"
    assert fit_1["arguments"] == {"data": {"$ref": "load"}, "alpha": 1.0}
    assert (fit_1["retries"], fit_1["timeout_seconds"]) == (2, 600.0)
    assert _task(spec, "best")["arguments"] == {"models": [{"$ref": "fit_0"}, {"$ref": "fit_1"}, {"$ref": "fit_2"}]}
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
    score = _task(spec, "score")
    assert score["map_argument"] == "alpha"  # the first parameter not given by keyword
    assert score["arguments"] == {"alpha": {"$ref": "alphas"}, "data": {"$ref": "load"}}
    report = _task(spec, "report")
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
    assert spec.required_parameters == ["day"]
    assert spec.parameters == {"n": 3, "alphas": [0.1, 1.0]}
    assert spec.name == "daily" and spec.task("fit").arguments == {"data": {"$ref": "load"}, "alpha": {"$param": "n"}}
    daily = sys.modules["pipeline"].daily
    assert daily.run_parameters({"day": "2026-03-02"}) == {"n": 3, "alphas": [0.1, 1.0], "day": "2026-03-02"}
    with pytest.raises(InvalidSpec, match="'day': daily has no default for it"):
        daily.run_parameters({})
    with pytest.raises(InvalidSpec, match="'days': is not a parameter of daily"):
        daily.run_parameters({"day": "x", "days": "y"})


def test_a_default_that_is_not_json_is_refused(project: Project) -> None:
    with pytest.raises(InvalidSpec, match=r"parameters.day .*a default is stored as JSON"):
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


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            """
            sq = task(name="sq")(lambda x: x)

            @workflow
            def daily(day: str = "d"):
                sq(day)
            """,
            r"tasks.sq.function '<lambda>': is a lambda: define it at module level in a .py file",
        ),
        (
            """
            def make():
                @task
                def inner(x):
                    return x
                return inner

            inner = make()

            @workflow
            def daily(day: str = "d"):
                inner(day)
            """,
            r"tasks.inner.function 'make.<locals>.inner': is defined inside another function: define it at module",
        ),
        (
            """
            def _impl(x):
                return x

            clean = task(name="clean")(_impl)
            del _impl

            @workflow
            def daily(day: str = "d"):
                clean(day)
            """,
            r"tasks.clean.function 'pipeline:_impl': does not name it in pipeline.py: keep the decorated function",
        ),
        (
            """
            @workflow
            def daily(day: str = "d"):
                pass
            """,
            r"workflow 'daily': its body calls no task",
        ),
        (
            """
            @task(executor="lambda", memory="16g")
            def big(x):
                return x

            @workflow
            def daily(day: str = "d"):
                big(day)
            """,
            r"tasks.big.memory '16384 MB': Lambda gives at most 10 GB: use executor=\"fargate\"",
        ),
    ],
    ids=["lambda", "nested", "renamed", "empty", "lambda-executor-too-big"],
)
def test_what_the_runner_could_not_import_or_run_is_refused(project: Project, source: str, message: str) -> None:
    project.write("pipeline.py", TASKS + textwrap.dedent(source))
    with pytest.raises(InvalidSpec, match=message):
        project.load().spec()


@pytest.mark.parametrize(
    ("decorator", "message"),
    [
        ('@task(memory="lots")', r"tasks.step.memory 'lots': give a size such as \"512m\""),
        ("@task(cpu=32)", r"tasks.step.cpu 32"),
        ("@task(retries=11)", r"tasks.step.retries 11"),
        ("@task(timeout=0)", r"tasks.step.timeout 0"),
        ('@task(executor="gpu")', r"tasks.step.executor 'gpu'"),
        ('@task(name="a step")', r"tasks.a step.name 'a step'"),
    ],
)
def test_bad_task_options_are_refused_when_the_module_loads(project: Project, decorator: str, message: str) -> None:
    project.write("pipeline.py", f"{decorator}\ndef step(x):\n    return x\n")
    with pytest.raises(InvalidSpec, match=message):
        project.load()


def test_a_bare_lambda_task_is_refused_at_once(project: Project) -> None:
    project.write("pipeline.py", "sq = task(lambda x: x)\n")
    with pytest.raises(InvalidSpec, match=r"task <lambda> '<lambda>': is a lambda: define it at module level"):
        project.load()


def test_tasks_from_modules_beside_the_workflow_are_imported_by_their_path(project: Project) -> None:
    project.write("steps.py", TASKS)
    project.write("helpers/__init__.py", "")
    project.write("helpers/clean.py", "@task\ndef clean(data):\n    return data\n")
    spec = project.spec_of(
        """
        from helpers.clean import clean
        from steps import best, load

        @workflow
        def daily(day: str = "d"):
            best([clean(load(day))])
        """,
        tasks="",
    )
    assert [task.function for task in spec.tasks] == ["steps:load", "helpers.clean:clean", "steps:best"]


def test_a_task_from_outside_the_workflows_folder_is_refused(project: Project) -> None:
    project.write("lib/shared_steps.py", TASKS)
    sys.path.insert(0, str(project.folder / "lib"))
    project.write("wf/pipeline.py", "from shared_steps import load\n@workflow\ndef daily(day='d'):\n    load(day)\n")
    with pytest.raises(InvalidSpec, match=r"tasks.load.function 'shared_steps:load': .* cannot be imported from"):
        project.load("wf/pipeline.py:daily").spec()


def test_a_task_defined_without_a_file_is_refused(project: Project) -> None:
    """As in a notebook or a REPL: a module with no __file__ (a notebook's __main__)."""
    import types

    cells = types.ModuleType("cells")
    sys.modules["cells"] = cells
    exec(HEADER + "@task\ndef sq(x):\n    return x\n", cells.__dict__)
    project.write("pipeline.py", "from cells import sq\n@workflow\ndef daily(day='d'):\n    sq(day)\n")
    with pytest.raises(InvalidSpec, match=r"tasks.sq.function 'cells:sq': .*\(a notebook or an interactive session\)"):
        project.load().spec()


def test_a_workflow_typed_at_the_interpreter_is_refused(tmp_path: Path) -> None:
    code = HEADER + "@task\ndef sq(x):\n    return x\n@workflow\ndef daily(day='d'):\n    sq(day)\ndaily.spec()\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 1
    assert "InvalidSpec: workflow daily '__main__:daily': is defined where no file holds it" in done.stderr
    assert "define it at module level in a .py file" in done.stderr


def test_notebook_tasks_are_checked_against_the_folder(project: Project) -> None:
    project.write("notebooks/report.ipynb", NOTEBOOK)
    project.write("../outside.ipynb", NOTEBOOK)
    spec = project.spec_of("""
        @workflow
        def daily(day: str = "d"):
            notebook_task("notebooks/report.ipynb", parameters={"day": day, "n": [1, 2]}, name="report_a",
                          output_formats=["html"], memory="4g", retries=1)
    """)
    report = _task(spec, "report_a")
    assert (report["notebook"], report["output_formats"], report["retries"]) == (
        "notebooks/report.ipynb",
        ["ipynb", "html"],
        1,
    )
    assert report["arguments"] == {"day": {"$param": "day"}, "n": [1, 2]}
    assert spec.task("report_a").resources.describe() == "0.25 vCPU, 4 GB"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('notebook_task("missing.ipynb")', r"tasks.missing.notebook 'missing.ipynb': there is no such notebook in"),
        (
            'notebook_task("../outside.ipynb")',
            r"tasks.outside.notebook '../outside.ipynb': is outside the workflow's folder",
        ),
        ('notebook_task("pipeline.py")', r"'pipeline.py': names a Jupyter notebook"),
        ('notebook_task("report.ipynb", parameters={"my-day": day})', r"tasks.report.parameters 'my-day': must be a"),
        ('notebook_task("report.ipynb", output_formats=["docx"])', r"tasks.report.output_formats .*'docx' is unknown"),
        ('notebook_task("report.ipynb", parameters={"d": object()})', r"tasks.report.parameters.d .*not a JSON value"),
    ],
)
def test_a_bad_notebook_task_is_refused(project: Project, call: str, message: str) -> None:
    project.write("report.ipynb", NOTEBOOK)
    project.write("../outside.ipynb", NOTEBOOK)
    with pytest.raises(InvalidSpec, match=message):
        project.spec_of(f"""
            @workflow
            def daily(day: str = "d"):
                {call}
        """)


def test_notebook_task_outside_a_workflow_body_is_refused() -> None:
    from shiftwork import notebook_task

    with pytest.raises(InvalidSpec, match="is called inside a @workflow function's body"):
        notebook_task("report.ipynb")


def test_bad_definition_options_are_refused_when_the_module_loads(project: Project) -> None:
    project.write("pipeline.py", TASKS + "@workflow(max_running_jobs=0)\ndef daily(day='d'):\n    load(day)\n")
    with pytest.raises(InvalidSpec, match=r"max_running_jobs 0: Input should be greater than or equal to 1"):
        project.load()


def test_code_files_are_the_folder_without_environments_caches_or_hidden_files(project: Project) -> None:
    for kept in ("pipeline.py", "steps.py", "data/prices.csv", "notebooks/report.ipynb"):
        project.write(kept, "x = 1\n", header=False)
    for skipped in (
        ".venv/lib/site.py",
        "venv/x.py",
        "__pycache__/pipeline.pyc",
        ".git/HEAD",
        "node_modules/a.js",
        ".ipynb_checkpoints/r.ipynb",
        ".secret/key",
        ".env",
        "data/__pycache__/x.pyc",
    ):
        project.write(skipped, "x = 1\n", header=False)
    project.write("pipeline.py", TASKS + "@workflow\ndef daily(day='d'):\n    load(day)\n")
    files = project.load().code_files()
    assert sorted(files) == ["data/prices.csv", "notebooks/report.ipynb", "pipeline.py", "steps.py"]
    assert files["steps.py"] == project.folder / "steps.py"


def test_a_code_folder_over_the_cap_names_its_biggest_files(project: Project) -> None:
    project.write("pipeline.py", TASKS + "@workflow\ndef daily(day='d'):\n    load(day)\n")
    with open(project.folder / "ticks.parquet", "wb") as sparse:  # sparse: no real disk used
        sparse.truncate(60 << 20)
    with pytest.raises(InvalidSpec, match=r"a snapshot holds at most .* 50 MB. The biggest: ticks.parquet \(60.0 MB\)"):
        project.load().code_files()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing.py:daily", r"there is no file .*missing.py: give the .py file"),
        ("pipeline.txt:daily", r"name a Python file and the workflow in it, e.g. pipeline.py:daily"),
        ("pipeline.py:weekly", r"pipeline.py has no 'weekly'; its workflows: daily, hourly"),
        ("pipeline.py:load", r"'load' is a Task, not a workflow: decorate its function with @workflow"),
        ("pipeline.py", r"pipeline.py defines 2 workflows: name one: pipeline.py:daily"),
        ("json.py:daily", r"'json' module Python or Shiftwork needs: rename the file"),
        ("broken.py:daily", r"importing it raised ModuleNotFoundError: No module named 'not_installed'"),
    ],
)
def test_load_workflow_refuses_a_bad_target(project: Project, target: str, message: str) -> None:
    two = "@workflow\ndef daily(day='d'):\n    load(day)\n@workflow\ndef hourly(day='d'):\n    load(day)\n"
    project.write("pipeline.py", TASKS + two)
    project.write("json.py", TASKS + two)
    project.write("broken.py", "import not_installed\n")
    with pytest.raises(InvalidSpec, match=message):
        project.load(target)


def test_load_workflow_takes_the_only_workflow_of_a_file(project: Project) -> None:
    project.write("pipeline.py", TASKS + "@workflow\ndef daily(day='d'):\n    load(day)\n")
    assert project.load("pipeline.py").name == "daily"
    assert project.load("pipeline.py:daily") is project.load("pipeline.py")


def test_importing_shiftwork_stays_light_and_exports_the_workflow_api() -> None:
    code = (
        "import sys, shiftwork\n"
        "print(sorted(m for m in sys.modules if m.startswith(('pydantic', 'shiftwork.'))))\n"
        "from shiftwork import Resources, notebook_task, task, workflow\n"
        "print(task.__module__, workflow.__module__, notebook_task.__module__, Resources.__module__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [
        "[]",
        "shiftwork.workflows.tasks shiftwork.workflows.define shiftwork.workflows.tasks shiftwork.models.resources",
    ]


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


def test_a_script_run_as_main_names_its_module_by_its_file(project: Project) -> None:
    project.write("pipeline.py", EXAMPLE + "print(daily.spec().model_dump_json())\n")
    project.write("report.ipynb", NOTEBOOK)
    done = subprocess.run([sys.executable, "pipeline.py"], capture_output=True, text=True, cwd=project.folder)
    assert done.returncode == 0, done.stderr
    spec = WorkflowSpec.model_validate_json(done.stdout)
    assert (spec.function, spec.task("fit_2").function, spec.module_file) == (
        "pipeline:daily",
        "pipeline:fit",
        "pipeline.py",
    )


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
    assert _validate({**data, "parameters": {}, "required_parameters": ["day"]}).required_parameters
    with pytest.raises(InvalidSpec, match=r"required_parameters 'day': has a default in parameters"):
        _validate({**data, "required_parameters": ["day"]})


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
