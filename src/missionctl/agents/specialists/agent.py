"""``SpecialistAgent``: a builtin, model-free specialist that writes a task's documents."""

from collections.abc import Sequence
from typing import get_args

from missionctl.agents.base import AgentError, AgentResult, ArtifactOutput, StepContext
from missionctl.agents.registry import AgentRegistry
from missionctl.agents.specialists.brief import Brief, build_brief
from missionctl.agents.specialists.catalog import Writer, findings, plan_documents
from missionctl.agents.specialists.coverage import addresses
from missionctl.agents.specialists.markdown import cell, section
from missionctl.schemas.plans import SpecialistRole

SPECIALIST_ROLES: tuple[str, ...] = get_args(SpecialistRole)
MEDIA_TYPE = "text/markdown"


SPECIFICATION_LINE = (
    "_Written by the builtin {role} specialist (no model): a specification of what to build "
    "and how to verify it, not the code or its results._"
)
"""The line every document opens with, under its title: what wrote it and what it is.

A builtin specialist builds, runs and measures nothing; its documents must not read as if the
work they describe had been done.
"""


def render_document(brief: Brief, name: str, writer: Writer) -> str:
    """One document's Markdown, without the task's checks.

    It starts with a title naming the document and the mission, then the specification line
    (:data:`SPECIFICATION_LINE`), a line naming the task, the role and where the content comes
    from (the local engine writes it without a model); then the writer's body.
    """
    task = brief.task
    lines = [
        f"# {writer.title} — {brief.mission_title}",
        "",
        SPECIFICATION_LINE.format(role=brief.role),
        "",
        f"**Task:** `{task.key}` {task.title} · **Role:** {brief.role} · "
        f"**Source:** {brief.provenance}; written deterministically by the local engine.",
        "",
        *writer.render(brief, name),
    ]
    return "\n".join(lines).rstrip() + "\n"


def checks_section(acceptance: Sequence[str], statuses: Sequence[str]) -> str:
    """The "How to verify this task" section the primary document ends with.

    Every criterion is an unticked item for a person to verify, with what the document has to
    do with it: the specialist checked none of them itself.
    """
    checks = [
        f"- [ ] {criterion} — {_STATUS_WORDS[status]}"
        for criterion, status in zip(acceptance, statuses, strict=True)
    ]
    return "\n".join(section("How to verify this task", checks)).rstrip() + "\n"


DISCUSSED = "discussed"
"""The document is the deliverable and its words speak to the criterion: a person confirms it."""
OPEN = "open"
"""The document is the deliverable but does not speak to the criterion: a person checks it."""
SPECIFIED = "specified"
"""Code or infrastructure must still change: the document specifies the work, it is not done."""

_STATUS_WORDS = {
    DISCUSSED: "discussed in this document; confirm it by reading it",
    OPEN: "not discussed here; check it by hand",
    SPECIFIED: "specified here; the change itself is still to make, then to check",
}


def check_statuses(brief: Brief, body: str) -> list[str]:
    """The status of each acceptance criterion of the task, given the document's ``body``.

    A task that changes code or infrastructure only specifies its work; otherwise a criterion
    is discussed when the body's words speak to it (:func:`~.coverage.addresses`), and open if
    not. Neither means the criterion is met.
    """
    if brief.task.writes:
        return [SPECIFIED for _ in brief.task.acceptance]
    own_words = _without_criteria(brief, body)
    return [DISCUSSED if addresses(own_words, c) else OPEN for c in brief.task.acceptance]


def _without_criteria(brief: Brief, body: str) -> str:
    """``body`` without the acceptance criteria it quotes (a scope's table, a test plan's rows).

    A document that only repeats a criterion does not speak to it: "differences from two
    libraries are stated" quoted in a table states no difference.
    """
    criteria = {*brief.task.acceptance, *(c for t in brief.tasks for c in t.acceptance)}
    for criterion in sorted(criteria, key=len, reverse=True):
        quoted = " ".join(criterion.split())
        body = body.replace(quoted, " ").replace(cell(quoted), " ")
    return body


class SpecialistAgent:
    """The builtin specialist for one role of ``schemas.plans.SpecialistRole``.

    Deterministic: the same mission, plan, inputs and upstream outputs always give the same
    documents (byte for byte). It uses no model, no network and no clock.
    """

    def __init__(self, role: str) -> None:
        """Bind the role.

        Raises:
            ValueError: ``role`` is not a specialist role.
        """
        if role not in SPECIALIST_ROLES:
            raise ValueError(
                f"unknown specialist role {role!r}; known: {', '.join(SPECIALIST_ROLES)}"
            )
        self.role = role

    async def run(self, step: StepContext) -> AgentResult:
        """Write the task's documents from the mission, its plan and the upstream outputs.

        Returns:
            Markdown artifacts; ``outputs`` = ``{summary, documents, checks, role}`` where each
            check is ``{criterion, status, document}`` (``discussed`` when the document speaks
            to it, ``open`` when it does not, ``specified`` when code or infrastructure must
            still be changed; none of them means the criterion is met); and the risks and
            next steps the role found.

        Raises:
            AgentError: (not retryable) the step has neither a mission nor a title to work from.
        """
        mission = await step.load_mission()
        plan = await step.load_plan()
        upstream = await step.load_upstream_outputs()
        if mission is None and not step.inputs.get("title") and not step.inputs.get("goal"):
            raise AgentError(
                f"builtin:{self.role} needs a mission or inputs.title/inputs.goal to work from",
                retryable=False,
            )
        brief = build_brief(
            role=self.role,
            step_id=step.step_id,
            inputs=step.inputs,
            mission=mission,
            plan=plan,
            upstream=upstream,
        )
        step.log(f"builtin {self.role} specialist on “{brief.task.title}” for the {brief.subject}")
        if plan is not None and brief.plan is None:
            step.log("the plan could not be read; working from the step inputs", level="warning")
        step.log(f"working from {brief.provenance}")
        documents = plan_documents(brief)
        texts = [render_document(brief, name, writer) for name, writer in documents]
        statuses = check_statuses(brief, texts[0])
        if brief.task.acceptance:
            texts[0] += "\n" + checks_section(brief.task.acceptance, statuses)
        artifacts = []
        for (name, _), text in zip(documents, texts, strict=True):
            artifacts.append(ArtifactOutput(name, "markdown", MEDIA_TYPE, text.encode("utf-8")))
            step.log(f"wrote {name} ({text.count(chr(10))} lines)")
        risks, next_steps = findings(brief)
        names = [a.name for a in artifacts]
        checks = [
            {"criterion": c, "status": status, "document": names[0]}
            for c, status in zip(brief.task.acceptance, statuses, strict=True)
        ]
        summary = _summary(self.role, names, brief.task.title, statuses)
        return AgentResult(
            outputs={"summary": summary, "documents": names, "checks": checks, "role": self.role},
            summary=summary,
            artifacts=artifacts,
            risks=risks,
            next_steps=next_steps,
        )


def _summary(role: str, names: list[str], title: str, statuses: list[str]) -> str:
    """One sentence: what the specialist wrote and where its checks stand."""
    counts = {status: statuses.count(status) for status in (DISCUSSED, OPEN, SPECIFIED)}
    standing = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    wrote = f"{role.capitalize()} specialist wrote {', '.join(names)} for “{title}”"
    if counts[SPECIFIED]:
        return f"{wrote} ({standing}); the implementation itself is left to a coding agent."
    return f"{wrote} ({standing or 'no acceptance criteria'})."


def _factory(name: str) -> SpecialistAgent:
    try:
        return SpecialistAgent(name)
    except ValueError as exc:
        raise AgentError(f"builtin:{name}: {exc}", retryable=False) from None


def register_specialists(registry: AgentRegistry) -> None:
    """Make ``builtin:<role>`` resolve to the builtin specialist of that role.

    Exact names already registered (``builtin:noop``, ``builtin:sleep``, ``builtin:fail``) keep
    precedence; ``builtin:<anything else>`` fails the step (not retryable) naming the roles.
    """
    registry.register_kind("builtin", _factory)
