"""Functions: the Lambdas (dispatch, complete, s3_trigger, api) from one asset, arm64, Python 3.12.

The asset bundles without Docker: pip installs the package for the Lambda platform (manylinux, aarch64) locally.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from shiftwork_infra.acknowledge import acknowledge

REPOSITORY = Path(__file__).resolve().parents[2]
HANDLERS = ("dispatch", "complete", "s3_trigger", "api")


@jsii.implements(cdk.ILocalBundling)
class PipForLambda:
    """pip install the project for Lambda's platform into the asset folder; no Docker needed."""

    def try_bundle(self, output_dir: str, *args: object, **kwargs: object) -> bool:
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--target",
            output_dir,
            "--platform",
            "manylinux2014_aarch64",
            "--implementation",
            "cp",
            "--python-version",
            "3.12",
            "--only-binary=:all:",
            f"{REPOSITORY}[aws]",
        ]
        if subprocess.run(command, check=False).returncode != 0:
            return False
        shutil.copytree(REPOSITORY / "functions", Path(output_dir) / "functions", dirs_exist_ok=True)
        return True


class Functions(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, environment: dict[str, str]) -> None:
        super().__init__(scope, construct_id)
        code = lambda_.Code.from_asset(
            str(REPOSITORY),
            exclude=[".venv", ".git", "infra", "tests", "bench", "examples", "**/__pycache__"],
            bundling=cdk.BundlingOptions(
                image=lambda_.Runtime.PYTHON_3_12.bundling_image,
                command=["bash", "-c", "pip install '.[aws]' -t /asset-output && cp -r functions /asset-output/"],
                local=PipForLambda(),
            ),
        )
        self.functions: dict[str, lambda_.Function] = {}
        for name in HANDLERS:
            function = lambda_.Function(
                self,
                name.title().replace("_", ""),
                runtime=lambda_.Runtime.PYTHON_3_12,
                architecture=lambda_.Architecture.ARM_64,
                handler=f"functions.{name}.lambda_handler",
                code=code,
                memory_size=512,
                timeout=cdk.Duration.seconds(30),
                environment={**environment, "POWERTOOLS_SERVICE_NAME": f"shiftwork-{name}"},
                log_group=logs.LogGroup(self, f"{name}Logs", retention=logs.RetentionDays.THREE_MONTHS),
                tracing=lambda_.Tracing.ACTIVE,
            )
            acknowledge(
                function,
                "AwsSolutions-L1",
                "Pinned to Python 3.12, the runtime the library and the runner image are tested on.",
            )
            self.functions[name] = function
        self.dispatch = self.functions["dispatch"]
        self.complete = self.functions["complete"]
        self.s3_trigger = self.functions["s3_trigger"]
        self.api = self.functions["api"]
