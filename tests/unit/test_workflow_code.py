"""Where a workflow's code lives: what the runner can import, notebooks beside it, the snapshot, loading a file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shiftwork.errors import InvalidSpec
from shiftwork.models.workflow import WorkflowSpec
from shiftwork.workflows import Workflow
from tests.unit.workflow_modules import (
    EXAMPLE,
    HEADER,
    NOTEBOOK,
    TASKS,
    Project,
    task_of,
)


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
            r"tasks.big.resources '0.25 vCPU, 16 GB': the lambda executor gives at most 10240 MB",
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


def test_a_task_defined_without_a_file_is_refused(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a notebook or a REPL: a module with no __file__ (a notebook's __main__)."""
    import types

    cells = types.ModuleType("cells")
    monkeypatch.setitem(sys.modules, "cells", cells)
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
    report = task_of(spec, "report_a")
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


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("max_running_jobs=0", r"^max_running_jobs 0: Input should be greater than or equal to 1"),
        ("shedule='0 6 * * *'", r"^shedule '0 6 \* \* \*': Extra inputs are not permitted"),
        ("report_mode=True", r"^report_mode True: is a notebook job's setting"),
        ("parameters={'a': 1}", r"^parameters \"\{'a': 1\}\": a workflow sets this itself"),
    ],
)
def test_bad_definition_options_are_refused_when_the_module_loads(project: Project, options: str, message: str) -> None:
    project.write("pipeline.py", TASKS + f"@workflow({options})\ndef daily(day='d'):\n    load(day)\n")
    with pytest.raises(InvalidSpec, match=message):
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


def test_a_fresh_process_imports_a_tasks_function_by_its_reference(project: Project, example: Workflow) -> None:
    """As the runner does in a fresh process, with only the snapshot's folder on sys.path."""
    code = (
        "import importlib, json, sys\nsys.path.insert(0, '.')\n"
        "spec = json.loads(sys.stdin.read())\n"
        "module, _, name = spec['tasks'][2]['function'].partition(':')\n"
        "fit = getattr(importlib.import_module(module), name).fn\n"
        "print(type(fit).__name__, fit(data=[1.0, 2.0], alpha=spec['tasks'][2]['arguments']['alpha']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=example.spec().model_dump_json(),
        capture_output=True,
        text=True,
        cwd=project.folder,
        check=True,
    )
    assert done.stdout.strip() == "function {'alpha': 1.0, 'score': 3.0}"
