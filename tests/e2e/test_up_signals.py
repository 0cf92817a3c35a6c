"""`shiftwork up` stops cleanly on SIGINT and SIGTERM, even started where SIGINT is inherited ignored (a shell's
background job, CI runners), where Python would never raise KeyboardInterrupt."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.e2e.conftest import SHIFTWORK, Cli, clean_environment, output_of, wait_for_stack


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_up_stops_on_a_signal_even_with_sigint_inherited_ignored(tmp_path, signum):
    cli = Cli(tmp_path / "state")
    log = tmp_path / "up.log"
    with log.open("w") as sink:
        up = subprocess.Popen(
            [SHIFTWORK, "up"],
            env=clean_environment(cli.state_dir),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as `cmd &` in a script does
        )
    up.output = log  # type: ignore[attr-defined]
    wait_for_stack(cli.state_dir, up)
    started = time.monotonic()
    up.send_signal(signum)
    try:
        up.wait(30)
    except subprocess.TimeoutExpired:
        up.kill()
        raise AssertionError(f"up ignored {signum.name}:\n{output_of(up)}") from None
    assert up.returncode == 0, output_of(up)
    assert "stopping..." in output_of(up)
    assert not (cli.state_dir / "stack.json").exists()  # stopped cleanly
    print(f"stopped in {time.monotonic() - started:.1f} s")
