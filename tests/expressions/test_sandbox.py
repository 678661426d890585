"""The expression sandbox: templates render, conditions decide, and nothing escapes or explodes."""

import time
from typing import Any

import pytest

from missionctl.expressions import (
    ExpressionError,
    check_condition,
    check_template,
    evaluate_condition,
    has_template,
    render_inputs,
    template_strings,
)
from missionctl.expressions.sandbox import MAX_TEXT

CONTEXT: dict[str, Any] = {
    "inputs": {"version": "1.2.0", "count": 3, "deploy": True, "tags": ["a", "b"], "empty": ""},
    "steps": {
        "build": {"status": "succeeded", "outputs": {"artifact": "app.tar", "size": 12}},
        "lint": {"status": "skipped", "outputs": {}},
    },
    "run": {"id": "r-1", "trigger": "api"},
    "workflow": {"name": "release", "version": 4},
}


def render(source: str) -> Any:
    return render_inputs(source, CONTEXT)


def refused(source: str) -> str:
    with pytest.raises(ExpressionError) as caught:
        render(source)
    return caught.value.message


# --- rendering ------------------------------------------------------------------------------


def test_templates_render_every_name() -> None:
    inputs = {
        "argv": ["deploy", "--version={{ inputs.version }}", "{{ steps.build.outputs.artifact }}"],
        "note": "{{ workflow.name }} v{{ workflow.version }} run {{ run.id }} ({{ run.trigger }})",
        "tags": "{{ inputs.tags | join(',') }}",
        "size": "{{ steps.build.outputs.size * 2 }}",
        "plain": "no markup",
        "number": 7,
        "when": "{% if inputs.deploy %}go{% else %}stop{% endif %}",
    }
    assert render_inputs(inputs, CONTEXT) == {
        "argv": ["deploy", "--version=1.2.0", "app.tar"],
        "note": "release v4 run r-1 (api)",
        "tags": "a,b",
        "size": "24",
        "plain": "no markup",
        "number": 7,
        "when": "go",
    }


def test_a_missing_value_is_an_error_not_an_empty_string() -> None:
    assert "has no attribute 'nope'" in refused("{{ inputs.nope }}")
    assert "'missing'" in refused("{{ steps.build.outputs.missing }}")
    with pytest.raises(ExpressionError) as caught:
        render_inputs({"argv": ["x", "{{ steps.lint.outputs.file }}"]}, CONTEXT)
    assert caught.value.message.startswith("argv.1: ")
    assert render("{{ inputs.nope | default('fallback') }}") == "fallback"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("inputs.deploy", True),
        ("not inputs.deploy", False),
        ("inputs.empty", False),
        ("inputs.tags", True),
        ("inputs.count > 2 and steps.build.status == 'succeeded'", True),
        ("steps.lint.status == 'skipped'", True),
        ("'app' in steps.build.outputs.artifact", True),
        ("inputs.count is even", False),
        ("workflow.version >= 5 or run.trigger == 'cron'", False),
    ],
)
def test_when_conditions_are_truthy_or_not(condition: str, expected: bool) -> None:
    assert evaluate_condition(condition, CONTEXT) is expected


def test_a_condition_that_reads_nothing_fails() -> None:
    with pytest.raises(ExpressionError, match="has no attribute 'nope'"):
        evaluate_condition("inputs.nope", CONTEXT)
    with pytest.raises(ExpressionError, match="division by zero"):
        evaluate_condition("inputs.count / 0", CONTEXT)


# --- what a template may read ---------------------------------------------------------------


def test_check_lists_what_an_expression_reads() -> None:
    refs = check_template("{{ inputs.a }} {{ inputs['b'] }} {{ steps.x.outputs.y }} {{ other }}")
    assert refs.inputs == {"a", "b"} and refs.steps == {"x"}
    assert refs.unknown_names == ("other",)
    refs = check_condition("steps.t.status == 'succeeded' and range and lipsum")
    assert refs.steps == {"t"} and refs.unknown_names == ("lipsum", "range")


@pytest.mark.parametrize(
    "source",
    [
        "{{ inputs.__class__ }}",
        "{{ inputs.__class__.__mro__ }}",
        "{{ inputs.version.__len__() }}",
        "{{ inputs.tags.append('x') }}",
        "{{ inputs.update({'a': 1}) }}",
        "{{ ''.__class__.__subclasses__() }}",
        "{{ (inputs.version).__init__.__globals__ }}",
    ],
)
def test_internal_attributes_and_mutation_are_refused(source: str) -> None:
    message = refused(source)
    assert "unsafe" in message or "not safely callable" in message, message
    assert CONTEXT["inputs"]["tags"] == ["a", "b"]


def test_there_are_no_globals() -> None:
    for name in ("range", "lipsum", "cycler", "joiner", "namespace", "dict"):
        assert name in check_template(f"{{{{ {name} }}}}").unknown_names
    assert "is undefined" in refused("{{ range(10) }}")


@pytest.mark.parametrize(
    ("source", "tag"),
    [
        ("{% for t in inputs.tags %}{{ t }}{% endfor %}", "for"),
        ("{% set x = 1 %}{{ x }}", "set"),
        ("{% macro m() %}x{% endmacro %}{{ m() }}", "macro"),
        ("{% with a = 1 %}{{ a }}{% endwith %}", "with"),
        ("{% filter upper %}x{% endfilter %}", "filter"),
        ("{% include 'other' %}", "include"),
    ],
)
def test_statements_other_than_if_are_refused(source: str, tag: str) -> None:
    with pytest.raises(ExpressionError, match=f"`{{% {tag} %}}` is not allowed"):
        check_template(source)
    assert f"`{{% {tag} %}}` is not allowed" in refused(source)


def test_syntax_errors_name_the_line() -> None:
    with pytest.raises(ExpressionError, match="line 2: "):
        check_template("first line\n{{ inputs.x ")
    with pytest.raises(ExpressionError, match="a condition is a bare expression"):
        check_condition("{{ inputs.deploy }}")
    with pytest.raises(ExpressionError, match="empty"):
        check_condition(" ")


# --- bounded work ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{{ 'a' * 10**9 }}", "repetition would build more than"),
        ("{{ [0] * 10**9 }}", "repetition would build more than"),
        ("{{ 2 ** 10000 }}", "exponent 10000 is larger than 64"),
        ("{{ (2 ** 64) ** 64 }}", "larger than 4096 bits"),
        ("{{ (2 ** 64) ** 60 * (2 ** 64) ** 60 }}", "larger than 4096 bits"),
        ("{{ ('x' * 100000) ~ 'y' }}", "longer than"),
        ("{{ ('x' * 100000) + 'y' }}", "longer than"),
        ("{{ 'x' | center(10**8) }}", "width 100000000 is larger than"),
        ("{{ 'x'.ljust(10**8) }}", "argument 100000000 is larger than"),
        ("{{ '%0100000000d' | format(1) }}", "format width of 100000000"),
        ("{{ '%0100000000d' % 1 }}", "format width of 100000000"),
        ("{{ '{:>100000000}'.format(1) }}", "format width of 100000000"),
        ("{{ ('x' * 1000) | replace('x', 'y' * 1000) }}", "longer than"),
        ("{{ ('x' * 1000).replace('x', 'y' * 1000) }}", "longer than"),
        ("{{ ('x' * 1000) | list | join('y' * 1000) }}", "longer than"),
        ("{{ ('y' * 1000).join('x' * 1000) }}", "longer than"),
        ("{{ ('x' * 1000) | list | map('center', 1000) | join }}", "longer than"),
        ("{{ ('a\\n' * 1000) | indent(1000) }}", "longer than"),
        ("{{ ('\\t' * 1000).expandtabs(1000) }}", "longer than"),
        ("{{ [[1]] | sum(start=[]) }}", "sum adds numbers"),
        # A list of references to one long string is cheap to build and huge to print.
        ("{{ ['x' * 100000] * 1000 }}", "repetition would build more than"),
        ("{{ ['x' * 60000, 'x' * 60000] }}", "its text would be longer than"),
        ("{{ ['x' * 60000, 'x' * 60000] | tojson }}", "its text would be longer than"),
        ("{{ ['x' * 60000, 'x' * 60000] ~ '' }}", "longer than"),
        # One value placed many times.
        ("{{ ('{0}' * 30000).format('x' * 1000) }}", "longer than"),
        ("{{ ('%(a)s' * 3000) % {'a': 'x' * 1000} }}", "longer than"),
    ],
)
def test_runaway_expressions_are_refused_before_they_allocate(source: str, reason: str) -> None:
    started = time.monotonic()
    assert reason in refused(source)
    assert time.monotonic() - started < 1.0


def test_big_numbers_and_texts_within_the_bounds_are_fine() -> None:
    assert render("{{ 2 ** 64 }}") == str(2**64)
    assert render("{{ ('ab' * 50000) | length }}") == "100000"
    assert render("{{ inputs.tags | map('upper') | join('-') }}") == "A-B"
    assert render("{{ '%05d' | format(inputs.count) }} {{ '{:>4}'.format(7) }}") == "00003    7"


def test_a_rendered_value_is_bounded_too() -> None:
    context = {**CONTEXT, "inputs": {"big": "x" * (MAX_TEXT + 1)}}
    with pytest.raises(ExpressionError, match="longer than"):
        render_inputs("{{ inputs.big }}", context)
    assert evaluate_condition("inputs.big | length > 5", context)


# --- finding templates ----------------------------------------------------------------------


def test_template_strings_are_found_with_their_paths() -> None:
    inputs = {
        "argv": ["a", "{{ x }}"],
        "env": {"T": "{% if y %}1{% endif %}"},
        "n": 3,
        "c": "{# #}",
    }
    assert list(template_strings(inputs)) == [
        ("argv.1", "{{ x }}"),
        ("env.T", "{% if y %}1{% endif %}"),
        ("c", "{# #}"),
    ]
    assert has_template(inputs) and not has_template({"argv": ["make", "test"], "n": 1})
