"""`cd infra && cdk synth` as a deployer runs it: the real CDK CLI (from the npm registry), no AWS credentials, and a
`docker` that fails if anything calls it. Skipped when npx or the registries are out of reach."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.test_assets import _index_unreachable
from tests.infra.test_stack import ROOT

CDK_CLI = "aws-cdk@2"


@pytest.fixture(scope="module")
def synth_run(tmp_path_factory):
    if shutil.which("npx") is None:
        pytest.skip("npx (Node.js) is not installed: the CDK CLI cannot run")
    reason = _index_unreachable()
    if reason:
        pytest.skip(reason)
    home = tmp_path_factory.mktemp("home")  # no ~/.aws: no credentials, no profile
    shims = tmp_path_factory.mktemp("shims")
    called = shims / "docker-was-called"
    docker = shims / "docker"
    docker.write_text(f"#!/bin/sh\necho \"$@\" >> {called}\necho 'docker: not here' >&2\nexit 1\n")
    docker.chmod(0o755)
    outdir = tmp_path_factory.mktemp("cdk.out")
    environment = {
        "HOME": str(home),
        "PATH": os.pathsep.join([str(shims), str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "npm_config_cache": str(Path.home() / ".npm"),  # the real home's npm cache: reuse the CLI download
        "npm_config_update_notifier": "false",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "PIP_INDEX_URL"):
        if proxy in os.environ:
            environment[proxy] = os.environ[proxy]
    result = subprocess.run(
        ["npx", "-y", CDK_CLI, "synth", "--quiet", "--output", str(outdir)],
        cwd=ROOT / "infra",
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result, outdir, called


def test_cdk_synth_needs_no_credentials_and_no_docker(synth_run):
    result, outdir, docker_called = synth_run
    assert result.returncode == 0, result.stderr[-3000:]
    assert not docker_called.exists(), f"cdk synth called docker: {docker_called.read_text()}"
    template = json.loads((outdir / "Shiftwork.template.json").read_text())
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    handlers = sorted(f["Properties"]["Handler"] for f in functions if "Handler" in f["Properties"])
    assert [h for h in handlers if h.startswith("functions.")] == [
        "functions.api.lambda_handler",
        "functions.complete.lambda_handler",
        "functions.dispatch.lambda_handler",
        "functions.s3_trigger.lambda_handler",
        "functions.task.lambda_handler",
    ]
    assets = json.loads((outdir / "Shiftwork.assets.json").read_text())
    bundled = [
        outdir / f["source"]["path"]
        for f in assets["files"].values()
        if (outdir / f["source"]["path"] / "functions" / "dispatch.py").exists()
    ]
    assert bundled, "no bundled Lambda asset holding functions/ in cdk.out"
    assert (bundled[0] / "shiftwork" / "client.py").exists() and (bundled[0] / "aws_lambda_powertools").is_dir()
    assert assets["dockerImages"], "the runner image is staged for `cdk deploy` to build"
