"""Save-time checks of a workflow definition: every problem, each with its location.

A definition arrives as YAML or JSON text, or as a mapping. :func:`check_definition` runs, in
order, the parse (a syntax error names its line and column), the schema (Pydantic; every field
at fault), then the rules a schema cannot express. When the schema fails, the rules still run on
what can be read (step ids, ``depends_on``, each step's ``agent``, ``inputs`` and ``when``
where no schema problem sits), so one check reports every problem at once:

- the name: it is the workflow's address, so ``new``, a last part ``edit`` or ``versions`` and
  a part ``.`` or ``..`` are refused (``domain.workflows.workflow_name_problem``);
- the graph: duplicate ids, unknown dependencies, self-dependencies and every cycle, spelled
  out (``dependency cycle: a → b → a``);
- agents: each step's ``agent`` must be one this installation can run;
- templates and ``when`` conditions: they must compile, and may read only declared inputs
  (``inputs.<name>``) and steps upstream of the step (``steps.<id>.…``);
- agent inputs: a ``command`` step needs ``inputs.argv``, a non-empty list of strings, and
  its ``env`` and ``secret_env`` (an ``llm:`` step's ``secrets``) must be mappings of names;
  an ``llm:`` step's ``temperature`` is a number from 0 to 2 and its ``seed`` a whole number
  from 0 to 2**63-1; ``builtin:sleep`` takes a number of ``seconds``.

Parsing is bounded: at most :data:`MAX_DEFINITION_BYTES` of text, :data:`MAX_DEPTH` levels and
:data:`MAX_VALUES` values (YAML aliases expanded), and a key written twice is refused. The depth
is measured on the parser's events before anything is built (see :func:`load_document`), so
deep text is a problem, never a crash; :func:`load_document` reads run inputs the same way.

Problems come sorted by step (``steps.<index>``, top-level fields first), then by field, each
once; at most ``MAX_PROBLEMS`` of them, then one that counts the rest. Fields number steps
from 0, as the editor's links do; messages name steps by their id.

Text from outside (API bodies, the editor) is read by :func:`read_definition_text` and checked
by :func:`check_untrusted`, beside the event loop: long text in a parser process with a time
limit, the data on a parser thread (``services.runtime.offload``, ADR 0076).

Nothing here writes; ``services.usecases.workflows`` stores a definition only when the list is
empty.
"""

import difflib
import json
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from missionctl.agents.mcp_inputs import input_problems as mcp_input_problems
from missionctl.domain.dag import Node, topological_layers, validate_dag
from missionctl.domain.numbers import ascii_int
from missionctl.domain.problems import MAX_PROBLEMS, capped
from missionctl.domain.sampling import sampling_problems
from missionctl.domain.workflows import MAX_DEFINITION_BYTES as MAX_DEFINITION_BYTES  # re-exported
from missionctl.domain.workflows import workflow_name_problem
from missionctl.errors import Problem
from missionctl.expressions import (
    ExpressionError,
    References,
    check_condition,
    check_template,
    template_strings,
)
from missionctl.schemas import strict_json
from missionctl.schemas.datafiles import DuplicateKeyError, UniqueKeyLoader
from missionctl.schemas.missions import NO_NUL_PATTERN
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services.runtime.composition import agent_is_known, known_agent_names
from missionctl.services.runtime.offload import WorkerLost, WorkTimedOut, in_worker, off_loop

_SafeLoader: type[yaml.CSafeLoader | yaml.SafeLoader]
try:  # libyaml's parser: ten times faster on a large definition
    _SafeLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _SafeLoader = yaml.SafeLoader

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists in a definition."""

MAX_VALUES = 200_000
"""Most values (mappings, lists and scalars) in a definition, YAML aliases expanded."""

INLINE_TEXT_CHARS = 64 * 1024
"""Text from outside up to this long is read on a parser thread, longer text in a parser
process (:func:`read_definition_text`)."""

DOCUMENT_TIME_LIMIT_S = 15.0
"""Longest a parser process may read one definition's text; past it, a problem says so.

A megabyte of nested lists, the slowest text within the bounds above, takes about 4 s."""

Syntax = Literal["yaml", "json"]
_SECRET_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Loader(UniqueKeyLoader):
    """The loader refusing a key written twice, whose scalars also name their line (below)."""


def _located(construct: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``construct`` raising a located YAML error for a scalar its tag cannot hold.

    ``2020-13-01`` (read as a date), ``!!int abc`` or an integer of 5,000 digits make PyYAML's
    constructors raise ``ValueError``, ``KeyError`` or ``TypeError`` without a line.
    """

    def checked(loader: Any, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError) as exc:
            text = node.value if len(node.value) <= 40 else f"{node.value[:37]}..."
            why = f" ({str(exc).partition(';')[0]})" if type(exc) is ValueError else ""
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"{text!r} is not a valid {node.tag.rpartition(':')[2]}{why}; quote it to keep "
                "it as text",
                node.start_mark,
            ) from None

    return checked


for _tag in ("bool", "float", "int", "timestamp"):
    _Loader.add_constructor(
        f"tag:yaml.org,2002:{_tag}",
        _located(_Loader.yaml_constructors[f"tag:yaml.org,2002:{_tag}"]),
    )


class DocumentError(ValueError):
    """YAML or JSON text that cannot be read into data; the message says where and why."""


class DocumentSyntaxError(DocumentError):
    """Not YAML or JSON, a key written twice, or a scalar its tag cannot hold."""


class DocumentTooLarge(DocumentError):
    """Readable text beyond a bound: too many bytes, or lists and mappings nested too deep."""


_DEPTH_CHANGE = {
    yaml.MappingStartEvent: 1,
    yaml.SequenceStartEvent: 1,
    yaml.MappingEndEvent: -1,
    yaml.SequenceEndEvent: -1,
}
# A JSON string (escapes included) or bracket: brackets in strings are text.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_BRACKET_DEPTH = {"[": 1, "{": 1, "]": -1, "}": -1}


def _too_deep(where: str) -> DocumentTooLarge:
    return DocumentTooLarge(
        f"{where}lists and mappings are nested deeper than {MAX_DEPTH} levels; flatten them"
    )


def _check_yaml_depth(text: str) -> None:
    """Raise if YAML ``text`` nests lists and mappings deeper than :data:`MAX_DEPTH`.

    libyaml's parser yields events without recursing, but the composer that builds nodes from
    them recurses in C once per level: 100 KB of ``[`` overflow the stack and kill the process
    before any Python check runs. So the depth is counted here, on the events, first. Aliases
    add no depth (they point at a node already built); what they expand to is counted later,
    by :func:`value_problems`.

    Raises:
        DocumentTooLarge: too deep; the message names the line and column.
        yaml.YAMLError: a syntax error (as loading would raise it).
    """
    loader = _SafeLoader(text)
    depth = 0
    change = _DEPTH_CHANGE.get
    try:
        for event in iter(loader.get_event, None):
            depth += change(type(event), 0)
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise _too_deep(f"line {mark.line + 1}, column {mark.column + 1}: " if mark else "")
    finally:
        loader.dispose()


def _json_depth_error(text: str) -> DocumentTooLarge:
    """Where JSON ``text`` first nests arrays and objects deeper than :data:`MAX_DEPTH`.

    Called once ``json.loads`` has run out of recursion, to name the place: the parser recurses
    once per level and stops at the interpreter's recursion limit with ``RecursionError``
    (never a crash), which depends on how deep the caller already is. Shallower data is
    refused by :func:`value_problems` instead, with the same words.
    """
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        depth += _BRACKET_DEPTH.get(match.group(), 0)
        if depth > MAX_DEPTH:
            start = match.start()
            line, column = text.count("\n", 0, start) + 1, start - text.rfind("\n", 0, start)
            return _too_deep(f"line {line}, column {column}: ")
    return _too_deep("")


@dataclass(frozen=True, slots=True)
class WorkflowCheck:
    """The outcome of checking a definition.

    Attributes:
        spec: The parsed definition, when it passed the schema (even if other rules failed).
        problems: Every problem found; empty when the definition can be saved.
        layers: Step ids grouped by depth (steps in one layer may run in parallel), when
            the graph is a DAG; ``[]`` otherwise.
        edges: ``(dependency, step)`` pairs for every known dependency.
        step_ids: The id of each step by position, as far as it could be read (``None``
            where a step has no string id), so that a problem's ``steps.<index>`` names it.
    """

    spec: WorkflowSpec | None
    problems: list[Problem]
    layers: list[list[str]] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    step_ids: list[str | None] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """Whether the definition can be saved."""
        return self.spec is not None and not self.problems


def load_document(text: str, *, syntax: Syntax = "yaml") -> Any:
    """Parse YAML (a superset of JSON) or strict JSON text into data, within bounds.

    At most :data:`MAX_DEFINITION_BYTES` of UTF-8; a key written twice in one mapping is
    refused. YAML nested deeper than :data:`MAX_DEPTH` is refused before anything is built;
    JSON's parser stops itself far deeper (which is refused too). So the data returned may
    still be too deep (JSON) or too big (YAML aliases share values): :func:`value_problems`
    says so, and callers run it before using the data.

    Raises:
        DocumentTooLarge: too many bytes, or nested too deep (line and column named).
        DocumentSyntaxError: not YAML or JSON, a key written twice, or a scalar its tag cannot
            hold (line and column named where the parser knows them).
    """
    if len(text.encode(errors="surrogatepass")) > MAX_DEFINITION_BYTES:
        raise DocumentTooLarge(
            f"the text is larger than {MAX_DEFINITION_BYTES} bytes; split it into smaller parts"
        )
    try:
        if syntax == "json":
            try:
                return strict_json.loads(text)
            except RecursionError:
                raise _json_depth_error(text) from None
        _check_yaml_depth(text)
        return yaml.load(text, Loader=_Loader)
    except DocumentError:
        raise
    except DuplicateKeyError as exc:
        raise DocumentSyntaxError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise DocumentSyntaxError(f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise DocumentSyntaxError(f"{where}{exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise DocumentSyntaxError(f"not valid YAML or JSON: {exc}") from None
    except RecursionError:  # a guard: PyYAML's constructors recurse in Python, which raises
        raise _too_deep("") from None
    except ValueError as exc:  # a JSON integer of 5,000 digits; a lone surrogate in YAML text
        reason = str(exc).partition(";")[0]  # Python's advice on its own limits is not for users
        raise DocumentSyntaxError(f"not valid {syntax.upper()}: {reason}") from None


def parse_definition_text(text: str, *, syntax: Syntax = "yaml") -> tuple[Any, list[Problem]]:
    """Parse a definition's YAML or JSON text into data, with its problems (field ``definition``).

    :func:`load_document`'s errors become problems; the data must also be a mapping of at most
    :data:`MAX_VALUES` values once YAML aliases are expanded (:func:`shape_problems`). Never
    raises for any text.
    """
    try:
        data = load_document(text, syntax=syntax)
    except DocumentError as exc:
        return None, [Problem("definition", str(exc))]
    return data, capped(shape_problems(data))


async def read_definition_text(
    text: str, *, syntax: Syntax = "yaml", time_limit_s: float = DOCUMENT_TIME_LIMIT_S
) -> tuple[Any, list[Problem]]:
    """:func:`parse_definition_text` for text from outside, beside the event loop (ADR 0076).

    Text up to :data:`INLINE_TEXT_CHARS` is read on a parser thread; longer text in a parser
    process (``services.runtime.offload.in_worker``): libyaml holds the interpreter lock for
    hundreds of milliseconds at a stretch on a megabyte, which a thread would make every request
    wait for. A process still reading after ``time_limit_s`` is killed, and the problem says the
    text took too long. Never raises for any text.
    """
    if len(text) <= INLINE_TEXT_CHARS:
        return await off_loop(parse_definition_text, text, syntax=syntax)
    try:
        return await in_worker(_read_to_send, time_limit_s, text, syntax)
    except WorkTimedOut:
        problem = f"the definition took longer than {time_limit_s:g} s to read; split it into "
        problem += "smaller workflows, or write its lists flatter"
    except WorkerLost:
        problem = "the definition could not be read: its reader stopped while reading it"
    return None, [Problem("definition", problem)]


def _read_to_send(text: str, syntax: Syntax) -> tuple[Any, list[Problem]]:
    """:func:`parse_definition_text` in a parser process: the data only when it is usable.

    Data with problems is never used; not sending it back spares the server unpickling up to
    a megabyte of values it would throw away.
    """
    data, problems = parse_definition_text(text, syntax=syntax)
    return (None if problems else data), problems


async def check_untrusted(
    definition: str | Mapping[str, Any], *, syntax: Syntax = "yaml"
) -> WorkflowCheck:
    """:func:`check_definition` of a definition from outside, beside the event loop.

    Text is read by :func:`read_definition_text` (a parser process when it is long); the data
    is checked on a parser thread.
    """
    if isinstance(definition, str):
        data, problems = await read_definition_text(definition, syntax=syntax)
        if problems:
            return WorkflowCheck(spec=None, problems=problems)
        definition = data
    return await off_loop(check_definition, definition)


def shape_problems(data: Any) -> list[Problem]:
    """Problems of parsed data that is not a mapping, or cannot be checked or stored."""
    if not isinstance(data, Mapping):
        return [
            Problem(
                "definition",
                "a workflow is a mapping with `name` and `steps`; got "
                + ("nothing" if data is None else type(data).__name__),
            )
        ]
    return [Problem(p.field or "definition", p.message) for p in value_problems(data)]


def value_problems(data: Any) -> list[Problem]:
    """Problems of JSON-like data that no database can store, or that is too big to walk.

    A string with a lone surrogate (an unpaired surrogate escape in JSON) cannot be written as
    UTF-8, nor NaN or an infinity as JSON. Data nested deeper than :data:`MAX_DEPTH`, or holding
    more than :data:`MAX_VALUES` values, is refused too: YAML aliases share one value between
    many places (``&a [*b, *b]`` ten levels deep is a few lines that expand to millions of
    values, which every later pass would walk), so each use counts. Fields are dotted paths in
    ``data``.
    """
    problems: list[Problem] = []
    values = 0
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        values += 1
        if values > MAX_VALUES:
            message = f"more than {MAX_VALUES} values (YAML aliases count each time they are used)"
            return [Problem(None, message)]
        if depth > MAX_DEPTH:
            return [Problem(path or None, f"nested deeper than {MAX_DEPTH} levels")]
        if isinstance(value, str):
            if not _storable(value):
                problems.append(Problem(path or None, "holds a lone surrogate (not valid UTF-8)"))
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(Problem(path or None, f"{value} is not a number JSON can hold"))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and not _storable(key):
                    problems.append(Problem(path or None, "a key holds a lone surrogate"))
                    continue
                stack.append((item, where, depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend(
                (item, f"{path}.{index}" if path else str(index), depth + 1)
                for index, item in enumerate(value)
            )
    return problems


def _storable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_definition(
    definition: str | Mapping[str, Any], *, syntax: Syntax = "yaml"
) -> WorkflowCheck:
    """Check a definition (text or data) against every rule; see the module docstring.

    At most ``MAX_PROBLEMS`` problems are listed, then one that counts the rest
    (``domain.problems.capped``).

    Args:
        definition: YAML or JSON text, or the parsed data.
        syntax: How to parse text: ``"yaml"`` (which reads most JSON too) or ``"json"``
            (strict JSON: tabs and ``1e3`` read as JSON means them).
    """
    check = _check_definition(definition, syntax=syntax)
    if len(check.problems) <= MAX_PROBLEMS:
        return check
    return replace(check, problems=capped(check.problems))


def _check_definition(definition: str | Mapping[str, Any], *, syntax: Syntax) -> WorkflowCheck:
    if isinstance(definition, str):
        data, problems = parse_definition_text(definition, syntax=syntax)
    else:
        data, problems = definition, shape_problems(definition)
    if problems:
        return WorkflowCheck(spec=None, problems=problems)
    try:
        # Strict, as JSON: what the published JSON Schema refuses is refused (no "3" for 3,
        # no 0 for false), whether the definition came as YAML, JSON or data.
        as_json = json.dumps(data, default=str, ensure_ascii=False)
        spec = WorkflowSpec.model_validate_json(as_json, strict=True)
    except ValidationError as exc:
        return _check_unschemed(data, schema_problems(exc))
    except (TypeError, ValueError) as exc:  # keys JSON cannot have (YAML allows a few)
        return WorkflowCheck(spec=None, problems=[Problem("definition", str(exc))])
    return check_spec(spec)


_PATTERN_HINTS = {
    "id": "a step id is 1-63 lower-case letters, digits, '-' or '_', starting with a letter",
    "depends_on": "a step id is 1-63 lower-case letters, digits, '-' or '_', starting with a "
    "letter",
    "agent": "an agent is `command`, `builtin:<name>` or `llm:<role>` (lower-case kind, then "
    "`:` and letters, digits, '.', '-' or '_')",
    "inputs": "an input name is 1-63 letters, digits or '_', not starting with a digit",
}


def _pattern_hint(loc: Sequence[Any]) -> str | None:
    if len(loc) == 2 and loc[0] == "inputs":
        return _PATTERN_HINTS["inputs"]
    if len(loc) >= 3 and loc[0] == "steps":
        return _PATTERN_HINTS.get(str(loc[2]))
    return None


def schema_problems(exc: ValidationError) -> list[Problem]:
    """Pydantic's errors as problems whose field is the dotted location (``steps.2.retry``)."""
    problems = []
    for error in exc.errors():
        loc = [part for part in error["loc"] if part != "[key]"]
        where = ".".join(str(part) for part in loc) or "definition"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown field {error['loc'][-1]!r}; see docs/workflows.md for the fields"
        elif error["type"] == "string_pattern_mismatch":
            hint = _pattern_hint(loc)
            if error.get("ctx", {}).get("pattern") == NO_NUL_PATTERN:
                message = "must not contain NUL characters"
            elif hint:
                message = f"{hint}; got {error['input']!r}"
        problems.append(Problem(where, message))
    return problems


def workflow_graph(spec: WorkflowSpec) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """The layers (empty when the graph is not a DAG) and ``(dependency, step)`` edges."""
    layers = topological_layers(spec.steps) if not validate_dag(spec.steps) else []
    return layers, _edges(spec)


def _edges(spec: WorkflowSpec) -> list[tuple[str, str]]:
    known = {step.id for step in spec.steps}
    return [(dep, step.id) for step in spec.steps for dep in step.depends_on if dep in known]


def check_spec(spec: WorkflowSpec) -> WorkflowCheck:
    """Check a schema-valid definition against the name, graph, agent and expression rules."""
    steps = [
        _StepView(step.id, tuple(step.depends_on), step.agent, step.inputs, step.when)
        for step in spec.steps
    ]
    problems, layers = _rule_problems(spec.name, spec.inputs, steps)
    return WorkflowCheck(
        spec=spec,
        problems=[*problems, *_pin_problems(spec)],
        layers=layers,
        edges=_edges(spec),
        step_ids=[step.id for step in spec.steps],
    )


def _pin_problems(spec: WorkflowSpec) -> list[Problem]:
    """A ``model`` on a step that calls no model is a mistake: say so rather than ignore it."""
    return [
        Problem(
            f"steps.{index}.model",
            f"step {step.id!r} runs {step.agent}, which calls no model: `model` pins an "
            "llm: step only; remove it (a coding step names its model in inputs.model)",
        )
        for index, step in enumerate(spec.steps)
        if step.model is not None and not step.agent.startswith("llm:")
    ]


@dataclass(frozen=True, slots=True)
class _StepView:
    """What the rules read of one step; ``None`` where the field cannot be read."""

    id: str | None
    depends_on: tuple[str, ...]
    agent: str | None
    inputs: Mapping[str, Any] | None
    when: str | None


def _check_unschemed(data: Mapping[str, Any], schema: list[Problem]) -> WorkflowCheck:
    """The schema's problems and the rules' problems on what the raw ``data`` lets them read.

    A field is read only where no schema problem sits on it, inside it or around it, so a
    field the schema refused is not reported twice; a step id is read whenever it is a string
    (a badly spelt id is still the name other steps depend on). The graph is checked only when
    every step has a string id: otherwise a dependency on an unreadable step would look unknown.
    """
    faulty = [problem.field or "definition" for problem in schema]

    def readable(path: str) -> bool:
        return not any(
            f == path or f.startswith(f"{path}.") or path.startswith(f"{f}.") for f in faulty
        )

    name = data.get("name")
    declared = data.get("inputs", {})
    raw_steps = data.get("steps")
    steps = [
        _step_view(raw, f"steps.{index}", readable)
        for index, raw in enumerate(raw_steps if isinstance(raw_steps, list) else [])
    ]
    rules, _ = _rule_problems(
        name if isinstance(name, str) and readable("name") else None,
        [k for k in declared if isinstance(k, str)] if isinstance(declared, Mapping) else None,
        steps,
    )
    return WorkflowCheck(
        spec=None, problems=_ordered([*schema, *rules]), step_ids=[s.id for s in steps]
    )


def _step_view(raw: Any, where: str, readable: Callable[[str], bool]) -> _StepView:
    """What the rules may read of one raw step at ``where`` (``None`` for what is unreadable)."""
    if not isinstance(raw, Mapping):
        return _StepView(None, (), None, None, None)
    step_id, depends_on = raw.get("id"), raw.get("depends_on", [])
    agent, inputs, when = raw.get("agent"), raw.get("inputs", {}), raw.get("when")
    return _StepView(
        id=step_id if isinstance(step_id, str) else None,
        depends_on=tuple(
            d for d in (depends_on if isinstance(depends_on, list) else []) if isinstance(d, str)
        ),
        agent=agent if isinstance(agent, str) and readable(f"{where}.agent") else None,
        inputs=inputs if isinstance(inputs, Mapping) and readable(f"{where}.inputs") else None,
        when=when if isinstance(when, str) and readable(f"{where}.when") else None,
    )


def _rule_problems(
    name: str | None, declared: Collection[str] | None, steps: Sequence[_StepView]
) -> tuple[list[Problem], list[list[str]]]:
    """Problems of the name, graph, agents and expressions, ordered; and the graph's layers.

    ``None`` (a name, the declared inputs, a step's field) means "could not be read": its rules
    are skipped. Step references in expressions are checked only when the graph was.
    """
    problems: list[Problem] = []
    if name is not None and (name_problem := workflow_name_problem(name)) is not None:
        problems.append(Problem("name", name_problem))
    layers: list[list[str]] = []
    depends: dict[str, list[str]] | None = None
    ids = [step.id for step in steps]
    if all(step_id is not None for step_id in ids):
        nodes = [Node(step.id or "", step.depends_on) for step in steps]
        graph = validate_dag(nodes)
        problems += graph
        layers = topological_layers(nodes) if not graph else []
        depends = {}
        for step in steps:
            depends.setdefault(step.id or "", list(step.depends_on))
    upstream = _Upstream(depends or {}, layers)
    for index, step in enumerate(steps):
        where = f"steps.{index}"
        if step.agent is not None:
            problems += _agent_problems(where, step.agent, step.inputs)
        expressions = [
            (f"{where}.inputs.{path}", text, check_template)
            for path, text in template_strings(step.inputs or {})
        ]
        if step.when is not None:
            expressions.append((f"{where}.when", step.when, check_condition))
        for at, source, compile_ in expressions:
            problems += _expression_problems(
                at, source, compile_, declared, step.id, upstream, depends
            )
    return _ordered(problems), layers


def _ordered(problems: Iterable[Problem]) -> list[Problem]:
    """``problems`` without repeats, by step position (top-level fields first), then field.

    The sort is stable: problems of one field keep the order they were found in.
    """
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=_problem_position)


def _problem_position(problem: Problem) -> tuple[int, list[tuple[int, int, str]]]:
    parts = (problem.field or "definition").split(".")
    numbers = [ascii_int(part) for part in parts]
    step = numbers[1] if len(parts) > 1 and parts[0] == "steps" else None
    keys = [(1, 0, p) if n is None else (0, n, "") for p, n in zip(parts, numbers, strict=True)]
    return -1 if step is None else step, keys


class _Upstream:
    """Whether one step is upstream of another (it depends on it, directly or not).

    With a valid graph every step's ancestors are one integer used as a bit set, built layer
    by layer, so that a 5,000-step chain is checked in linear time; with a broken graph each
    question walks the dependencies (the graph problems are reported anyway).
    """

    def __init__(self, depends: Mapping[str, Sequence[str]], layers: list[list[str]]) -> None:
        self._depends = depends
        self._bit = {step_id: 1 << index for index, step_id in enumerate(depends)}
        self._ancestors: dict[str, int] = {}
        for layer in layers:
            for step_id in layer:
                mask = 0
                for dependency in depends[step_id]:
                    mask |= self._ancestors[dependency] | self._bit[dependency]
                self._ancestors[step_id] = mask

    def __call__(self, other: str, step_id: str) -> bool:
        if step_id in self._ancestors:
            return bool(self._ancestors[step_id] & self._bit[other])
        seen: set[str] = set()
        stack = list(self._depends.get(step_id, ()))
        while stack:
            current = stack.pop()
            if current == other:
                return True
            if current in self._depends and current not in seen:
                seen.add(current)
                stack.extend(self._depends[current])
        return False


def _agent_problems(where: str, agent: str, inputs: Mapping[str, Any] | None) -> list[Problem]:
    """An unknown ``agent``, or ``inputs`` it cannot take (unchecked when ``None``: unreadable)."""
    if not agent_is_known(agent):
        known = known_agent_names()
        message = f"unknown agent {agent!r}"
        close = difflib.get_close_matches(agent, known, n=1)
        message += f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
        return [Problem(f"{where}.agent", message)]
    if inputs is None:
        return []
    if agent == "command":
        return _command_problems(where, inputs)
    if agent.startswith("llm:"):
        return _llm_problems(where, inputs)
    if agent == "http":
        return _http_problems(where, inputs)
    if agent == "mcp":
        return _mcp_problems(where, inputs)
    if agent == "builtin:sleep":
        seconds = inputs.get("seconds", 1.0)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            message = f"must be a number of seconds >= 0, got {seconds!r}"
            return [Problem(f"{where}.inputs.seconds", message)]
    return []


def _command_problems(where: str, inputs: Mapping[str, Any]) -> list[Problem]:
    """What is wrong with a ``command`` step's argv, environment and secrets."""
    problems: list[Problem] = []
    argv = inputs.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        problems.append(
            Problem(
                f"{where}.inputs.argv",
                "a command step needs inputs.argv, a non-empty list of strings "
                '(e.g. ["python", "-m", "pytest"])',
            )
        )
    env = inputs.get("env")
    if env is not None and not (
        isinstance(env, Mapping)
        and all(isinstance(k, str) and _ENV_NAME.match(k) for k in env)
        and all(isinstance(v, str) for v in env.values())
    ):
        problems.append(
            Problem(
                f"{where}.inputs.env", "must map variable names (letters, digits, _) to strings"
            )
        )
    problems += _secret_problems(f"{where}.inputs.secret_env", inputs.get("secret_env"))
    return problems


def _llm_problems(where: str, inputs: Mapping[str, Any]) -> list[Problem]:
    """An ``llm:`` step's secrets, temperature and seed (``domain.sampling``).

    The knobs must be numbers as written: a template cannot give one, so a step that would
    send the model a bad value is refused here, never when it runs.
    """
    problems = _secret_problems(f"{where}.inputs.secrets", inputs.get("secrets"))
    problems += [
        Problem(f"{where}.inputs.{name}", message) for name, message in sampling_problems(inputs)
    ]
    return problems


def _http_problems(where: str, inputs: Mapping[str, Any]) -> list[Problem]:
    """An ``http`` step's URL and signing secret (docs/http-agent.md); templates pass as text."""
    problems: list[Problem] = []
    url = inputs.get("url")
    if not isinstance(url, str) or not (
        url.startswith(("http://", "https://")) or "{{" in url or "{%" in url
    ):
        problems.append(
            Problem(
                f"{where}.inputs.url",
                "an http step needs inputs.url, an http:// or https:// address "
                "(e.g. https://agent.example.com/run)",
            )
        )
    secret = inputs.get("secret")
    if secret is not None and not (isinstance(secret, str) and _SECRET_NAME.match(secret)):
        problems.append(
            Problem(f"{where}.inputs.secret", "must name a secret (letters, digits, _)")
        )
    return problems


def _mcp_problems(where: str, inputs: Mapping[str, Any]) -> list[Problem]:
    """An ``mcp`` step's server, tool and arguments (docs/mcp-step.md); templates pass as text."""
    problems = [
        Problem(f"{where}.inputs.{field}", message)
        for field, message in mcp_input_problems(inputs, rendered=False)
    ]
    server = inputs.get("server")
    if isinstance(server, Mapping):
        for key in ("secret_env", "headers_secret"):
            problems += _secret_problems(f"{where}.inputs.server.{key}", server.get(key))
    return problems


def _secret_problems(where: str, declared: Any) -> list[Problem]:
    """A ``{key: secret name}`` mapping; the values are read when the step runs (ADR 0013)."""
    if declared is None:
        return []
    if isinstance(declared, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) and _SECRET_NAME.match(v)
        for k, v in declared.items()
    ):
        return []
    return [
        Problem(
            where,
            "must map names to secret names (a letter, then letters, digits or _); the value "
            "is read from MISSIONCTL_SECRET_<NAME> when the step runs",
        )
    ]


def _expression_problems(
    where: str,
    source: str,
    compile_: Any,
    declared: Collection[str] | None,
    step_id: str | None,
    upstream: "_Upstream",
    depends: Mapping[str, Sequence[str]] | None,
) -> list[Problem]:
    """Problems of one template or condition; ``None`` skips the names it could check."""
    kind = "condition" if where.endswith(".when") else "template"
    try:
        references: References = compile_(source)
    except ExpressionError as exc:
        return [Problem(where, f"bad {kind}: {exc.message}")]
    problems = [
        Problem(
            where,
            f"unknown name {name!r} in {kind}; use inputs.<name>, steps.<id>.outputs.<key>, "
            "steps.<id>.status, run.id, run.trigger, workflow.name or workflow.version",
        )
        for name in references.unknown_names
    ]
    for name in sorted(references.inputs):
        if declared is not None and name not in declared:
            message = f"unknown input {name!r}; declare it under `inputs:`"
            problems.append(Problem(where, message + _suggest(name, declared)))
    if step_id is None or depends is None:
        return problems
    for other in sorted(references.steps):
        if other == step_id:
            problems.append(Problem(where, f"step {step_id!r} cannot read its own outputs"))
        elif other not in depends:
            problems.append(Problem(where, f"unknown step {other!r}" + _suggest(other, depends)))
        elif not upstream(other, step_id):
            problems.append(
                Problem(
                    where,
                    f"step {other!r} is not upstream of {step_id!r}; add it to depends_on "
                    "so that it has finished when this step starts",
                )
            )
    return problems


def _suggest(name: str, known: Iterable[str]) -> str:
    choices = list(known)
    close = difflib.get_close_matches(name, choices, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f" (declared: {', '.join(choices)})" if choices else ""
