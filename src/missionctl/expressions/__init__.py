"""Workflow templates and ``when`` conditions: a sandboxed expression language (ADR 0014).

Strings in a step's ``inputs`` may hold templates (``"--version={{ inputs.version }}"``) and a
step may carry a ``when`` condition (``"inputs.deploy and steps.test.outputs.passed"``). Both
are Jinja2 expressions evaluated by Jinja2's immutable sandbox, never by ``eval``. The names an
expression may use are fixed:

- ``inputs.<name>``: the run's workflow inputs (declared by the workflow);
- ``steps.<id>.outputs.<key>`` and ``steps.<id>.status``: a step upstream of this one;
- ``run.id``, ``run.trigger``, ``workflow.name``, ``workflow.version``.

:func:`check_template` and :func:`check_condition` compile an expression and list the names it
reads, so that a workflow can be rejected at save time with the location of a bad reference;
:func:`render_inputs` and :func:`evaluate_condition` run them when a step becomes ready.
"""

from missionctl.expressions.sandbox import (
    CONTEXT_NAMES,
    ExpressionError,
    References,
    check_condition,
    check_template,
    evaluate_condition,
    has_template,
    render_inputs,
    template_strings,
)

__all__ = [
    "CONTEXT_NAMES",
    "ExpressionError",
    "References",
    "check_condition",
    "check_template",
    "evaluate_condition",
    "has_template",
    "render_inputs",
    "template_strings",
]
