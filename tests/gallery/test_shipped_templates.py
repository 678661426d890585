"""The shipped templates: every file loads, renders with sample inputs into a workflow that
passes every check and saves on both databases; a broken file fails naming the file and the
field; rendering refuses what cannot be decided before a run; named approvers' rule."""

import itertools
from pathlib import Path

import pytest

from missionctl.domain.workflows import WorkflowDag, approver_refusal
from missionctl.errors import ValidationFailed
from missionctl.gallery import SHIPPED, load_templates, render_template, sample_inputs
from missionctl.schemas.datafiles import DataFileError
from missionctl.schemas.templates import TemplateSave, TemplateSpec, TemplateUse
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.templates import (
    check_template,
    list_templates,
    save_template,
    use_template,
)
from missionctl.services.usecases.workflows import create_workflow

SOP = ["Scaffold check", "PRD", "Task list", "Spec", "Action plan", "Implementation", "Review"]


def test_four_templates_ship_and_each_renders_into_a_valid_dag() -> None:
    assert set(SHIPPED) == {"sop-phases", "release-with-approval", "data-migration", "bug-triage"}
    for name, template in SHIPPED.items():
        assert check_template(template) == [], name
        body, problems = render_template(template, sample_inputs(template))
        assert problems == []
        dag = WorkflowDag.from_definition(body)
        assert dag.roots(), name
        gated = [s for s in dag.steps.values() if s.gated]
        assert gated and all(s.approvers == ("example",) for s in gated), name
        assert all(s.agent.startswith("builtin:") for s in dag.steps.values()), name


def test_the_sop_template_has_its_seven_phases_each_after_the_first_behind_a_gate() -> None:
    body, _ = render_template(SHIPPED["sop-phases"], {"goal": "Ship it", "approver": "ada"})
    steps = body["steps"]
    assert [s["phase"] for s in steps] == SOP
    assert [bool(s.get("requires_approval")) for s in steps] == [False] + [True] * 6
    assert all(s["approvers"] == ["ada"] for s in steps[1:])
    for earlier, later in itertools.pairwise(steps):
        assert later["depends_on"] == [earlier["id"]]
    # Rendered now: what reads only inputs; the inputs stay declared, with the values as defaults.
    assert body["name"] == "SOP · Ship it"
    assert steps[1]["inputs"]["title"] == "PRD for Ship it"
    assert body["inputs"]["goal"] == {
        "type": "string",
        "description": "What the change is for, in plain words.",
        "required": False,
        "default": "Ship it",
    }


async def test_every_shipped_template_saves_as_a_workflow_version(ctx: ServiceContext) -> None:
    for name, template in SHIPPED.items():
        used = await use_template(
            ctx,
            name=name,
            data=TemplateUse(inputs=sample_inputs(template)),
            actor="user:t",
            may_run=False,
        )
        assert used.workflow_version == 1 and used.run_id is None


def _write(folder: Path, name: str, text: str) -> None:
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")


MINIMAL = """
name: {name}
title: A title
workflow:
  name: x
  steps: [{{id: a, agent: builtin:noop}}]
"""


def test_a_broken_file_fails_naming_the_file_and_the_field(tmp_path: Path) -> None:
    _write(tmp_path, "good", MINIMAL.format(name="good"))
    assert list(load_templates(tmp_path)) == ["good"]
    _write(tmp_path, "typo", MINIMAL.format(name="typo") + "categroy: x\n")
    with pytest.raises(DataFileError, match=r"typo\.yaml: categroy: Extra inputs"):
        load_templates(tmp_path)
    (tmp_path / "typo.yaml").unlink()
    _write(tmp_path, "other", MINIMAL.format(name="renamed"))
    with pytest.raises(DataFileError, match=r"other\.yaml: name: is 'renamed'"):
        load_templates(tmp_path)
    (tmp_path / "other.yaml").unlink()
    _write(tmp_path, "twice", MINIMAL.format(name="twice") + "title: again\n")
    with pytest.raises(DataFileError, match="appears twice"):
        load_templates(tmp_path)


def _template(**workflow: object) -> TemplateSpec:
    return TemplateSpec.model_validate(
        {
            "name": "t",
            "title": "T",
            "inputs": {"who": {"type": "string", "required": True}},
            "workflow": {"name": "w", "steps": [{"id": "a", "agent": "builtin:noop"}]} | workflow,
        }
    )


def test_what_is_rendered_when_used_may_read_only_inputs() -> None:
    steps = [{"id": "a", "agent": "builtin:noop", "approvers": ["{{ run.id }}"]}]
    _, problems = render_template(_template(steps=steps), {"who": "x"})
    assert [p.field for p in problems] == ["workflow.steps.0.approvers"]
    assert "only inputs" in problems[0].message
    _, problems = render_template(_template(description="{{ steps.a.outputs }}"), {"who": "x"})
    assert [p.field for p in problems] == ["workflow.description"]
    _, problems = render_template(_template(), {"who": 3, "extra": True})
    assert sorted(p.field or "" for p in problems) == ["inputs.extra", "inputs.who"]
    bad = _template(steps=[{"id": "a", "agent": "builtin:noop", "depends_on": ["a"]}])
    assert any("cycle" in p.message or "itself" in p.message for p in check_template(bad))


def test_a_named_approver_alone_may_decide() -> None:
    assert approver_refusal((), "s", None) is None
    assert approver_refusal(("alice",), "s", "alice") is None
    refusal = approver_refusal(("alice", "bob"), "deploy", "carol")
    assert refusal == "only 'alice' or 'bob' may decide step 'deploy'; user 'carol' may not"
    assert "a caller that is no user" in (approver_refusal(("alice",), "s", None) or "")


async def test_a_workflow_too_large_for_a_template_is_refused_and_nothing_saved(
    ctx: ServiceContext,
) -> None:
    steps = [
        {"id": f"s{i}", "agent": "builtin:noop", "description": "d" * 2000} for i in range(300)
    ]
    spec = WorkflowSpec.model_validate({"name": "huge", "steps": steps})
    workflow = await create_workflow(ctx, spec=spec, actor="user:t")
    with pytest.raises(ValidationFailed) as refused:
        await save_template(
            ctx, data=TemplateSave(name="huge", workflow_id=workflow.id), actor="user:t"
        )
    assert refused.value.field == "workflow_id" and "recipe" in refused.value.message
    assert [t.name for t in await list_templates(ctx)] == sorted(SHIPPED)
