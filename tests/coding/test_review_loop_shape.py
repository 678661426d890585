"""The review loop's shape (what a code task compiles to) and the reviewer's verdict format."""

import json

import pytest

from missionctl.domain.outcomes import task_outcomes
from missionctl.domain.review import (
    MAX_FINDINGS,
    ReviewVerdict,
    parse_verdict,
    review_chain,
)
from missionctl.planning import compile_plan
from missionctl.schemas.plans import PlanDraft
from missionctl.services.usecases.workflows import require_valid
from tests.coding.helpers import plan_task

MODEL = {"base_url": "https://llm.example.com", "secret": "anthropic"}
LONG = "a" * 63  # the longest task key a plan may have


def _plan() -> PlanDraft:
    return PlanDraft.model_validate(
        {
            "summary": "Two code tasks, then docs and a check.",
            "requirements": [{"key": "R1", "text": "It works."}],
            "tasks": [
                plan_task("api", "backend", "Build it."),
                plan_task(LONG, "frontend", "Show it."),
                plan_task("docs", "docs", "Write it.", "api", LONG),
                plan_task("qa", "qa", "Check it.", "docs"),
            ],
        }
    )


def test_a_code_task_compiles_to_builder_tester_reviewer_rework_and_merge() -> None:
    coding = {"model": MODEL, "test_command": ["python", "-m", "pytest", "-q"]}
    spec = compile_plan(
        _plan(), mission_title="T", coding_agent="coding:claude", coding=coding, review=True
    )
    require_valid(spec)  # templates and conditions read only upstream steps
    steps = {step.id: step for step in spec.steps}
    assert [s.id for s in spec.steps][:5] == ["api", "api-test", "api-review", "api-rework",
                                              "api-merge"]  # fmt: skip
    assert all(len(step_id) <= 63 for step_id in steps)
    chain = review_chain(LONG)
    assert {chain.test, chain.review, chain.rework} <= set(steps)
    assert len({chain.test[:-5], chain.review[:-7], chain.rework[:-7]}) == 1, "one stem"
    assert steps["docs"].depends_on == ["api-merge", LONG[:57] + "-merge"]

    test, review, rework, merge = (steps[f"api-{n}"] for n in ("test", "review", "rework", "merge"))
    for step, upstream, mode in [(test, "api", "workspace-write"),
                                 (review, "api-test", "read-only"),
                                 (rework, "api-review", "workspace-write")]:  # fmt: skip
        assert step.agent == "coding:claude" and step.depends_on == [upstream]
        assert step.inputs["continue_from"] == upstream and step.inputs["approval_mode"] == mode
        assert step.inputs["task_key"] == "api" and step.inputs["model"] == MODEL
        assert step.inputs["acceptance"] == ["It is done"]
    assert test.inputs["test_command"] == rework.inputs["test_command"] == coding["test_command"]
    assert "test_command" not in review.inputs, "the reviewer changes nothing to test"
    assert review.inputs["review_verdict"] is True and "review_verdict" not in rework.inputs
    assert '"verdict": "approve" | "changes_requested"' in review.inputs["prompt"]
    assert "add or strengthen the tests" in " ".join(test.inputs["prompt"].split())
    assert rework.when == (
        "steps['api-review'].status == 'succeeded' and "
        "steps['api-review'].outputs.verdict == 'changes_requested'"
    )
    assert "{{ steps['api-review'].outputs.findings | join(" in rework.inputs["prompt"]
    assert test.when is None and review.when is None
    assert merge.agent == "git:merge" and merge.requires_approval
    assert merge.depends_on == ["api", "api-test", "api-review", "api-rework"]
    assert merge.inputs["chain"] == ["api", "api-test", "api-review", "api-rework"]
    assert merge.inputs["review"] == "api-review"
    assert merge.inputs["title"] == f"Merge: {steps['api'].inputs['title']}"
    assert merge.inputs["step"] == (
        "{{ 'api-rework' if steps['api-rework'].status == 'succeeded' else 'api-test' }}"
    )


def test_without_review_a_code_task_is_one_step_and_its_merge() -> None:
    spec = compile_plan(_plan(), mission_title="T", coding_agent="coding:claude")
    assert [s.id for s in spec.steps][:2] == ["api", "api-merge"]
    # The merge is named after its task, as its approval card and its commit show it.
    api, merge = spec.steps[:2]
    assert merge.inputs["title"] == f"Merge: {api.inputs['title']}"
    assert not any(s.id.endswith(("-test", "-review", "-rework")) for s in spec.steps)


def _answer(block: str, before: str = "I read the diff.\n\n") -> str:
    return f"{before}```json\n{block}\n```\n"


def test_the_last_verdict_block_ending_the_answer_is_read() -> None:
    findings = ["top_words ignores n < 1", "no test for ties"]
    first = json.dumps({"verdict": "approve", "findings": []})
    last = json.dumps({"verdict": "changes_requested", "findings": findings})
    found = parse_verdict(_answer(last, before=_answer(first) + "\nOn second thought:\n"))
    assert found == ReviewVerdict("changes_requested", tuple(findings))
    assert parse_verdict("```\n" + first + "\n```") == ReviewVerdict("approve", ())


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ("Looks good to me.", "ends with no verdict block"),
        ("", "ends with no verdict block"),
        (_answer('{"verdict": "approve", "findings": []}') + "Thanks!", "goes on after"),
        ("```python\nprint(1)\n```", "not json"),
        (_answer('{"verdict": "approve", "findings": [}'), "not valid JSON"),
        (_answer('{"verdict": "approve", "verdict": "approve", "findings": []}'),
         "'verdict' appears twice"),
        (_answer('{"verdict": "lgtm", "findings": []}'), '"verdict" must be "approve" or'),
        (_answer('{"verdict": "APPROVE", "findings": []}'), '"verdict" must be'),
        (_answer('{"verdict": "approve"}'), 'exactly "verdict" and "findings"'),
        (_answer('{"verdict": "approve", "findings": [], "score": 9}'), "exactly"),
        (_answer('["approve"]'), "exactly"),
        (_answer('{"verdict": "approve", "findings": "all fine"}'), "a list of text"),
        (_answer('{"verdict": "approve", "findings": [1]}'), "a list of text"),
        (_answer('{"verdict": "changes_requested", "findings": []}'), "at least one finding"),
        (_answer('{"verdict": "changes_requested", "findings": ["  "]}'), "at least one"),
        (_answer(json.dumps({"verdict": "approve", "findings": ["x"] * (MAX_FINDINGS + 1)})),
         f"at most {MAX_FINDINGS} items"),
        (_answer(json.dumps({"verdict": "approve", "findings": ["x" * 1001]})), "over 1000"),
        (_answer(json.dumps({"verdict": "approve", "findings": ["\x1b[2Jgone"]})),
         "control characters"),
        (_answer(json.dumps({"verdict": "approve", "findings": ["y" * 900] * 20 + []})
                 .replace("]", ', "' + "z" * 5000 + '"]')), "over 20000"),
    ],
)  # fmt: skip
def test_an_answer_without_one_valid_verdict_block_is_refused_naming_why(
    answer: str, said: str
) -> None:
    with pytest.raises(ValueError) as refused:
        parse_verdict(answer)
    assert said in str(refused.value), str(refused.value)


def test_a_huge_answer_is_read_from_its_end_only() -> None:
    block = _answer(json.dumps({"verdict": "approve", "findings": ["fine"]}))
    assert parse_verdict("```\n" * 50_000 + "x" * 5_000_000 + "\n" + block).verdict == "approve"


def test_a_loop_counts_as_its_one_task_and_the_verdict_changes_no_outcome() -> None:
    loop = [("api", "coding:claude", "built"), ("api-test", "coding:claude", "built"),
            ("api-review", "coding:claude", "no_change")]  # fmt: skip
    skipped = [*loop, ("api-rework", "coding:claude", "skipped"), ("api-merge", "git:merge",
               "merged"), ("docs", "builtin:docs", "documented")]  # fmt: skip
    assert task_outcomes(skipped) == {"api": "built", "docs": "documented"}
    reworked = [*loop, ("api-rework", "coding:claude", "built"), ("api-merge", "git:merge", None)]
    assert task_outcomes(reworked) == {"api": "built"}, "built, its merge waiting for approval"
    failed = [
        *loop[:2],
        ("api-review", "coding:claude", "failed"),
        ("api-rework", "coding:claude", "skipped"),
        ("api-merge", "git:merge", "skipped"),
    ]
    assert task_outcomes(failed) == {"api": "failed"}
