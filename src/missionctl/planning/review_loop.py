"""A code task's review loop as workflow steps (``domain.review``; docs/coding-agents.md).

``T`` (the builder, as without the loop) is followed by ``T-test``, ``T-review`` and
``T-rework`` on one line of commits (each continues on the previous step's branch,
``continue_from``), then by the merge, which merges the last branch that ran: ``T-rework`` when
the reviewer requested changes (its ``when``), else ``T-test``. The prompts are data
(``review_loop.yaml``).
"""

from collections.abc import Mapping
from importlib.resources import files
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter

from missionctl.domain.coding import MERGE_AGENT, merge_step_id, merge_title
from missionctl.domain.review import CHANGES_REQUESTED, VERDICT_FORMAT, review_chain
from missionctl.planning.workflow_spec import DEFAULT_TIMEOUT_S, StepSpec
from missionctl.schemas.datafiles import read_data_file


class ReviewPrompts(BaseModel):
    """The prompts of the loop's steps after the builder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tester: str
    reviewer: str
    rework: str


PROMPTS: ReviewPrompts = read_data_file(
    files(__name__.rpartition(".")[0]) / "review_loop.yaml", TypeAdapter(ReviewPrompts)
)


def review_loop_steps(builder: StepSpec, agent: str, coding: Mapping[str, Any]) -> list[StepSpec]:
    """The steps after ``builder`` (a code task's coding step): tester, reviewer, rework, merge.

    Every one runs on ``agent`` with the task's ``task_key`` (so its prompt starts with the
    task's pack file), ``title`` and ``acceptance``, and ``coding`` (the mission's ``model``
    and ``test_command``; the reviewer gets no test command: it changes nothing to test).
    """
    chain = review_chain(builder.id)
    title = str(builder.inputs.get("title") or builder.id)
    shared = {
        **coding,
        "task_key": builder.id,
        "acceptance": list(builder.inputs.get("acceptance") or []),
    }
    verdict = f"steps['{chain.review}']"
    return [
        _coding_step(
            chain.test,
            agent,
            shared,
            builder,
            continue_from=chain.task,
            title=f"Tests for {title}",
            prompt=PROMPTS.tester,
            mode="workspace-write",
        ),
        _coding_step(
            chain.review,
            agent,
            {k: v for k, v in shared.items() if k != "test_command"},
            builder,
            continue_from=chain.test,
            title=f"Review of {title}",
            prompt=f"{PROMPTS.reviewer}\n\n{VERDICT_FORMAT}",
            mode="read-only",
            review_verdict=True,
        ),
        _coding_step(
            chain.rework,
            agent,
            shared,
            builder,
            continue_from=chain.review,
            title=f"Rework of {title}",
            mode="workspace-write",
            prompt=PROMPTS.rework + "\n- {{ " + verdict + ".outputs.findings | join('\\n- ') }}",
            when=f"{verdict}.status == 'succeeded' and "
            f"{verdict}.outputs.verdict == '{CHANGES_REQUESTED}'",
        ),
        StepSpec(
            id=merge_step_id(builder.id),
            agent=MERGE_AGENT,
            description=f"Merge the last branch of {builder.id}'s review loop into the base "
            "(the rework's when it ran, else the tests'), once its diff is approved.",
            inputs={
                # Rendered when the merge starts, so the approval names the branch it merges.
                "step": f"{{{{ '{chain.rework}' if steps['{chain.rework}'].status == "
                f"'succeeded' else '{chain.test}' }}}}",
                "chain": [chain.task, chain.test, chain.review, chain.rework],
                "review": chain.review,
                "title": merge_title(title),
            },
            depends_on=[chain.task, chain.test, chain.review, chain.rework],
            risk_tier="irreversible",
            requires_approval=True,
            timeout_s=DEFAULT_TIMEOUT_S,
        ),
    ]


def _coding_step(
    step_id: str,
    agent: str,
    shared: Mapping[str, Any],
    builder: StepSpec,
    *,
    continue_from: str,
    title: str,
    prompt: str,
    mode: str,
    when: str | None = None,
    review_verdict: bool = False,
) -> StepSpec:
    """One coding step of the loop, on ``continue_from``'s branch (its only dependency)."""
    inputs = {
        **shared,
        "title": title,
        "prompt": prompt,
        "approval_mode": mode,
        "continue_from": continue_from,
    }
    if review_verdict:
        inputs["review_verdict"] = True
    return builder.model_copy(
        update={
            "id": step_id,
            "agent": agent,
            "inputs": inputs,
            "depends_on": [continue_from],
            "when": when,
        }
    )
