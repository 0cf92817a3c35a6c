"""Papermill parity through the CLI with `shiftwork up` and a real kernel: kernels, timeouts in their cell, cells
counted as the user counts them, tracebacks, papermill's parameter options, report mode, clean logs."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from tests.e2e.conftest import wait_for_status
from tests.helpers import cell_outputs, write_notebook

MARKER_TAG = "papermill-error-cell-tag"


def _notebook(path: Path, *cells: nbformat.NotebookNode, kernelspec: dict[str, str] | None = None) -> Path:
    notebook = nbformat.v4.new_notebook()  # no kernelspec or language metadata unless given
    if kernelspec:
        notebook.metadata["kernelspec"] = kernelspec
    notebook.cells = list(cells)
    nbformat.write(notebook, str(path))
    return path


def _parameters(source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    return cell


def _code(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(source)


def _download(cli, job_id: str, target: Path) -> Path:
    assert cli("job", "download", job_id, str(target)).returncode == 0
    return target


def test_a_kernel_that_is_not_installed_is_refused_at_submit(up_cli, tmp_path):
    r_notebook = _notebook(
        tmp_path / "analysis.ipynb",
        _code("print('ran under python')"),
        kernelspec={"name": "ir", "display_name": "R", "language": "R"},
    )
    before = len(up_cli.json("jobs"))
    for command in (["run", str(r_notebook)], ["definitions", "create", str(r_notebook)]):
        refused = up_cli(*command)
        assert refused.returncode == 2, refused.stderr
        assert "kernel 'ir': is not installed" in refused.stderr
        assert "the notebook's kernelspec" in refused.stderr
        assert "available: python3" in refused.stderr and "--kernel" in refused.stderr
    assert len(up_cli.json("jobs")) == before  # nothing was created
    assert up_cli.json("definitions", "list") == []

    chosen = up_cli.json("run", str(r_notebook), "--kernel", "python3", "--wait")
    assert (chosen["status"], chosen["kernel_name"]) == ("COMPLETED", "python3")


def test_a_notebook_naming_no_kernel_runs_on_python3_as_a_definition_too(up_cli, tmp_path):
    bare = _notebook(tmp_path / "bare.ipynb", _parameters("n = 0"), _code("print('n is', n)"))
    created = up_cli.json("definitions", "create", str(bare), "-p", "n=4", "--execution-timeout", "30")
    assert created["kernel_name"] == "python3"
    updated = up_cli.json("definitions", "update", created["job_definition_id"], "--report-mode")
    assert (updated["version"], updated["report_mode"], updated["execution_timeout_seconds"]) == (2, True, 30)
    result = up_cli("definitions", "run", created["job_definition_id"], "-r", "n", "five", "--json")
    job = wait_for_status(up_cli, json.loads(result.stdout)["job_id"], {"COMPLETED", "FAILED"})
    assert (job["status"], job["status_message"], job["kernel_name"]) == ("COMPLETED", None, "python3")
    assert (job["execution_timeout_seconds"], job["report_mode"]) == (30, True)  # the definition's options
    assert job["parameters"] == {"n": "five"}  # -r is a string; it overrides the definition's -p
    assert "n is five\n" in cell_outputs(_download(up_cli, job["job_id"], tmp_path / "out") / "bare.ipynb")


def _slow_notebook(path: Path) -> Path:
    return _notebook(
        path,
        nbformat.v4.new_markdown_cell("# Slow"),
        _parameters("seconds = 1"),
        _code("print('before')"),
        _code("import time\nprint('sleeping', flush=True)\ntime.sleep(seconds)"),
        _code("print('never')"),
    )


def _assert_timeout_in_cell(cli, job: dict, target: Path, message: str) -> None:
    notebook = nbformat.read(str(_download(cli, job["job_id"], target) / "slow.ipynb"), as_version=4)
    tags = [cell.metadata.get("tags", []) for cell in notebook.cells]
    assert MARKER_TAG in tags[0]  # papermill's "An Exception was encountered at In [N]" on top
    sleeper = next(i for i, cell in enumerate(notebook.cells) if "time.sleep" in cell.source)
    assert MARKER_TAG in tags[sleeper - 1]  # ... and its anchor just before the cell that was running
    errors = [o for o in notebook.cells[sleeper].outputs if o.output_type == "error"]
    assert [(e.ename, e.evalue) for e in errors] == [("TimeoutError", message)]
    assert [o.text for o in notebook.cells[sleeper].outputs if o.output_type == "stream"] == ["sleeping\n"]
    assert not notebook.cells[sleeper + 1].outputs


def test_a_timeout_is_recorded_in_the_cell_that_was_running(up_cli, tmp_path):
    notebook = _slow_notebook(tmp_path / "slow.ipynb")
    whole = up_cli.json("run", str(notebook), "-p", "seconds=120", "--timeout", "4")
    per_cell = up_cli.json("run", str(notebook), "-p", "seconds=120", "--execution-timeout", "2")
    whole = wait_for_status(up_cli, whole["job_id"], {"FAILED", "COMPLETED"}, timeout=90)
    per_cell = wait_for_status(up_cli, per_cell["job_id"], {"FAILED", "COMPLETED"}, timeout=90)

    # cell 4: the markdown, the parameters and one print come first; papermill's injected cell is not counted
    assert whole["status"] == "FAILED"
    assert whole["status_message"] == "timed out after 4 s in cell 4 (In [4])"
    _assert_timeout_in_cell(up_cli, whole, tmp_path / "whole", "the job timed out after 4 s (--timeout)")
    assert per_cell["status"] == "FAILED"
    assert per_cell["status_message"] == "cell 4 (In [4]) timed out after 2 s (--execution-timeout)"
    assert per_cell["execution_timeout_seconds"] == 2
    _assert_timeout_in_cell(up_cli, per_cell, tmp_path / "cell", "the cell timed out after 2 s (--execution-timeout)")


def test_a_failure_names_the_cell_as_counted_and_keeps_the_whole_traceback(up_cli, tmp_path):
    notebook = _notebook(
        tmp_path / "boom.ipynb",
        nbformat.v4.new_markdown_cell("# Report"),
        _parameters("row = 0"),
        _code("def load(row):\n    raise ValueError(f'bad data in row {row}')"),
        _code("load(row)"),
    )
    result = up_cli("run", str(notebook), "-p", "row=7", "--wait")
    assert result.returncode == 1
    job_id = result.stdout.split("job ", 1)[1].split()[0]
    job = up_cli.json("job", "show", job_id)
    assert job["status_message"] == "cell 4 (In [4]) raised ValueError: bad data in row 7"
    traceback = job["error_traceback"]
    assert "\x1b[" not in traceback  # colour codes stripped
    assert "load(row)" in traceback and "raise ValueError(f'bad data in row {row}')" in traceback
    assert traceback.rstrip().endswith("ValueError: bad data in row 7")
    shown = up_cli("job", "show", job_id).stdout
    assert "Traceback" in shown and "raise ValueError(f'bad data in row {row}')" in shown


def test_parameters_merge_in_papermills_order(up_cli, tmp_path):
    notebook = write_notebook(
        tmp_path / "merge.ipynb",
        "a = b = c = d = when = None",
        "import json\nvalues = dict(a=a, b=b, c=c, d=d, when=when)\n"
        "print(json.dumps({k: [v, type(v).__name__] for k, v in values.items()}))",
    )
    (tmp_path / "params.yaml").write_text("a: 1\nb: 1\nc: 1\nd: 1\nwhen: 2026-03-27\n")
    job = up_cli.json(
        "run",
        str(notebook),
        *("-f", str(tmp_path / "params.yaml"), "-y", "b: 2\nc: 2\nd: 2", "-p", "c=3", "-p", "d=3"),
        *("-r", "d", "4", "--wait"),
    )
    assert job["status"] == "COMPLETED", job["status_message"]
    printed = json.loads(cell_outputs(_download(up_cli, job["job_id"], tmp_path / "out") / "merge.ipynb")[-1])
    assert printed == {
        "a": [1, "int"],  # from the file only
        "b": [2, "int"],  # -y over -f
        "c": [3, "int"],  # -p over -y
        "d": ["4", "str"],  # -r over -p, and always a string
        "when": ["2026-03-27", "str"],  # a YAML date stays a string, as in papermill
    }

    # bad values are refused before anything starts (the rest of the cases: tests/unit/test_papermill_options.py)
    for arguments, expected in (
        (["-f", str(tmp_path / "missing.yaml")], "--parameters-file"),
        (["-r", "only-a-name"], "-r NAME VALUE"),
        (["--execution-timeout", "0"], "--execution-timeout"),
    ):
        refused = up_cli("run", str(notebook), *arguments)
        assert refused.returncode == 2, (arguments, refused.stderr)
        assert expected in " ".join(refused.stderr.split()), (arguments, refused.stderr)


def test_report_mode_hides_the_input_and_start_timeout_is_kept(up_cli, tmp_path):
    notebook = write_notebook(
        tmp_path / "report.ipynb", "x = 1", "secret_source_marker = 6 * 7\nprint('the answer is', secret_source_marker)"
    )
    job = up_cli.json(
        "run",
        str(notebook),
        "--report-mode",
        "--start-timeout",
        "30",
        "--format",
        "html",
        "--format",
        "markdown",
        "--wait",
    )
    assert job["status"] == "COMPLETED", job["status_message"]
    assert (job["report_mode"], job["start_timeout_seconds"]) == (True, 30)
    out = _download(up_cli, job["job_id"], tmp_path / "out")
    for name in ("report.html", "report.md"):
        text = (out / name).read_text()
        assert "the answer is 42" in text
        assert "secret_source_marker" not in text, name
    executed = nbformat.read(str(out / "report.ipynb"), as_version=4)
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert code and all(cell.metadata["jupyter"]["source_hidden"] for cell in code)  # papermill's report mode


def test_a_successful_jobs_logs_are_only_its_output(up_cli, tmp_path):
    notebook = write_notebook(
        tmp_path / "talk.ipynb",
        "who = 'x'",
        "import sys\nprint('hello', who)\nprint('a warning of mine', file=sys.stderr)",
        "for i in range(2):\n    print('line', i)",
    )
    job = up_cli.json("run", str(notebook), "-p", "who=logs", "--wait")
    assert job["status"] == "COMPLETED", job["status_message"]
    logs = up_cli("job", "logs", job["job_id"])
    assert logs.returncode == 0
    assert logs.stdout.splitlines() == ["hello logs", "a warning of mine", "line 0", "line 1"]
