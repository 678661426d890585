"""What a merge's approval shows beside its action: the diffs it merges and a reviewer's verdict.

A ``git:merge`` step's approval is diff-first (ADR 0067): it carries the diff of the coding step
whose branch it merges (``inputs.step``). The merge of a review loop (``domain.review``) carries
the diff of each step of the loop that changed something (``inputs.chain``: builder, tests,
rework), together cut at :data:`MAX_DIFF_PREVIEW_CHARS`, and the verdict of its review step
(``inputs.review``), labelled as the reviewer's opinion.
"""

import asyncio
from typing import Any

from missionctl.domain.coding import MERGE_AGENT
from missionctl.domain.review import VERDICTS
from missionctl.errors import NotFound
from missionctl.repositories import approvals as approval_repo
from missionctl.repositories import artifacts as artifact_repo
from missionctl.repositories.approvals import StepFacts
from missionctl.schemas.governance import ApprovalDiff, ApprovalRead, ApprovalReview
from missionctl.services.runtime.context import ServiceContext

MAX_DIFF_PREVIEW_CHARS = 200_000
"""How much of a merge's diffs an approval carries (the artifacts hold all of them)."""


async def with_merge_preview(ctx: ServiceContext, approval: ApprovalRead) -> ApprovalRead:
    """``approval``, with the diffs it would merge and the review, when its step is a merge."""
    merged = approval.inputs.get("step")
    if approval.agent != MERGE_AGENT or not isinstance(merged, str):
        return approval
    chain = _names(approval.inputs.get("chain")) or [merged]
    review = approval.inputs.get("review")
    async with ctx.read() as session:
        facts = await approval_repo.read_step_facts(
            session,
            run_id=approval.run_id,
            step_ids=[*chain, *([review] if isinstance(review, str) else [])],
        )
    diffs = await _diffs(ctx, approval, [name for name in chain if _ran(facts.get(name))])
    update: dict[str, Any] = {"diff": diffs[0] if diffs else None, "diffs": diffs}
    if isinstance(review, str) and review in facts:
        update["review"] = _review(review, facts[review], chain, facts)
    return approval.model_copy(update=update)


def _names(value: Any) -> list[str]:
    return [name for name in value if isinstance(name, str)] if isinstance(value, list) else []


def _ran(facts: StepFacts | None) -> bool:
    return facts is not None and facts.status == "succeeded"


async def _diffs(
    ctx: ServiceContext, approval: ApprovalRead, steps: list[str]
) -> list[ApprovalDiff]:
    """The diff artifact of each of ``steps`` that has a non-empty one, within the budget."""
    found: list[ApprovalDiff] = []
    room = MAX_DIFF_PREVIEW_CHARS
    for step_id in steps:
        async with ctx.read() as session:
            artifact = await artifact_repo.read_step_artifact(
                session, run_id=approval.run_id, step_id=step_id, kind="diff"
            )
        if artifact is None:
            continue
        try:
            content = await asyncio.to_thread(ctx.blobs.read_bytes, artifact.sha256)
        except NotFound:
            continue  # the blob is gone: the approval still reads; its artifact says why
        text = content.decode("utf-8", "replace")
        if not text.strip() and len(steps) > 1:
            continue  # a loop's step that changed nothing (the review) has nothing to show
        found.append(
            ApprovalDiff(
                artifact_id=artifact.id,
                step_id=step_id,
                text=text[: max(room, 0)],
                truncated=len(text) > room,
            )
        )
        room -= len(text)
    return found


def _review(
    step_id: str, review: StepFacts, chain: list[str], facts: dict[str, StepFacts]
) -> ApprovalReview:
    """The review step's verdict as the approval shows it (none until it succeeded)."""
    verdict = review.outputs.get("verdict") if review.status == "succeeded" else None
    findings = review.outputs.get("findings") if verdict is not None else None
    after = chain[chain.index(step_id) + 1 :] if step_id in chain else []
    return ApprovalReview(
        step_id=step_id,
        agent=review.agent,
        verdict=next((known for known in VERDICTS if known == verdict), None),
        findings=_names(findings),
        reworked=any(_ran(facts.get(name)) for name in after),
    )
