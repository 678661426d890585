"""The ``git:merge`` agent: merge a coding step's branch back into its base (ADR 0067).

Input: ``step``, the id of the coding step whose branch to merge (one this step depends on),
and optionally ``title``, the merge commit's subject (default ``Merge <branch>``).
The merge is diff-first: such a step is gated (its approval shows the coding step's diff) and
runs only once an approver has seen it. It never forces anything: a conflict changes nothing
and fails the step, not retryable, naming the files both sides changed and the fix; the branch
stays for a person to resolve. A clean merge moves the base branch (see ``agents.git.merge``)
and deletes the branch. A branch with no change is not merged; it is deleted.

A review loop (``domain.review``) merges its last branch: ``step`` is then the loop's step that
ran last (the rework's, else the tests'), and ``chain`` lists every step of the loop, in order
(each one a dependency of this step; ``step`` among them). Their branches are one line of
commits from the loop's base commit, so ``step``'s holds them all; once it is merged (or found
to change nothing) the other branches of the chain are deleted with it.

Outputs: ``merged`` (true/false), ``merge_commit``, ``base_branch``, ``branch``, and on a
conflict ``conflicts`` (the files).
"""

from collections.abc import Sequence
from typing import Any

from missionctl.agents.base import AgentError, AgentResult, StepContext
from missionctl.agents.git import Repository, RepositoryStore, git, merge, resolve_commit


class MergeAgent:
    """Merges the branch of the coding step named by ``inputs.step``."""

    def __init__(self, repositories: RepositoryStore) -> None:
        """``repositories`` opens the repository the coding step worked on."""
        self.repositories = repositories

    async def run(self, step: StepContext) -> AgentResult:
        """Merge, or report the conflict; see the module docstring."""
        coding = await _coding_outputs(step)
        chain = await _chain_branches(step, coding)
        repo = await self.repositories.open(coding["repository"])
        base, branch = coding["base_branch"], coding["branch"]
        if await resolve_commit(repo, branch) == coding["base_commit"]:
            await git("branch", "--quiet", "-D", branch, cwd=repo.path)
            await _delete_branches(repo, chain)
            return AgentResult(
                outputs={"merged": False, "merge_commit": None, "base_branch": base,
                         "branch": branch},
                summary=f"{branch} changed nothing; deleted it",
            )  # fmt: skip
        title = step.inputs.get("title")
        message = (
            f"{title}\n\nBranch: {branch}"
            if isinstance(title, str) and title
            else f"Merge {branch}"
        )
        outcome = await merge(repo, base=base, branch=branch, message=message)
        if outcome.commit is None:
            files = ", ".join(outcome.conflicts)
            raise AgentError(
                f"merging {branch} into {base} conflicts in {files}: another change to the "
                f"same lines reached {base} first. Nothing was merged; the branch is kept. "
                f"Resolve it by hand (git merge {branch}) or rerun the coding step on the "
                "new base.",
                retryable=False,
                outputs={"merged": False, "conflicts": list(outcome.conflicts),
                         "base_branch": base, "branch": branch},
            )  # fmt: skip
        await _delete_branches(repo, chain)
        return AgentResult(
            outputs={"merged": True, "merge_commit": outcome.commit, "base_branch": base,
                     "branch": branch},
            summary=f"merged {branch} into {base} ({outcome.commit[:12]})",
        )  # fmt: skip


async def _coding_outputs(step: StepContext) -> dict[str, Any]:
    """The outputs of the coding step ``inputs.step`` names (one this step depends on)."""
    name = step.inputs.get("step")
    if not isinstance(name, str) or name not in step.depends_on:
        raise AgentError(
            "inputs.step must name the coding step to merge, one this step depends on",
            retryable=False,
        )
    outputs = (await step.load_upstream_outputs()).get(name) or {}
    needed = ("repository", "base_branch", "base_commit", "branch")
    if not all(isinstance(outputs.get(key), str) for key in needed):
        raise AgentError(
            f"step {name!r} left no branch to merge (is it a coding step that succeeded?)",
            retryable=False,
        )
    return dict(outputs)


async def _chain_branches(step: StepContext, merged: dict[str, Any]) -> list[str]:
    """The branches of the review loop ``inputs.chain`` names, but the merged one.

    Only the loop's steps that left a branch of the same repository and base commit count (a
    skipped rework left none).

    Raises:
        AgentError: (not retryable) ``chain`` is not a list of steps this one depends on that
            holds ``inputs.step``.
    """
    chain = step.inputs.get("chain")
    if chain is None:
        return []
    if (
        not isinstance(chain, list)
        or not all(isinstance(name, str) and name in step.depends_on for name in chain)
        or step.inputs.get("step") not in chain
    ):
        raise AgentError(
            "inputs.chain must list the steps of the review loop, each one this step depends "
            "on, inputs.step among them",
            retryable=False,
        )
    upstream = await step.load_upstream_outputs()
    same = ("repository", "base_commit")
    return [
        outputs["branch"]
        for name in chain
        if isinstance((outputs := upstream.get(name) or {}).get("branch"), str)
        and outputs["branch"] != merged["branch"]
        and all(outputs.get(key) == merged[key] for key in same)
    ]


async def _delete_branches(repo: Repository, branches: Sequence[str]) -> None:
    """Delete ``branches`` (those still there): the merged branch holds their commits."""
    for branch in branches:
        await git("branch", "--quiet", "-D", "--", branch, cwd=repo.path, check=False)
