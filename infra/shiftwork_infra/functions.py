"""Functions: the Lambdas (dispatch, complete, s3_trigger, api) from one asset, arm64, Python 3.12.

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
from aws_cdk import aws_logs as logs
from constructs import Construct

from shiftwork_infra.acknowledge import acknowledge

REPOSITORY = Path(__file__).resolve().parents[2]
HANDLERS = ("dispatch", "complete", "s3_trigger", "api")
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
        code = lambda_.Code.from_asset(
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
