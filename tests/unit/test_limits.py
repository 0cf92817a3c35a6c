"""The limits of what each AWS service takes, checked before anything is written (models/limits.py)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from shiftwork.errors import InvalidSpec, shorten
from shiftwork.models import CreateJob, CreateJobDefinition, UpdateJobDefinition, parse_time_ms
from shiftwork.models.limits import (
    MAX_NEW_RECORD_BYTES,
    as_invalid_spec,
    check_definition_id,
    check_record_size,
    check_s3_key,
    check_schedule_names,
)
from shiftwork.schedules import parse_trigger
from shiftwork.schedules.scheduler_api import _is_schedule_of, schedule_name


def test_a_long_value_is_shortened_in_every_message():
    error = InvalidSpec("name", "n" * 1_000_000, "shorten it")
    assert str(error) == f"name {'n' * 40 + '…'!r}: shorten it"
    assert shorten(3) == 3 and shorten(None) is None and shorten({"a": "b" * 100}).endswith("…")


@pytest.mark.parametrize("good", ["daily-report", "a", "A_1", "x" * 48])
def test_definition_ids_make_valid_keys_and_schedule_names(good):
    assert check_definition_id(good) == good
    check_schedule_names([schedule_name(good, 99)])  # 48 + "-99" is inside EventBridge's 64


@pytest.mark.parametrize("bad", ["../../etc/passwd", "", "-x", "a/b", "a.b", "x" * 49, "é", "a b"])
def test_definition_ids_outside_the_charset_or_length_are_refused(bad):
    with pytest.raises(InvalidSpec, match="job_definition_id"):
        check_definition_id(bad)


def test_derived_schedule_names_are_checked_against_eventbridge():
    check_schedule_names(["a-0", "A.b_c-12"])
    for bad in ("x" * 65, "a/b-0", "a:b-0"):
        with pytest.raises(InvalidSpec, match="EventBridge Scheduler"):
            check_schedule_names([bad])


def test_schedules_of_one_definition_are_exactly_its_own():
    assert _is_schedule_of("a-0", "a") and _is_schedule_of("a-b-12", "a-b")
    assert not _is_schedule_of("ab-0", "a") and not _is_schedule_of("a-b-0", "a") and not _is_schedule_of("a-x", "a")


def test_s3_keys_stay_under_their_prefix_and_within_1024_bytes():
    assert check_s3_key("f", "data/x.csv", "jobs/1/input/") == "jobs/1/input/data/x.csv"
    for bad in ("../x", "a/../b", "/abs", "a//b", "./a", "", "a\x00b"):
        with pytest.raises(InvalidSpec):
            check_s3_key("f", bad, "p/")
    with pytest.raises(InvalidSpec, match="1024 bytes"):
        check_s3_key("f", "/".join(["é" * 100] * 6), "p/")  # 1,200 bytes of UTF-8 in 600 characters
    with pytest.raises(InvalidSpec, match="255 bytes"):
        check_s3_key("f", "é" * 128)


def test_a_record_over_its_dynamodb_budget_is_refused_naming_its_largest_field():
    class Record(BaseModel):
        name: str
        notes: str

    check_record_size("job", Record(name="a", notes="b" * 1000))
    with pytest.raises(InvalidSpec, match="shorten notes") as refused:
        check_record_size("job", Record(name="a", notes="b" * MAX_NEW_RECORD_BYTES))
    assert refused.value.field == "notes"


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "n" * 257},
        {"tags": ["t"] * 51},
        {"tags": ["t" * 129]},
        {"timeout_seconds": 1e-200},
        {"timeout_seconds": 1e300},
        {"kernel_name": "k" * 129},
        {"idempotency_token": "i" * 129},
        {"job_definition_id": "../x"},
        {"parameters": {"x": "y" * 70_000}},
        {"parameters": {"2x": 1}},
    ],
)
def test_job_fields_have_bounds(fields):
    with pytest.raises(ValidationError):
        CreateJob(input_uri="x.ipynb", **fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"schedule": "s" * 2049},
        {"timezone": "z" * 65},
        {"max_running_jobs": 10**40},
        {"misfire_grace_time": 1e-300},
        {"watch_prefix": "../data/"},
        {"parameters": {"class": 1}},
    ],
)
def test_definition_fields_have_bounds_on_create_and_update(fields):
    with pytest.raises(ValidationError):
        CreateJobDefinition(input_uri="x.ipynb", **fields)
    with pytest.raises(ValidationError):
        UpdateJobDefinition(**fields)


def test_durations_are_whole_milliseconds():
    assert CreateJobDefinition(input_uri="x.ipynb", retry_backoff_seconds=1e-200).retry_backoff_seconds == 0


@pytest.mark.parametrize(
    "text",
    [
        "rate(1000000000000 days)",
        '{"type": "interval", "days": 1e300}',
        '{"type": "interval", "seconds": NaN}',
        '{"type": "calendarinterval", "days": 99999999999}',
        '{"type": "interval", "hours": [1]}',
        '{"type": "interval", "hours": 1, "jitter": "a"}',
        '{"type": "or", "triggers": [5]}',
        "[1, 2]",
    ],
)
def test_no_schedule_text_raises_anything_but_invalid_spec(text):
    with pytest.raises(InvalidSpec):
        parse_trigger(text)


def test_times_too_large_for_dynamodb_numbers_are_refused():
    assert parse_time_ms("t", "1700000000000") == 1700000000000
    with pytest.raises(InvalidSpec, match="milliseconds"):
        parse_time_ms("t", "9" * 40)


def test_pydantic_refusals_read_as_field_value_fix():
    with pytest.raises(ValidationError) as refused:
        CreateJob(input_uri="x.ipynb", name="n" * 1000)
    spec = as_invalid_spec(refused.value)
    assert spec.field == "name" and "at most 256" in spec.fix and str(spec).startswith("name 'nnnn")
    assert len(str(spec)) < 120
