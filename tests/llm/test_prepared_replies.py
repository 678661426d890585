"""Reading the JSON a reply carries, and preparing it before validation."""

from collections.abc import Sequence
from typing import Any

import pytest

from missionctl.llm.structured import (
    ReplyError,
    extract_json,
    parse_prepared_reply,
    repair_prompt,
)
from tests.llm.helpers import VALID_PLAN, Plan


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', '{"a": 1}'),
        ('Here you go:\n{"a": {"b": [1, 2]}}\nAnything else?', '{"a": {"b": [1, 2]}}'),
        ('{"a": 1}\n\nI added a field.', '{"a": 1}'),
        ('Sure!\n```json\n{"a": 1}\n```\nDone.', '{"a": 1}'),
        ('Sure!\n```\n{"a": 1} (the plan)\n```', '{"a": 1}'),
        ('{"a": [1, {"b": 2}', '{"a": [1, {"b": 2}'),  # cut short: left for the parse error
        ("no json here", "no json here"),
    ],
)
def test_extract_json(text: str, expected: str) -> None:
    assert extract_json(text) == expected


def _rename_title(data: Any) -> tuple[Any, Sequence[str]]:
    if isinstance(data, dict) and "name" in data:
        data = {**data, "title": data.pop("name")}
        return data, ["name read as title"]
    return data, []


def test_a_prepared_reply_is_validated_after_the_preparer_mends_it() -> None:
    reply = VALID_PLAN.replace('"title"', '"name"')

    value, notes = parse_prepared_reply(f"```json\n{reply}\n```", Plan, _rename_title)

    assert value.title == "Ship it" and notes == ("name read as title",)


def test_a_reply_still_invalid_after_preparing_says_what_was_mended() -> None:
    reply = VALID_PLAN.replace('"title"', '"name"').replace('"priority": 2', '"priority": 9')

    with pytest.raises(ReplyError) as caught:
        parse_prepared_reply(reply, Plan, _rename_title)

    assert caught.value.first_location == "priority"
    assert repair_prompt(caught.value) == (
        "Your reply did not match the schema: priority: Input should be less than or equal to "
        "5. (Noted before validation: name read as title.) Reply with corrected JSON only."
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "the reply was empty"), ('{"title": ', "Invalid JSON: ")],
)
def test_an_empty_or_broken_reply_is_refused_before_the_preparer(
    content: str | None, problem: str
) -> None:
    def never(data: Any) -> tuple[Any, Sequence[str]]:
        raise AssertionError("the preparer only sees parsed JSON")

    with pytest.raises(ReplyError) as caught:
        parse_prepared_reply(content, Plan, never)

    assert caught.value.problems[0][0] == "" and caught.value.problems[0][1].startswith(problem)
