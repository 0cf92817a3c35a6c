"""A schedule's preview is one function: the Service, the REST API's Client and `shiftwork schedule preview` agree."""

from __future__ import annotations

import itertools
import json
from datetime import datetime

import pytest
from typer.testing import CliRunner

from shiftwork.errors import InvalidSpec


@pytest.fixture
def client(api):
    from shiftwork.client import Client

    return Client(api.url, token=api.token)


SCHEDULE, ZONE, START = "30 8 * * mon-fri", "America/New_York", "2026-03-06T00:00:00"  # across the March DST change


def test_the_service_the_client_and_the_cli_give_the_same_fires(service, client):
    local = service.preview_schedule(SCHEDULE, ZONE, count=4, start=START)
    remote = client.preview_schedule(SCHEDULE, ZONE, count=4, start=START)
    from shiftwork.cli.app import app

    printed = CliRunner().invoke(
        app, ["schedule", "preview", SCHEDULE, "--tz", ZONE, "--count", "4", "--start", START, "--json"]
    )
    assert printed.exit_code == 0, printed.output
    assert [f.isoformat() for f in remote.fires] == [f.isoformat() for f in local.fires] == json.loads(printed.output)
    # Friday 6 March (EST, -05:00), then Monday 9 March to Wednesday (EDT, -04:00): wall time kept across the change
    assert [f.isoformat() for f in local.fires] == [
        "2026-03-06T08:30:00-05:00",
        "2026-03-09T08:30:00-04:00",
        "2026-03-10T08:30:00-04:00",
        "2026-03-11T08:30:00-04:00",
    ]
    words = "At 08:30 AM, Monday through Friday (America/New_York; 30 8 * * mon-fri)"
    assert remote.in_words == local.in_words == words


def test_a_preview_starts_now_by_default(client):
    fires = client.preview_schedule("rate(1 hour)", count=3).fires
    assert fires[0] > datetime.now(fires[0].tzinfo)
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(fires)] == [3600, 3600]


@pytest.mark.parametrize(
    ("schedule", "zone", "count", "field"),
    [
        ("0 9 * *", "UTC", 5, "cron"),
        ("0 9 * * *", "Mars/Olympus", 5, "timezone"),
        ("0 9 * * *", "0" * 300, 5, "timezone"),  # longer than a file name: zoneinfo's OSError, once a 500
        ("0 9 * * *", "UTC", 0, "count"),
        ("0 9 * * *", "UTC", 1001, "count"),
    ],
)
def test_a_bad_preview_is_a_400_naming_the_field(service, client, schedule, zone, count, field):
    for backend in (service, client):
        with pytest.raises(InvalidSpec) as raised:
            backend.preview_schedule(schedule, zone, count=count)
        assert field in str(raised.value)
