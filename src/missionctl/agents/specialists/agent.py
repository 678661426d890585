"""``SpecialistAgent``: a builtin, model-free specialist that writes a task's documents."""

from typing import get_args

from missionctl.agents.base import AgentError, AgentResult, ArtifactOutput, StepContext
from missionctl.agents.registry import AgentRegistry
from missionctl.agents.specialists.brief import Brief, build_brief
from missionctl.agents.specialists.catalog import Writer, findings, plan_documents
from missionctl.agents.specialists.markdown import section
from missionctl.schemas.plans import SpecialistRole

SPECIALIST_ROLES: tuple[str, ...] = get_args(SpecialistRole)
MEDIA_TYPE = "text/markdown"


def render_document(brief: Brief, name: str, writer: Writer, *, primary: bool) -> str:
    """One document's Markdown.

    It starts with a title naming the document and the mission, a line naming the task and
    role, and a line saying the local engine produced it (builtin specialist, no model); then
    the writer's body; the primary document ends with the task's acceptance criteria.
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
    ]
    lines += writer.render(brief, name)
    if primary and task.acceptance:
        status = _check_status(brief)
        tick = "x" if status == "addressed" else " "
        checks = [f"- [{tick}] {c} — {status}" for c in task.acceptance]
        lines += section("Checks for this task", checks)
    return "\n".join(lines).rstrip() + "\n"


def _check_status(brief: Brief) -> str:
    """``addressed`` when a document is the deliverable; ``specified`` when work must follow."""
    return "specified" if brief.task.writes else "addressed"


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
            check is ``{criterion, status, document}`` (``addressed`` for read-tier tasks,
            ``specified`` when code or infrastructure must still be changed); and the risks and
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
        artifacts = []
        for n, (name, writer) in enumerate(documents):
            text = render_document(brief, name, writer, primary=n == 0)
            artifacts.append(ArtifactOutput(name, "markdown", MEDIA_TYPE, text.encode("utf-8")))
            step.log(f"wrote {name} ({text.count(chr(10))} lines)")
        risks, next_steps = findings(brief)
        names = [a.name for a in artifacts]
        status = _check_status(brief)
        checks = [
            {"criterion": c, "status": status, "document": names[0]} for c in brief.task.acceptance
        ]
        summary = (
            f"{self.role.capitalize()} specialist wrote {', '.join(names)} for “{brief.task.title}”"
            f" ({len(checks)} acceptance criteria {status})"
            + (
                "; the implementation itself is left to a coding agent."
                if status == "specified"
                else "."
            )
        )
        return AgentResult(
            outputs={"summary": summary, "documents": names, "checks": checks, "role": self.role},
            summary=summary,
            artifacts=artifacts,
            risks=risks,
            next_steps=next_steps,
        )


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
