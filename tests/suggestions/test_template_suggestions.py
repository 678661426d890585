"""Template suggestions: steps several workflows write out the same way become one template.

The rule is pure (``domain.suggestions.suggest_templates``); the service finds the copies in the
other workflows' newest versions, saves the template when the suggestion is applied, and counts
the workflows made from it since.
"""

import asyncio
from typing import Any

import pytest

from missionctl.domain.suggestions import Templates, step_work, suggest_templates
from missionctl.errors import NotFound
from missionctl.schemas.templates import TemplateUse
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.suggestions import apply_suggestion, list_suggestions
from missionctl.services.usecases.templates import list_templates, read_template, use_template
from missionctl.services.usecases.workflows import create_workflow

CHECKOUT = {"id": "checkout", "agent": "builtin:noop", "inputs": {"value": "{{ inputs.repo }}"}}
LINT = {
    "id": "lint",
    "agent": "builtin:noop",
    "depends_on": ["checkout"],
    "inputs": {"value": "ruff check ."},
}
NO_TEMPLATES = Templates(work=frozenset(), names=frozenset())


def _workflow(name: str, *own: dict[str, Any], shared: bool = True) -> dict[str, Any]:
    steps = [CHECKOUT, LINT] if shared else []
    return {
        "name": name,
        "inputs": {"repo": {"type": "string", "default": "app"}, "unused": {"type": "integer"}},
        "steps": [*steps, *own],
    }


API = _workflow("api", {"id": "deploy", "agent": "builtin:noop", "depends_on": ["lint"]})
WEB = _workflow("web", {"id": "bundle", "agent": "builtin:noop", "inputs": {"value": "web"}})
DOCS = _workflow("docs", {"id": "render", "agent": "builtin:noop", "inputs": {"value": "docs"}})


def _others(*definitions: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {d["name"]: d["steps"] for d in definitions}


def test_steps_written_out_in_three_workflows_become_one_template_of_them() -> None:
    reads = {"checkout": frozenset({"repo"})}
    [found] = suggest_templates("api", API, _others(WEB, DOCS), NO_TEMPLATES, reads)
    assert (found.key, found.kind) == ("template-checkout-lint", "template")
    assert "in 3 workflows: this one and docs, web" in found.why
    assert found.predicted == {"steps_to_write": [2, 0]}
    template = found.definition
    assert template["inputs"] == {"repo": {"type": "string", "default": "app"}}  # read ones only
    assert [s["id"] for s in template["workflow"]["steps"]] == ["checkout", "lint"]
    # Two copies are not yet worth a template; the deploy step is this workflow's own.
    assert suggest_templates("api", API, _others(WEB), NO_TEMPLATES, reads) == []


def test_a_step_that_differs_a_little_is_not_a_copy_and_its_dependencies_stay_inside() -> None:
    changed = {**LINT, "inputs": {"value": "ruff check src"}}
    web = {**WEB, "steps": [CHECKOUT, changed, *WEB["steps"][2:]]}
    [found] = suggest_templates("api", API, _others(web, DOCS), NO_TEMPLATES, {})
    assert found.key == "template-checkout" and found.definition["inputs"] == {}
    # A longer limit or another id is the same work: only the agent, inputs and condition count.
    renamed = {**LINT, "id": "style", "timeout_s": 30.0}
    docs = {**DOCS, "steps": [CHECKOUT, renamed, *DOCS["steps"][2:]]}
    [both] = suggest_templates("api", API, _others(WEB, docs), NO_TEMPLATES, {})
    lint = both.definition["workflow"]["steps"][1]
    assert lint["depends_on"] == ["checkout"] and step_work(lint) == step_work(renamed)


def test_steps_a_saved_template_holds_are_not_suggested_again_and_names_stay_free() -> None:
    others = _others(WEB, DOCS)
    saved = Templates(work=frozenset({step_work(CHECKOUT), step_work(LINT)}), names=frozenset())
    assert suggest_templates("api", API, others, saved, {}) == []
    taken = Templates(work=frozenset(), names=frozenset({"checkout-lint", "checkout-lint-2"}))
    [found] = suggest_templates("api", API, others, taken, {})
    assert found.key == "template-checkout-lint-3" and found.definition["name"] == "checkout-lint-3"


async def _three(ctx: ServiceContext) -> None:
    for definition in (API, WEB, DOCS):
        await create_workflow(ctx, spec=WorkflowSpec.model_validate(definition), actor="user:test")


async def test_applying_a_template_suggestion_saves_the_template_and_counts_its_uses(
    ctx: ServiceContext,
) -> None:
    await _three(ctx)
    found = await list_suggestions(ctx, name="api")
    assert found.runs == 0  # a template needs no runs: the copies are the history
    [template] = found.suggestions
    assert template.key == "template-checkout-lint"
    assert template.expected == ["steps a new workflow writes out 2 → 0"]
    assert template.diff.startswith("--- no template\n+++ suggested template\n")
    assert "+name: checkout-lint\n" in template.diff and "+  repo:\n" in template.diff
    applied = await apply_suggestion(ctx, name="api", key=template.key, actor="user:ana")
    assert applied.template_uses == 0 and applied.before.version == applied.after.version == 1
    saved = await read_template(ctx, name="checkout-lint")
    assert (saved.source, saved.saved_by, list(saved.inputs)) == ("saved", "user:ana", ["repo"])
    assert [s.id for s in saved.steps] == ["checkout", "lint"]
    # The other copies are now in a template: nothing more to suggest there.
    assert (await list_suggestions(ctx, name="web")).suggestions == []
    for name in ("cli", "worker"):
        use = TemplateUse(inputs={"repo": name}, workflow_name=name)
        await use_template(ctx, name="checkout-lint", data=use, actor="user:bo", may_run=False)
    [done] = (await list_suggestions(ctx, name="api")).applied
    assert (done.key, done.template_uses) == ("template-checkout-lint", 2)


async def test_twins_applying_one_template_suggestion_save_one_template(
    ctx: ServiceContext,
) -> None:
    await _three(ctx)
    results = await asyncio.gather(
        *(
            apply_suggestion(ctx, name=name, key="template-checkout-lint", actor=f"user:{name}")
            for name in ("api", "web")
        ),
        return_exceptions=True,
    )
    names = sorted(type(r).__name__ for r in results)
    assert names in (["AppliedSuggestionRead", "Conflict"], ["AppliedSuggestionRead", "NotFound"])
    saved = [t for t in await list_templates(ctx) if t.source == "saved"]
    assert [t.name for t in saved] == ["checkout-lint"]
    with pytest.raises(NotFound):
        await apply_suggestion(ctx, name="docs", key="template-checkout-lint", actor="user:x")
