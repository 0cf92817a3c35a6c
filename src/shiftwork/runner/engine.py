"""papermill's nbclient engine, with one change: the run owns its kernel, warm or fresh, and closes it.

papermill lets an engine be registered by name; ours differs from its `nbclient` engine only in how the kernel is
made and ended. A kernel manager handed to nbclient (the warm runner's) is normally left running with its client's
channels open, which later logs "Could not destroy zmq context"; here the client owns it, so nbclient shuts the
kernel down and closes the channels. Kernels are started with CurveZMQ transport encryption where the kernelspec
supports it (ipykernel does), which is also what ipykernel's "running over TCP without encryption" warning asks.
"""

from __future__ import annotations

import math
from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger

ENGINE_NAME = "shiftwork"


def new_kernel_manager(kernel_name: str) -> Any:
    """An AsyncKernelManager for kernel_name, encrypting its transport when the kernel and libzmq support it."""
    import zmq
    from jupyter_client.manager import AsyncKernelManager

    manager = AsyncKernelManager(kernel_name=kernel_name)
    if manager.has_trait("transport_encryption") and zmq.has("curve"):
        manager.transport_encryption = "auto"  # only when the kernelspec declares support: other kernels unchanged
    return manager


class ShiftworkEngine(NBClientEngine):
    """NBClientEngine whose client owns the kernel manager it is given (or makes one), so the run ends it."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: float = 60,
        execution_timeout: float | None = None,
        km: Any = None,
        **kwargs: Any,
    ) -> Any:
        kwargs.pop("input_path", None)
        client = PapermillNotebookClient(
            nb_man,
            km=km or new_kernel_manager(kernel_name),
            timeout=execution_timeout,
            startup_timeout=math.ceil(start_timeout),  # nbclient takes whole seconds
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            shutdown_kernel="immediate",  # the run is over: no interrupt that would print into the last cell
            **kwargs,
        )
        client.owns_km = True  # this run's kernel alone: nbclient shuts it down and closes its channels
        return client.execute()


papermill_engines.register(ENGINE_NAME, ShiftworkEngine)
