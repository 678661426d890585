"""Coding steps in a chain: continuing on another step's branch, and a reviewer's verdict.

Used by ``agents.coding`` for a code task's review loop (``domain.review``; docs/coding-agents.md):

- **Continuing** (:func:`chain_start`): a step with ``inputs.continue_from: <step id>`` (one it
  depends on, a coding step that succeeded on the same repository) starts its worktree at that
  step's ``head_commit``, on its own branch. Its ``base_commit`` and ``base_branch`` stay the
  chain's (the upstream step's), so the merge sees the whole chain as one change from the base;
  its diff artifacts are its own work, from where it started.
- **Reviewing** (:func:`review_section`, :func:`read_verdict`): a step with
  ``inputs.review_verdict: true`` gets the chain's diff from the base in its prompt, and its
  answer (the last lines of the CLI's standard output) must end with a verdict block
  (``domain.review.parse_verdict``). The verdict becomes the outputs ``verdict`` and
  ``findings`` and the artifact ``<step>-verdict.json``; an answer without a valid block fails
  the step (retryable: another answer may have one), naming the problem. The verdict is the
  reviewer's opinion: it changes no outcome.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from missionctl.agents.base import AgentError, AgentResult, ArtifactOutput, StepContext
from missionctl.agents.git import Repository, diff, git
from missionctl.domain.review import parse_verdict

MAX_REVIEW_DIFF_CHARS = 40_000
"""How much of the chain's diff a reviewer's prompt holds: the prompt is one argument of the
CLI's command line, which the system caps at 128 KiB."""
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class ChainStart:
    """Where a coding step's worktree starts, and the base its change is measured against."""

    commit: str  # the worktree's first commit: the base's, or the continued step's head
    base_commit: str
    base_branch: str


async def chain_start(
    step: StepContext, repo: Repository, source: str, base: str, base_commit: str
) -> ChainStart:
    """Where ``step`` starts: at ``base_commit``, or at the head of ``inputs.continue_from``.

    Raises:
        AgentError: (not retryable) ``continue_from`` is not a step this one depends on, that
            step left no branch on ``source``, or its head does not descend from its base.
    """
    upstream = step.inputs.get("continue_from")
    if upstream is None:
        return ChainStart(base_commit, base_commit, base)
    if not isinstance(upstream, str) or upstream not in step.depends_on:
        raise AgentError(
            "inputs.continue_from must name a coding step this step depends on",
            retryable=False,
        )
    outputs = (await step.load_upstream_outputs()).get(upstream) or {}
    head, start = outputs.get("head_commit"), outputs.get("base_commit")
    if (
        not all(isinstance(v, str) and _COMMIT.fullmatch(v) for v in (head, start))
        or outputs.get("repository") != source
        or not isinstance(outputs.get("base_branch"), str)
    ):
        raise AgentError(
            f"step {upstream!r} (inputs.continue_from) left no branch of {source} to continue "
            "on: is it a coding step on the same repository that succeeded?",
            retryable=False,
        )
    assert isinstance(head, str) and isinstance(start, str)  # checked above
    found = await git("merge-base", "--is-ancestor", start, head, cwd=repo.path, check=False)
    if found.code != 0:
        raise AgentError(
            f"the head of step {upstream!r} ({head[:12]}) does not descend from its base "
            f"commit ({start[:12]}); nothing ran",
            retryable=False,
        )
    return ChainStart(head, start, str(outputs["base_branch"]))


async def review_section(step: StepContext, repo: Repository, start: ChainStart) -> str:
    """A reviewer's (``inputs.review_verdict``) prompt end: the chain's diff; else ``""``."""
    if not _reviews(step):
        return ""
    patch, changes = await diff(repo, start.base_commit, start.commit)
    if not changes:
        return "\n\n## The change to review\nThe branch changes nothing from the base."
    cut = ""
    if len(patch) > MAX_REVIEW_DIFF_CHARS:
        patch = patch[:MAX_REVIEW_DIFF_CHARS]
        cut = f"\n(The diff is cut here at {MAX_REVIEW_DIFF_CHARS} characters; read the files.)"
    listed = ", ".join(change.path for change in changes[:50])
    return (
        f"\n\n## The change to review\nFrom {start.base_branch} ({start.base_commit[:12]}) to "
        f"this branch, {len(changes)} files: {listed}\n```diff\n{patch}\n```{cut}"
    )


def read_verdict(step: StepContext, result: AgentResult) -> None:
    """For a reviewer: add its verdict to ``result`` (outputs and an artifact).

    Raises:
        AgentError: (retryable) its answer does not end with a valid verdict block.
    """
    if not _reviews(step):
        return
    answer = result.outputs.get("stdout_tail")
    try:
        verdict = parse_verdict(answer if isinstance(answer, str) else "")
    except ValueError as exc:
        raise AgentError(
            f"the review gave no verdict Mission Control can read: {exc}",
            outputs=result.outputs,
        ) from None
    findings = list(verdict.findings)
    record: dict[str, Any] = {
        "verdict": verdict.verdict,
        "findings": findings,
        "reviewer": step.agent,
        "step": step.step_id,
        "note": "The reviewer's opinion: it decides no outcome.",
    }
    result.outputs |= {"verdict": verdict.verdict, "findings": findings}
    result.artifacts.append(
        ArtifactOutput(
            f"{step.step_id}-verdict.json",
            "json",
            "application/json",
            json.dumps(record, indent=2).encode(),
        )
    )
    result.summary += f"; the reviewer's verdict: {verdict.verdict.replace('_', ' ')}"


def _reviews(step: StepContext) -> bool:
    """Whether ``step`` is a reviewer (``inputs.review_verdict``).

    Raises:
        AgentError: (not retryable) the input is not true or false.
    """
    value = step.inputs.get("review_verdict", False)
    if not isinstance(value, bool):
        raise AgentError("inputs.review_verdict must be true or false", retryable=False)
    return value
