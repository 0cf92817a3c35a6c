"""The CDK app synthesised once per test process (xdist worker): three modules read the same template."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def synthesized():
    """The app's template (assertions object, JSON text); synth raises if cdk-nag finds anything unacknowledged."""
    pytest.importorskip("aws_cdk", reason="the infra extra is not installed")
    sys.path.insert(0, str(ROOT / "infra"))
    import app as infra_app
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    application = cdk.App(context={"aws:cdk:bundling-stacks": []})  # no Docker, no pip: assets are not built
    stack = infra_app.build(application)
    assembly = application.synth()
    return Template.from_stack(stack), Path(assembly.stacks[0].template_full_path).read_text()
