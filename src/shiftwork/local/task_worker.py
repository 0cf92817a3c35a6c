"""`python -m shiftwork.local.task_worker`: a warm Lambda stand-in. One JSON event per stdin line, one answer line."""

from __future__ import annotations

import json
import logging
import sys


def main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    import shiftwork.runner.task  # noqa: F401 - imported once, as a warm Lambda's container keeps it
    from shiftwork.workflows.lambda_executor import run_invocation

    answers = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = run_invocation(json.loads(line), pass_on=False)  # the stack passes it on
        except Exception as error:
            logging.getLogger(__name__).exception("invocation failed")
            answer = {"error": f"{type(error).__name__}: {error}"}
        answers.write(json.dumps(answer, default=str) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
