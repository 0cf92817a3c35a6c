"""Run now with an idempotency token: a repeat of the request, over the REST API or the Client, gets the same job."""

from __future__ import annotations

import urllib3

from shiftwork.client import Client
from shiftwork.models import CreateJobDefinition
from tests.helpers import write_notebook


def test_a_repeated_run_request_with_one_token_gets_the_job_the_first_made(api, service, tmp_path):
    notebook = write_notebook(tmp_path / "tokened.ipynb", "x = 1", "print(x)")
    definition = service.definitions.create(
        CreateJobDefinition(input_uri=str(notebook), name="tokened", max_running_jobs=5)
    )
    try:
        client = Client(api.url, token=api.token)
        first = client.definitions.run(definition.job_definition_id, {"x": 2}, idempotency_token="monday-close")
        again = client.definitions.run(definition.job_definition_id, {"x": 2}, idempotency_token="monday-close")
        other = client.definitions.run(definition.job_definition_id, {"x": 2}, idempotency_token="tuesday-close")
        untokened = client.definitions.run(definition.job_definition_id, {"x": 2})
        assert again.job_id == first.job_id
        assert len({first.job_id, other.job_id, untokened.job_id}) == 3
        assert service.get_job(first.job_id).idempotency_token == "monday-close"
        refused = urllib3.PoolManager().request(
            "POST",
            f"{api.url}/job_definitions/{definition.job_definition_id}/jobs",
            json={"parameters": {}, "idempotency_token": "x" * 129},
            headers={"Authorization": f"Bearer {api.token}"},
        )
        assert refused.status == 400 and refused.json()["field"] == "idempotency_token"
        for job in (first, other, untokened):
            service.wait_job(job.job_id, timeout=120)
    finally:
        service.definitions.delete(definition.job_definition_id)
