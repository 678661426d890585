"""An ``llm:`` step's ``temperature`` and ``seed`` inputs are checked when the workflow is.

A value the model could not be sent is refused with the field that holds it, whether the
definition came as data, YAML or JSON text (NaN and 1e400 included), never when it runs.
"""

from typing import Any

import pytest

from missionctl.domain.sampling import MAX_SEED, Sampling, SamplingInputError, step_sampling
from missionctl.services.usecases.workflow_checks import check_definition


def _llm_workflow(**inputs: Any) -> dict[str, Any]:
    step = {"id": "write", "agent": "llm:writer", "inputs": {"title": "Write", **inputs}}
    return {"name": "w", "steps": [step]}


@pytest.mark.parametrize(
    "inputs",
    [
        {},
        {"temperature": 0},
        {"temperature": 2},
        {"temperature": 0.7},
        {"seed": 0},
        {"seed": MAX_SEED},
        {"temperature": 1.25, "seed": 12345},
    ],
)
def test_knobs_in_range_are_accepted(inputs: dict[str, Any]) -> None:
    check = check_definition(_llm_workflow(**inputs))
    assert check.valid, check.problems


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"temperature": 2.0001}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": 10**30}, "temperature"),
        ({"temperature": "0.7"}, "temperature"),
        ({"temperature": "{{ inputs.t }}"}, "temperature"),
        ({"temperature": True}, "temperature"),
        ({"temperature": None}, None),  # null is unset
        ({"temperature": [0.5]}, "temperature"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": 3.0}, "seed"),
        ({"seed": MAX_SEED + 1}, "seed"),
        ({"seed": 10**400}, "seed"),
        ({"seed": "7"}, "seed"),
        ({"seed": False}, "seed"),
    ],
)
def test_knobs_out_of_range_or_not_numbers_are_refused_by_field(
    inputs: dict[str, Any], field: str | None
) -> None:
    check = check_definition(_llm_workflow(**inputs))
    if field is None:
        assert check.valid, check.problems
        return
    # A template is also checked for the input it reads; the knob's own problem is there too.
    (problem,) = [p for p in check.problems if p.message.startswith("must be a")]
    assert problem.field == f"steps.0.inputs.{field}"
    assert len(problem.message) < 200  # a huge number is not repeated in full


@pytest.mark.parametrize(
    ("number", "field"),
    [
        ("NaN", "temperature"),
        ("Infinity", "temperature"),
        ("1e400", "temperature"),
        ("-1e400", "seed"),
        ("1e3", "seed"),
        ("9223372036854775808", "seed"),
    ],
)
def test_hostile_numbers_in_json_text_are_refused_by_field(number: str, field: str) -> None:
    text = (
        '{"name": "w", "steps": [{"id": "write", "agent": "llm:writer", '
        f'"inputs": {{"{field}": {number}}}}}]}}'
    )
    check = check_definition(text, syntax="json")
    assert not check.valid
    assert [p.field for p in check.problems] == [f"steps.0.inputs.{field}"], check.problems


def test_both_knobs_and_the_secrets_are_reported_together() -> None:
    check = check_definition(_llm_workflow(temperature=3, seed=-2, secrets=["x"]))
    assert [p.field for p in check.problems] == [
        "steps.0.inputs.secrets",
        "steps.0.inputs.seed",
        "steps.0.inputs.temperature",
    ]


def test_other_agents_may_take_inputs_of_those_names() -> None:
    step = {"id": "a", "agent": "builtin:noop", "inputs": {"temperature": "hot", "seed": -1}}
    assert check_definition({"name": "w", "steps": [step]}).valid


def test_a_step_reads_its_knobs_or_says_why_it_cannot() -> None:
    assert step_sampling({}) == Sampling()
    assert step_sampling({"temperature": 1, "seed": 9}) == Sampling(temperature=1.0, seed=9)
    with pytest.raises(SamplingInputError) as caught:
        step_sampling({"temperature": "hot", "seed": -1})
    assert [name for name, _ in caught.value.problems] == ["temperature", "seed"]
    assert "inputs.temperature must be a number from 0 to 2" in str(caught.value)
