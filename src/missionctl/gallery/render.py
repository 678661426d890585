"""A template's inputs checked, and its body rendered into a workflow definition (ADR 0065).

Every template string that reads only ``inputs`` is rendered when the template is used: the
workflow's ``name`` and ``description``, each step's ``description``, ``approvers`` (who may
open a gate is decided before any run, not by one) and the strings of its ``inputs`` (so the
workflow reads as the task it is). The others (a step input reading ``steps`` or ``run``, a
``when``) stay templates for the engine, and the workflow declares the template's inputs with
the values given as their defaults, so a run reads the same values.

An input value may not hold template markup: rendered into a step's inputs, it would be read
as a template when the step runs.
"""

from collections.abc import Mapping
from typing import Any

from missionctl.domain.workflows import holds_template, resolve_inputs
from missionctl.errors import Problem
from missionctl.expressions import ExpressionError, render_inputs
from missionctl.schemas.templates import TemplateSpec

_SAMPLES: Mapping[str, Any] = {
    "string": "example",
    "integer": 1,
    "number": 1,
    "boolean": True,
    "array": [],
    "object": {},
}
_RENDERED_NOW = ("name", "description")
_STEP_RENDERED_NOW = ("description", "approvers")


def sample_inputs(template: TemplateSpec) -> dict[str, Any]:
    """Values for every declared input (its default, else a sample of its type), for checks."""
    return {
        name: spec.default if spec.default is not None else _SAMPLES[spec.type]
        for name, spec in template.inputs.items()
    }


def declared_inputs(
    template: TemplateSpec, given: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Problem]]:
    """``given`` checked against the inputs ``template`` declares, defaults filled in.

    The problems (fields ``inputs.<name>``) are what the template refuses: an undeclared name,
    a required input left out, a value of the wrong type.
    """
    declared = {name: spec.model_dump() for name, spec in template.inputs.items()}
    return resolve_inputs(declared, dict(given))


def render_template(
    template: TemplateSpec, given: Mapping[str, Any], *, workflow_name: str | None = None
) -> tuple[dict[str, Any], list[Problem]]:
    """The workflow definition ``template`` makes with the inputs ``given``.

    Returns:
        The definition (a ``WorkflowSpec`` body, not yet checked: the caller runs the workflow
        checks on it) and the problems found: inputs undeclared, missing or of the wrong type
        (fields ``inputs.<name>``), or a rendered-now field that reads anything but ``inputs``
        or fails (fields ``workflow.<path>``). With problems the definition is incomplete.
    """
    values, problems = declared_inputs(template, given)
    problems += [
        Problem(
            f"inputs.{name}",
            "may not hold template markup ({{, {% or {#}); write it "
            "without, it would be read as a template when a step runs",
        )
        for name, value in values.items()
        if holds_template(value)
    ]
    if problems:
        return {}, problems
    body = dict(template.workflow)
    context = {"inputs": values}
    for key in _RENDERED_NOW:
        if key in body:
            body[key] = _render_now(body[key], context, f"workflow.{key}", problems)
    steps = body.get("steps")
    if isinstance(steps, list):
        body["steps"] = [_render_step(step, i, context, problems) for i, step in enumerate(steps)]
    if workflow_name is not None:
        body["name"] = workflow_name
    body["inputs"] = {
        name: spec.model_dump(mode="json", exclude_none=True)
        | {"required": False, "default": values.get(name)}
        for name, spec in template.inputs.items()
    }
    return body, problems


def _render_step(step: Any, index: int, context: Mapping[str, Any], problems: list[Problem]) -> Any:
    if not isinstance(step, Mapping):
        return step
    rendered = dict(step)
    for key in _STEP_RENDERED_NOW:
        if key in rendered:
            where = f"workflow.steps.{index}.{key}"
            rendered[key] = _render_now(rendered[key], context, where, problems)
    if isinstance(rendered.get("inputs"), Mapping):
        rendered["inputs"] = _render_if_inputs_only(rendered["inputs"], context)
    return rendered


def _render_if_inputs_only(value: Any, context: Mapping[str, Any]) -> Any:
    """Each string of ``value`` rendered when it reads only inputs.

    The others are left as they are for the engine (and for the workflow checks, which name any
    problem they hold).
    """
    if isinstance(value, str):
        try:
            return render_inputs(value, context)
        except ExpressionError:
            return value
    if isinstance(value, Mapping):
        return {key: _render_if_inputs_only(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [_render_if_inputs_only(item, context) for item in value]
    return value


def _render_now(value: Any, context: Mapping[str, Any], where: str, problems: list[Problem]) -> Any:
    """``value`` rendered with the inputs alone; a problem (and ``value``) when it cannot be.

    The sandbox's undefined names are strict, so a field that reads ``steps``, ``run`` or
    ``workflow`` fails here, as it should: it is rendered before any run exists.
    """
    try:
        return render_inputs(value, context)
    except ExpressionError as exc:
        problems.append(
            Problem(
                where,
                f"{exc.message} (rendered when the template is used, it may read only inputs)",
            )
        )
        return value
