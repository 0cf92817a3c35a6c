"""`python -m shiftwork.runner [JOB_ID]`: what the ECS container (or the LocalLauncher's subprocess) runs.

`--warm` is the LocalLauncher's pre-started runner: it imports what a run needs and starts a kernel, then
waits for one line on stdin, the environment a fresh runner would have been started with, takes it as its own
(and gives it to the kernel) and runs that job.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import TYPE_CHECKING

from shiftwork.config import ENV_JOB_ID, ENV_TASK_ID, ENV_WARM_KERNEL

if TYPE_CHECKING:
    from shiftwork.runner.warm import WarmKernel


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    warm = None
    if argv[:1] == ["--warm"]:
        handed, warm = _wait_warm()
        if not handed:
            return 0  # released unused
        argv = []
    elif argv[:1] == ["--warm-task"]:
        if not _wait_warm_task():
            return 0
        argv = []
    task_id = os.environ.get(ENV_TASK_ID)
    if "--task" in argv:
        at = argv.index("--task")
        task_id = argv[at + 1] if at + 1 < len(argv) else None
        argv = argv[:at] + argv[at + 2 :]
        if not task_id:
            print("usage: python -m shiftwork.runner JOB_ID --task TASK_ID", file=sys.stderr)
            return 2
    job_id = argv[0] if argv else os.environ.get(ENV_JOB_ID)
    if not job_id:
        print(f"usage: python -m shiftwork.runner JOB_ID [--task TASK_ID] (or set {ENV_JOB_ID})", file=sys.stderr)
        return 2
    _quiet_logging()
    if task_id:  # one task of a workflow run; a warm runner's kernel is not what it needs
        if warm is not None:
            warm.discard()
        from shiftwork.runner.task import TaskRunner

        return TaskRunner(job_id, task_id).run()
    from shiftwork.runner.lifecycle import NotebookRunner

    return NotebookRunner(job_id, warm=warm).run()


def _quiet_logging() -> None:
    """The job's logs are the notebook's output: the frameworks' INFO chatter (botocore's "Found credentials",
    papermill's input/output paths) is left out; their warnings and errors, and the runner's own, stay."""
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("shiftwork").setLevel(logging.INFO)


def _take_environment() -> bool:
    """Wait for the job's environment (one JSON line) and make it this process's; False if none came."""
    from shiftwork.config import get_settings

    line = sys.stdin.readline()
    if not line.strip():
        return False
    os.environ.clear()
    os.environ.update(json.loads(line))
    get_settings.cache_clear()
    return True


def _wait_warm_task() -> bool:
    """A workflow task's warm runner: the task runner and the AWS clients loaded, then wait for the task."""
    import shiftwork.runner.task  # noqa: F401
    from shiftwork import aws

    aws.preload(["s3", "dynamodb"])
    return _take_environment()


def _wait_warm() -> tuple[bool, WarmKernel | None]:
    """Import the heavy modules and start a kernel, then wait for the job's environment.

    Returns whether a job came, and the kernel (None if it could not start: the job then starts its own, as a
    fresh runner does, rather than failing for what was only a head start).
    """
    import nbclient  # noqa: F401
    import nbformat  # noqa: F401
    import papermill  # noqa: F401

    import shiftwork.runner.lifecycle  # noqa: F401
    from shiftwork import aws
    from shiftwork.runner.warm import WarmKernel

    aws.preload(["s3", "dynamodb"])
    warm = None
    try:
        warm = WarmKernel.start(os.environ.get(ENV_WARM_KERNEL, "python3"))
    except Exception as error:  # noqa: BLE001 - said in the job's log, then the job runs cold
        print(f"warm kernel did not start ({type(error).__name__}: {error}); starting the job's own", file=sys.stderr)
    if not _take_environment():
        if warm is not None:
            warm.discard()
        return False, None
    return True, warm


if __name__ == "__main__":
    code = main()
    # The job is recorded and its files are uploaded: skip the interpreter's slow teardown (kernel-client
    # atexit hooks, thread joins), which would keep the container, and a local `run --wait`, alive for a second.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
