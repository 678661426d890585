"""``check_definition``: every rule, each problem with the location a person can go and fix."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from missionctl.services.usecases.workflow_checks import (
    MAX_DEFINITION_BYTES,
    MAX_DEPTH,
    WorkflowCheck,
    check_definition,
)
from tests.support.definitions import TANGLED, TANGLED_PROBLEMS


def step(step_id: str, *deps: str, agent: str = "builtin:noop", **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "agent": agent, "depends_on": list(deps), **fields}


def workflow(*steps: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "w", "steps": list(steps), **fields}


def problems(check: WorkflowCheck) -> dict[str, str]:
    """``{field: message}``; several problems on one field are joined."""
    found: dict[str, str] = {}
    for problem in check.problems:
        key = problem.field or ""
        found[key] = f"{found[key]} | {problem.message}" if key in found else problem.message
    return found


def only(check: WorkflowCheck) -> tuple[str, str]:
    assert not check.valid and len(check.problems) == 1, check.problems
    problem = check.problems[0]
    return problem.field or "", problem.message


# --- parsing --------------------------------------------------------------------------------


def test_a_valid_definition_has_its_layers_and_edges() -> None:
    text = yaml.safe_dump(workflow(step("a"), step("b", "a"), step("c", "a"), step("d", "b", "c")))
    check = check_definition(text)
    assert check.valid and check.problems == []
    assert check.layers == [["a"], ["b", "c"], ["d"]]
    assert check.edges == [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]
    assert check.spec is not None and check.spec.name == "w"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("name: w\nsteps:\n  - id: a\n  agent: x\n", "line 4, column 3"),
        ("name: w\nsteps: [\n", "line 3, column 1"),
        ("name: 'w\n", "line 2, column 1"),
        ("\tname: w\n", "line 1, column 1"),
    ],
)
def test_a_yaml_syntax_error_names_its_line_and_column(text: str, where: str) -> None:
    field, message = only(check_definition(text))
    assert field == "definition" and message.startswith(where + ": "), message


def test_json_is_read_as_json() -> None:
    text = (
        '{\n\t"name": "w",\n\t"steps": [{"id": "a", "agent": "builtin:noop", "timeout_s": 1e2}]\n}'
    )
    check = check_definition(text, syntax="json")
    assert check.valid, check.problems  # a tab and 1e2 are JSON, not YAML
    assert check.spec is not None and check.spec.steps[0].timeout_s == 100.0
    field, message = only(check_definition('{"name": "w",\n "steps": [,]}', syntax="json"))
    assert (field, message.split(":")[0]) == ("definition", "line 2, column 12")


def test_a_key_written_twice_is_refused() -> None:
    field, message = only(check_definition("name: a\nsteps: []\nname: b\n"))
    assert field == "definition"
    assert message == "line 3, column 1: the key 'name' appears twice in this mapping; keep one"
    field, message = only(check_definition('{"name": "a", "name": "b"}', syntax="json"))
    assert "the key 'name' appears twice" in message
    merged = "base: &b {agent: 'builtin:noop'}\n"  # `<<:` keys may be overridden next to them
    check = check_definition("name: w\nsteps: [{<<: {id: x, agent: 'builtin:noop'}, id: a}]\n")
    assert check.valid and check.spec is not None and check.spec.steps[0].id == "a"
    assert (
        "unknown field 'base'" in problems(check_definition(merged + "name: w\nsteps: []"))["base"]
    )


@pytest.mark.parametrize(
    ("text", "got"),
    [("", "nothing"), ("- a\n- b\n", "list"), ("just text", "str"), ("3", "int")],
)
def test_a_definition_is_a_mapping(text: str, got: str) -> None:
    field, message = only(check_definition(text))
    assert field == "definition"
    assert message == f"a workflow is a mapping with `name` and `steps`; got {got}"


def test_size_depth_and_alias_expansion_are_bounded() -> None:
    too_big = "name: w\n#" + "x" * MAX_DEFINITION_BYTES
    assert "larger than" in only(check_definition(too_big))[1]
    deep = "name: w\nsteps: []\ndescription: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    assert f"nested deeper than {MAX_DEPTH} levels" in only(check_definition(deep))[1]
    assert "nested deeper" in only(check_definition("[" * 100_000, syntax="json"))[1]
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in "bcdefg":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 10) + "]")
    bomb = "\n".join(lines) + "\nname: w\nsteps: []\n"  # a few lines, ten million values
    assert "YAML aliases count each time" in only(check_definition(bomb))[1]


def test_values_no_database_can_store_are_refused() -> None:
    nan = workflow(step("a", inputs={"ratio": float("nan")}))
    assert only(check_definition(nan)) == (
        "steps.0.inputs.ratio",
        "nan is not a number JSON can hold",
    )
    surrogate = (
        '{"name": "w", "steps": [{"id": "a", "agent": "builtin:noop", "inputs": {"t": "\\ud800"}}]}'
    )
    assert only(check_definition(surrogate, syntax="json"))[0] == "steps.0.inputs.t"
    nul = workflow(step("a"), name="a\x00b")
    assert only(check_definition(nul)) == ("name", "must not contain NUL characters")


# --- schema ---------------------------------------------------------------------------------


def test_schema_problems_name_the_dotted_field() -> None:
    definition = workflow(
        step("Build"),
        step("b", "Build", agent="Not An Agent"),
        {"id": "c", "agent": "builtin:noop", "retry": {"max_attempts": 0}, "colour": "red"},
        inputs={"bad-name": {"type": "string"}, "n": {"type": "integer", "default": "x"}},
    )
    found = problems(check_definition(definition))
    assert found["steps.0.id"].startswith("a step id is 1-63 lower-case letters")
    assert found["steps.0.id"].endswith("got 'Build'")
    assert found["steps.1.depends_on.0"].startswith("a step id is")
    assert found["steps.1.agent"].startswith("an agent is `command`, `builtin:<name>`")
    assert found["steps.2.retry.max_attempts"] == "Input should be greater than or equal to 1"
    assert found["steps.2.colour"] == "unknown field 'colour'; see docs/workflows.md for the fields"
    assert found["inputs.bad-name"].startswith("an input name is 1-63 letters")
    assert found["inputs.n"] == "default 'x' is not of type integer"


def test_the_schema_is_strict_as_its_json_schema_says() -> None:
    definition = workflow(step("a", estimate_tokens="30", retry={"jitter": 0}), max_concurrency=2.5)
    found = problems(check_definition(definition))
    assert set(found) == {"steps.0.estimate_tokens", "steps.0.retry.jitter", "max_concurrency"}
    assert check_definition(workflow(step("a", timeout_s=5), budget_usd=1.25)).valid


def test_required_fields() -> None:
    found = problems(check_definition({"description": "no name, no steps"}))
    assert found == {"name": "Field required", "steps": "Field required"}
    assert "at least 1 item" in problems(check_definition({"name": "w", "steps": []}))["steps"]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("new", "'new' is the address of the editor for a new workflow; choose another name"),
        ("team/edit", "a name ending in '/edit' is the address of a workflow's editor"),
        ("team/versions", "a name ending in '/versions' is the address of a workflow's version"),
        ("team/../deploy", "a part of the name between slashes may not be '.' or '..'"),
        ("./deploy", "a part of the name between slashes may not be '.' or '..'"),
    ],
)
def test_a_name_that_is_another_page_s_address_is_refused(name: str, why: str) -> None:
    field, message = only(check_definition(workflow(step("a"), name=name)))
    assert field == "name" and message.startswith(why)


@pytest.mark.parametrize("name", ["new deploy", "edit", "team/new", "team/editor", "v1.2/..x"])
def test_names_near_the_reserved_ones_are_accepted(name: str) -> None:
    assert check_definition(workflow(step("a"), name=name)).valid


# --- the graph ------------------------------------------------------------------------------


def test_graph_problems_are_all_reported() -> None:
    definition = workflow(step("build"), step("build"), step("test", "biuld", "test"))
    found = problems(check_definition(definition))
    assert (
        found["steps.1.id"] == "step id 'build' is already used by steps.0; step ids must be unique"
    )
    assert (
        "step 'test' depends on 'biuld', which does not exist; did you mean 'build'?"
        in found["steps.2.depends_on"]
    )
    assert "step 'test' depends on itself" in found["steps.2.depends_on"]


def test_a_cycle_is_spelled_out() -> None:
    check = check_definition(workflow(step("a", "c"), step("b", "a"), step("c", "b"), step("d")))
    assert only(check) == (
        "steps.0.depends_on",
        "dependency cycle: a → b → c → a; remove one of these dependencies",
    )
    assert check.layers == []
    assert check.edges == [("c", "a"), ("a", "b"), ("b", "c")]


# --- schema and rules together --------------------------------------------------------------


def test_a_schema_error_does_not_hide_the_graph_and_agent_problems() -> None:
    check = check_definition(TANGLED)
    assert not check.valid and check.spec is None
    assert [(p.field, p.message) for p in check.problems] == TANGLED_PROBLEMS
    assert check.step_ids == ["a", "b", "c"]


def test_problems_come_in_the_same_order_however_the_steps_are_written() -> None:
    data = yaml.safe_load(TANGLED)
    assert [(p.field, p.message) for p in check_definition(data).problems] == TANGLED_PROBLEMS
    as_json = json.dumps(data, indent=1)
    assert [(p.field, p.message) for p in check_definition(as_json, syntax="json").problems] == (
        TANGLED_PROBLEMS
    )


def test_only_schema_errors_bring_no_graph_problems() -> None:
    definition = workflow(
        step("a", timeout_s=-3),
        step("b", "a", retry={"max_attempts": "3"}),
        step("c", "b", when="steps.a.status == 'succeeded'"),
    )
    assert [p.field for p in check_definition(definition).problems] == [
        "steps.0.timeout_s",
        "steps.1.retry.max_attempts",
    ]


def test_a_field_the_schema_refuses_is_not_checked_again_by_the_rules() -> None:
    # An agent of the wrong shape is the schema's to report, not also an unknown agent; a step
    # that is no mapping, or has no id, leaves the graph unchecked rather than guessed.
    bad_agent = check_definition(workflow(step("a", agent="Builtin:Noop")))
    assert [p.field for p in bad_agent.problems] == ["steps.0.agent"]
    no_id = check_definition(workflow({"agent": "builtin:nope"}, step("b", "ghost"), "c"))
    assert [(p.field, p.message.split(";")[0]) for p in no_id.problems] == [
        ("steps.0.agent", "unknown agent 'builtin:nope'"),
        ("steps.0.id", "Field required"),
        ("steps.2", "Input should be an object"),
    ]  # and no "depends on 'ghost', which does not exist": step 0 may have been 'ghost'.
    assert no_id.step_ids == [None, "b", None]


def test_rules_read_inputs_and_templates_past_a_schema_error() -> None:
    definition = workflow(
        step("a", agent="command", timeout_s=0),
        step("b", inputs={"note": "{{ inputs.verison }} {{ steps.a.outputs.x }}"}),
        inputs={"version": {"type": "string", "default": "1"}},
    )
    found = problems(check_definition(definition))
    assert list(found) == ["steps.0.inputs.argv", "steps.0.timeout_s", "steps.1.inputs.note"]
    assert "unknown input 'verison'" in found["steps.1.inputs.note"]
    assert "step 'a' is not upstream of 'b'" in found["steps.1.inputs.note"]


# --- agents ---------------------------------------------------------------------------------


def test_unknown_agents_are_named_with_a_suggestion() -> None:
    found = problems(
        check_definition(workflow(step("a", agent="builtin:qaa"), step("b", agent="gopher")))
    )
    assert found["steps.0.agent"] == "unknown agent 'builtin:qaa'; did you mean 'builtin:qa'?"
    assert found["steps.1.agent"].startswith("unknown agent 'gopher'; known: builtin:architect, ")
    known = workflow(step("a", agent="llm:writer"), step("b", agent="builtin:security"))
    assert check_definition(known).valid


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({}, "steps.0.inputs.argv"),
        ({"argv": "make test"}, "steps.0.inputs.argv"),
        ({"argv": []}, "steps.0.inputs.argv"),
        ({"argv": ["make", 3]}, "steps.0.inputs.argv"),
        ({"argv": ["make"], "env": {"BAD NAME": "x"}}, "steps.0.inputs.env"),
        ({"argv": ["make"], "env": {"CI": 1}}, "steps.0.inputs.env"),
        ({"argv": ["make"], "secret_env": {"TOKEN": "not a name"}}, "steps.0.inputs.secret_env"),
    ],
)
def test_command_inputs(inputs: dict[str, Any], field: str) -> None:
    assert only(check_definition(workflow(step("a", agent="command", inputs=inputs))))[0] == field


def test_secrets_and_sleep_inputs() -> None:
    ok = workflow(
        step(
            "a", agent="command", inputs={"argv": ["make"], "secret_env": {"TOKEN": "deploy_token"}}
        ),
        step("b", agent="llm:writer", inputs={"secrets": {"api": "vendor_key"}}),
        step("c", agent="builtin:sleep", inputs={"seconds": 0.5}),
    )
    assert check_definition(ok).valid
    bad = workflow(
        step("a", agent="llm:writer", inputs={"secrets": ["vendor_key"]}),
        step("b", agent="builtin:sleep", inputs={"seconds": "soon"}),
    )
    found = problems(check_definition(bad))
    assert "MISSIONCTL_SECRET_<NAME>" in found["steps.0.inputs.secrets"]
    assert found["steps.1.inputs.seconds"] == "must be a number of seconds >= 0, got 'soon'"


# --- templates and conditions ---------------------------------------------------------------


def test_templates_may_read_declared_inputs_and_upstream_steps() -> None:
    definition = workflow(
        step("a"),
        step("b", "a"),
        step(
            "c",
            "b",
            inputs={
                "argv": ["{{ inputs.version }}", "{{ steps.a.outputs.x }}"],
                "note": "{{ run.id }} {{ run.trigger }} {{ workflow.name }}",
                "version": "{{ workflow.version }}",
            },
            when="steps.b.status == 'succeeded' and inputs.version",
        ),
        inputs={"version": {"type": "string", "default": "1.0"}},
    )
    assert check_definition(definition).valid  # a is upstream of c through b


def test_template_and_condition_problems_are_located() -> None:
    definition = workflow(
        step("a", inputs={"x": "{{ steps.c.outputs.y }}", "own": "{{ steps.a.outputs.y }}"}),
        step("b", "a", inputs={"cmd": ["run", "{{ inputs.verison }}", "{{ secret }}"]}),
        step("c", "a", inputs={"t": "{{ steps.b.outputs.z }}", "u": "{{ steps.nope.status }}"}),
        step("d", "c", inputs={"bad": "{{ inputs.version "}, when="{{ inputs.version }}"),
        step("e", "c", inputs={"loop": "{% for x in inputs.l %}{{ x }}{% endfor %}"}, when="  "),
        step("f", "c", when="inputs.version ==="),
        inputs={"version": {"type": "string"}},
    )
    found = problems(check_definition(definition))
    assert "step 'c' is not upstream of 'a'; add it to depends_on" in found["steps.0.inputs.x"]
    assert found["steps.0.inputs.own"] == "step 'a' cannot read its own outputs"
    assert found["steps.1.inputs.cmd.1"] == (
        "unknown input 'verison'; declare it under `inputs:`; did you mean 'version'?"
    )
    assert found["steps.1.inputs.cmd.2"].startswith(
        "unknown name 'secret' in template; use inputs."
    )
    assert "step 'b' is not upstream of 'c'" in found["steps.2.inputs.t"]
    assert found["steps.2.inputs.u"].startswith("unknown step 'nope'")
    assert found["steps.3.inputs.bad"].startswith("bad template: ")
    assert found["steps.3.when"] == (
        "bad condition: a condition is a bare expression: write `inputs.deploy`, "
        "not `{{ inputs.deploy }}`"
    )
    assert "`{% for %}` is not allowed in a workflow template" in found["steps.4.inputs.loop"]
    assert found["steps.4.when"] == "bad condition: the condition is empty"
    assert found["steps.5.when"].startswith("bad condition: ")


def test_a_long_chain_of_templates_is_checked_whole() -> None:
    steps = [step("s0")] + [
        step(f"s{i}", f"s{i - 1}", inputs={"prev": f"{{{{ steps.s{i - 1}.outputs.x }}}}"})
        for i in range(1, 2000)
    ]
    steps[-1]["inputs"]["first"] = "{{ steps.s0.outputs.x }}"
    check = check_definition(json.dumps(workflow(*steps)), syntax="json")
    assert check.valid, check.problems[:3]
    assert len(check.layers) == 2000


def test_the_example_in_the_docs_is_valid() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "workflows.md"
    text = docs.read_text()
    example = text[text.index("```yaml\n") + len("```yaml\n") :]
    example = example[: example.index("```")]
    check = check_definition(example)
    assert check.valid, check.problems
    assert check.layers == [["build"], ["lint", "unit", "audit"], ["publish"], ["announce"]]
    assert len(check.edges) == 7
    assert check.spec is not None
    assert [s.risk_tier for s in check.spec.steps][-2:] == ["irreversible", "write"]
