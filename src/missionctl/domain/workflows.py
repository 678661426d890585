"""A stored workflow definition as the engine needs it: the DAG and per-step policies (pure).

Workflow versions are immutable, so a parsed ``WorkflowDag`` can be cached by workflow id.

A step is *plain* when nothing has to be decided before it is queued: no ``when`` condition,
no template in its inputs, no approval gate, and no program to judge (a ``command`` step is
gated or not by the allow-list in force when it is ready; see ``domain.governance``), and no
mini-spec to check (a ``coding:*`` step, one in the implementation phase, a ``git:merge``;
see ``domain.specs``). Plain
steps take the engine's fast path (queued, or claimed at once, by one statement); the others
are admitted one by one.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from missionctl.domain.coding import MERGE_AGENT, is_coding_agent
from missionctl.domain.retry import RetryPolicy
from missionctl.domain.specs import implements_work
from missionctl.errors import Problem

DEFAULT_TIMEOUT_S = 600.0
MAX_DEFINITION_BYTES = 1_000_000
"""Largest definition accepted, in bytes of UTF-8 text: from a file, standard input, a request
body or a form (``services.usecases.workflow_checks`` parses within it)."""
TEMPLATE_MARKERS = ("{{", "{%", "{#")
RiskTier = Literal["read", "write", "irreversible"]
RISK_TIERS: tuple[RiskTier, ...] = ("read", "write", "irreversible")  # lowest first
COMMAND_AGENT = "command"  # runs a program; see ``domain.governance.command_gate``
MCP_AGENT = "mcp"  # calls an MCP tool; a stdio server is a program, see ``mcp_gate``
# Agents whose steps may start a program: always admitted, judged by the allow-list.
PROGRAM_AGENTS = frozenset({COMMAND_AGENT, MCP_AGENT})
# Agent kinds whose only product is documents: builtin specialists and model roles (an
# ``llm`` agent is given no tools). Every other agent can change something outside its run:
# a program, a repository, a webhook's receiver, an MCP server.
DOCUMENT_AGENT_KINDS = frozenset({"builtin", "llm"})


DIAGNOSTIC_AGENT_NAMES = frozenset({"builtin:noop", "builtin:sleep", "builtin:fail"})
"""The builtins that test workflows and the engine: they write no document, nor anything else."""


def writes_only_documents(agent: str) -> bool:
    """Whether steps of ``agent`` (``builtin:<role>``, ``llm:<role>``) only write documents.

    The diagnostic builtins (:data:`DIAGNOSTIC_AGENT_NAMES`) write nothing, so not these either.

    >>> writes_only_documents("builtin:release"), writes_only_documents("coding:claude")
    (True, False)
    >>> writes_only_documents("builtin:sleep")
    False
    """
    return agent.partition(":")[0] in DOCUMENT_AGENT_KINDS and agent not in DIAGNOSTIC_AGENT_NAMES


def as_risk_tier(value: str) -> RiskTier:
    """``value`` as a risk tier (a stored tier was checked when it was written).

    Raises:
        ValueError: ``value`` is not one of :data:`RISK_TIERS`.
    """
    for tier in RISK_TIERS:
        if value == tier:
            return tier
    raise ValueError(f"{value!r} is not a risk tier: use one of {', '.join(RISK_TIERS)}")


DEFAULT_APPROVALS: Mapping[str, Any] = {
    "read": False,
    "write": True,
    "irreversible": True,
    "on_reject": "fail",
}
# Definitions stored before approval policies existed carry no ``approvals`` key; they ran
# without gates, and a stored version never changes meaning.
LEGACY_APPROVALS: Mapping[str, Any] = {
    "read": False,
    "write": False,
    "irreversible": False,
    "on_reject": "fail",
}


# A workflow's name is its address: ``/workflows/<name>`` on the web, ``…/by-name/<name>`` in
# the API. A slash makes namespaces (``team/deploy``); these names would be taken for another
# page, or rewritten by every browser, so their own page could not be reached.
_RESERVED_NAMES = {"new": "the address of the editor for a new workflow"}
_RESERVED_LAST_SEGMENTS = {
    "edit": "the address of a workflow's editor",
    "versions": "the address of a workflow's version list in the API",
}
_DOT_SEGMENTS = (".", "..")


def workflow_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a workflow's name, or ``None`` when it can.

    Refused: ``new``; a name whose last ``/``-separated part is ``edit`` or ``versions``; a part
    that is ``.`` or ``..`` (browsers resolve those before asking).
    """
    if name in _RESERVED_NAMES:
        return f"{name!r} is {_RESERVED_NAMES[name]}; choose another name"
    segments = name.split("/")
    if len(segments) > 1 and segments[-1] in _RESERVED_LAST_SEGMENTS:
        what = _RESERVED_LAST_SEGMENTS[segments[-1]]
        return f"a name ending in '/{segments[-1]}' is {what}; choose another ending"
    if any(segment in _DOT_SEGMENTS for segment in segments):
        return "a part of the name between slashes may not be '.' or '..'; browsers drop it"
    return None


def holds_template(value: Any) -> bool:
    """Whether ``value`` (a string, or lists and dicts of them) holds template markup."""
    if isinstance(value, str):
        return any(marker in value for marker in TEMPLATE_MARKERS)
    if isinstance(value, Mapping):
        return any(holds_template(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(holds_template(item) for item in value)
    return False


_PYTHON_TYPES: Mapping[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def input_type_matches(kind: str, value: Any) -> bool:
    """Whether ``value`` (as parsed from JSON or YAML) is of the declared input ``kind``."""
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False  # JSON has no bool-is-int
    return isinstance(value, _PYTHON_TYPES[kind])


def resolve_inputs(
    declared: Mapping[str, Mapping[str, Any]], given: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Problem]]:
    """A run's inputs: ``given`` checked against the declarations, defaults filled in.

    Returns:
        The inputs, and every problem (fields ``inputs.<name>``): an undeclared name, a
        required input left out, a value of the wrong type.
    """
    problems: list[Problem] = []
    resolved: dict[str, Any] = {}
    for name in given:
        if name not in declared:
            known = ", ".join(declared) or "none"
            problems.append(
                Problem(
                    f"inputs.{name}", f"unknown input {name!r}; this workflow declares: {known}"
                )
            )
    for name, spec in declared.items():
        kind = str(spec.get("type", "string"))
        if name in given:
            value = given[name]
            if not input_type_matches(kind, value):
                problems.append(Problem(f"inputs.{name}", f"must be of type {kind}, got {value!r}"))
            resolved[name] = value
        elif spec.get("required"):
            problems.append(Problem(f"inputs.{name}", f"input {name!r} is required"))
        else:
            resolved[name] = spec.get("default")
    return resolved, problems


def needs_approval(policy: Mapping[str, Any], *, risk_tier: str, override: bool | None) -> bool:
    """Whether a step waits for a person: its own ``requires_approval``, else the tier's policy."""
    if override is not None:
        return override
    return bool(policy.get(risk_tier, risk_tier != "read"))


@dataclass(frozen=True, slots=True)
class StepDef:
    """One step's scheduling facts.

    ``gated`` is what the workflow's approval policy says at the declared tier; whether the
    step really waits is ``domain.governance.step_gate``'s answer, which for a ``command``
    step also depends on the allow-list when the step is ready. ``approval_reason`` is why its
    author says it waits or runs without a gate (``StepSpec.approval_reason``).
    """

    id: str
    agent: str
    depends_on: tuple[str, ...]
    timeout_s: float
    retry: RetryPolicy
    risk_tier: str
    estimate_tokens: int
    inputs: Mapping[str, Any]
    when: str | None = None
    gated: bool = False
    on_reject: str = "fail"
    templated: bool = False
    phase: str | None = None
    approvers: tuple[str, ...] = ()
    approval_reason: str | None = None
    # The model an ``llm:`` step is pinned to (``StepSpec.model``); ``None``: routing chooses.
    model: str | None = None

    @property
    def plain(self) -> bool:
        """Whether the step can be queued without deciding anything (see the module doc)."""
        return not (
            self.when
            or self.gated
            or self.templated
            or self.agent in PROGRAM_AGENTS
            or self.agent == MERGE_AGENT
            # coding steps (gated by their mode) and implementation phases (the spec guard)
            or implements_work(self.agent, self.phase)
        )


def step_def(raw: Mapping[str, Any], policy: Mapping[str, Any]) -> StepDef:
    """One stored step (``StepSpec.model_dump(mode="json")``) under its workflow's ``policy``."""
    retry = raw.get("retry") or {}
    risk_tier = str(raw.get("risk_tier", "read"))
    inputs = raw.get("inputs") or {}
    return StepDef(
        id=raw["id"],
        agent=raw["agent"],
        depends_on=tuple(raw.get("depends_on", ())),
        timeout_s=float(raw.get("timeout_s") or DEFAULT_TIMEOUT_S),
        retry=RetryPolicy(
            max_attempts=int(retry.get("max_attempts", 1)),
            backoff_s=float(retry.get("backoff_s", 1.0)),
            max_backoff_s=float(retry.get("max_backoff_s", 60.0)),
            jitter=bool(retry.get("jitter", True)),
        ),
        risk_tier=risk_tier,
        estimate_tokens=int(raw.get("estimate_tokens", 0)),
        inputs=inputs,
        when=raw.get("when") or None,
        gated=needs_approval(policy, risk_tier=risk_tier, override=raw.get("requires_approval")),
        on_reject=str(raw.get("on_reject") or policy.get("on_reject", "fail")),
        templated=holds_template(inputs),
        phase=raw.get("phase") or None,
        approvers=tuple(raw.get("approvers") or ()),
        approval_reason=raw.get("approval_reason") or None,
        model=raw.get("model") or None,
    )


def queued_reason(step: StepDef) -> dict[str, str]:
    """What a ``step.queued`` event of ``step`` adds when the step is queued without approval.

    ``{"approval_reason": …}`` when its definition says why it waits or not (a plan's task
    marked irreversible whose step only writes documents), else nothing.
    """
    return {"approval_reason": step.approval_reason} if step.approval_reason else {}


def approver_refusal(approvers: Sequence[str], step_id: str, user: str | None) -> str | None:
    """Why ``user`` may not decide the gate of step ``step_id``, or ``None`` when they may.

    A step that names no ``approvers`` may be decided by anyone allowed to decide approvals; one
    that names some may be decided by those users only (an admin included: a named approver is
    a separation of duties, ADR 0065). ``user`` is ``None`` when the decider is no user.
    """
    if not approvers or (user is not None and user in approvers):
        return None
    named = " or ".join(repr(name) for name in approvers)
    who = f"user {user!r}" if user is not None else "a caller that is no user"
    return f"only {named} may decide step {step_id!r}; {who} may not"


@dataclass(frozen=True, slots=True)
class WorkflowDag:
    """Steps in definition order, with dependency and dependent maps."""

    name: str
    steps: Mapping[str, StepDef]
    order: tuple[str, ...]
    dependents: Mapping[str, tuple[str, ...]]
    max_concurrency: int | None
    inputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    version: int = 0
    # The model every ``llm:`` step without its own pin runs on (``WorkflowSpec.model``).
    model: str | None = None

    # Derived once from the steps (the engine asks on every tick): whether any step may wait for
    # approval, and whether every step is plain (no condition, template, gate or program).
    has_gates: bool = False
    all_plain: bool = True
    # Each step's index in ``order``: sorting a few steps must not scan a large workflow.
    position: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any], *, version: int = 0) -> "WorkflowDag":
        """Parse a stored definition (``WorkflowSpec.model_dump(mode="json")``)."""
        policy = definition.get("approvals") or LEGACY_APPROVALS
        steps = {raw["id"]: step_def(raw, policy) for raw in definition["steps"]}
        dependents: dict[str, list[str]] = {step: [] for step in steps}
        for step in steps.values():
            for dep in step.depends_on:
                dependents[dep].append(step.id)
        limit = definition.get("max_concurrency")
        return cls(
            name=str(definition.get("name", "")),
            steps=steps,
            order=tuple(steps),
            dependents={k: tuple(v) for k, v in dependents.items()},
            max_concurrency=int(limit) if limit else None,
            inputs=MappingProxyType(dict(definition.get("inputs") or {})),
            version=version,
            model=definition.get("model") or None,
            has_gates=any(
                step.gated or step.agent in PROGRAM_AGENTS or is_coding_agent(step.agent)
                for step in steps.values()
            ),
            all_plain=all(step.plain for step in steps.values()),
            position={step_id: index for index, step_id in enumerate(steps)},
        )

    def in_order(self, step_ids: Iterable[str]) -> list[str]:
        """``step_ids`` (steps of this workflow) in definition order."""
        return sorted(step_ids, key=self.position.__getitem__)

    def roots(self) -> list[str]:
        """Steps without dependencies, in definition order."""
        return [s for s in self.order if not self.steps[s].depends_on]

    def descendants(self, step_ids: Sequence[str]) -> list[str]:
        """Every step downstream of ``step_ids`` (not including them), in definition order."""
        seen: set[str] = set()
        stack = list(step_ids)
        while stack:
            for child in self.dependents[stack.pop()]:
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return self.in_order(seen)

    def ancestors(self, step_id: str) -> list[str]:
        """Every step upstream of ``step_id`` (not including it), in definition order."""
        seen: set[str] = set()
        stack = list(self.steps[step_id].depends_on)
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.steps[current].depends_on)
        return self.in_order(seen)
