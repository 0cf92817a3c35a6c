import pytest

from shiftwork.errors import InvalidSpec
from shiftwork.models import CreateJob, parse_parameter, parse_parameters


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n=3", ("n", 3)),
        ("ratio=0.5", ("ratio", 0.5)),
        ("flag=true", ("flag", True)),
        ("nothing=null", ("nothing", None)),
        ("items=[1, 2]", ("items", [1, 2])),
        ('mapping={"a": 1}', ("mapping", {"a": 1})),
        ("name=World", ("name", "World")),
        ('quoted="3"', ("quoted", "3")),
        ("empty=", ("empty", "")),
        ("eq=a=b", ("eq", "a=b")),
    ],
)
def test_value_is_json_when_it_parses_else_string(text, expected):
    assert parse_parameter(text) == expected


@pytest.mark.parametrize("text", ["1n=3", "my-name=3", "class=3", "=3", "a b=1"])
def test_name_must_be_an_identifier(text):
    with pytest.raises(InvalidSpec, match="must be a Python identifier"):
        parse_parameter(text)


def test_missing_equals_says_how_to_write_it():
    with pytest.raises(InvalidSpec, match="NAME=VALUE"):
        parse_parameter("n")


def test_duplicate_name_is_refused():
    with pytest.raises(InvalidSpec, match="more than once") as error:
        parse_parameters(["n=1", "n=2"])
    assert error.value.value == "n"


def test_create_job_keeps_the_notebook_and_refuses_unknown_formats():
    assert CreateJob(input_uri="a.ipynb", output_formats=["html"]).output_formats == ["ipynb", "html"]
    with pytest.raises(ValueError, match="output format 'docx' is unknown"):
        CreateJob(input_uri="a.ipynb", output_formats=["docx"])
    with pytest.raises(ValueError, match="identifier"):
        CreateJob(input_uri="a.ipynb", parameters={"not valid": 1})
