"""The partial plan reader: each phase and task of a streamed reply as soon as it is whole.

Whatever the pieces a reply arrives in, the reader yields the same objects in the same order,
each exactly once and only once whole, and it never raises, whatever the text.
"""

import itertools
import json
import random
from typing import Any

import pytest

from missionctl.planning import PlanningInput, build_local_plan
from missionctl.planning.drafts import DraftNote, DraftRelay, shown_item
from missionctl.planning.partial_plan import (
    MAX_ITEM_CHARS,
    DraftedItem,
    PartialPlanReader,
)

GOAL = "Build a URL shortener with click analytics and custom aliases"
PLAN = build_local_plan(PlanningInput(title="URL shortener", goal=GOAL)).model_dump(mode="json")


def _expected(plan: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    phases = [("phase", i, p) for i, p in enumerate(plan["phases"])]
    return phases + [("task", i, t) for i, t in enumerate(plan["tasks"])]


def _read(pieces: list[str]) -> list[tuple[str, int, dict[str, Any]]]:
    reader = PartialPlanReader()
    return [(d.kind, d.index, d.value) for piece in pieces for d in reader.feed(piece)]


def _split_at(text: str, *cuts: int) -> list[str]:
    bounds = [0, *sorted(cuts), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def test_a_realistic_reply_split_at_every_point_yields_the_same_items_in_order() -> None:
    # A plan with unicode, escapes and nested lists, indented as models often write it.
    # Every cut of the whole plan is quadratic in its length: a plan of the same shape, cut down.
    plan = json.loads(json.dumps(PLAN))
    plan.update(requirements=plan["requirements"][:1], risks=[])
    plan.update(phases=plan["phases"][:2], tasks=plan["tasks"][:3], decisions=[])
    plan["tasks"][0]["title"] = 'Réserver "l\'API" — \\ path\tok 😀'
    text = json.dumps(plan, indent=2, ensure_ascii=False)
    expected = _expected(plan)
    assert len(expected) == len(plan["phases"]) + len(plan["tasks"]) >= 5

    for cut in range(len(text) + 1):
        assert _read(_split_at(text, cut)) == expected, cut


def test_an_ascii_escaped_reply_split_twice_at_random_points_reads_the_same() -> None:
    # \\uXXXX escapes (and surrogate pairs) cut anywhere: inside the escape too.
    plan = json.loads(json.dumps(PLAN))
    plan["tasks"][1]["title"] = "Ünïcödé 😀 “quoted” \\ back"
    text = json.dumps(plan, ensure_ascii=True)
    assert "\\ud83d\\ude00" in text
    expected = _expected(plan)
    rng = random.Random(7)
    for _ in range(400):
        cuts = rng.sample(range(1, len(text)), 2)
        assert _read(_split_at(text, *cuts)) == expected


def test_one_character_at_a_time_each_item_comes_with_its_closing_brace() -> None:
    text = json.dumps(PLAN)
    reader = PartialPlanReader()
    seen = 0
    for position, char in enumerate(text):
        for drafted in reader.feed(char):
            # The object came exactly when its own closing brace did: never half, never late.
            assert text[: position + 1].endswith(json.dumps(drafted.value))
            seen += 1
    assert seen == len(_expected(PLAN))


def test_a_reply_in_a_markdown_fence_with_prose_around_it_reads_the_same() -> None:
    body = json.dumps(PLAN, indent=1)
    text = f"Here is the plan.\n```json\n{body}\n```\nLet me know {{if}} it helps."
    for cut in range(0, len(text), 61):
        assert _read(_split_at(text, cut)) == _expected(PLAN)


def test_braces_and_brackets_inside_strings_do_not_count() -> None:
    plan = json.loads(json.dumps(PLAN))
    plan["summary"] = 'tricky "tasks": [{"key": "fake"}] } ] {'
    plan["tasks"][2]["description"] = '} ] "phases": [ {'
    text = json.dumps(plan)
    assert _read([text]) == _expected(plan)


def test_keys_of_nested_objects_are_not_the_plans_arrays() -> None:
    text = json.dumps({"summary": "s", "meta": {"tasks": [{"key": "nested"}]}, "tasks": []})
    assert _read([text]) == []


def test_other_arrays_and_questions_yield_nothing() -> None:
    questions = json.dumps({"questions": ["What is it for?"], "reason": "too vague"})
    requirements = json.dumps({"requirements": [{"key": "R1", "text": "x"}]})
    assert _read([questions]) == []
    assert _read([requirements]) == []


def test_an_item_that_is_not_an_object_or_does_not_parse_is_skipped_and_counted() -> None:
    text = '{"tasks": [{"key": "a"}, {"key": nope}, {"key": "c"}, 3, "x", {"key": "d"}]}'
    assert _read([text]) == [
        ("task", 0, {"key": "a"}),
        ("task", 2, {"key": "c"}),
        ("task", 3, {"key": "d"}),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no json at all",
        "}}}]]]",
        '{"tasks": [{"key": "a"',  # cut short: the open object never comes
        '{"tasks": [{"key": "a\\',
        '{"tasks": [{"key": "a", "x": [1, 2',
        '{"tasks": [{"key": "a"]]]}',
        '{"tasks": "not an array"}',
        '{"tasks": [{"a": 1} {"b": 2}]}',  # a missing comma: each object still reads
        "\x00\udcff{\ufeff",
        '{"tasks": [' + "[" * 5000 + "]" * 5000 + "]}",
        '{"tasks": [{"deep": ' + "[" * 5000 + "]" * 5000 + "}]}",
    ],
)
def test_malformed_text_never_raises_and_never_yields_a_partial_object(text: str) -> None:
    for pieces in ([text], list(text)):
        items = _read(pieces)
        for _, _, value in items:
            assert isinstance(value, dict)
    assert _read(['{"tasks": [{"key": "a"']) == []


def test_a_deeply_nested_item_is_skipped_not_raised() -> None:
    text = '{"tasks": [{"deep": ' + "[" * 100_000 + "]" * 100_000 + '}, {"key": "b"}]}'
    assert _read([text]) == [("task", 1, {"key": "b"})]


def test_an_oversized_item_is_skipped_and_the_next_one_read() -> None:
    huge = "x" * (MAX_ITEM_CHARS + 10)
    text = json.dumps({"tasks": [{"key": "a", "description": huge}, {"key": "b"}]})
    assert _read([text]) == [("task", 1, {"key": "b"})]


def test_items_past_the_schemas_limits_are_not_yielded() -> None:
    text = json.dumps({"tasks": [{"key": f"t{i}"} for i in range(50)]})
    assert [index for _, index, _ in _read([text])] == list(range(20))


def test_text_after_the_plan_is_ignored() -> None:
    text = json.dumps({"tasks": [{"key": "a"}]}) + json.dumps({"tasks": [{"key": "b"}]})
    assert _read([text]) == [("task", 0, {"key": "a"})]


# ---- What a note shows, and the relay that turns replies into notes ----


def test_a_shown_item_is_redacted_bounded_and_keeps_only_its_fields() -> None:
    secret = "sk-proj-" + "A1b2C3d4" * 6
    drafted = DraftedItem(
        "task",
        0,
        {
            "key": "api",
            "title": f"Call the API with {secret} " + "long " * 100,
            "role": "backend",
            "depends_on": ["a", 3, "b" * 500, *(f"k{i}" for i in range(40))],
            "description": "line one\n\n   line two",
            "estimate_tokens": 5000,
            "acceptance": ["not shown"],
        },
    )
    shown = shown_item(drafted)
    assert secret not in json.dumps(shown)
    assert "[REDACTED]" in shown["title"]
    assert len(shown["title"]) <= 200 and shown["title"].endswith("…")
    assert shown["description"] == "line one line two"
    assert set(shown) == {"key", "title", "role", "depends_on", "description"}
    assert len(shown["depends_on"]) == 20 and all(len(k) <= 64 for k in shown["depends_on"])


def test_the_relay_drafts_each_reply_and_restarts_when_a_new_one_begins() -> None:
    notes: list[DraftNote] = []
    relay = DraftRelay(notes.append)
    first = json.dumps({"phases": [{"key": "p1", "name": "One", "task_keys": ["a"]}]})
    second = json.dumps({"tasks": [{"key": "a", "title": "A"}]})

    relay(first[:20], fresh=True)
    relay(first[20:], fresh=False)
    relay(second, fresh=True)  # a repair: the first reply's draft is void
    relay(json.dumps({"questions": ["?"]}), fresh=True)  # drafted nothing
    relay(second, fresh=True)

    assert [(n.kind, n.attempt, n.index) for n in notes] == [
        ("phase", 1, 0),
        ("restart", 2, None),
        ("task", 2, 0),
        ("restart", 3, None),
        ("task", 4, 0),
    ]
    assert notes[0].payload() == {
        "kind": "phase",
        "attempt": 1,
        "index": 0,
        "item": {"key": "p1", "name": "One", "task_keys": ["a"]},
    }
    assert notes[1].payload() == {"kind": "restart", "attempt": 2}
