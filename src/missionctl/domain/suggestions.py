"""Edits to a workflow that its history says would help, with their expected effect (pure).

ADR 0120. Each suggestion is a whole new definition (the current one with one edit), the reason
in words with the counts behind it, and what it is expected to change. Three kinds:

- ``parallel``: a step waits for one it never reads. Only steps whose agent reads what came
  before through templates alone can be judged (:data:`TEMPLATE_ONLY_AGENTS`: an ``llm:``
  step, a builtin specialist, a coding or ``command`` step reads its predecessors' outputs or
  workspaces without saying so). The step then waits for its predecessor's own dependencies
  instead; the expected effect is the run's critical path, by the steps' median durations,
  before and after.
- ``timeout``: a step whose first attempts often run out of time (at least
  :data:`TIMEOUT_SHARE` of :data:`MIN_RUNS` or more). Its limit is raised to the larger of
  twice the limit and one and a half times the slowest duration that succeeded; the expected
  effect is the retries it no longer needs.
- ``model``: an ``llm:`` step whose role a cheaper model does as well, by model routing's
  record of the role (``domain.routing``), while the step pins no model. It is pinned to that
  model; the expected effect is the step's cost at the same tokens.
- ``template``: steps that do the same work (the same agent, inputs and condition) in at least
  :data:`TEMPLATE_MIN_COPIES` workflows, counting this one, and in no saved template yet. The
  steps written out in the same set of workflows are one suggestion: a template of them (with
  the workflow inputs they read), so that the next workflow needing them starts from it; the
  expected effect is the steps such a workflow no longer writes. Its definition is the
  template, not a new version.

The first three are judged from at least :data:`MIN_RUNS` runs of the workflow in the window;
a template from the workflows' definitions, which are their own history of what people wrote.
"""

import copy
import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from missionctl.domain.budget import ESTIMATE_INPUT_SHARE, Price
from missionctl.domain.routing import Routing
from missionctl.domain.slugs import slug
from missionctl.domain.workflows import DEFAULT_TIMEOUT_S, WorkflowDag

Kind = Literal["parallel", "timeout", "model", "template"]

MIN_RUNS: Final = 5
"""Runs of the workflow below which no suggestion is made: fewer say too little."""

TIMEOUT_SHARE: Final = 0.3
"""The share of a step's first attempts that ran out of time from which a longer limit is
suggested."""

MAX_TIMEOUT_S: Final = 86_400.0
"""The longest limit a step may have (``StepSpec.timeout_s``): a day."""

TEMPLATE_MIN_COPIES: Final = 3
"""Workflows (this one included) that must write a step out before a template is suggested: the
third copy is the one that pays for a template."""

TEMPLATE_NAME_CHARS: Final = 63
"""The longest template name (``schemas.templates.TEMPLATE_NAME_PATTERN``)."""

TEMPLATE_ONLY_AGENTS: Final = frozenset({"http", "builtin:sleep", "builtin:noop", "builtin:fail"})
"""Agents that read earlier steps only through their templates (``{{ steps.x.outputs }}``)."""


@dataclass(frozen=True, slots=True)
class StepHistory:
    """One step of the workflow over the window: how long it took and how it went.

    ``durations_s`` are the durations of the attempts that succeeded; ``first_attempts``,
    ``first_timeouts`` and ``first_failures`` count first attempts, those that ran out of time
    and those that did not succeed; ``retries`` the attempts after a first, over all runs.
    """

    step_id: str
    durations_s: tuple[float, ...] = ()
    first_attempts: int = 0
    first_timeouts: int = 0
    first_failures: int = 0
    retries: int = 0

    @property
    def median_s(self) -> float:
        """The median duration of the attempts that succeeded (0 without any)."""
        return statistics.median(self.durations_s) if self.durations_s else 0.0


@dataclass(frozen=True, slots=True)
class CheaperModel:
    """A model that does a role as well as the configured one, for less (from routing)."""

    model: str
    role: str
    reason: str
    cost_share: float  # its price for the step's tokens, over the configured model's


@dataclass(frozen=True, slots=True)
class SteadierModel:
    """A model that does a role clearly more often than the configured one (from routing)."""

    model: str
    role: str
    reason: str
    failure_share: float  # its failure rate on the role, over the configured model's


STEADIER_BY: Final = 0.1
"""How much higher a model's success rate on a role must be for a failing step to move to it."""


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One edit: a key stable for the same edit of the same version, and the new definition."""

    key: str
    kind: Kind
    step_id: str
    title: str
    why: str
    predicted: Mapping[str, Any]
    definition: Mapping[str, Any] = field(repr=False)


def suggest(
    definition: Mapping[str, Any],
    runs: int,
    steps: Mapping[str, StepHistory],
    cheaper: Mapping[str, CheaperModel] | None = None,
    step_costs: Mapping[str, int] | None = None,
    reads: Mapping[str, frozenset[str] | None] | None = None,
    steadier: Mapping[str, SteadierModel] | None = None,
) -> list[Suggestion]:
    """The suggestions for ``definition`` from ``runs`` runs whose steps went as ``steps`` say.

    ``cheaper`` maps a role to a model that does it as well for less; ``step_costs`` each
    step's mean cost per run in micro-dollars (what a model suggestion saves is a share of it);
    ``reads`` the steps whose outputs each step's templates and condition name (``None``: it
    cannot be told, e.g. ``steps[name]``; a step left out reads none); ``steadier`` maps a
    role to a model that does it clearly more often, for steps whose first attempts keep
    failing (such a step is not also offered a cheaper one).
    """
    if runs < MIN_RUNS:
        return []
    retried = _steadier(definition, runs, steps, steadier or {})
    moved = {s.step_id for s in retried}
    cheaper_ones = _models(definition, cheaper or {}, step_costs or {})
    return [
        *_parallel(definition, steps, reads or {}),
        *_timeouts(definition, runs, steps),
        *retried,
        *[s for s in cheaper_ones if s.step_id not in moved],
    ]


def step_work(step: Mapping[str, Any]) -> str:
    """What a step does, as one comparable string: its agent, inputs and condition.

    Two steps with the same work are copies, whatever their ids, dependencies and limits.
    """
    inputs = step.get("inputs") or {}
    work = {"agent": step.get("agent"), "inputs": inputs, "when": step.get("when")}
    return json.dumps(work, sort_keys=True, default=str)


@dataclass(frozen=True, slots=True)
class Templates:
    """What the templates hold.

    ``work``: the :func:`step_work` of the saved ones' steps; ``names``: every name taken,
    shipped or saved.
    """

    work: frozenset[str]
    names: frozenset[str]


def suggest_templates(
    name: str,
    definition: Mapping[str, Any],
    elsewhere: Mapping[str, Sequence[Mapping[str, Any]]],
    templates: Templates,
    input_reads: Mapping[str, frozenset[str]],
) -> list[Suggestion]:
    """Templates of the steps of workflow ``name`` that other workflows write out too.

    ``elsewhere`` maps every other workflow's name to its newest version's steps; steps a
    saved template holds are left out, and a suggested name is one no template has;
    ``input_reads`` gives the workflow inputs each step's templates and condition read.
    """
    holders: dict[str, list[str]] = {}
    works = {step_work(step) for step in definition["steps"]}
    for other, steps in elsewhere.items():
        for work in works & {step_work(step) for step in steps}:
            holders.setdefault(work, []).append(other)
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for step in definition["steps"]:
        work = step_work(step)
        sharing = tuple(sorted(holders.get(work, ())))
        if len(sharing) + 1 >= TEMPLATE_MIN_COPIES and work not in templates.work:
            groups.setdefault(sharing, []).append(step)
    return [
        _template(name, definition, steps, sharing, input_reads, templates.names)
        for sharing, steps in groups.items()
    ]


def _template_name(step_ids: Sequence[str], taken: frozenset[str]) -> str:
    """A free template name made of ``step_ids``: ``lint-test``, else ``lint-test-2`` and on."""
    base = slug(" ".join(step_ids), max_chars=TEMPLATE_NAME_CHARS - 4, fallback="steps")
    if not base[0].isalpha():
        base = slug(f"steps {base}", max_chars=TEMPLATE_NAME_CHARS - 4)
    number = 1
    while (found := base if number == 1 else f"{base}-{number}") in taken:
        number += 1
    return found


def _template(
    name: str,
    definition: Mapping[str, Any],
    steps: Sequence[Mapping[str, Any]],
    sharing: Sequence[str],
    input_reads: Mapping[str, frozenset[str]],
    taken: frozenset[str],
) -> Suggestion:
    ids = [str(step["id"]) for step in steps]
    template_name = _template_name(ids, taken)
    kept = set(ids)
    body = [
        {**step, "depends_on": [d for d in step.get("depends_on") or [] if d in kept]}
        for step in copy.deepcopy(list(steps))
    ]
    read = set().union(*(input_reads.get(step_id, frozenset()) for step_id in ids))
    declared = definition.get("inputs") or {}
    others = ", ".join(sharing[:5]) + (f" and {len(sharing) - 5} more" if len(sharing) > 5 else "")
    listed = ", ".join(ids)
    why = (
        f"{listed} {'is' if len(ids) == 1 else 'are'} written out the same way (agent, inputs "
        f"and condition) in {len(sharing) + 1} workflows: this one and {others}."
    )
    return Suggestion(
        key=f"template-{template_name}",
        kind="template",
        step_id=ids[0],
        title=f"Save {listed} as the template {template_name}",
        why=why,
        predicted={"steps_to_write": [len(ids), 0]},
        definition={
            "name": template_name,
            "title": f"{listed} (from {name})"[:120],
            "description": why,
            "category": "saved",
            "inputs": {k: copy.deepcopy(v) for k, v in declared.items() if k in read},
            "workflow": {"name": template_name, "steps": body},
        },
    )


def critical_path_s(definition: Mapping[str, Any], durations: Mapping[str, float]) -> float:
    """The longest chain of ``durations`` through the steps' dependencies, in seconds."""
    dag = WorkflowDag.from_definition(definition)
    finish: dict[str, float] = {}
    for step_id in dag.order:  # definition order: a step comes after what it depends on
        start = max((finish[d] for d in dag.steps[step_id].depends_on), default=0.0)
        finish[step_id] = start + durations.get(step_id, 0.0)
    return max(finish.values(), default=0.0)


def _edited(definition: Mapping[str, Any], step_id: str, **changes: Any) -> dict[str, Any]:
    new = copy.deepcopy(dict(definition))
    for step in new["steps"]:
        if step["id"] == step_id:
            step.update(changes)
    return new


def _step_edit(
    definition: Mapping[str, Any],
    kind: Kind,
    step_id: str,
    *,
    title: str,
    why: str,
    predicted: Mapping[str, Any],
    **changes: Any,
) -> Suggestion:
    """The suggestion of ``kind`` that sets ``changes`` on step ``step_id`` of ``definition``.

    Its key is the kind and the step: a step is offered one edit of each kind.
    """
    return Suggestion(
        key=f"{kind}-{step_id}",
        kind=kind,
        step_id=step_id,
        title=title,
        why=why,
        predicted=predicted,
        definition=_edited(definition, step_id, **changes),
    )


def _model_edit(
    definition: Mapping[str, Any],
    step_id: str,
    model: str,
    *,
    why: str,
    predicted: Mapping[str, Any],
) -> Suggestion:
    """The suggestion that pins step ``step_id`` of ``definition`` to ``model``."""
    return _step_edit(
        definition,
        "model",
        step_id,
        title=f"Run {step_id} on {model}",
        why=why,
        predicted=predicted,
        model=model,
    )


def _llm_steps(definition: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], str]]:
    """The ``llm:`` steps of ``definition`` a model suggestion may move, each with its role.

    None when the workflow pins its model: that is its author's choice.
    """
    if definition.get("model"):
        return []
    return [
        (step, str(step["agent"]).removeprefix("llm:"))
        for step in definition["steps"]
        if str(step["agent"]).startswith("llm:")
    ]


def _parallel(
    definition: Mapping[str, Any],
    history: Mapping[str, StepHistory],
    reads: Mapping[str, frozenset[str] | None],
) -> list[Suggestion]:
    raw = {s["id"]: s for s in definition["steps"]}
    durations = {sid: history[sid].median_s for sid in raw if sid in history}
    before = critical_path_s(definition, durations)
    found = []
    for step in definition["steps"]:
        read = reads.get(step["id"], frozenset())
        if step["agent"] not in TEMPLATE_ONLY_AGENTS or read is None:
            continue
        for dep in step.get("depends_on") or []:
            if dep in read:
                continue
            instead = [d for d in raw[dep].get("depends_on") or [] if d not in step["depends_on"]]
            depends = [d for d in step["depends_on"] if d != dep] + instead
            new = _edited(definition, step["id"], depends_on=depends)
            after = critical_path_s(new, durations)
            if after >= before:
                continue
            found.append(
                Suggestion(
                    key=f"parallel-{step['id']}.{dep}",
                    kind="parallel",
                    step_id=step["id"],
                    title=f"Run {step['id']} without waiting for {dep}",
                    why=(
                        f"{step['id']} ({step['agent']}) never reads {dep}'s outputs: its "
                        f"inputs and condition name none of them. Median durations: {dep} "
                        f"{durations.get(dep, 0):.1f} s, {step['id']} "
                        f"{durations.get(step['id'], 0):.1f} s."
                    ),
                    predicted={"critical_path_s": [round(before, 2), round(after, 2)]},
                    definition=new,
                )
            )
    return found


def _timeouts(
    definition: Mapping[str, Any], runs: int, history: Mapping[str, StepHistory]
) -> list[Suggestion]:
    found = []
    for step in definition["steps"]:
        seen = history.get(step["id"])
        if seen is None or seen.first_attempts < MIN_RUNS:
            continue
        share = seen.first_timeouts / seen.first_attempts
        if share < TIMEOUT_SHARE:
            continue
        limit = float(step.get("timeout_s") or DEFAULT_TIMEOUT_S)
        slowest = max(seen.durations_s, default=0.0)
        raised = min(MAX_TIMEOUT_S, round(max(2 * limit, 1.5 * slowest), 1))
        if raised <= limit:
            continue  # already at the longest limit a step may have
        found.append(
            _step_edit(
                definition,
                "timeout",
                step["id"],
                title=f"Give {step['id']} {raised:g} s instead of {limit:g} s",
                why=(
                    f"{seen.first_timeouts} of {seen.first_attempts} first attempts of "
                    f"{step['id']} ran out of its {limit:g} s; the slowest that succeeded took "
                    f"{slowest:.1f} s, and the step needed {seen.retries} retries in {runs} runs."
                ),
                predicted={
                    "first_timeout_share": [round(share, 3), 0.0],
                    # The retries that followed a first attempt's timeout go; others stay.
                    "retries_per_run": [
                        round(seen.retries / runs, 3),
                        round(max(0, seen.retries - seen.first_timeouts) / runs, 3),
                    ],
                },
                timeout_s=raised,
            )
        )
    return found


def _steadier(
    definition: Mapping[str, Any],
    runs: int,
    history: Mapping[str, StepHistory],
    steadier: Mapping[str, SteadierModel],
) -> list[Suggestion]:
    """``llm:`` steps that keep failing, moved to a model that does their role more often.

    A step keeps failing when at least :data:`TIMEOUT_SHARE` of its first attempts failed
    other than by running out of time (that has its own suggestion).
    """
    found = []
    for step, role in _llm_steps(definition):
        seen = history.get(step["id"])
        if role not in steadier or seen is None:
            continue
        failed = seen.first_failures - seen.first_timeouts  # a timeout has its own suggestion
        if seen.first_attempts < MIN_RUNS or failed / seen.first_attempts < TIMEOUT_SHARE:
            continue
        better = steadier[role]
        if step.get("model") == better.model:
            continue
        share = failed / seen.first_attempts
        found.append(
            _model_edit(
                definition,
                step["id"],
                better.model,
                why=(
                    f"{failed} of {seen.first_attempts} first attempts of {step['id']} failed and "
                    f"needed a retry; {better.model} does {role} steps more often: "
                    f"{better.reason}."
                ),
                predicted={
                    "first_failure_share": [
                        round(share, 3),
                        round(share * better.failure_share, 3),
                    ],
                    "retries_per_run": [
                        round(seen.retries / runs, 3),
                        round(seen.retries / runs * better.failure_share, 3),
                    ],
                },
            )
        )
    return found


def _models(
    definition: Mapping[str, Any],
    cheaper: Mapping[str, CheaperModel],
    step_costs: Mapping[str, int],
) -> list[Suggestion]:
    found = []
    for step, role in _llm_steps(definition):
        if step.get("model") or role not in cheaper:
            continue
        better = cheaper[role]
        cost = step_costs.get(step["id"], 0)
        found.append(
            _model_edit(
                definition,
                step["id"],
                better.model,
                why=f"{better.model} does {role} steps as well: {better.reason}.",
                predicted={"step_cost_usd": [cost / 1e6, round(cost * better.cost_share / 1e6, 6)]},
            )
        )
    return found


def cheaper_models(routing: Routing, roles: Sequence[str]) -> dict[str, CheaperModel]:
    """For each of ``roles``, the cheapest priced model whose sure record earned it the role."""
    found: dict[str, CheaperModel] = {}
    default = routing.default_price
    if default is None:
        return found
    for role in roles:
        earned = [
            m
            for m in routing.catalogue
            if m.model != routing.default and role in routing.judged_roles(m.model)[0]
        ]
        if not any(m.price is not None for m in earned):
            continue
        best, best_price = min(
            ((m, m.price) for m in earned if m.price is not None), key=lambda pair: blended(pair[1])
        )
        share = blended(best_price) / blended(default)
        if share < 1:
            found[role] = CheaperModel(
                best.model, role, routing.record_text(best.model, role), share
            )
    return found


def steadier_models(routing: Routing, roles: Sequence[str]) -> dict[str, SteadierModel]:
    """For each of ``roles``, a model that does it clearly more often than the configured one.

    One whose sure record beats the configured model's success rate on the role by
    :data:`STEADIER_BY` or more: the best such, the cheaper of equals.
    """
    found: dict[str, SteadierModel] = {}
    for role in roles:
        now = routing.success_rate(routing.default, role)
        better = [
            (routing.success_rate(m.model, role), m)
            for m in routing.catalogue
            if m.model != routing.default and routing.sure(m.model, role)
        ]
        better = [(rate, m) for rate, m in better if rate >= now + STEADIER_BY]
        if not better or now >= 1:
            continue
        rate, best = max(better, key=lambda pair: (pair[0], -_blended_or_most(pair[1].price)))
        found[role] = SteadierModel(
            best.model, role, routing.record_text(best.model, role), (1 - rate) / (1 - now)
        )
    return found


def _blended_or_most(price: Price | None) -> float:
    return float("inf") if price is None else blended(price)


def blended(price: Price) -> float:
    """Micro-dollars per million tokens split as estimates split them (3/4 input)."""
    return (
        ESTIMATE_INPUT_SHARE * price.input_micros_per_mtok
        + (1 - ESTIMATE_INPUT_SHARE) * price.output_micros_per_mtok
    )
