"""Runner: the ECS cluster and the Fargate task definition that runs `python -m shiftwork.runner`.

One task definition for every job and workflow task: the launcher overrides cpu and memory (task and container)
and, for a workflow task, the command (`python -m shiftwork.runner JOB_ID --task TASK_ID`). The image has a CMD and
no ENTRYPOINT, so the command runs as given; a prebuilt image (-c runnerImage) must do the same.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

from shiftwork.models.resources import CPU_UNITS, NOTEBOOK_RUNNER
from shiftwork_infra.acknowledge import acknowledge

REPOSITORY = Path(__file__).resolve().parents[2]
# the image's build context: what the Dockerfile COPYs (.dockerignore style: all out, these back in), so that caches
# and other files in the working tree neither slow synth down nor change the image's hash
BUILD_CONTEXT = ("Dockerfile", "pyproject.toml", "README.md", "src")
EXCLUDE = ["*", *(f"!{path}" for path in BUILD_CONTEXT), "**/__pycache__", "**/*.egg-info"]


class Runner(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, vpc, environment: dict[str, str]) -> None:
        super().__init__(scope, construct_id)
        self.cluster = ecs.Cluster(self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
        self.log_group = logs.LogGroup(self, "Logs", retention=logs.RetentionDays.THREE_MONTHS)
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=round(NOTEBOOK_RUNNER.cpu * CPU_UNITS),  # a notebook job's size; a workflow task overrides it
            memory_limit_mib=NOTEBOOK_RUNNER.memory_mb,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64, operating_system_family=ecs.OperatingSystemFamily.LINUX
            ),
        )
        image_uri = self.node.try_get_context("runnerImage")
        # the kernels jobs can use: the Dockerfile installs "python3"; a prebuilt image names its own (runnerKernels)
        kernels = str(self.node.try_get_context("runnerKernels") or "python3").split(",")
        self.kernels = [kernel.strip() for kernel in kernels if kernel.strip()]
        image = (
            ecs.ContainerImage.from_registry(image_uri)
            if image_uri
            else ecs.ContainerImage.from_asset(
                str(REPOSITORY),
                file="Dockerfile",
                exclude=EXCLUDE,
                ignore_mode=cdk.IgnoreMode.DOCKER,
                platform=ecr_assets.Platform.LINUX_ARM64,  # the task's platform, whatever machine builds it
            )
        )
        self.container = self.task_definition.add_container(
            "runner",
            image=image,
            command=["python", "-m", "shiftwork.runner"],
            logging=ecs.LogDrivers.aws_logs(stream_prefix="runner", log_group=self.log_group),
            environment=environment,
        )
        acknowledge(
            self.task_definition,
            "AwsSolutions-ECS2",
            "The environment holds resource names only (tables, bucket); no secrets.",
        )
