"""A notebook as a workflow task: papermill runs it with its upstream results as parameters.

Its result is what it passes to `shiftwork.task_result(value)`; if it never does, the value of its last code
cell's final expression when that is a Python literal (read back from the cell's text output), else None. Its
output notebook and formats are kept under the run: `jobs/<run>/output/<task>/`.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiftwork.config import ENV_TASK_RESULT_DIR
from shiftwork.errors import InvalidSpec
from shiftwork.models import OUTPUT_FORMATS
from shiftwork.store import files, tasks
from shiftwork.workflows.results import as_json, read_recorded

if TYPE_CHECKING:
    from shiftwork.runner.task import TaskRunner


def run_notebook_task(runner: TaskRunner, arguments: dict[str, Any]) -> Any:
    """Execute the task's notebook in the code folder; upload its outputs; its result."""
    import papermill

    from shiftwork.runner.engine import ENGINE_NAME
    from shiftwork.runner.kernels import kernel_language, resolve_kernel

    assert runner.spec is not None and runner.spec.notebook is not None and runner.task is not None
    for name, value in arguments.items():
        if as_json(value) is None:
            raise InvalidSpec(
                f"tasks.{runner.spec.name}.parameters.{name}",
                type(value).__name__,
                "a notebook's parameters are injected as code: give it JSON values (or a file path)",
            )
    source = runner.workdir / runner.spec.notebook
    out_dir = runner.workdir.parent / "out"
    out_dir.mkdir(exist_ok=True)
    output = out_dir / source.name
    result_dir = runner.workdir.parent / "result"
    result_dir.mkdir(exist_ok=True)
    os.environ[ENV_TASK_RESULT_DIR] = str(result_dir)  # the kernel inherits it: task_result() writes there
    import nbformat

    kernel = resolve_kernel(nbformat.read(str(source), as_version=4), None)
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters=arguments,
            engine_name=ENGINE_NAME,
            kernel_name=kernel,
            language=kernel_language(kernel),
            cwd=str(source.parent),
            progress_bar=False,
            log_output=False,
            stdout_file=sys.stdout,
            stderr_file=sys.stderr,
        )
    finally:
        _keep_outputs(runner, output, out_dir)
    recorded = read_recorded(result_dir)
    if recorded is not None:
        return recorded[0]
    return last_expression(output)


def _keep_outputs(runner: TaskRunner, output: Path, out_dir: Path) -> None:
    """Upload the output notebook in each of the task's formats; record them on the task."""
    from shiftwork.runner.outputs import convert

    assert runner.spec is not None
    if not output.is_file():
        return
    prefix = f"{files.output_prefix(runner.job_id)}{runner.task_id}/"
    made = convert(output, runner.spec.output_formats, out_dir)
    kept = []
    for name, path in made.items():
        key = prefix + path.name
        files.upload_file(path, key)
        kept.append({"display_name": OUTPUT_FORMATS[name].display_name, "file_format": name, "file_path": key})
    tasks.record_launch(runner.job_id, runner.task_id, runner.task.attempt if runner.task else 1, job_files=kept)


def last_expression(notebook: Path) -> Any:
    """The last code cell's result, if it showed one that reads back as a Python literal; else None."""
    import nbformat

    cells = [c for c in nbformat.read(str(notebook), as_version=4).cells if c.cell_type == "code"]
    if not cells:
        return None
    for out in cells[-1].get("outputs", []):
        if out.get("output_type") == "execute_result":
            text = out.get("data", {}).get("text/plain")
            if isinstance(text, str):
                try:
                    return ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    return None
    return None
