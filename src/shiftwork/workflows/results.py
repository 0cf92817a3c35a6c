"""Task results in S3, under their run: `jobs/<run>/tasks/<task>/result.json`, or `result.pickle` for a value JSON
cannot hold as it is (a tuple, a dict with non-text keys, NaN, a numpy array...).

Pickles are read only by the runner and the SDK, in the user's own process: never by a Lambda or the API, which
say a result is a pickled Python object and offer its download instead.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, Literal

from shiftwork import aws
from shiftwork.config import get_settings

if TYPE_CHECKING:
    from shiftwork.config import Settings
    from shiftwork.models.workflow import DescribeTask

Format = Literal["json", "pickle"]


def tasks_prefix(job_id: str) -> str:
    return f"jobs/{job_id}/tasks/"


def result_key(job_id: str, task_id: str, fmt: Format) -> str:
    return f"{tasks_prefix(job_id)}{task_id}/result.{fmt}"


def as_json(value: Any) -> bytes | None:
    """The value as JSON if JSON gives it back unchanged (types included), else None."""
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return None
    return text.encode() if _same(json.loads(text), value) else None


def _same(back: Any, value: Any) -> bool:
    if type(back) is not type(value):
        return isinstance(value, float) and isinstance(back, float) and not math.isnan(value)
    if isinstance(value, dict):
        return back.keys() == value.keys() and all(_same(back[k], value[k]) for k in value)
    if isinstance(value, list):
        return len(back) == len(value) and all(_same(b, v) for b, v in zip(back, value, strict=True))
    return bool(back == value)


def write(job_id: str, task_id: str, value: Any, settings: Settings | None = None) -> tuple[str, Format, int | None]:
    """Store a task's return value; its key, format and (for a list or tuple) its length."""
    import pickle

    body = as_json(value)
    fmt: Format = "json"
    if body is None:
        fmt, body = "pickle", pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    key = result_key(job_id, task_id, fmt)
    settings = settings or get_settings()
    aws.client("s3", settings).put_object(Bucket=settings.bucket, Key=key, Body=body)
    length = len(value) if isinstance(value, list | tuple) else None
    return key, fmt, length


def read_bytes(key: str, settings: Settings | None = None) -> bytes:
    settings = settings or get_settings()
    return bytes(aws.client("s3", settings).get_object(Bucket=settings.bucket, Key=key)["Body"].read())


def read_json(task: DescribeTask, settings: Settings | None = None) -> Any:
    """A JSON result's value (what a Lambda or the API may read); ValueError for a pickled one."""
    if task.result_key is None:
        return None
    if task.result_format != "json":
        raise ValueError(f"the result of {task.task_id} is a pickled Python object: download it")
    return json.loads(read_bytes(task.result_key, settings))


def read_value(task: DescribeTask, settings: Settings | None = None) -> Any:
    """Any result's value, unpickling if need be: the runner's and the SDK's, in the user's own process only."""
    if task.result_key is None:
        return None
    body = read_bytes(task.result_key, settings)
    if task.result_format == "pickle":
        import pickle

        return pickle.loads(body)
    return json.loads(body)


def task_result(value: Any) -> None:
    """Make `value` the result of the notebook task this runs in (outside one: nothing happens, with a warning)."""
    import os
    import pickle
    import warnings
    from pathlib import Path

    from shiftwork.config import ENV_TASK_RESULT_DIR

    where = os.environ.get(ENV_TASK_RESULT_DIR)
    if not where:
        warnings.warn("task_result() outside a workflow's notebook task records nothing", stacklevel=2)
        return
    body = as_json(value)
    folder = Path(where)
    for old in folder.glob("result.*"):
        old.unlink()
    if body is not None:
        (folder / "result.json").write_bytes(body)
    else:
        (folder / "result.pickle").write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def read_recorded(folder: Any) -> tuple[Any] | None:
    """What task_result() recorded in `folder`, as a 1-tuple; None if it was never called."""
    import pickle
    from pathlib import Path

    folder = Path(folder)
    if (folder / "result.json").is_file():
        return (json.loads((folder / "result.json").read_bytes()),)
    if (folder / "result.pickle").is_file():
        return (pickle.loads((folder / "result.pickle").read_bytes()),)
    return None
