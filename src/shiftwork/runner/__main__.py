"""`python -m shiftwork.runner [JOB_ID]`: what the ECS container (or the LocalLauncher's subprocess) runs."""

from __future__ import annotations

import logging
import os
import sys

from shiftwork.config import ENV_JOB_ID


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    job_id = argv[0] if argv else os.environ.get(ENV_JOB_ID)
    if not job_id:
        print(f"usage: python -m shiftwork.runner JOB_ID (or set {ENV_JOB_ID})", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from shiftwork.runner.lifecycle import NotebookRunner

    return NotebookRunner(job_id).run()


if __name__ == "__main__":
    code = main()
    # The job is recorded and its files are uploaded: skip the interpreter's slow teardown (kernel-client
    # atexit hooks, thread joins), which would keep the container, and a local `run --wait`, alive for a second.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
