"""The Jinja2 sandbox that compiles, checks and evaluates workflow expressions.

Jinja2's immutable sandbox already refuses private and internal attributes (``__class__``,
``_x``), calls of unsafe callables and mutation of lists and dicts. It does not bound the work
an expression does, and a workflow template is run by an engine worker, so this module adds:

- a language subset: output (``{{ … }}``), ``{% if %}`` and comments; no loops, assignments,
  macros, blocks or includes (``{% for %}`` nested twice, or a doubling ``{% set %}``, would
  turn a short template into hours of work);
- a bound on everything an expression builds: strings and lists of at most :data:`MAX_TEXT`
  items (repetition, ``+``, ``~``, filters and string methods that pad, join, replace, indent,
  wrap or format are checked *before* they allocate), the text of a list or mapping (printed,
  ``~``, ``tojson``, … count every character of what it holds), and integers of at most
  :data:`MAX_INT_BITS` bits (``**``, ``*``);
- a deadline of :data:`MAX_SECONDS` per template or condition, checked at each operation.
"""

import contextvars
import functools
import inspect
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import Template
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg

CONTEXT_NAMES = frozenset({"inputs", "steps", "run", "workflow"})
"""The only names an expression may read."""

MAX_TEXT = 100_000
"""Longest string or list an expression may build (items), and the longest source it may have."""

MAX_EXPONENT = 64
"""Largest integer exponent of ``**``."""

MAX_INT_BITS = 4096
"""Largest integer an expression may build, in bits (about 1,233 decimal digits)."""

MAX_SECONDS = 1.0
"""How long one template or condition may take to evaluate."""

_MARKERS = ("{{", "{%", "{#")
# Statement tags a template may not use, by the node the parser makes of them.
_REFUSED_TAGS: dict[type[nodes.Node], str] = {
    nodes.For: "for",
    nodes.Assign: "set",
    nodes.AssignBlock: "set",
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.FilterBlock: "filter",
    nodes.With: "with",
    nodes.Block: "block",
    nodes.Extends: "extends",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from … import",
}
# Filters that turn their value into text (a container's text can be far longer than it).
_TEXT_FILTERS = frozenset(
    {
        "capitalize",
        "center",
        "e",
        "escape",
        "forceescape",
        "format",
        "indent",
        "lower",
        "pprint",
        "replace",
        "safe",
        "string",
        "striptags",
        "title",
        "tojson",
        "trim",
        "truncate",
        "upper",
        "urlencode",
        "urlize",
        "wordcount",
        "wordwrap",
        "xmlattr",
    }
)
_PERCENT_SPEC = re.compile(r"%[#0\- +]*(\d*)(?:\.(\d*))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*?:([^{}]*)\}")
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "expression_deadline", default=None
)


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


# --- bounds ---------------------------------------------------------------------------------


def _refuse(message: str) -> None:
    raise SecurityError(message)


def _check_deadline() -> None:
    deadline = _DEADLINE.get()
    if deadline is not None and time.monotonic() > deadline:
        _refuse(f"the expression took longer than {MAX_SECONDS:g} s")


def _check_size(size: int, what: str = "the result") -> None:
    if size > MAX_TEXT:
        _refuse(f"{what} would be longer than {MAX_TEXT} characters or items")


def _check_count(value: Any, what: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_TEXT:
        _refuse(f"{what} {value} is larger than {MAX_TEXT}")


def _check_int_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        _check_count(value, "argument")


def _check_format(template: Any, values: Iterable[Any] = ()) -> None:
    """Refuse a ``%`` or ``str.format`` string whose result could pass the bound.

    Its widths and precisions are bounded, and so is its length plus, for every placeholder
    (one value may fill many: ``'{0}{0}{0}'``), the largest value it is given.
    """
    if not isinstance(template, str):
        return
    placeholders = template.count("%") + template.count("{")
    largest = max((_weight(value) for value in values), default=0)
    _check_size(len(template) + placeholders * largest)
    numbers: list[str] = []
    for match in _PERCENT_SPEC.finditer(template):
        numbers += [group for group in match.groups() if group]
    for match in _BRACE_SPEC.finditer(template):
        numbers += re.findall(r"\d+", match.group(1))
    for digits in numbers:
        if len(digits) > len(str(MAX_TEXT)) or int(digits) > MAX_TEXT:
            _refuse(f"a format width of {digits} is larger than {MAX_TEXT}")


def _weight(value: Any, limit: int = MAX_TEXT) -> int:
    """Characters of strings plus one per other item, counted until ``limit`` is passed."""
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, Mapping):
            total += 1
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 1
            stack.extend(item)
        else:
            total += 1
    return total


def _format_values(args: Any, kwargs: Mapping[str, Any] | None = None) -> list[Any]:
    """The values a ``%`` or ``format`` call may place: a tuple's items, a mapping's values."""
    if isinstance(args, Mapping):
        values = list(args.values())
    elif isinstance(args, tuple | list):
        values = list(args)
        for item in args:
            if isinstance(item, Mapping):  # format_map(mapping), or format(**mapping)
                values += list(item.values())
    else:
        values = [args]
    return values + list((kwargs or {}).values())


def _check_text_of(value: Any) -> None:
    """Refuse turning a container into text when the text would pass the bound.

    A list of many references to one long string is cheap to build and huge to print.
    """
    if isinstance(value, list | tuple | set | frozenset | Mapping):
        _check_size(_weight(value), "its text")


def _materialize(value: Any) -> Any:
    """A list of an iterator's items (``map``, ``select`` …), refused once it grows too big."""
    if not isinstance(value, Iterator):
        return value
    items: list[Any] = []
    total = 0
    for item in value:
        items.append(item)
        total += _weight(item)
        _check_size(max(total, len(items)))
    return items


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _estimate_replace(text: Any, old: Any, new: Any, count: Any = None) -> None:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return
    times = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    _check_size(len(text) + times * max(0, len(new) - len(old)))


def _estimate_join(items: Any, separator: Any) -> None:
    if isinstance(items, str | list | tuple | Mapping | set | frozenset):
        gaps = max(0, len(items) - 1) * len(str(separator))
        _check_size(gaps + _weight(list(items), MAX_TEXT - gaps))


def _filter_estimates(name: str, arguments: Mapping[str, Any]) -> None:
    """Refuse a filter call whose result would pass the bounds, before it is computed."""
    if name == "replace":
        _estimate_replace(
            arguments.get("s"), arguments.get("old"), arguments.get("new"), arguments.get("count")
        )
    elif name == "join":
        _estimate_join(arguments.get("value"), arguments.get("d", ""))
    elif name == "indent":
        text, width = _text(arguments.get("s")), arguments.get("width", 4)
        if text is not None:
            pad = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
            _check_count(pad, "indent width")
            _check_size(len(text) + (text.count("\n") + 1) * pad)
    elif name == "wordwrap":
        text, width = _text(arguments.get("s")), arguments.get("width", 79)
        wrap = arguments.get("wrapstring") or "\n"
        if text is not None and isinstance(width, int) and isinstance(wrap, str):
            breaks = len(text) // max(1, width) + text.count(" ") + text.count("\n") + 1
            _check_size(len(text) + breaks * len(wrap))
    elif name == "format":
        args, kwargs = tuple(arguments.get("args", ())), arguments.get("kwargs", {})
        _check_format(arguments.get("value"), _format_values(args, kwargs))
        _check_int_args(args, kwargs)
    elif name == "center":
        _check_count(arguments.get("width"), "width")
    elif name == "batch":
        _check_count(arguments.get("linecount"), "batch size")
    elif name == "slice":
        _check_count(arguments.get("slices"), "slice count")
    elif name == "sum":
        start = arguments.get("start", 0)
        if not isinstance(start, int | float):
            _refuse("sum adds numbers; join strings with the join filter")


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` with the deadline, its estimate and a bound on the text it returns."""
    value_index = 0 if _PassArg.from_obj(func) is None else 1
    try:
        signature: inspect.Signature | None = inspect.signature(func)
    except (TypeError, ValueError):  # pragma: no cover - every builtin filter has one
        signature = None

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check_deadline()
        if len(args) > value_index:
            args = (*args[:value_index], _materialize(args[value_index]), *args[value_index + 1 :])
        if name in _TEXT_FILTERS and len(args) > value_index:
            _check_text_of(args[value_index])
        if signature is not None:
            try:
                arguments = signature.bind(*args, **kwargs).arguments
            except TypeError:
                arguments = {}  # the call itself raises the helpful error
            _filter_estimates(name, arguments)
        result = func(*args, **kwargs)
        if isinstance(result, str):
            _check_size(len(result))
        return result

    return guarded


def _check_method_call(target: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Refuse a string method call whose result would pass the bounds, before it runs."""
    owner = getattr(target, "__self__", None)
    if not isinstance(owner, str | bytes):
        return
    name = getattr(target, "__name__", "")
    if name in ("center", "ljust", "rjust", "zfill", "format", "format_map"):
        _check_int_args(args, kwargs)
        if name.startswith("format"):
            _check_format(owner, _format_values(args, kwargs))
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(size, int):
            tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
            _check_size(len(owner) + tabs * size)
    elif name == "replace" and isinstance(owner, str):
        _estimate_replace(owner, *args[:3])
    elif name == "join" and args:
        _estimate_join(args[0], owner)
    elif name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        _check_size(len(owner) * max(1, longest))


def _bounded_output(value: Any) -> Any:
    """Each ``{{ … }}`` value, checked before it is turned into text."""
    _check_text_of(value)
    return value


class _CodeGenerator(CodeGenerator):
    """Jinja2's code generator, with ``~`` concatenation bounded like the other operators."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with no globals and bounded work (see the module docstring)."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"**", "*", "+", "%"})

    def __init__(self) -> None:
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            finalize=_bounded_output,
        )
        # range, dict, lipsum, cycler, joiner, namespace: nothing a workflow value needs.
        self.globals.clear()
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        _check_deadline()
        if operator_ == "**" and isinstance(left, int) and isinstance(right, int):
            if right > MAX_EXPONENT:
                _refuse(f"exponent {right} is larger than {MAX_EXPONENT}")
            if right > 0 and abs(left).bit_length() * right > MAX_INT_BITS:
                _refuse(f"the result would be larger than {MAX_INT_BITS} bits")
        elif operator_ == "*":
            for sequence, count in ((left, right), (right, left)):
                if (
                    isinstance(sequence, str | list | tuple)
                    and isinstance(count, int)
                    and _weight(sequence) * count > MAX_TEXT
                ):
                    _refuse(f"repetition would build more than {MAX_TEXT} items")
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and abs(left).bit_length() + abs(right).bit_length() > MAX_INT_BITS
            ):
                _refuse(f"the result would be larger than {MAX_INT_BITS} bits")
        elif operator_ == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
                _check_size(_weight(left) + _weight(right))
        elif operator_ == "%" and isinstance(left, str):
            _check_format(left, _format_values(right))
            _check_int_args(right if isinstance(right, tuple) else (right,), {})
        return super().call_binop(context, operator_, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_deadline()
        args = tuple(_materialize(arg) for arg in args)
        _check_method_call(getattr(__obj, "__wrapped__", __obj), args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(result, str | bytes):
            _check_size(len(result))
        return result

    def bounded_concat(self, parts: tuple[Any, ...]) -> str:
        """``a ~ b ~ …``: the parts as text, joined, refused when too long."""
        _check_deadline()
        _check_size(sum(_weight(part) for part in parts))
        return "".join(str(part) for part in parts)


_ENV = _Sandbox()


# --- the public functions -------------------------------------------------------------------


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


@functools.lru_cache(maxsize=16_384)
def check_template(source: str) -> References:
    """Compile a template string and return what it reads.

    Raises:
        ExpressionError: the template is too long, not valid Jinja2, or uses a statement
            outside the subset (the message gives the line for a multi-line template).
    """
    return _references(_parse(source))


@functools.lru_cache(maxsize=16_384)
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
            broke a sandbox rule or bound, or failed; the message starts with the value's
            path (``argv.1: …``) when it is inside a list or mapping.
    """
    return _render(value, context, "")


def _render(value: Any, context: Mapping[str, Any], path: str) -> Any:
    if isinstance(value, str):
        if not any(marker in value for marker in _MARKERS):
            return value
        token = _DEADLINE.set(time.monotonic() + MAX_SECONDS)
        try:
            rendered = _compile_template(value).render(context)
        except ExpressionError as exc:
            raise ExpressionError((f"{path}: " if path else "") + exc.message) from None
        except (TemplateError, SecurityError, ArithmeticError, TypeError, ValueError) as exc:
            where = f"{path}: " if path else ""
            raise ExpressionError(where + _describe(exc)) from None
        finally:
            _DEADLINE.reset(token)
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
        ExpressionError: the condition read something missing, broke a sandbox rule or bound,
            or failed.
    """
    token = _DEADLINE.set(time.monotonic() + MAX_SECONDS)
    try:
        return bool(_compile_condition(source)(**context))
    except (TemplateError, SecurityError, ArithmeticError, TypeError, ValueError) as exc:
        raise ExpressionError(_describe(exc)) from None
    finally:
        _DEADLINE.reset(token)


def _parse(source: str) -> nodes.Template:
    if len(source) > MAX_TEXT:
        raise ExpressionError(f"longer than {MAX_TEXT} characters")
    try:
        tree = _ENV.parse(source)
    except TemplateError as exc:
        raise ExpressionError(_describe(exc, multiline="\n" in source)) from None
    for node in tree.find_all(nodes.Stmt):
        tag = _REFUSED_TAGS.get(type(node))
        if tag is not None:
            where = f"line {node.lineno}: " if "\n" in source else ""
            raise ExpressionError(
                f"{where}`{{% {tag} %}}` is not allowed in a workflow template; use "
                "`{{ … }}` expressions, `{% if %}` and filters (e.g. `join` for a list)"
            )
    return tree


@functools.lru_cache(maxsize=2048)
def _compile_template(source: str) -> Template:
    tree = _parse(source)
    try:
        return _ENV.from_string(tree)
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
    # The subset binds no names (no for, set, macro or with), so every name read is one of
    # the context's; this is what ``jinja2.meta.find_undeclared_variables`` would say, faster.
    undeclared = {name.name for name in tree.find_all(nodes.Name) if name.ctx == "load"}
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
