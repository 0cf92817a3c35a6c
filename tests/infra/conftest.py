"""The CDK app synthesised once per session (in-process, assets not built), shared by the infra test modules."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def synthesized():
    """(the stack's Template, the synthesised template's JSON text); cdk-nag's AwsSolutions checks ran on it."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    pytest.importorskip("aws_cdk", reason="the infra extra is not installed")
    sys.path.insert(0, str(ROOT / "infra"))
    import app as infra_app
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    application = cdk.App(context={"aws:cdk:bundling-stacks": []})  # no Docker, no pip: assets are not built
    stack = infra_app.build(application)
    assembly = application.synth()  # raises if cdk-nag's AwsSolutions checks find anything unacknowledged
    return Template.from_stack(stack), Path(assembly.stacks[0].template_full_path).read_text()


def build_app(context: dict, outdir: str | None = None):
    """(the CDK app, its stack) built with context, assets not built: what each optional part's tests synthesise."""
    import app as infra_app
    import aws_cdk as cdk

    application = cdk.App(outdir=outdir, context={"aws:cdk:bundling-stacks": [], **context})
    return application, infra_app.build(application)


def synthesize(context: dict, outdir: Path):
    """(Template, resources, outputs) of the stack synthesised with context into outdir; cdk-nag ran on it."""
    import json

    from aws_cdk.assertions import Template

    application, stack = build_app(context, str(outdir))
    assembly = application.synth()  # raises if cdk-nag's AwsSolutions checks find anything unacknowledged
    template = json.loads(Path(assembly.stacks[0].template_full_path).read_text())
    return Template.from_stack(stack), template["Resources"], template["Outputs"]
