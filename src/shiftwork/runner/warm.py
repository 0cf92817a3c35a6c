"""A kernel started before the job is known, for the LocalLauncher's warm runner.

Starting a kernel takes most of a trivial notebook's run time. The warm runner starts one in the scratch
directory the job will run in; once the job's environment arrives it is copied into the kernel, so the notebook
sees the same os.environ and working directory a freshly started kernel would.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class WarmKernel:
    kernel_name: str
    scratch: Path  # the job runs in scratch/work, the kernel's working directory
    manager: Any  # jupyter_client AsyncKernelManager

    @classmethod
    def start(cls, kernel_name: str = "python3") -> WarmKernel:
        from jupyter_core.utils import run_sync

        from shiftwork.runner.engine import new_kernel_manager

        scratch = Path(tempfile.mkdtemp(prefix="shiftwork-"))
        (scratch / "work").mkdir()
        (scratch / "out").mkdir()
        manager = new_kernel_manager(kernel_name)
        run_sync(manager.start_kernel)(cwd=str(scratch / "work"))
        return cls(kernel_name, scratch, manager)

    def adopt_environment(self, environment: dict[str, str]) -> None:
        """Give the kernel the job's environment (silently: no cell, no execution count)."""
        from jupyter_core.utils import run_sync

        client = self.manager.client()
        client.start_channels()
        try:
            run_sync(client.wait_for_ready)(timeout=60)
            code = f"import os as _o, json as _j\n_o.environ.update(_j.loads({json.dumps(environment)!r}))\ndel _o, _j"
            run_sync(client.execute_interactive)(code, silent=True, store_history=False, timeout=60)
        finally:
            client.stop_channels()

    def adopt_environment_in_background(self, environment: dict[str, str]) -> None:
        """Start adopt_environment in a thread, so it overlaps staging the inputs; wait_adopted() joins it."""
        self._adoption_error: BaseException | None = None

        def adopt() -> None:
            try:
                self.adopt_environment(environment)
            except BaseException as error:  # noqa: BLE001 - handed to the thread that waits
                self._adoption_error = error

        self._adoption = threading.Thread(target=adopt, daemon=True, name="warm-kernel-env")
        self._adoption.start()

    def wait_adopted(self) -> None:
        self._adoption.join()
        if self._adoption_error is not None:
            raise self._adoption_error

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        if self.manager.has_kernel:
            run_sync(self.manager.shutdown_kernel)(now=True)

    def discard(self) -> None:
        self.shutdown()
        shutil.rmtree(self.scratch, ignore_errors=True)
