"""A review loop with stand-in coders: its chain of branches, its verdict, its merge and card.

The builder and tester are the scripted coder; the reviewer and the rework are small programs
(``coding:generic``) that read their prompt: the reviewer checks that the chain's diff is in it
and prints its verdict, the rework writes the findings its prompt holds into a file.
"""

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx2
import pytest

from missionctl.domain.access import Role
from missionctl.schemas.governance import ApprovalRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.artifacts import read_artifact_content, read_artifacts
from tests.coding.helpers import (
    allow_coding,
    branches,
    coding_agents,
    coding_step,
    git,
    make_repository,
    worktrees,
)
from tests.engine.helpers import running_engine, start, wait_for_run, wait_for_step
from tests.support.auth import bearer_headers
from tests.web.test_approvals_page import text_of

# Its subject is git and the verdict, not the database (tests/conftest.py).
pytestmark = pytest.mark.one_database

FINDING = "app.txt line 1 says <v1>: make it v2"
# Prints its verdict (argv[2], a JSON block's body) once it found the chain's diff in its prompt.
REVIEWER = (
    "import sys\n"
    "prompt = open(sys.argv[1]).read()\n"
    "assert '## The change to review' in prompt and '+++ b/test_app.txt' in prompt, prompt\n"
    "assert '+built v1' in prompt\n"
    "print('I read the diff.')\n"
    "print(sys.argv[2])\n"
)
# Writes the findings section of its prompt into FINDINGS.md.
REWORK = (
    "import sys\n"
    "prompt = open(sys.argv[1]).read()\n"
    "open('FINDINGS.md', 'w').write(prompt.split('Findings:')[1].split('## How')[0].strip())\n"
)
REVIEW = "build-review"


def _verdict(verdict: str, findings: list[str]) -> str:
    return "```json\n" + json.dumps({"verdict": verdict, "findings": findings}) + "\n```"


def _loop(repo: Path, answer: str) -> list[dict[str, Any]]:
    """The loop's steps as ``planning.review_loop`` compiles them, with stand-in programs."""
    findings = "{{ steps['build-review'].outputs.findings | join('\\n- ') }}"
    generic = {"repository": str(repo), "base": "main"}
    return [
        coding_step("build", "@write app.txt: built v1", repo),
        coding_step("build-test", "@write test_app.txt: tested", repo, "build",
                    inputs={"continue_from": "build"}),
        {"id": REVIEW, "agent": "coding:generic", "depends_on": ["build-test"],
         "retry": {"max_attempts": 1},
         "inputs": generic | {"prompt": "Review it.", "approval_mode": "read-only",
                              "continue_from": "build-test", "review_verdict": True,
                              "argv": [sys.executable, "-c", REVIEWER, "${prompt_file}", answer]}},
        {"id": "build-rework", "agent": "coding:generic", "depends_on": [REVIEW],
         "when": f"steps['{REVIEW}'].outputs.verdict == 'changes_requested'",
         "inputs": generic | {"prompt": f"Findings:\n- {findings}",
                              "approval_mode": "workspace-write", "continue_from": REVIEW,
                              "argv": [sys.executable, "-c", REWORK, "${prompt_file}"]}},
        {"id": "build-merge", "agent": "git:merge", "risk_tier": "irreversible",
         "requires_approval": True,
         "depends_on": ["build", "build-test", REVIEW, "build-rework"],
         "inputs": {"step": "{{ 'build-rework' if steps['build-rework'].status == 'succeeded' "
                            "else 'build-test' }}",
                    "chain": ["build", "build-test", REVIEW, "build-rework"],
                    "review": REVIEW, "title": "Merge the build"}},
    ]  # fmt: skip


async def _merge_card(ctx: ServiceContext, run_id: uuid.UUID) -> ApprovalRead:
    await wait_for_step(ctx, run_id, "build-merge", "awaiting_approval", within_s=60)
    [found] = [a for a in await list_approvals(ctx) if a.run_id == run_id]
    return found


async def test_changes_requested_runs_the_rework_and_the_merge_takes_the_whole_chain(
    ctx: ServiceContext, client: httpx2.AsyncClient, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    base = git(repo, "rev-parse", "main").strip()
    run = await start(ctx, _loop(repo, _verdict("changes_requested", [FINDING])))
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        card = await _merge_card(ctx, run.id)
        assert card.inputs["step"] == "build-rework", "the rendered input names the last branch"
        assert card.review is not None
        assert (card.review.verdict, card.review.findings) == ("changes_requested", [FINDING])
        assert card.review.agent == "coding:generic" and card.review.reworked
        assert [d.step_id for d in card.diffs] == ["build", "build-test", "build-rework"]
        assert "+++ b/app.txt" in card.diffs[0].text and "test_app" not in card.diffs[0].text
        assert "+++ b/test_app.txt" in card.diffs[1].text and "built" not in card.diffs[1].text
        assert f"+- {FINDING}" in card.diffs[2].text
        assert card.diff == card.diffs[0]
        page = await client.get("/approvals")
        words = text_of(page.text)
        assert "Reviewer (coding:generic): changes requested" in words
        assert FINDING in words and "<v1>" not in page.text, "findings are text, not markup"
        assert "not a check" in words
        printed = _printed_by_the_cli(card)
        assert "coding:generic says changes requested (build-review; an opinion" in printed
        assert f"- {FINDING}" in printed and "reworked on its findings" in printed
        merged = [line.split()[4] for line in printed.splitlines() if "the diff of" in line]
        assert merged == ["build", "build-test", "build-rework"]
        viewer = await bearer_headers(ctx, "viewer-review", Role.VIEWER)
        shown = await client.get(f"/api/v1/approvals/{card.id}", headers=viewer)
        assert shown.status_code == 200 and shown.json()["review"]["verdict"] == "changes_requested"
        refused = await client.post(f"/api/v1/approvals/{card.id}/approve", json={}, headers=viewer)
        assert refused.status_code == 403
        await decide_approval(ctx, ref=card.id, approve=True, actor="user:approver")
        done = await wait_for_run(ctx, run.id, within_s=30)
    steps = {s.step_id: s for s in done.steps}
    assert done.status == "completed", {k: s.error for k, s in steps.items()}
    for name in ("build-test", REVIEW, "build-rework"):
        assert steps[name].outputs["base_commit"] == base, "the chain keeps the mission's base"
    assert steps["build-test"].outputs["files_changed"] == ["test_app.txt"]
    assert steps[REVIEW].outputs["files_changed"] == []
    assert steps[REVIEW].outputs["verdict"] == "changes_requested"
    assert steps["build-merge"].outputs["branch"] == steps["build-rework"].outputs["branch"]
    assert (repo / "app.txt").read_text() == "built v1\n"
    assert (repo / "test_app.txt").read_text() == "tested\n"
    assert (repo / "FINDINGS.md").read_text() == f"- {FINDING}"
    assert branches(repo) == [] and worktrees(repo) == [str(repo)]
    found = {a.name: a for a in await read_artifacts(ctx, run_id=run.id)}
    _, content = await read_artifact_content(ctx, artifact_id=found[f"{REVIEW}-verdict.json"].id)
    record = json.loads(content)
    assert record["verdict"] == "changes_requested" and record["reviewer"] == "coding:generic"


async def test_approve_skips_the_rework_and_the_merge_takes_the_tests_branch(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    run = await start(ctx, _loop(repo, _verdict("approve", ["Nicely tested."])))
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        card = await _merge_card(ctx, run.id)
        assert card.inputs["step"] == "build-test"
        assert card.review is not None and card.review.verdict == "approve"
        assert not card.review.reworked
        assert [d.step_id for d in card.diffs] == ["build", "build-test"]
        await decide_approval(ctx, ref=card.id, approve=True, actor="user:approver")
        done = await wait_for_run(ctx, run.id, within_s=30)
    steps = {s.step_id: s for s in done.steps}
    assert done.status == "completed" and steps["build-rework"].status == "skipped"
    assert not (repo / "FINDINGS.md").exists() and (repo / "test_app.txt").exists()
    assert branches(repo) == []


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ("LGTM, ship it.", "ends with no verdict block"),
        (_verdict("approve", []) + "\n" + _verdict("lgtm", []), '"verdict" must be "approve"'),
        ("```json\n{\"verdict\": \"approve\", \"findings\": [\n```", "not valid JSON"),
    ],
)  # fmt: skip
async def test_a_review_without_a_readable_verdict_fails_and_nothing_is_merged(
    ctx: ServiceContext, tmp_path: Path, answer: str, said: str
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    run = await start(ctx, _loop(repo, answer))
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        done = await wait_for_run(ctx, run.id, within_s=60)
    steps = {s.step_id: s for s in done.steps}
    assert done.status == "failed" and steps[REVIEW].status == "failed"
    assert "the review gave no verdict Mission Control can read" in (steps[REVIEW].error or "")
    assert said in (steps[REVIEW].error or "")
    assert steps["build-merge"].status != "succeeded"
    assert not (repo / "app.txt").read_text().startswith("built")


async def test_continue_from_must_name_an_upstream_coding_step(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    steps = [
        coding_step("build", "@write a.txt: a", repo),
        coding_step("stray", "@write b.txt: b", repo, inputs={"continue_from": "build"}),
        coding_step("after", "@write c.txt: c", repo, "build",
                    inputs={"continue_from": "build", "review_verdict": "yes"}),
    ]  # fmt: skip
    run = await start(ctx, steps)
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        done = await wait_for_run(ctx, run.id, within_s=60)
    errors = {s.step_id: s.error or "" for s in done.steps}
    assert "inputs.continue_from must name a coding step this step depends on" in errors["stray"]
    assert "inputs.review_verdict must be true or false" in errors["after"]


def _printed_by_the_cli(card: ApprovalRead) -> str:
    """What ``missionctl approvals`` prints of ``card`` (the block each approval gets)."""
    from missionctl.cli._runtime import console
    from missionctl.cli.approvals import _print_approval

    with console.capture() as captured:
        _print_approval(card)
    return captured.get()
