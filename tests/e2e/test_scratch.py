"""A job's scratch folder (where its runner works, its TMPDIR) is removed when the job ends, however it ends, and
whether or not `shiftwork up` runs: nothing is left in the user's temp directory."""

from __future__ import annotations

import os

import pytest

from tests.helpers import write_notebook

pytestmark = pytest.mark.e2e


def test_run_wait_without_up_leaves_no_scratch_behind(cli, tmp_path):
    user_tmp = tmp_path / "user-tmp"  # the user's TMPDIR: nothing else on the machine writes here
    user_tmp.mkdir()
    env = {"TMPDIR": str(user_tmp)}
    good = write_notebook(tmp_path / "good.ipynb", "x = 1", "import tempfile\nopen(tempfile.mktemp(), 'w').write('x')")
    bad = write_notebook(tmp_path / "bad.ipynb", "x = 1", "open('left.txt', 'w').write('x')\nraise ValueError('no')")
    slow = write_notebook(tmp_path / "slow.ipynb", "x = 1", "import time\ntime.sleep(120)")

    assert cli("run", str(good), "--wait", env=env).returncode == 0
    assert cli("run", str(bad), "--wait", env=env).returncode == 1
    assert cli("run", str(slow), "--timeout", "2", "--wait", env=env).returncode == 1

    assert os.listdir(user_tmp) == []
    assert os.listdir(cli.state_dir / "scratch") == []  # each command's stack removed its jobs' and warm runner's
