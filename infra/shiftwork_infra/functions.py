"""Functions: the Lambdas (dispatch, complete, s3_trigger, api; task, the workflow executor) from one asset, arm64,
Python 3.12.

The asset bundles without Docker: pip installs the package for the Lambda platform (manylinux, aarch64) locally.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from constructs import Construct

from shiftwork_infra.acknowledge import acknowledge

REPOSITORY = Path(__file__).resolve().parents[2]
HANDLERS = ("dispatch", "complete", "s3_trigger", "api")  # the event handlers; the task executor is apart
TASK_MEMORY_MB = 1769  # one full vCPU's worth on Lambda
TASK_TIMEOUT_SECONDS = 900  # Lambda's limit: longer tasks run on Fargate
# what the asset is built from: the package's sources and the handlers (.dockerignore style: all out, these back in)
SOURCES = ("pyproject.toml", "README.md", "src", "functions")
EXCLUDE = ["*", *(f"!{source}" for source in SOURCES), "**/__pycache__", "**/*.egg-info"]
# Lambda's Python 3.12 runtime is Amazon Linux 2023 (glibc 2.34); pip does not widen manylinux_2_x tags by itself
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")


@jsii.implements(cdk.ILocalBundling)
class PipForLambda:
    """pip install the project for Lambda's platform into the asset folder; no Docker needed."""

    def try_bundle(self, output_dir: str, *args: object, **kwargs: object) -> bool:
        with tempfile.TemporaryDirectory(prefix="shiftwork-lambda-") as project:
            # a copy: building in place would leave build/ and *.egg-info in the working tree, and a stale
            # build/lib would put modules deleted from src/ back into the asset
            for source in SOURCES:
                path = REPOSITORY / source
                if path.is_dir():
                    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
                    shutil.copytree(path, Path(project) / source, ignore=ignore)
                else:
                    shutil.copy2(path, Path(project) / source)
            platforms = [argument for platform in PLATFORMS for argument in ("--platform", platform)]
            command = [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-compile",  # this interpreter's .pyc files are no use to Python 3.12
                "--target",
                output_dir,
                *platforms,
                "--implementation",
                "cp",
                "--python-version",
                "3.12",
                "--only-binary=:all:",
                f"{project}[aws]",  # the package ships functions/ too (pyproject's packages.find)
            ]
            if subprocess.run(command, check=False).returncode != 0:
                return False
        shutil.rmtree(Path(output_dir) / "bin", ignore_errors=True)  # console scripts for this machine's Python
        return True


class Functions(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, environment: dict[str, str]) -> None:
        super().__init__(scope, construct_id)
        self.code = lambda_.Code.from_asset(
            str(REPOSITORY),
            exclude=EXCLUDE,
            ignore_mode=cdk.IgnoreMode.DOCKER,
            bundling=cdk.BundlingOptions(
                image=lambda_.Runtime.PYTHON_3_12.bundling_image,
                platform="linux/arm64",  # pydantic_core and friends built for the functions' architecture
                command=["bash", "-c", "pip install '.[aws]' -t /asset-output && cp -r functions /asset-output/"],
                local=PipForLambda(),
            ),
        )
        self.environment = environment
        self.functions: dict[str, lambda_.Function] = {
            name: self._function(name, memory_mb=512, timeout_seconds=30) for name in HANDLERS
        }
        # The executor of light workflow tasks. Lambda's memory (and the CPU that comes with it) is fixed per
        # function, not per invocation: this size is the ceiling a task marked executor="lambda" may ask for, and
        # the launcher checks each task's memory against it (SHIFTWORK_TASK_FUNCTION_MEMORY) before invoking.
        memory = _context_int(self, "taskFunctionMemory", TASK_MEMORY_MB, 128, 10240)
        self.task = self._function(
            "task",
            memory_mb=memory,
            timeout_seconds=TASK_TIMEOUT_SECONDS,
            reserved_concurrent_executions=_context_int(self, "taskFunctionConcurrency", None, 1, 100000),
            # each attempt is one invocation: the run's own retries count attempts, Lambda's would repeat one
            retry_attempts=0,
            # the outcome of every invocation, a timeout or a crash included (which the handler cannot record
            # itself), goes to the default event bus, from where a rule hands it to complete (events.py): the
            # task function's counterpart of an ECS Task State Change
            on_success=destinations.EventBridgeDestination(),
            on_failure=destinations.EventBridgeDestination(),
        )
        self.task_memory_mb = memory
        self.functions["task"] = self.task
        self.dispatch = self.functions["dispatch"]
        self.complete = self.functions["complete"]
        self.s3_trigger = self.functions["s3_trigger"]
        self.api = self.functions["api"]

    def _function(self, name: str, *, memory_mb: int, timeout_seconds: int, **options: object) -> lambda_.Function:
        """The function whose handler is functions/<name>.py, from the one asset, with the stack's settings."""
        return handler_function(
            self,
            name.title().replace("_", ""),
            name,
            code=self.code,
            environment=self.environment,
            memory_mb=memory_mb,
            timeout_seconds=timeout_seconds,
            log_group_id=f"{name}Logs",
            **options,
        )


def handler_function(
    scope: Construct,
    construct_id: str,
    name: str,
    *,
    code: lambda_.Code,
    environment: dict[str, str],
    memory_mb: int,
    timeout_seconds: int,
    log_group_id: str,
    **options: object,
) -> lambda_.Function:
    """One rule for every Shiftwork function: functions/<name>.py on Python 3.12, ARM64, its own log group kept
    three months, traced."""
    function = lambda_.Function(
        scope,
        construct_id,
        runtime=lambda_.Runtime.PYTHON_3_12,
        architecture=lambda_.Architecture.ARM_64,
        handler=f"functions.{name}.lambda_handler",
        code=code,
        memory_size=memory_mb,
        timeout=cdk.Duration.seconds(timeout_seconds),
        environment={**environment, "POWERTOOLS_SERVICE_NAME": f"shiftwork-{name}"},
        log_group=logs.LogGroup(scope, log_group_id, retention=logs.RetentionDays.THREE_MONTHS),
        tracing=lambda_.Tracing.ACTIVE,
        **options,  # type: ignore[arg-type]
    )
    acknowledge(
        function,
        "AwsSolutions-L1",
        "Pinned to Python 3.12, the runtime the library and the runner image are tested on.",
    )
    return function


def _context_int(scope: Construct, key: str, default: int | None, low: int, high: int) -> int | None:
    """An integer from the CDK context (cdk deploy -c key=N), or `default`; a bad value stops the synth, named."""
    raw = scope.node.try_get_context(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw))
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ValueError(f"context {key}={raw!r}: must be an integer from {low} to {high} (cdk deploy -c {key}=N)")
    return value
