"""papermill's familiar options, with its meanings: parameters from -f/-y/-p/-r, and the execution options.

Parameters merge in papermill's order (its cli.py): every -f file in turn, then every -y text, then -p, then -r;
a later source replaces a name an earlier one set. -p VALUE is read as JSON when it parses (ours), -r VALUE is
always a string, YAML is read with papermill's rule that dates stay strings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from shiftwork.errors import InvalidSpec
from shiftwork.models import parse_parameters
from shiftwork.models.parameters import check_parameter_name

# argv strings cannot hold NUL, so it safely joins -r's NAME and VALUE into the one string typer can carry
_RAW_JOIN = "\0"
RAW_FLAGS = ("-r", "--parameters-raw")

ParameterOption = Annotated[
    list[str] | None,
    typer.Option("--parameter", "-p", metavar="NAME=VALUE", help="A parameter; VALUE is JSON if it parses."),
]
ParametersFileOption = Annotated[
    list[Path] | None,
    typer.Option("--parameters-file", "-f", metavar="FILE", help="A YAML file of parameters (repeat; later wins)."),
]
ParametersYamlOption = Annotated[
    list[str] | None, typer.Option("--parameters-yaml", "-y", metavar="YAML", help="Parameters as YAML text.")
]
ParametersRawOption = Annotated[
    list[str] | None,
    typer.Option("--parameters-raw", "-r", metavar="NAME VALUE", help="A parameter whose VALUE stays a string."),
]
ExecutionTimeoutOption = Annotated[
    float | None,
    typer.Option("--execution-timeout", min=0.001, metavar="S", help="Fail the job if one cell runs this long."),
]
StartTimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--start-timeout", min=0.001, max=3600, metavar="S", help="Seconds the kernel may take to start \\[60]."
    ),
]

KernelOption = Annotated[
    str | None, typer.Option("--kernel", help="Jupyter kernel \\[default: the notebook's kernelspec, else python3]")
]
ReportModeOption = Annotated[
    bool, typer.Option("--report-mode", help="Hide code cells' input in the outputs (papermill's).")
]


class PapermillCommand(TyperCommand):
    """A command taking papermill's `-r NAME VALUE`: typer has no repeated two-value option, so the pair is
    joined into one value before parsing and split again by collect_parameters."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        joined: list[str] = []
        tokens = iter(args)
        for token in tokens:
            if token == "--":
                joined += [token, *tokens]
                break
            if token in RAW_FLAGS:
                pair = [next(tokens, None), next(tokens, None)]
                if pair[1] is None:  # before handle_errors runs: a usage error, exit 2
                    raise typer.BadParameter(
                        f"{pair[0] or ''!r}: give a NAME and a VALUE: -r NAME VALUE",
                        param_hint="'-r' / '--parameters-raw'",
                    )
                joined += ["--parameters-raw", f"{pair[0]}{_RAW_JOIN}{pair[1]}"]
            else:
                joined.append(token)
        return super().parse_args(ctx, joined)


def _yaml(text: str, option: str, shown: str) -> dict[str, Any]:
    import yaml

    class NoDatesLoader(yaml.SafeLoader):
        """papermill's NoDatesSafeLoader: a date-like value stays the string the user wrote."""

    NoDatesLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    try:
        loaded = yaml.load(text, Loader=NoDatesLoader)  # a SafeLoader
    except yaml.YAMLError as error:
        reason = str(error).splitlines()[0][:100]
        raise InvalidSpec(option, shown, f"is not valid YAML ({reason}): write NAME: VALUE lines") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise InvalidSpec(option, shown, "must be a YAML mapping of NAME: VALUE, e.g. 'n: 3'")
    for name, value in loaded.items():
        check_parameter_name(str(name))
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            raise InvalidSpec(option, shown, f"parameter {name}: give a number, string, list or mapping") from None
    return {str(name): value for name, value in loaded.items()}


def collect_parameters(
    files: list[Path] | None, yamls: list[str] | None, params: list[str] | None, raws: list[str] | None
) -> dict[str, Any]:
    """All parameters, merged in papermill's order: -f files, -y texts, -p, then -r (later wins)."""
    merged: dict[str, Any] = {}
    for path in files or []:
        try:
            text = path.expanduser().read_text()
        except OSError as error:
            raise InvalidSpec(
                "--parameters-file", str(path), f"cannot be read ({error.strerror}): check the path"
            ) from None
        merged.update(_yaml(text, "--parameters-file", str(path)))
    for text in yamls or []:
        merged.update(_yaml(text, "--parameters-yaml", text[:60]))
    merged.update(parse_parameters(params or []))
    for joined in raws or []:
        name, sep, value = joined.partition(_RAW_JOIN)
        if not sep:
            raise InvalidSpec("--parameters-raw", joined, "give a NAME and a VALUE: -r NAME VALUE")
        merged[check_parameter_name(name)] = value
    return merged
