"""Launching one workflow task: a Fargate task sized by RunTask overrides, or an asynchronous task-function invoke.

Against the session's moto server. moto records RunTask's overrides and tags (describe_tasks shows them) but runs
nothing, and does not dedupe RunTask by clientToken: the token's stability is asserted on the request.
The Lambda launcher's event is captured by a botocore `before-call` hook (botocore's event system, observing the
request as it is sent; the call itself goes to moto's Lambda, in its no-Docker mode, which answers 202).
"""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
import zipfile

import pytest

from shiftwork import aws
from shiftwork.config import Settings
from shiftwork.errors import LaunchError
from shiftwork.models import Status
from shiftwork.models.resources import Resources
from shiftwork.models.workflow import DescribeTask


def _task(job_id: str, task_id: str = "fit[3]", attempt: int = 2, **fields: object) -> DescribeTask:
    name = task_id.split("[", 1)[0]
    index = int(task_id[len(name) + 1 : -1]) if "[" in task_id else None
    fields.setdefault("requested", Resources(memory="700m", cpu=0.3))
    return DescribeTask(job_id=job_id, task_id=task_id, name=name, map_index=index, attempt=attempt, **fields)


@pytest.fixture
def fargate(stack):
    from shiftwork.launchers import FargateLauncher

    launcher = FargateLauncher()
    launched: list[str] = []
    yield launcher, launched
    for arn in launched:  # moto never ends a task: stop ours, so nothing else sees them running
        launcher.stop(arn, "test over")


def test_a_task_runs_with_its_granted_size_as_overrides(fargate, make_job):
    launcher, launched_arns = fargate
    job = make_job(Status.IN_PROGRESS)
    launched = launcher.launch_task(job, _task(job.job_id))
    launched_arns.append(launched.task_arn)

    assert launched.resources == Resources(cpu=0.5, memory_mb=1024)  # 0.3 vCPU, 700 MB rounded up
    ecs = aws.client("ecs")
    task = ecs.describe_tasks(cluster="shiftwork", tasks=[launched.task_arn], include=["TAGS"])["tasks"][0]
    assert (task["overrides"]["cpu"], task["overrides"]["memory"]) == ("512", "1024")
    container = task["overrides"]["containerOverrides"][0]
    assert (container["name"], container["cpu"], container["memory"]) == ("runner", 512, 1024)
    assert container["command"] == [job.job_id, "--task", "fit[3]"]  # after the image's python -m shiftwork.runner
    environment = {item["name"]: item["value"] for item in container["environment"]}
    assert environment == {"SHIFTWORK_JOB_ID": job.job_id, "SHIFTWORK_TASK_ID": "fit[3]", "SHIFTWORK_TASK_ATTEMPT": "2"}
    assert task["startedBy"] == job.job_id
    tags = {tag["key"]: tag["value"] for tag in task["tags"]}
    assert tags == {"shiftwork:job_id": job.job_id, "shiftwork:task": "fit", "shiftwork:attempt": "2"} | {
        "shiftwork:map_index": "3"
    }
    assert launched.log_stream == f"runner/runner/{launched.task_arn.rsplit('/', 1)[-1]}"


def test_a_large_task_gets_a_large_fargate_size(fargate, make_job):
    launcher, launched_arns = fargate
    job = make_job(Status.IN_PROGRESS)
    launched = launcher.launch_task(job, _task(job.job_id, "train", 1, requested=Resources(memory="31g", cpu=4)))
    launched_arns.append(launched.task_arn)
    task = aws.client("ecs").describe_tasks(cluster="shiftwork", tasks=[launched.task_arn])["tasks"][0]
    assert (task["overrides"]["cpu"], task["overrides"]["memory"]) == ("8192", str(32 * 1024))


def test_the_client_token_is_one_per_attempt_of_a_task(fargate, make_job):
    launcher, _ = fargate
    job = make_job(Status.IN_PROGRESS)

    def token(task_id: str, attempt: int) -> str:
        return launcher.task_request(job, _task(job.job_id, task_id, attempt))["clientToken"]

    assert token("fit[3]", 2) == token("fit[3]", 2)  # a retried launch: ECS answers with the first task
    assert len({token("fit[3]", 2), token("fit[3]", 3), token("fit[4]", 2), token("fit", 2)}) == 4
    longest = "t" * 64 + "[999]"
    assert len(token(longest, 10)) <= 64  # RunTask's limit, whatever the task's name
    assert launcher.task_request(job, _task(job.job_id)) == launcher.task_request(job, _task(job.job_id))


@pytest.fixture
def task_function(stack):
    """A function in moto's Lambda, in its no-Docker mode (it answers invokes without running code)."""
    endpoint = aws.client("lambda").meta.endpoint_url
    previous = json.load(urllib.request.urlopen(f"{endpoint}/moto-api/config"))
    _set_moto_config(endpoint, {"lambda": {"use_docker": False}})
    name = f"shiftwork-task-{uuid.uuid4().hex[:8]}"
    role = aws.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("task.py", "def lambda_handler(event, context):\n    return event\n")
    aws.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="task.lambda_handler",
        Code={"ZipFile": archive.getvalue()},
        MemorySize=1769,
        Timeout=600,
    )
    yield name
    aws.client("lambda").delete_function(FunctionName=name)
    aws.client("iam").delete_role(RoleName=name)
    _set_moto_config(endpoint, previous)


def _set_moto_config(endpoint: str, config: dict[str, object]) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/config", data=json.dumps(config).encode(), method="POST")
    urllib.request.urlopen(request).close()


@pytest.fixture
def invokes():
    """The Invoke requests the shared Lambda client sends, as botocore's before-call event shows them."""
    client = aws.client("lambda")
    seen: list[dict[str, object]] = []

    def record(params, **_):
        seen.append(params)

    client.meta.events.register("before-call.lambda.Invoke", record, unique_id="test-task-launch")
    yield seen
    client.meta.events.unregister("before-call.lambda.Invoke", unique_id="test-task-launch")


def test_a_lambda_task_is_one_asynchronous_invoke_naming_run_task_and_attempt(task_function, invokes, make_job):
    from shiftwork.launchers.lambda_task import LambdaTaskLauncher

    job = make_job(Status.IN_PROGRESS)
    launcher = LambdaTaskLauncher(Settings(task_function=task_function))
    launched = launcher.launch_task(job, _task(job.job_id, "score[7]", 1, requested=Resources(memory="1g", cpu=1)))

    assert len(invokes) == 1
    sent = invokes[0]
    assert sent["headers"]["X-Amz-Invocation-Type"] == "Event"
    assert task_function in sent["url_path"]
    assert json.loads(sent["body"]) == {"job_id": job.job_id, "task_id": "score[7]", "attempt": 1}
    assert launched.task_arn.startswith("lambda:") and len(launched.task_arn) > len("lambda:")
    assert launched.log_stream == f"lambda/{job.job_id}/score[7]/1"  # where the invocation sends its output
    assert launched.resources == Resources(cpu=1.0, memory_mb=1769)  # the function's size: 1 vCPU's worth


def test_a_task_larger_than_the_task_function_is_not_invoked(task_function, invokes, make_job):
    from shiftwork.launchers.lambda_task import LambdaTaskLauncher

    job = make_job(Status.IN_PROGRESS)
    launcher = LambdaTaskLauncher(Settings(task_function=task_function))
    with pytest.raises(LaunchError, match=r"needs 4096 MB on Lambda .* has 1769 MB"):
        launcher.launch_task(job, _task(job.job_id, "big", 1, requested=Resources(memory="4g")))
    assert invokes == []


def test_a_task_longer_than_the_task_function_s_timeout_is_not_invoked(task_function, invokes, make_job):
    from shiftwork.launchers.lambda_task import LambdaTaskLauncher

    job = make_job(Status.IN_PROGRESS)
    launcher = LambdaTaskLauncher(Settings(task_function=task_function))
    with pytest.raises(LaunchError, match=r"may run 900 s but the task function .* stops after 600 s"):
        launcher.launch_task(job, _task(job.job_id, "slow", 1, timeout_seconds=900))
    assert invokes == []
