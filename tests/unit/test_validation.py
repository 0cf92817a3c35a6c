import shutil

import pytest

from shiftwork.api.validation import check_formats, check_kernel, check_notebook, folder_files
from shiftwork.errors import InvalidSpec
from tests.helpers import write_notebook


def test_missing_notebook(tmp_path):
    with pytest.raises(InvalidSpec, match="does not exist") as error:
        check_notebook(tmp_path / "nope.ipynb")
    assert error.value.field == "notebook"


def test_a_file_that_is_not_a_notebook(tmp_path):
    path = tmp_path / "notes.ipynb"
    path.write_text("print('hello')\n")
    with pytest.raises(InvalidSpec, match="is not a Jupyter notebook"):
        check_notebook(path)


def test_a_real_notebook_passes(tmp_path):
    check_notebook(write_notebook(tmp_path / "ok.ipynb", "x = 1", "print(x)"))


def test_unknown_kernel_lists_the_installed_ones():
    with pytest.raises(InvalidSpec, match="python3") as error:
        check_kernel("no-such-kernel")
    assert "ipykernel install" in str(error.value)


def test_unknown_format_lists_the_known_ones():
    with pytest.raises(InvalidSpec, match="html"):
        check_formats(["docx"])


@pytest.mark.skipif(shutil.which("xelatex") is not None, reason="xelatex is installed here")
def test_pdf_without_xelatex_is_refused_at_submit_time():
    with pytest.raises(InvalidSpec, match="xelatex"):
        check_formats(["pdf"])


def test_folder_files_skips_checkpoints_and_caches(tmp_path):
    (tmp_path / "data.csv").write_text("a\n1\n")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "x.ipynb").write_text("{}")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("X = 1\n")
    assert sorted(folder_files(tmp_path)) == ["data.csv", "pkg/mod.py"]


def test_on_aws_kernels_are_the_runner_images_not_the_apis(monkeypatch):
    """The API's Lambda has no kernels; SHIFTWORK_RUNNER_KERNELS names those of the image jobs run in."""
    from shiftwork.api.validation import installed_kernels
    from shiftwork.config import get_settings

    monkeypatch.setenv("SHIFTWORK_RUNNER_KERNELS", '["python3", "ir"]')
    get_settings.cache_clear()
    try:
        check_kernel("ir")  # not installed here, but in the image
        with pytest.raises(InvalidSpec, match="available: ir, python3"):
            check_kernel("julia-1.10")
        assert list(installed_kernels()) == ["python3", "ir"]
    finally:
        monkeypatch.delenv("SHIFTWORK_RUNNER_KERNELS")
        get_settings.cache_clear()
    with pytest.raises(InvalidSpec, match="is not installed"):
        check_kernel("ir")  # this machine's kernels again
