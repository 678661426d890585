"""Parsing replies and describing what is wrong with them."""

import pytest
from pydantic import BaseModel

from missionctl.llm.structured import (
    MAX_LISTED_ERRORS,
    ReplyError,
    describe_problems,
    parse_reply,
    repair_prompt,
    schema_instructions,
    strip_code_fences,
)
from tests.llm.helpers import Plan


class Nested(BaseModel):
    plans: list[Plan]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', '{"a": 1}'),
        ('  {"a": 1}\n', '{"a": 1}'),
        ('```json\n{"a": 1}\n```', '{"a": 1}'),
        ('```JSON\r\n{"a": 1}\r\n```', '{"a": 1}'),
        ('```{"a": 1}```', '{"a": 1}'),
        ('Sure!\n```json\n{"a": 1}\n```\nDone.', '{"a": 1}'),
        ('{"code": "```x```"}', '{"code": "```x```"}'),
        ("no json here", "no json here"),
    ],
)
def test_strip_code_fences(text: str, expected: str) -> None:
    assert strip_code_fences(text) == expected


def test_nested_errors_have_dotted_locations() -> None:
    with pytest.raises(ReplyError) as caught:
        parse_reply(
            '{"plans": [{"title": "a", "steps": ["s"], "priority": 1}, {"title": 2}]}', Nested
        )

    locations = [loc for loc, _ in caught.value.problems]
    assert locations == ["plans.1.title", "plans.1.steps", "plans.1.priority"]
    assert caught.value.first_location == "plans.1.title"


@pytest.mark.parametrize("content", [None, "", "   \n"])
def test_empty_reply_is_a_root_problem(content: str | None) -> None:
    with pytest.raises(ReplyError) as caught:
        parse_reply(content, Plan)

    assert caught.value.first_location is None
    assert "(root): the reply was empty" in str(caught.value)


def test_long_error_lists_are_truncated() -> None:
    problems = [(f"f{i}", "bad") for i in range(MAX_LISTED_ERRORS + 3)]

    text = describe_problems(problems)

    assert text.count(": bad") == MAX_LISTED_ERRORS
    assert text.endswith("... and 3 more")


def test_repair_prompt_wording() -> None:
    error = ReplyError([("priority", "Field required"), ("", "Invalid JSON")])

    assert repair_prompt(error) == (
        "Your reply did not match the schema: priority: Field required; (root): Invalid JSON. "
        "Reply with corrected JSON only."
    )


def test_schema_instructions_carry_the_schema() -> None:
    text = schema_instructions(Plan, "plan")

    assert "named plan" in text
    assert '"priority"' in text
    assert '"minItems": 1' in text
