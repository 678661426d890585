"""Parsing untrusted definitions: whatever the text, problems come back; nothing raises or crashes.

Hypothesis generates deep, wide and recursive documents (flow and block nesting of lists and
mappings, anchors, recursive aliases, alias bombs, merge keys, tags, JSON with brackets in its
strings) and random text and bytes. The fuzzing runs in a child process: a stack overflow in a C
parser kills the process it happens in, and must fail this test rather than end the test run.
"""

import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from missionctl.errors import Problem
from missionctl.services.usecases.workflow_checks import (
    INLINE_TEXT_CHARS,
    MAX_DEPTH,
    DocumentError,
    Syntax,
    WorkflowCheck,
    check_definition,
    check_untrusted,
    load_document,
    parse_definition_text,
    read_definition_text,
)

ROOT = Path(__file__).resolve().parents[2]
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"
# Depths around the limit, and far beyond what a recursive parser survives.
DEPTHS = st.one_of(st.integers(0, MAX_DEPTH + 3), st.integers(1_000, 60_000))
# A flow opener and the closer that matches it.
FLOW = {"[": "]", "{": "}", "{a: ": "}", "[&x ": "]", "!!seq [": "]", "? [": "]", "[*x, ": "]"}
JSON_FLOW = {"[": "]", '{"a": ': "}", '["[{\\"", ': "]", '{"]}": ': "}"}
YAML_SOUP = "[]{}:-?&*!|>'\"#,.%@`~<=\\\t\n abcxyz019\u00e9\u2028\ufeff"


@st.composite
def flow_nesting(draw: st.DrawFn) -> str:
    """Flow lists and mappings nested ``depth`` levels, balanced or cut short."""
    openers = draw(st.lists(st.sampled_from(sorted(FLOW)), min_size=1, max_size=4))
    depth = draw(DEPTHS)
    opened = [openers[level % len(openers)] for level in range(depth)]
    closed = "".join(FLOW[opener] for opener in reversed(opened))
    if draw(st.booleans()):
        closed = closed[: draw(st.integers(0, len(closed)))]
    prefix = draw(st.sampled_from(["", "name: d\nsteps: ", "name: d\nsteps:\n  - ", "&x "]))
    return prefix + "".join(opened) + draw(st.sampled_from(["", "1", "*x", "&y z"])) + closed


@st.composite
def block_nesting(draw: st.DrawFn) -> str:
    """Block lists and mappings: compact (``- - -``, ``? ? ?``) or by indentation."""
    depth = draw(DEPTHS)
    style = draw(st.sampled_from(["compact", "keys", "indented", "mixed"]))
    if style == "compact":
        return "name: d\nsteps:\n" + "- " * depth + "x\n"
    if style == "keys":
        return "? " * depth + "x\n"
    levels = min(depth, 1_200)  # indentation grows as the square of the depth
    if style == "indented":
        return "".join(" " * level + "a:\n" for level in range(levels)) + " " * levels + "b\n"
    return "".join("  " * level + "- a:\n" + "  " * level + "  " for level in range(levels)) + "x"


@st.composite
def aliases(draw: st.DrawFn) -> str:
    """Recursive aliases, merge keys that include themselves, and alias bombs."""
    kind = draw(st.sampled_from(["recursive", "merge", "bomb", "undefined"]))
    if kind == "recursive":
        return draw(
            st.sampled_from(
                [
                    "name: d\nsteps: &a [*a]",
                    "&a {name: d, steps: [*a]}",
                    "&a [&b [*a, *b], *a]",
                    "name: d\nsteps:\n  - &s {id: a, agent: builtin:noop, inputs: {self: *s}}",
                    "&a {*a: 1}",
                    "? &a [*a]\n: 1",
                ]
            )
        )
    if kind == "merge":
        return draw(
            st.sampled_from(
                ["&a {<<: *a}", "a: &a\n  <<: *a\n  b: 1", "a: &a {<<: [*a, *a]}", "<<: 1"]
            )
        )
    if kind == "undefined":
        return "name: d\nsteps: [*nowhere]"
    fanout, levels = draw(st.integers(1, 12)), draw(st.integers(1, 9))
    lines = ["a0: &a0 [x]"]
    for level in range(1, levels):
        aliases_ = ", ".join([f"*a{level - 1}"] * fanout)
        lines.append(f"a{level}: &a{level} [{aliases_}]")
    return "\n".join(lines) + "\nname: d\nsteps: *a" + str(levels - 1) + "\n"


@st.composite
def json_nesting(draw: st.DrawFn) -> str:
    """JSON arrays and objects, with brackets and escapes inside strings."""
    openers = draw(st.lists(st.sampled_from(sorted(JSON_FLOW)), min_size=1, max_size=3))
    depth = draw(DEPTHS)
    opened = [openers[level % len(openers)] for level in range(depth)]
    closed = "".join(JSON_FLOW[opener] for opener in reversed(opened))
    return '{"name": "d", "steps": ' + "".join(opened) + "1" + closed + "}"


DOCUMENTS = st.one_of(
    flow_nesting(),
    block_nesting(),
    aliases(),
    json_nesting(),
    st.text(alphabet=YAML_SOUP, max_size=200),
    st.binary(max_size=200).map(lambda raw: raw.decode("utf-8", "surrogateescape")),
    st.text(max_size=100),
)


@settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=DOCUMENTS, syntax=st.sampled_from(["yaml", "json"]))
def fuzz_parsing(text: str, syntax: Syntax) -> None:
    """The property the child process checks: problems or a mapping, never an exception."""
    data, problems = parse_definition_text(text, syntax=syntax)
    assert problems or isinstance(data, Mapping)
    assert all(isinstance(p.message, str) and p.message for p in problems)
    check = check_definition(text, syntax=syntax)
    assert isinstance(check, WorkflowCheck)
    assert check.valid or check.problems
    try:
        load_document(text, syntax=syntax)
    except DocumentError as exc:
        assert str(exc)


def test_parsing_any_text_returns_problems_and_never_crashes() -> None:
    argv = [sys.executable, "-c", f"from {__name__} import fuzz_parsing; fuzz_parsing()"]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (
        f"exit {done.returncode} (negative: killed by that signal)\n{done.stderr[-5000:]}"
    )


@pytest.mark.parametrize(
    ("text", "syntax", "where"),
    [
        ("name: d\nsteps: " + "[" * 50_000 + "]" * 50_000, "yaml", "line 2, column 71"),
        ("name: d\nsteps:\n" + "- " * 50_000 + "x", "yaml", "line 3, column 127"),
        ("? " * 50_000 + "x", "yaml", "line 1, column 129"),
        ("".join(" " * n + "a:\n" for n in range(100)), "yaml", "line 65, column 65"),
        ("[" * 100_000 + "]" * 100_000, "json", "line 1, column 65"),
        ('{"a": ' * 100_000 + "1" + "}" * 100_000, "json", "line 1, column 385"),
        ('\n["[[[[[[", ' + "[" * 100_000 + "]" * 100_000 + "]", "json", "line 2, column 75"),
    ],
)
def test_deep_nesting_is_refused_where_it_starts(text: str, syntax: Syntax, where: str) -> None:
    # In this process: the depth is counted before anything is built, so this cannot crash
    # unless the fuzzing above fails too.
    data, problems = parse_definition_text(text, syntax=syntax)
    assert data is None
    assert [(p.field, p.message) for p in problems] == [
        ("definition", f"{where}: lists and mappings are {TOO_DEEP}; flatten them")
    ]


def test_the_limit_itself_is_accepted() -> None:
    def nested(levels: int) -> str:  # under the top-level mapping, which is a level too
        return "name: d\nsteps: [{id: a, agent: builtin:noop}]\nx: " + "[" * levels + "]" * levels

    assert parse_definition_text(nested(MAX_DEPTH - 1))[1] == []
    assert TOO_DEEP in parse_definition_text(nested(MAX_DEPTH))[1][0].message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: 2020-13-01", "'2020-13-01' is not a valid timestamp (month must be in 1..12)"),
        ("name: !!int abc", "'abc' is not a valid int (invalid literal for int()"),
        ("name: !!bool maybe", "'maybe' is not a valid bool; quote it to keep it as text"),
        ("name: " + "1" * 5000, "'1111111111111111111111111111111111111...' is not a valid int"),
    ],
)
def test_a_scalar_its_tag_cannot_hold_is_a_located_problem(text: str, message: str) -> None:
    data, problems = parse_definition_text(text)
    assert data is None and len(problems) == 1
    assert problems[0].message.startswith(f"line 1, column 7: {message}"), problems[0].message


def test_a_json_number_python_will_not_convert_is_a_problem() -> None:
    _, problems = parse_definition_text('{"name": ' + "1" * 5000 + "}", syntax="json")
    assert [p.message for p in problems] == [
        "not valid JSON: Exceeds the limit (4300 digits) for integer string conversion: value "
        "has 5000 digits"
    ]


def _long_definition(steps: int) -> str:
    return "name: long\nsteps:\n" + "".join(
        f"  - id: s{n}\n    agent: builtin:noop\n    depends_on: [{f's{n - 1}' if n else ''}]\n"
        for n in range(steps)
    )


# The parser process runs at a lower priority than the suite: on a saturated machine reading
# a long text can take longer than the product's limit, which only its own test is about.
UNHURRIED_S = 600.0


async def test_long_text_is_read_in_a_parser_process_as_it_would_be_here() -> None:
    text = _long_definition(2_000)
    assert len(text) > INLINE_TEXT_CHARS
    data, problems = await read_definition_text(text, time_limit_s=UNHURRIED_S)
    assert problems == []
    assert data == parse_definition_text(text)[0]
    check = await check_untrusted(data)
    assert check.valid and check.layers[-1] == ["s1999"]
    # Data with problems is not sent back, only the problems. Aliases reach the value limit
    # in text that parses in milliseconds, so the time limit cannot answer first under load.
    padding = "# " + "x" * INLINE_TEXT_CHARS + "\n"
    shared = "x: &row [" + ", ".join(["1"] * 1_000) + "]\n"
    uses = "- *row\n" * 250
    flood = padding + "name: flood\n" + shared + "steps:\n" + uses
    data, problems = await read_definition_text(flood, time_limit_s=UNHURRIED_S)
    assert data is None
    assert [p.message for p in problems] == [
        "more than 200000 values (YAML aliases count each time they are used)"
    ]


async def test_text_that_takes_longer_than_the_limit_to_read_is_a_problem_saying_so() -> None:
    rows = "- [[1, 2, 3], [4, 5, 6], [7, 8, 9]]\n" * 20_000  # seconds of parsing
    started = time.monotonic()
    data, problems = await read_definition_text("name: flood\nsteps:\n" + rows, time_limit_s=0.05)
    assert time.monotonic() - started < 30  # stopped, not waited for
    assert data is None
    assert problems == [
        Problem(
            "definition",
            "the definition took longer than 0.05 s to read; split it into smaller workflows, "
            "or write its lists flatter",
        )
    ]
    # The next long text is read as usual, by a new parser process.
    assert (await read_definition_text(_long_definition(2_000), time_limit_s=UNHURRIED_S))[1] == []
