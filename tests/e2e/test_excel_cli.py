"""`shiftwork excel serve`: the add-in over HTTPS with its development certificate, beside a real `shiftwork up`."""

from __future__ import annotations

import json
import re
import signal
import socket
import ssl
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli, output_of
from tests.excel.conftest import PRICER
from tests.helpers import write_notebook

pytestmark = pytest.mark.e2e


def served(process, timeout: float = 60) -> tuple[str, str]:
    """The URL and token `excel serve` printed, once it serves."""
    deadline = time.monotonic() + timeout
    while not re.search(r"SHIFTWORK\.\* functions", output := Path(process.output).read_text()):
        assert process.poll() is None, output
        assert time.monotonic() < deadline, output
        time.sleep(0.1)
    url = re.search(r"Excel add-in: (https?://\S+)", output).group(1)
    token = re.search(r"token\s+(\S+)", output).group(1)
    return url, token


def call(url: str, token: str, ca: Path, *calls: tuple) -> list[dict]:
    body = json.dumps({"calls": [{"function": f, "args": list(a)} for f, *a in calls]}).encode()
    request = urllib.request.Request(
        f"{url}/excel/call",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=str(ca)), timeout=60) as response:
        return json.loads(response.read())["results"]


def stop(process, timeout: float = 20) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(timeout)


def test_serve_runs_the_module_over_https_and_shiftwork_functions_on_the_running_up(up_cli: Cli, tmp_path):
    notebook = write_notebook(tmp_path / "sheet.ipynb", "x = 1", "print('x =', x)")
    created = up_cli("definitions", "create", str(notebook), "--name", "from-excel")
    assert created.returncode == 0, created.stderr
    process = up_cli.start("excel", "serve", str(PRICER), "--port", "0")
    try:
        url, token = served(process)
        output = output_of(process)
        assert url.startswith("https://localhost:")
        assert "PRICER.*, SHIFTWORK.*" in output
        assert "SHIFTWORK.* functions on the API at http://127.0.0.1:" in output
        ca = up_cli.state_dir / "excel-tls" / "ca.pem"
        assert f'-i "{ca}"' in " ".join(output.split())  # how to trust it, for this machine
        (price, run) = call(
            url, token, ca, ("PRICER.PRICE_OPTION", 100, 95, 0.2, 0.01, 1), ("SHIFTWORK.RUN", "from-excel", "x", 4)
        )
        assert price["value"] == pytest.approx(11.0602, abs=1e-4)
        assert run["error"] is None
        deadline = time.monotonic() + 120
        while (job := up_cli.json("job", "show", run["value"]))["status"] not in ("COMPLETED", "FAILED"):
            assert time.monotonic() < deadline
            time.sleep(0.5)
        assert job["status"] == "COMPLETED" and job["parameters"] == {"x": 4}
    finally:
        assert stop(process) == 0
    assert "Traceback" not in output_of(process)


def test_serve_refuses_a_module_without_an_addin_and_a_port_in_use(cli: Cli, tmp_path):
    (tmp_path / "plain.py").write_text("x = 1\n")
    result = cli("excel", "serve", str(tmp_path / "plain.py"), "--port", "0", timeout=60)
    assert result.returncode == 2
    assert "defines no Addin" in " ".join(result.stderr.split())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("excel", "serve", str(PRICER), "--port", str(port), timeout=60)
    assert result.returncode == 2
    assert f"--port {port!r}: Address already in use" in " ".join(result.stderr.split())


def test_without_a_stack_shiftwork_cells_say_how_to_start_one(cli: Cli):
    process = cli.start("excel", "serve", "--port", "0", "--http")
    try:
        url, token = served(process)
        assert url.startswith("http://127.0.0.1:")
        assert "not available until `shiftwork up` runs" in output_of(process)
        request = urllib.request.Request(
            f"{url}/excel/call",
            data=json.dumps({"calls": [{"function": "SHIFTWORK.JOBS", "args": []}]}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            (cell,) = json.loads(response.read())["results"]
        assert cell["error"] == {"code": "#N/A", "message": "no Shiftwork stack: run `shiftwork up` in a terminal"}
    finally:
        assert stop(process) == 0


def test_addin_run_serves_like_datatailrs(cli: Cli, tmp_path):
    """`addin.run(port, ws_port)` in the module itself, as a Datatailr add-in is started."""
    import subprocess
    import sys

    from tests.e2e.conftest import clean_environment

    script = tmp_path / "start.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {str(PRICER.parent)!r})\nimport pricer\npricer.addin.run(0, 8000, http=True)\n"
    )
    output = tmp_path / "run.log"
    with output.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, str(script)], env=clean_environment(cli.state_dir), stdout=sink, stderr=subprocess.STDOUT
        )
    process.output = output  # type: ignore[attr-defined]
    try:
        url, token = served(process)
        request = urllib.request.Request(
            f"{url}/excel/call",
            data=json.dumps({"calls": [{"function": "PRICER.GRID", "args": [[[100]], 95]}]}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            (cell,) = json.loads(response.read())["results"]
        assert cell["value"] == [[pytest.approx(11.0602, abs=1e-4)]]
    finally:
        assert stop(process) == 0
