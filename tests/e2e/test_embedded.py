"""What a new user does first: no stack running, each command embeds one over the same state directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import ROOT, cell_outputs, write_notebook

HELLO = str(ROOT / "examples" / "hello.ipynb")


def test_run_then_list_show_logs_download_delete(cli, tmp_path):
    result = cli("run", HELLO, "-p", "name=World", "-p", "n=3", "--format", "ipynb", "--format", "html", "--wait")
    assert result.returncode == 0, result.stderr
    assert "COMPLETED" in result.stdout
    job_id = result.stdout.split("job ", 1)[1].split()[0]
    assert f"shiftwork job download {job_id}" in result.stdout

    listed = cli.json("jobs")
    assert [(j["job_id"], j["status"]) for j in listed] == [(job_id, "COMPLETED")]
    shown = cli.json("job", "show", job_id)
    for field in (
        "job_id",
        "name",
        "status",
        "status_message",
        "parameters",
        "output_formats",
        "job_files",
        "create_time",
        "start_time",
        "end_time",
        "job_definition_id",
    ):
        assert field in shown
    assert shown["parameters"] == {"name": "World", "n": 3}
    assert shown["output_formats"] == ["ipynb", "html"]
    assert {f["file_format"] for f in shown["job_files"]} == {"ipynb", "html", "json"}
    assert all(set(f) == {"display_name", "file_format", "file_path"} for f in shown["job_files"])

    logs = cli("job", "logs", job_id)
    assert "Hello, World! (3/3)" in logs.stdout

    out = tmp_path / "downloaded"
    assert cli("job", "download", job_id, str(out)).returncode == 0
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["greeting.json", "hello.html", "hello.ipynb"]
    assert "Hello, World! (3/3)\n" in "".join(cell_outputs(out / "hello.ipynb"))
    assert "'type of n': 'int'" in "".join(cell_outputs(out / "hello.ipynb"))

    assert cli("job", "delete", job_id).returncode == 0
    gone = cli("job", "show", job_id)
    assert gone.returncode == 1
    assert "not found" in gone.stderr
    assert cli.json("jobs") == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["missing.ipynb"], "notebook 'missing.ipynb': does not exist"),
        (["{text}"], "is not a Jupyter notebook"),
        ([HELLO, "-p", "2fast=1"], "parameter name '2fast': must be a Python identifier"),
        ([HELLO, "-p", "n=1", "-p", "n=2"], "parameter 'n': is given more than once"),
        ([HELLO, "-p", "n"], "write it as NAME=VALUE"),
        ([HELLO, "--format", "docx"], "output format 'docx': is unknown"),
        ([HELLO, "--kernel", "cobol"], "kernel 'cobol': is not installed"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_creates_nothing(cli, tmp_path, args, says):
    text = tmp_path / "text.ipynb"
    text.write_text("just some text\n")
    result = cli("run", *[a.replace("{text}", str(text)) for a in args], "--wait")
    assert result.returncode == 2, result.stdout + result.stderr
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (cli.state_dir / "data").exists()  # no stack was even started: nothing created


@pytest.mark.skipif(shutil.which("xelatex") is not None, reason="xelatex is installed: pdf works here")
def test_pdf_without_its_converter_is_refused_at_submit(cli):
    result = cli("run", HELLO, "--format", "pdf")
    assert result.returncode == 2
    assert "needs xelatex" in result.stderr


def test_input_folder_packages_the_notebooks_folder(cli, tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "data.csv").write_text("a,b\n1,2\n3,4\n")
    (folder / "helpers.py").write_text("def total(rows):\n    return sum(int(x) for r in rows for x in r)\n")
    notebook = write_notebook(
        folder / "report.ipynb",
        "path = 'data.csv'",
        "import csv, helpers\nrows = list(csv.reader(open(path)))[1:]\nprint('total', helpers.total(rows))",
    )
    alone = cli.json("run", str(notebook), "--wait")
    assert alone["status"] == "FAILED"
    assert "No such file or directory" in alone["status_message"] or "ModuleNotFoundError" in alone["status_message"]
    packaged = cli.json("run", str(notebook), "--input-folder", "--wait")
    assert packaged["status"] == "COMPLETED", packaged["status_message"]
    out = tmp_path / "out"
    cli("job", "download", packaged["job_id"], str(out))
    assert "total 10\n" in cell_outputs(out / "report.ipynb")
    assert not (out / "files").exists()  # inputs that did not change are not side effects


def test_state_dir_flag_wins_over_the_environment(cli, tmp_path: Path):
    other = tmp_path / "elsewhere"
    result = cli("jobs", "--json", "--state-dir", str(other))
    assert result.returncode == 0
    assert (other / "data").is_dir()
    assert not (cli.state_dir / "data").exists()
