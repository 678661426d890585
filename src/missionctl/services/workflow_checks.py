"""Save-time checks of a workflow definition: every problem, each with its location.

A definition arrives as YAML or JSON text, or as a mapping. :func:`check_definition` runs, in
order, the parse (a syntax error names its line and column), the schema (Pydantic; every field
at fault), then the rules a schema cannot express:

- the graph: duplicate ids, unknown dependencies, self-dependencies and every cycle, spelled
  out (``dependency cycle: a → b → a``);
- agents: each step's ``agent`` must be one this installation can run;
- templates and ``when`` conditions: they must compile, and may read only declared inputs
  (``inputs.<name>``) and steps upstream of the step (``steps.<id>.…``);
- agent inputs: a ``command`` step needs ``inputs.argv``, a non-empty list of strings.

Nothing here writes; ``services.workflows`` stores a definition only when the list is empty.
"""

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from missionctl.domain.dag import topological_layers, validate_dag
from missionctl.errors import Problem
from missionctl.expressions import (
    ExpressionError,
    References,
    check_condition,
    check_template,
    template_strings,
)
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services.runtime import agent_is_known, known_agent_names

MAX_DEFINITION_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class WorkflowCheck:
    """The outcome of checking a definition.

    Attributes:
        spec: The parsed definition, when it passed the schema (even if other rules failed).
        problems: Every problem found; empty when the definition can be saved.
        layers: Step ids grouped by depth (steps in one layer may run in parallel), when
            the graph is a DAG; ``[]`` otherwise.
        edges: ``(dependency, step)`` pairs for every known dependency.
    """

    spec: WorkflowSpec | None
    problems: list[Problem]
    layers: list[list[str]] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """Whether the definition can be saved."""
        return self.spec is not None and not self.problems


def parse_definition_text(text: str) -> tuple[Any, list[Problem]]:
    """Parse YAML (a superset of JSON) into data; a syntax error names its line and column."""
    if len(text.encode()) > MAX_DEFINITION_BYTES:
        return None, [
            Problem("definition", f"the definition is larger than {MAX_DEFINITION_BYTES} bytes")
        ]
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        return None, [Problem("definition", f"{where}{exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return None, [Problem("definition", f"not valid YAML or JSON: {exc}")]
    if not isinstance(data, Mapping):
        return None, [
            Problem(
                "definition",
                "a workflow is a mapping with `name` and `steps`; got "
                + ("nothing" if data is None else type(data).__name__),
            )
        ]
    return data, []


def check_definition(definition: str | Mapping[str, Any]) -> WorkflowCheck:
    """Check a definition (text or data) against every rule; see the module docstring."""
    if isinstance(definition, str):
        data, problems = parse_definition_text(definition)
        if problems:
            return WorkflowCheck(spec=None, problems=problems)
    else:
        data = definition
    try:
        spec = WorkflowSpec.model_validate(data)
    except ValidationError as exc:
        return WorkflowCheck(spec=None, problems=schema_problems(exc))
    return check_spec(spec)


def schema_problems(exc: ValidationError) -> list[Problem]:
    """Pydantic's errors as problems whose field is the dotted location (``steps.2.retry``)."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "definition"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = f"unknown field {error['loc'][-1]!r}; see docs/workflows.md for the fields"
        problems.append(Problem(where, message))
    return problems


def check_spec(spec: WorkflowSpec) -> WorkflowCheck:
    """Check a schema-valid definition against the graph, agent and expression rules."""
    problems = validate_dag(spec.steps)
    graph_ok = not problems
    depends: dict[str, list[str]] = {}
    for step in spec.steps:
        depends.setdefault(step.id, list(step.depends_on))
    for index, step in enumerate(spec.steps):
        where = f"steps.{index}"
        problems += _agent_problems(where, step.agent, step.inputs)
        upstream = _ancestors(step.id, depends)
        for path, text in template_strings(step.inputs):
            problems += _expression_problems(
                f"{where}.inputs.{path}", text, check_template, spec, step.id, upstream, depends
            )
        if step.when is not None:
            problems += _expression_problems(
                f"{where}.when", step.when, check_condition, spec, step.id, upstream, depends
            )
    edges = [(dep, step.id) for step in spec.steps for dep in step.depends_on if dep in depends]
    layers = topological_layers(spec.steps) if graph_ok else []
    return WorkflowCheck(spec=spec, problems=problems, layers=layers, edges=edges)


def _agent_problems(where: str, agent: str, inputs: Mapping[str, Any]) -> list[Problem]:
    if not agent_is_known(agent):
        known = known_agent_names()
        message = f"unknown agent {agent!r}"
        close = difflib.get_close_matches(agent, known, n=1)
        message += f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
        return [Problem(f"{where}.agent", message)]
    if agent == "command":
        argv = inputs.get("argv")
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            return [
                Problem(
                    f"{where}.inputs.argv",
                    "a command step needs inputs.argv, a non-empty list of strings "
                    '(e.g. ["python", "-m", "pytest"])',
                )
            ]
    return []


def _expression_problems(
    where: str,
    source: str,
    compile_: Any,
    spec: WorkflowSpec,
    step_id: str,
    upstream: set[str],
    depends: Mapping[str, Sequence[str]],
) -> list[Problem]:
    kind = "condition" if where.endswith(".when") else "template"
    try:
        references: References = compile_(source)
    except ExpressionError as exc:
        return [Problem(where, f"bad {kind}: {exc.message}")]
    problems = [
        Problem(
            where,
            f"unknown name {name!r} in {kind}; use inputs.<name>, steps.<id>.outputs.<key>, "
            "steps.<id>.status, run.id or workflow.name",
        )
        for name in references.unknown_names
    ]
    for name in sorted(references.inputs):
        if name not in spec.inputs:
            message = f"unknown input {name!r}; declare it under `inputs:`"
            problems.append(Problem(where, message + _suggest(name, spec.inputs)))
    for other in sorted(references.steps):
        if other == step_id:
            problems.append(Problem(where, f"step {step_id!r} cannot read its own outputs"))
        elif other not in depends:
            problems.append(Problem(where, f"unknown step {other!r}" + _suggest(other, depends)))
        elif other not in upstream:
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


def _ancestors(step_id: str, depends: Mapping[str, Sequence[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(depends.get(step_id, ()))
    while stack:
        current = stack.pop()
        if current in depends and current not in seen:
            seen.add(current)
            stack.extend(depends[current])
    seen.discard(step_id)  # a cycle through the step itself is reported by the graph rules
    return seen
