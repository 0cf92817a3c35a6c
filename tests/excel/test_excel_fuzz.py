"""schemathesis against the add-in's endpoints over a real socket: no 5xx, every answer as documented, and no
case makes a job or a definition (no fuzzed call names a function that writes; checked once, after them all).

Bounded: a few examples per operation, so the module takes seconds.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

pytestmark = pytest.mark.fuzz

MAX_EXAMPLES = 25
FIGURES: dict[str, Any] = {"cases": 0, "by_status": {}}
BEFORE: dict[str, Any] = {}  # when the first case ran
CALLED: list[str] = []


def _schema() -> Any:
    from shiftwork.api.routes.excel import ExcelConfig, build_excel_app
    from shiftwork.excel.protocol import Registry

    config = SchemathesisConfig.from_dict(
        {
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "no-shrink": True, "deterministic": True},
            "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
        }
    )
    document = build_excel_app(Registry([]), ExcelConfig()).get_openapi_json_schema()
    return schemathesis.openapi.from_dict(json.loads(document), config=config)


schema = _schema()


@pytest.fixture(scope="module", autouse=True)
def report_figures(stack):
    BEFORE["ms"] = int(time.time() * 1000)
    yield
    print(f"\nschemathesis figures (excel): {FIGURES}")


@schema.parametrize()
@pytest.mark.timeout(120)
def test_the_add_in_endpoints_hold_under_fuzzing(case, excel_server):
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_schema_conformance,
        status_code_conformance,
    )

    response = case.call(
        base_url=excel_server.url, headers={"Authorization": f"Bearer {excel_server.token}"}, timeout=60
    )
    FIGURES["cases"] += 1
    FIGURES["by_status"][response.status_code] = FIGURES["by_status"].get(response.status_code, 0) + 1
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            response_schema_conformance,
            status_code_conformance,
            content_type_conformance,
            negative_data_rejection,
        ],
    )
    CALLED.append(f"{case.method} {case.formatted_path} -> {response.status_code}")


def test_no_fuzzed_case_made_a_job_or_a_definition():
    """After every case above (this module runs in order, in one worker): what the add-in can write is a job
    (SHIFTWORK.RUN), so no job, and no definition, is newer than the module's start."""
    from shiftwork.api.service import Service
    from shiftwork.models import ListJobsQuery

    assert CALLED, "the fuzzing above ran no case"
    service = Service()
    newest_jobs = service.list_jobs(ListJobsQuery(max_items=1)).jobs  # newest first
    newest_definitions = service.definitions.list(max_items=1).job_definitions
    made = [x.create_time for x in (*newest_jobs, *newest_definitions) if x.create_time >= BEFORE["ms"]]
    assert made == [], f"one of {len(CALLED)} cases made a record: {CALLED[-20:]}"
