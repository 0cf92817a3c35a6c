"""Addin and expose: Python functions as worksheet functions (Datatailr's `Addin(...)` / `@addin.expose(...)`).

    addin = Addin("Options Pricer", "Option pricing functions")            # namespace PRICER in pricer.py

    @addin.expose(description="Black-Scholes price")
    def price_option(spot: float, strike: float, vol: float, rate: float, expiry: float) -> float: ...

The annotations say how each argument is checked and converted (values.py), and whether the result is one cell or
a range; a generator function is a streaming function, whose cell follows the values it yields.
"""

from __future__ import annotations

import inspect
import re
import sys
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shiftwork.excel.errors import ExcelError
from shiftwork.excel.values import ValueType, convert_argument, convert_result, streamed_type, value_type

F = TypeVar("F", bound=Callable[..., Any])

NAME_PATTERN = re.compile(r"^[A-Z][A-Z0-9_.]{2,}$")  # Office's rule for ids: a letter, then letters, digits, _ or .
CELL_REFERENCE = re.compile(r"^([A-Z]{1,3}[0-9]+|R[0-9]+C[0-9]+)$")
MAX_NAMESPACE = 32  # the manifest's Namespace
MAX_FUNCTION_NAME = 128
MAX_ARGUMENTS = 255  # what one Excel function takes


@dataclass(frozen=True)
class Parameter:
    name: str
    type: ValueType
    optional: bool
    default: Any = None
    repeating: bool = False  # *args: Excel passes any number of them
    description: str = ""


@dataclass
class ExposedFunction:
    """One worksheet function: the Python callable, its metadata, and the conversions its annotations ask for."""

    namespace: str
    name: str  # PRICE_OPTION; the formula is =NAMESPACE.NAME
    function: Callable[..., Any]
    description: str
    help: str
    volatile: bool
    streaming: bool
    parameters: list[Parameter]
    result: ValueType

    @property
    def qualified_name(self) -> str:
        return f"{self.namespace}.{self.name}"

    def arguments(self, args: list[Any]) -> list[Any]:
        """The Python arguments for the cell's values, in order, converted and checked."""
        fixed = [p for p in self.parameters if not p.repeating]
        repeating = next((p for p in self.parameters if p.repeating), None)
        if len(args) > len(fixed) and repeating is None:
            raise ExcelError(
                "#VALUE!", f"{self.qualified_name} takes at most {len(fixed)} arguments, {len(args)} were given"
            )
        values: list[Any] = []
        for position, parameter in enumerate(fixed):
            given = args[position] if position < len(args) else None
            if given is None or (given == "" and parameter.type.kind != "string"):
                if parameter.optional:
                    values.append(parameter.default)
                    continue
                if position >= len(args):
                    raise ExcelError("#VALUE!", f"{parameter.name} is missing: {self.signature()}")
            values.append(convert_argument(given, parameter.type, parameter.name))
        if repeating is not None:
            rest = args[len(fixed) :]
            values.extend(
                convert_argument(value, repeating.type, f"{repeating.name}[{i + 1}]") for i, value in enumerate(rest)
            )
        return values

    def call(self, args: list[Any]) -> Any:
        """The cell's value: the function called with converted arguments, its result converted back."""
        return convert_result(self.function(*self.arguments(args)), self.result)

    def stream(self, args: list[Any]) -> Iterator[Any]:
        """A streaming function's values, each converted as the cell shows it, until it returns or is closed."""
        values = self.function(*self.arguments(args))
        if not isinstance(values, Iterator):
            raise ExcelError("#VALUE!", f"{self.qualified_name} is streaming but did not return an iterator")
        try:
            for value in values:
                yield convert_result(value, self.result)
        finally:
            close = getattr(values, "close", None)
            if close is not None:
                close()

    def signature(self) -> str:
        def shown(p: Parameter) -> str:
            return f"...{p.name}" if p.repeating else (f"[{p.name}]" if p.optional else p.name)

        return f"={self.qualified_name}({', '.join(shown(p) for p in self.parameters)})"


@dataclass
class Addin:
    """A set of worksheet functions under one namespace: `=NAMESPACE.FUNCTION(...)`.

    namespace defaults to the defining module's name in capitals (PRICER for pricer.py).
    """

    name: str
    description: str = ""
    namespace: str = ""  # empty: the defining module's name
    functions: dict[str, ExposedFunction] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.namespace:
            module = sys._getframe(2).f_globals.get("__name__", "")  # the caller of Addin(...)
            stem = module.rsplit(".", 1)[-1]
            self.namespace = re.sub(r"[^A-Z0-9_]", "_", (stem if stem != "__main__" else self.name).upper())
        self.namespace = self.namespace.upper()
        check_name("namespace", self.namespace, MAX_NAMESPACE)

    def expose(
        self,
        function: F | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        help: str = "",
        volatile: bool = False,
        streaming: bool | None = None,
        arguments: dict[str, str] | None = None,
    ) -> Any:
        """Expose a function as =NAMESPACE.NAME(...). streaming defaults to whether it is a generator function;
        arguments gives a description per parameter. Bad annotations raise TypeError here, at import."""

        def register(fn: F) -> F:
            exposed = describe(
                self.namespace,
                fn,
                name=name,
                description=description,
                help=help,
                volatile=volatile,
                streaming=inspect.isgeneratorfunction(fn) if streaming is None else streaming,
                arguments=arguments or {},
            )
            if exposed.name in self.functions:
                raise ValueError(f"{exposed.qualified_name} is exposed twice: give one of them name=...")
            self.functions[exposed.name] = exposed
            return fn

        return register(function) if function is not None else register

    def run(self, port: int = 8443, ws_port: int | None = None, *, http: bool = False) -> None:
        """Serve this add-in (and SHIFTWORK.*) until Ctrl-C, as `shiftwork excel serve` does: Datatailr's
        `addin.run(port, ws_port)`. ws_port is accepted and unused: streams share the one port."""
        from shiftwork.cli.excel import serve_addins  # the serving side, loaded only when serving

        del ws_port
        serve_addins([self], port=port, http=http)


def check_name(what: str, name: str, longest: int) -> None:
    if not NAME_PATTERN.match(name) or len(name) > longest:
        raise ValueError(
            f"{what} {name!r}: Excel needs a letter first, then letters, digits, _ or ., "
            f"3 to {longest} characters: pass {what}=..."
        )
    if CELL_REFERENCE.match(name):
        raise ValueError(f"{what} {name!r} reads as a cell reference in a formula: pass another {what}=...")


def describe(
    namespace: str,
    fn: Callable[..., Any],
    *,
    name: str | None,
    description: str | None,
    help: str,
    volatile: bool,
    streaming: bool,
    arguments: dict[str, str],
) -> ExposedFunction:
    function_name = (name or fn.__name__).upper()
    check_name("name", function_name, MAX_FUNCTION_NAME)
    where = f"{namespace}.{function_name} ({fn.__module__}.{fn.__qualname__})"
    try:
        hints = typing.get_type_hints(fn)
    except (NameError, TypeError) as error:
        raise TypeError(f"{where}: its annotations cannot be read ({error})") from None
    parameters: list[Parameter] = []
    signature = inspect.signature(fn)
    unknown = set(arguments) - set(signature.parameters)
    if unknown:
        raise ValueError(f"{where}: arguments= names {sorted(unknown)}, which it does not take")
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            raise TypeError(f"{where}: **{parameter.name} cannot come from a worksheet: name each argument")
        try:
            kind = value_type(hints.get(parameter.name, Any))
        except TypeError as error:
            raise TypeError(f"{where}, argument {parameter.name}: {error}") from None
        has_default = parameter.default is not inspect.Parameter.empty
        parameters.append(
            Parameter(
                name=parameter.name,
                type=kind,
                optional=has_default or kind.nullable,
                default=parameter.default if has_default else None,
                repeating=parameter.kind is inspect.Parameter.VAR_POSITIONAL,
                description=arguments.get(parameter.name, ""),
            )
        )
    if len(parameters) > MAX_ARGUMENTS:
        raise TypeError(f"{where}: {len(parameters)} arguments; an Excel function takes {MAX_ARGUMENTS}")
    returned = hints.get("return", Any)
    try:
        result = streamed_type(returned) if streaming else value_type(returned)
    except TypeError as error:
        raise TypeError(f"{where}, result: {error}") from None
    if result.kind == "any" and result.dimensionality == "scalar":
        result = ValueType("any", "matrix", True)  # Any may be a list: declared as a range (one value spills as one)
    doc = inspect.getdoc(fn) or ""
    return ExposedFunction(
        namespace=namespace,
        name=function_name,
        function=fn,
        description=description if description is not None else doc.split("\n\n")[0].replace("\n", " "),
        help=help,
        volatile=volatile,
        streaming=streaming,
        parameters=parameters,
        result=result,
    )
