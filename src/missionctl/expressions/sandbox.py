"""The Jinja2 sandbox that compiles, checks and evaluates workflow expressions."""

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.environment import Template
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

CONTEXT_NAMES = frozenset({"inputs", "steps", "run", "workflow"})
"""The only names an expression may read."""

MAX_TEXT = 100_000
"""Longest string an expression may build (characters), and the longest it may be given."""

MAX_EXPONENT = 64
_MARKERS = ("{{", "{%", "{#")


class ExpressionError(Exception):
    """An expression cannot be compiled, reads a name it may not, or failed when evaluated."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class References:
    """What a compiled expression reads.

    Attributes:
        unknown_names: Top-level names outside :data:`CONTEXT_NAMES`, sorted.
        inputs: Workflow input names read with a literal key (``inputs.version``).
        steps: Step ids read with a literal key (``steps.test.outputs``).
    """

    unknown_names: tuple[str, ...]
    inputs: frozenset[str]
    steps: frozenset[str]


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with no globals and bounded arithmetic.

    The sandbox already refuses private and internal attributes, mutation of lists and dicts,
    and ranges longer than 100,000; here ``**`` and sequence repetition are bounded too, so an
    expression cannot tie up a worker building a huge number or string.
    """

    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
        if operator_ == "*":
            for sequence, count in ((left, right), (right, left)):
                if (
                    isinstance(sequence, str | list | tuple)
                    and isinstance(count, int)
                    and len(sequence) * count > MAX_TEXT
                ):
                    raise SecurityError(f"repetition would build more than {MAX_TEXT} items")
        return super().call_binop(context, operator_, left, right)


def _environment() -> _Sandbox:
    env = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    # range, dict, lipsum, cycler, joiner, namespace: nothing a workflow value needs.
    env.globals.clear()
    return env


_ENV = _environment()


def has_template(value: Any) -> bool:
    """Whether ``value`` (a string, or lists and dicts of them) holds any template markup."""
    return any(True for _ in template_strings(value))


def template_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield ``(dotted path, string)`` for every string in ``value`` that holds template markup.

    Paths use keys and list positions: ``argv.1``, ``env.TOKEN``.
    """
    if isinstance(value, str):
        if any(marker in value for marker in _MARKERS):
            yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from template_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from template_strings(item, f"{path}.{index}" if path else str(index))


def check_template(source: str) -> References:
    """Compile a template string and return what it reads.

    Raises:
        ExpressionError: the template is too long or not valid Jinja2 (the message gives
            the line for a multi-line template).
    """
    return _references(_parse(source))


def check_condition(source: str) -> References:
    """Compile a ``when`` condition (a bare expression, no braces) and return what it reads.

    Raises:
        ExpressionError: the condition is empty, too long, or not one valid expression.
    """
    if not source.strip():
        raise ExpressionError("the condition is empty")
    if any(marker in source for marker in _MARKERS):
        raise ExpressionError(
            "a condition is a bare expression: write `inputs.deploy`, not `{{ inputs.deploy }}`"
        )
    _compile_condition(source)
    return _references(_parse("{{ (" + source + ") }}"))


def render_inputs(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every template string in ``value``; other values are returned unchanged.

    Raises:
        ExpressionError: a template read something missing (``steps.build.outputs.nope``),
            broke a sandbox rule, or failed; the message starts with the value's path
            (``argv.1: …``) when it is inside a list or mapping.
    """
    return _render(value, context, "")


def _render(value: Any, context: Mapping[str, Any], path: str) -> Any:
    if isinstance(value, str):
        if not any(marker in value for marker in _MARKERS):
            return value
        try:
            rendered = _compile_template(value).render(context)
        except (TemplateError, SecurityError, ArithmeticError, TypeError, ValueError) as exc:
            where = f"{path}: " if path else ""
            raise ExpressionError(where + _describe(exc)) from None
        if len(rendered) > MAX_TEXT:
            raise ExpressionError(f"the rendered value is longer than {MAX_TEXT} characters")
        return rendered
    if isinstance(value, Mapping):
        return {
            key: _render(item, context, f"{path}.{key}" if path else str(key))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [
            _render(item, context, f"{path}.{i}" if path else str(i))
            for i, item in enumerate(value)
        ]
    return value


def evaluate_condition(source: str, context: Mapping[str, Any]) -> bool:
    """The truth of a ``when`` condition in ``context``.

    Raises:
        ExpressionError: the condition read something missing, broke a sandbox rule, or failed.
    """
    try:
        return bool(_compile_condition(source)(**context))
    except (TemplateError, SecurityError, ArithmeticError, TypeError, ValueError) as exc:
        raise ExpressionError(_describe(exc)) from None


def _parse(source: str) -> nodes.Template:
    if len(source) > MAX_TEXT:
        raise ExpressionError(f"longer than {MAX_TEXT} characters")
    try:
        return _ENV.parse(source)
    except TemplateError as exc:
        raise ExpressionError(_describe(exc, multiline="\n" in source)) from None


@functools.lru_cache(maxsize=2048)
def _compile_template(source: str) -> Template:
    try:
        return _ENV.from_string(source)
    except TemplateError as exc:
        raise ExpressionError(_describe(exc, multiline="\n" in source)) from None


@functools.lru_cache(maxsize=2048)
def _compile_condition(source: str) -> Any:
    if len(source) > MAX_TEXT:
        raise ExpressionError(f"longer than {MAX_TEXT} characters")
    try:
        return _ENV.compile_expression(source, undefined_to_none=False)
    except TemplateError as exc:
        raise ExpressionError(_describe(exc)) from None


def _references(tree: nodes.Template) -> References:
    undeclared = meta.find_undeclared_variables(tree)
    inputs: set[str] = set()
    steps: set[str] = set()
    for found in tree.find_all((nodes.Getattr, nodes.Getitem)):
        node = cast(nodes.Getattr | nodes.Getitem, found)
        base = node.node
        if not isinstance(base, nodes.Name) or base.name not in ("inputs", "steps"):
            continue
        key = _literal_key(node)
        if key is not None:
            (inputs if base.name == "inputs" else steps).add(key)
    return References(
        unknown_names=tuple(sorted(undeclared - CONTEXT_NAMES)),
        inputs=frozenset(inputs),
        steps=frozenset(steps),
    )


def _literal_key(node: nodes.Getattr | nodes.Getitem) -> str | None:
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def _describe(exc: BaseException, *, multiline: bool = False) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    lineno = getattr(exc, "lineno", None)
    if multiline and lineno:
        return f"line {lineno}: {message}"
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    return str(message)
