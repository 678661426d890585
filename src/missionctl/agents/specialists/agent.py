"""``SpecialistAgent``: a builtin, model-free specialist that writes a task's documents."""

from collections.abc import Sequence
from typing import get_args

from missionctl.agents.base import AgentError, AgentResult, ArtifactOutput, StepContext
from missionctl.agents.registry import AgentRegistry
from missionctl.agents.specialists.brief import Brief, build_brief
from missionctl.agents.specialists.catalog import Writer, findings, plan_documents
from missionctl.agents.specialists.coverage import addresses
from missionctl.agents.specialists.markdown import section
from missionctl.schemas.plans import SpecialistRole

SPECIALIST_ROLES: tuple[str, ...] = get_args(SpecialistRole)
MEDIA_TYPE = "text/markdown"


def render_document(brief: Brief, name: str, writer: Writer) -> str:
    """One document's Markdown, without the task's checks.

    It starts with a title naming the document and the mission, a line naming the task and
    role, and a line saying the local engine produced it (builtin specialist, no model); then
    the writer's body.
    """
    task = brief.task
    lines = [
        f"# {writer.title} — {brief.mission_title}",
        "",
        f"**Task:** `{task.key}` {task.title} · **Role:** {brief.role}",
        "",
        f"_Produced by the local engine (builtin {brief.role} specialist, no model), "
        f"deterministically from {brief.provenance}._",
        "",
        *writer.render(brief, name),
    ]
    return "\n".join(lines).rstrip() + "\n"


def checks_section(acceptance: Sequence[str], statuses: Sequence[str]) -> str:
    """The "Checks for this task" section the primary document ends with.

    A criterion is ticked only when its status is :data:`ADDRESSED`.
    """
    checks = [
        f"- [{'x' if status == ADDRESSED else ' '}] {criterion} — {_STATUS_WORDS[status]}"
        for criterion, status in zip(acceptance, statuses, strict=True)
    ]
    return "\n".join(section("Checks for this task", checks)).rstrip() + "\n"


ADDRESSED = "addressed"
"""The document is the deliverable and speaks to the criterion."""
OPEN = "open"
"""The document is the deliverable but does not speak to the criterion: a person checks it."""
SPECIFIED = "specified"
"""Code or infrastructure must still change: the document specifies the work, it is not done."""

_STATUS_WORDS = {
    ADDRESSED: ADDRESSED,
    OPEN: "open: this document does not address it; check it by hand",
    SPECIFIED: SPECIFIED,
}


def check_statuses(brief: Brief, body: str) -> list[str]:
    """The status of each acceptance criterion of the task, given the document's ``body``.

    A task that changes code or infrastructure only specifies its work; otherwise a criterion
    is addressed when the body speaks to it (:func:`~.coverage.addresses`), and open if not.
    """
    if brief.task.writes:
        return [SPECIFIED for _ in brief.task.acceptance]
    return [ADDRESSED if addresses(body, c) else OPEN for c in brief.task.acceptance]


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
            check is ``{criterion, status, document}`` (``addressed`` when the document speaks to
            it, ``open`` when it does not, ``specified`` when code or infrastructure must
            still be changed); and the risks and
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
    counts = {status: statuses.count(status) for status in (ADDRESSED, OPEN, SPECIFIED)}
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
