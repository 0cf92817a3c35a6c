"""Settings from SHIFTWORK_* variables: the defaults, the parsing, and errors that name the variable and the fix."""

from pathlib import Path

import pytest

from shiftwork.config import BUCKET, Settings, get_settings
from shiftwork.errors import InvalidSpec


def test_defaults_without_environment():
    settings = Settings({})
    assert settings.bucket == BUCKET
    assert settings.endpoint_url is None
    assert settings.launcher == "fargate"
    assert settings.subnets == [] and settings.security_groups == []
    assert settings.max_parallel_jobs >= 1
    assert settings.stop_timeout_seconds == 10.0


def test_variables_parse_to_their_field_types():
    settings = Settings(
        {
            "SHIFTWORK_BUCKET": "my-bucket",
            "shiftwork_region": "eu-west-1",  # any case, as pydantic-settings read them
            "SHIFTWORK_SUBNETS": '["subnet-1", "subnet-2"]',
            "SHIFTWORK_MAX_PARALLEL_JOBS": "3",
            "SHIFTWORK_STOP_TIMEOUT_SECONDS": "2.5",
            "SHIFTWORK_STATE_DIR": "/tmp/state",
            "SHIFTWORK_LAUNCHER": "local",
            "SHIFTWORK_UNKNOWN": "ignored",
        }
    )
    assert settings.bucket == "my-bucket" and settings.region == "eu-west-1"
    assert settings.subnets == ["subnet-1", "subnet-2"]
    assert settings.max_parallel_jobs == 3 and settings.stop_timeout_seconds == 2.5
    assert settings.state_dir == Path("/tmp/state") and settings.launcher == "local"


def test_keyword_arguments_win_over_the_environment():
    assert Settings({"SHIFTWORK_BUCKET": "from-env"}, bucket="given").bucket == "given"


@pytest.mark.parametrize(
    ("variable", "value", "fix"),
    [
        ("SHIFTWORK_MAX_PARALLEL_JOBS", "0", "integer >= 1"),
        ("SHIFTWORK_MAX_PARALLEL_JOBS", "many", "integer >= 1"),
        ("SHIFTWORK_MOTO_PORT", "70000", "0 to 65535"),
        ("SHIFTWORK_STOP_TIMEOUT_SECONDS", "-1", "seconds > 0"),
        ("SHIFTWORK_SUBNETS", "subnet-1,subnet-2", "JSON list of strings"),
        ("SHIFTWORK_LAUNCHER", "ecs", "'local' or 'fargate'"),
    ],
)
def test_an_invalid_variable_names_itself_its_value_and_the_fix(variable, value, fix):
    with pytest.raises(InvalidSpec) as raised:
        Settings({variable: value})
    assert str(raised.value).startswith(f"{variable} {value!r}: ")
    assert fix in str(raised.value) and "unset it" in str(raised.value)


def test_an_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="no field 'bukket'"):
        Settings({}, bukket="x")


def test_get_settings_reads_once_until_cleared(monkeypatch):
    get_settings.cache_clear()
    monkeypatch.setenv("SHIFTWORK_BUCKET", "first")
    assert get_settings().bucket == "first"
    monkeypatch.setenv("SHIFTWORK_BUCKET", "second")
    assert get_settings().bucket == "first"
    get_settings.cache_clear()
    assert get_settings().bucket == "second"
    monkeypatch.undo()
    get_settings.cache_clear()
