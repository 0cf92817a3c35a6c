"""GET /jobs and /job_definitions with filters and sort_by, over a real socket (HTTP adapter -> functions.api).

Each test names its records with a fresh prefix and filters on it, so other tests' records never interfere.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from shiftwork.models import DescribeJobDefinition, ListJobsQuery, Status
from shiftwork.models.job import SortDirection, SortField


@pytest.fixture
def prefix() -> str:
    return f"sort-{uuid.uuid4().hex[:8]}-"


def get(api, path: str, **params: object) -> tuple[int, dict]:
    pairs = [(k, v) for k, value in params.items() for v in (value if isinstance(value, list) else [value])]
    request = urllib.request.Request(f"{api.url}{path}?{urllib.parse.urlencode(pairs)}")
    request.add_header("Authorization", f"Bearer {api.token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def every_page(api, path: str, key: str, **params: object) -> list[list[dict]]:
    """Each page's items, following next_token to the end."""
    pages, token = [], None
    while True:
        status, body = get(api, path, **params, **({"next_token": token} if token else {}))
        assert status == 200, body
        pages.append(body[key])
        token = body.get("next_token")
        if not token:
            return pages
        assert len(pages) < 50, "next_token never ran out"


def names(items: list[dict]) -> list[str]:
    return [item["name"] for item in items]


def test_sorted_by_name_across_pages_with_ties_broken_by_id(api, make_job, prefix):
    made = [
        make_job(Status.COMPLETED, name=prefix + name, create_time=5_000 + i)
        for i, name in enumerate(["delta", "alpha", "charlie", "bravo", "alpha", "echo"])
    ]
    alphas = sorted(job.job_id for job in made if job.name.endswith("alpha"))

    pages = every_page(api, "/jobs", "jobs", name=prefix, sort_by="name", max_items=2)
    assert [len(page) for page in pages] == [2, 2, 2]
    jobs = [job for page in pages for job in page]
    expected = ["alpha", "alpha", "bravo", "charlie", "delta", "echo"]
    assert names(jobs) == [prefix + name for name in expected]
    assert [job["job_id"] for job in jobs[:2]] == alphas

    pages = every_page(api, "/jobs", "jobs", name=prefix, sort_by="-name", max_items=4)
    jobs = [job for page in pages for job in page]
    assert names(jobs) == [prefix + name for name in reversed(expected)]
    assert [job["job_id"] for job in jobs[-2:]] == alphas  # the tiebreak stays ascending


def test_filters_combine_with_sort_and_missing_values_come_last(api, make_job, prefix):
    def job(status: Status, name: str, start: int | None, **fields: object) -> str:
        return make_job(status, name=prefix + name, start_time=start, end_time=start and start + 10, **fields).job_id

    early = job(Status.COMPLETED, "early", 500)
    first = job(Status.COMPLETED, "first", 1_000)
    failed = job(Status.FAILED, "failed", 2_000)
    last = job(Status.COMPLETED, "last", 3_000, tags=["nightly"])
    skipped = job(Status.SKIPPED, "skipped", None)  # never started: no start_time

    def ids(**params: object) -> list[str]:
        return [j["job_id"] for page in every_page(api, "/jobs", "jobs", name=prefix, **params) for j in page]

    assert ids(status="COMPLETED", start_time="1000", sort_by="-start_time") == [last, first]
    assert ids(status="completed", start_time="1970-01-01T00:00:01Z", sort_by="desc(start_time)") == [last, first]
    assert ids(sort_by="start_time:desc", max_items=2) == [last, failed, first, early, skipped]
    assert ids(sort_by="asc(start_time)", max_items=2) == [early, first, failed, last, skipped]
    assert ids(tags="nightly", sort_by="name") == [last]
    # repeated sort_by parameters reach the handler comma-joined, as API Gateway joins them
    assert ids(sort_by=["status", "-end_time"], max_items=3) == [last, first, early, failed, skipped]


def test_create_time_order_pages_through_the_index(api, make_job, prefix):
    definition = str(uuid.uuid4())
    made = [
        make_job(Status.COMPLETED, name=f"{prefix}{i}", create_time=20_000 + i, job_definition_id=definition).job_id
        for i in range(5)
    ]
    make_job(Status.FAILED, name=f"{prefix}other", create_time=20_002, job_definition_id=definition)

    def ids(**params: object) -> list[str]:
        pages = every_page(api, "/jobs", "jobs", **params)
        assert all(len(page) <= params["max_items"] for page in pages)
        return [j["job_id"] for page in pages for j in page]

    newest_first = list(reversed(made))
    assert ids(name=prefix, status="COMPLETED", max_items=2) == newest_first  # the default order
    assert ids(name=prefix, status="COMPLETED", sort_by="desc(create_time)", max_items=2) == newest_first
    assert ids(job_definition_id=definition, status="COMPLETED", sort_by="create_time", max_items=2) == made
    status, page = get(api, "/jobs", job_definition_id=definition, sort_by="create_time", max_items=6)
    assert status == 200 and len(page["jobs"]) == 6 and page["next_token"] is None


def test_tags_must_all_be_carried_exactly(api, make_job, prefix):
    just_a = make_job(Status.COMPLETED, name=prefix + "1", tags=["a"]).job_id
    make_job(Status.COMPLETED, name=prefix + "2", tags=["ab"])
    make_job(Status.COMPLETED, name=prefix + "3", tags=['x"a'])  # its JSON holds "a" too
    both = make_job(Status.COMPLETED, name=prefix + "4", tags=["b", "a"]).job_id

    def ids(**params: object) -> list[str]:
        return [j["job_id"] for j in get(api, "/jobs", name=prefix, sort_by="name", **params)[1]["jobs"]]

    assert ids(tags="a") == [just_a, both]
    assert ids(tags=["a", "b"]) == [both]
    assert ids(tags="a,b") == [both]


def test_iter_jobs_follows_the_query(service, make_job, prefix):
    for name in ["b", "c", "a"]:
        make_job(Status.STOPPED, name=prefix + name)
    query = ListJobsQuery(name=prefix, sort_by=[SortField(name="name", direction=SortDirection.DESC)])
    assert [job.name for job in service.iter_jobs(query=query)] == [prefix + n for n in ["c", "b", "a"]]
    assert list(service.iter_jobs(Status.COMPLETED, query=query)) == []


@pytest.mark.parametrize(
    ("path", "params", "field", "says"),
    [
        ("/jobs", {"sort_by": "bogus"}, "sort_by", "sort by one of create_time"),
        ("/jobs", {"sort_by": "name:up"}, "sort_by", "the direction is asc or desc"),
        ("/jobs", {"sort_by": "up(name)"}, "sort_by", "the direction is asc or desc"),
        ("/jobs", {"sort_by": "name,-name"}, "sort_by", "name each sort field once"),
        ("/jobs", {"start_time": "yesterday"}, "start_time", "ISO 8601"),
        ("/jobs", {"next_token": "!!not-a-token"}, "next_token", "previous page unchanged"),
        ("/jobs", {"next_token": "bm90IGpzb24"}, "next_token", "previous page unchanged"),
        ("/job_definitions", {"sort_by": "status"}, "sort_by", "sort by one of create_time"),
        ("/job_definitions", {"create_time": "soon"}, "create_time", "ISO 8601"),
        ("/job_definitions", {"next_token": "garbage"}, "next_token", "previous page unchanged"),
    ],
)
def test_bad_list_requests_are_400_naming_the_field(api, path, params, field, says):
    status, error = get(api, path, **params)
    assert status == 400, error
    assert error["field"] == field
    assert says in error["message"]


def test_a_token_works_only_with_the_query_that_made_it(api, make_job, prefix):
    for name in ["a", "b", "c"]:
        make_job(Status.COMPLETED, name=prefix + name)
    status, page = get(api, "/jobs", name=prefix, sort_by="name", max_items=1)
    assert status == 200 and page["next_token"]
    status, error = get(api, "/jobs", name=prefix, sort_by="-name", max_items=1, next_token=page["next_token"])
    assert status == 400 and error["field"] == "next_token" and "other filters or sort_by" in error["message"]
    status, error = get(api, "/jobs", name=prefix + "b", sort_by="name", next_token=page["next_token"])
    assert status == 400 and error["field"] == "next_token"
    status, again = get(api, "/jobs", name=prefix, sort_by="name", max_items=5, next_token=page["next_token"])
    assert status == 200 and names(again["jobs"]) == [prefix + "b", prefix + "c"]  # max_items may change


def _tampered(token: str, value: object) -> str:
    state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    state["after"][0] = value
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


def test_a_tampered_token_is_a_400_not_a_crash(api, make_job, prefix):
    for name in ["a", "b"]:
        make_job(Status.COMPLETED, name=prefix + name)
    for sort_by, value in [("name", 5), ("-create_time", "yesterday")]:
        status, page = get(api, "/jobs", name=prefix, sort_by=sort_by, max_items=1)
        assert status == 200 and page["next_token"]
        token = _tampered(page["next_token"], value)
        status, error = get(api, "/jobs", name=prefix, sort_by=sort_by, max_items=1, next_token=token)
        assert status == 400 and error["field"] == "next_token", error


def test_too_many_to_sort_in_memory_is_a_400_naming_sort_by(api, make_job, prefix, monkeypatch):
    from shiftwork.store import listing

    monkeypatch.setattr(listing, "MAX_SORTED_ITEMS", 3)
    for i in range(4):
        make_job(Status.COMPLETED, name=f"{prefix}{i}")
    status, error = get(api, "/jobs", name=prefix, sort_by="name")
    assert status == 400, error
    assert error["field"] == "sort_by" and "more than 3 jobs match" in error["message"]
    assert "sort by create_time" in error["message"]
    assert get(api, "/jobs", name=prefix + "1", sort_by="name")[0] == 200  # filtered enough
    assert len(get(api, "/jobs", name=prefix)[1]["jobs"]) == 4  # create_time order has no limit


@pytest.fixture
def make_definition(stack):
    from shiftwork.store import definitions

    made: list[str] = []

    def make(name: str, create_time: int, **fields: object) -> DescribeJobDefinition:
        definition_id = str(uuid.uuid4())
        definition = DescribeJobDefinition(
            job_definition_id=definition_id,
            name=name,
            version=1,
            input_filename="x.ipynb",
            input_prefix=f"definitions/{definition_id}/v1/input/",
            create_time=create_time,
            update_time=create_time,
            active_since=create_time,
            **fields,
        )
        made.append(definition_id)
        return definitions.put(definition)

    yield make
    for definition_id in made:
        definitions.delete(definition_id)


def test_definitions_filter_and_sort(api, make_definition, prefix):
    a = make_definition(prefix + "a", 1_000, schedule="0 9 * * *").job_definition_id
    b = make_definition(prefix + "b", 2_000, watch_prefix="data/").job_definition_id
    c = make_definition(prefix + "c", 3_000, schedule="0 8 * * *", active=False).job_definition_id
    d = make_definition(prefix + "d", 4_000, schedule="0 9 * * *", tags=["ops"]).job_definition_id

    def ids(**params: object) -> list[str]:
        pages = every_page(api, "/job_definitions", "job_definitions", name=prefix, **params)
        return [item["job_definition_id"] for page in pages for item in page]

    assert ids(max_items=3) == [d, c, b, a]  # newest first
    assert ids(sort_by="name", max_items=3) == [a, b, c, d]
    assert ids(sort_by="schedule,-name", max_items=1) == [c, d, a, b]  # no schedule: last
    assert ids(paused="true") == [c]
    assert ids(paused="false", schedule="0 9 * * *") == [d, a]
    assert ids(tags="ops") == [d]
    assert ids(create_time="2000", sort_by="create_time") == [b, c, d]
    assert ids(sort_by="active,name") == [c, a, b, d]  # paused (active false) first
