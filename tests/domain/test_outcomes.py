"""Outcomes come from facts: the status, the agent kind, the diff taken and the tests run."""

import doctest

import pytest

from missionctl.domain import outcomes
from missionctl.domain.outcomes import (
    BUILD_HINT,
    OUTCOME_LABELS,
    OUTCOMES,
    headline,
    outcome_counts,
    outcome_of_status,
    run_outcomes,
    step_outcome,
    task_outcome,
    task_outcomes,
)


def test_the_examples_in_the_module_hold() -> None:
    failed, tried = doctest.testmod(outcomes)
    assert tried >= 4 and failed == 0


@pytest.mark.parametrize(
    ("agent", "status", "outputs", "expected"),
    [
        ("coding:claude", "succeeded", {"files_changed": ["a.py"], "tests_exit_code": 0}, "built"),
        ("coding:claude", "succeeded", {"files_changed": ["a.py"]}, "changed"),
        ("coding:codex", "succeeded", {"files_changed": ["a.py"], "tests_exit_code": 1}, "changed"),
        ("coding:aider", "succeeded", {"files_changed": [], "tests_exit_code": 0}, "no_change"),
        ("coding:aider", "succeeded", {}, "no_change"),
        ("git:merge", "succeeded", {"merged": True}, "merged"),
        ("builtin:architect", "succeeded", {"documents": ["design.md"]}, "documented"),
        ("llm:writer", "succeeded", {"text": "…"}, "documented"),
        ("command", "succeeded", {"exit_code": 0}, "ran"),
        ("http", "succeeded", {}, "ran"),
        ("coding:claude", "failed", {"files_changed": ["a.py"], "tests_exit_code": 0}, "failed"),
        ("builtin:qa", "skipped", {}, "skipped"),
        ("command", "canceled", {}, "canceled"),
        ("command", "running", {}, None),
        ("command", "blocked", {}, None),
        ("command", "queued", {}, None),
    ],
)
def test_a_steps_outcome(
    agent: str, status: str, outputs: dict[str, object], expected: str | None
) -> None:
    assert step_outcome(agent, status, outputs) == expected


def test_words_of_the_agents_choosing_never_decide() -> None:
    """A builtin or model step that claims to have built something still only documented."""
    claims = {"summary": "Built and tested the engine", "files_changed": ["src/main.rs"]}
    assert step_outcome("builtin:backend", "succeeded", claims) == "documented"
    assert step_outcome("llm:backend", "succeeded", claims | {"tests_exit_code": 0}) == (
        "documented"
    )


def test_only_ending_states_decide_alone() -> None:
    assert [outcome_of_status(s) for s in ("failed", "skipped", "canceled")] == [
        "failed",
        "skipped",
        "canceled",
    ]
    for status in ("succeeded", "waiting", "queued", "running", "blocked", "awaiting_approval"):
        assert outcome_of_status(status) is None


def test_a_task_is_its_step_and_its_merge() -> None:
    assert task_outcome(["built", "merged"]) == "built"
    assert task_outcome(["changed", "failed"]) == "failed"
    assert task_outcome(["built", None]) == "built", "a merge that waits takes nothing back"
    assert task_outcome([None, None]) is None, "its own step has not ended"
    assert task_outcome([]) is None
    rows = [
        ("core", "coding:claude", "built"),
        ("docs", "builtin:docs", "documented"),
        ("core-merge", "git:merge", "merged"),
        ("ui", "coding:claude", "no_change"),
        ("ui-merge", "git:merge", "failed"),
    ]
    assert task_outcomes(rows) == {"core": "built", "docs": "documented", "ui": "failed"}


def test_a_merge_named_like_no_step_is_a_task_of_its_own() -> None:
    rows = [("lonely-merge", "git:merge", "merged"), ("other", "command", "ran")]
    assert task_outcomes(rows) == {"lonely-merge": "merged", "other": "ran"}


def test_counts_keep_the_strongest_first_and_leave_out_what_did_not_occur() -> None:
    counted = outcome_counts(["failed", "documented", None, "built", "documented"])
    assert list(counted.items()) == [("built", 1), ("documented", 2), ("failed", 1)]
    assert list(OUTCOMES) == list(OUTCOME_LABELS)


def test_the_headline_of_an_offline_run_names_how_to_build() -> None:
    sentence = headline(["documented"] * 11)
    assert sentence == f"11 tasks documented, 0 built: {BUILD_HINT}"
    assert "coding agent" in BUILD_HINT and "--repository" in BUILD_HINT


def test_the_headline_puts_built_first_and_says_no_hint_once_something_was_built() -> None:
    assert headline(["built", "built", "documented", "merged"]) == (
        "2 tasks built, 1 documented, 1 merged"
    )
    assert headline(["built"]) == "1 task built, 0 documented"
    assert (
        headline(["changed", "documented"]) == "1 task documented, 0 built, 1 changed, not verified"
    )
    assert headline([]) == "0 tasks documented, 0 built"
    # Before anything has ended there is nothing produced to count, only what waits.
    assert headline([None, None]) == "2 tasks not ended yet"
    assert headline([None], noun="step", ended=True) == "1 step not run"


def test_a_run_is_counted_by_task_when_it_came_from_a_plan_and_by_step_otherwise() -> None:
    rows = [("api", "coding:claude", "built"), ("api-merge", "git:merge", "merged")]
    assert run_outcomes(rows, from_plan=True) == ({"built": 1}, "1 task built, 0 documented")
    assert run_outcomes(rows, from_plan=False) == (
        {"built": 1, "merged": 1},
        "1 step built, 0 documented, 1 merged",
    )


def test_a_webhooks_line_says_what_the_run_produced() -> None:
    from missionctl.domain.webhooks import describe, json_body

    sentence = headline(["documented"] * 3)
    event = {
        "type": "run.completed",
        "seq": 7,
        "ts": "2026-11-26T09:00:00Z",
        "actor": "engine",
        "run_id": "r1",
        "payload": {"status": "completed", "headline": sentence, "outcomes": {"documented": 3}},
    }
    assert describe(event, workflow="chess") == (
        f":white_check_mark: Mission Control: run r1 of workflow chess completed ({sentence})"
    )
    assert json_body(event, workflow="chess")["payload"]["headline"] == sentence
    older = event | {"payload": {"status": "completed"}}  # an event from before outcomes
    assert describe(older, workflow=None) == ":white_check_mark: Mission Control: run r1 completed"
