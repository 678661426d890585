"""The Markdown of an AI execution pack: ``AGENTS.md`` and one file per task (pure).

Every piece of user or model text (titles, the goal, descriptions, constraints) goes through
:func:`_line` or :func:`_lines`: redacted (``llm.redaction.redact``), then made unable to change
the document's structure (``domain.markdown``). Keys and numbers are the plan's own formats.
Nothing here reads a clock, so the same mission and plan always render the same text.

Where the mission says nothing about something an agent needs (how to run the tests, what is
off limits), the document says so and tells the agent to discover it or ask; it never guesses.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from missionctl.domain.markdown import block, inline, link_text
from missionctl.domain.packs import (
    AGENTS_FILE,
    EVERYWHERE_SEVERITIES,
    MAX_COMMON_SHARE,
    MIN_SHARED_WORDS,
    TASKS_DIR,
    Candidate,
    OrderedTask,
    execution_order,
    relevant_items,
    sentences_mentioning,
    significant_words,
    task_file,
)
from missionctl.llm.redaction import redact
from missionctl.reading import find_technologies
from missionctl.schemas.missions import MissionRead
from missionctl.schemas.plans import (
    REQUIREMENT_HEADINGS,
    PlanDecision,
    PlanRead,
    PlanRisk,
    PlanTask,
)

# Words that make a sentence of the mission's context worth quoting under a heading.
RUN_WORDS = ("test", "tests", "testing", "pytest", "run", "runs", "build", "builds", "lint",
             "make", "ci", "start", "serve", "install", "command", "commands")  # fmt: skip
CONVENTION_WORDS = ("convention", "conventions", "style", "format", "formatter", "lint",
                    "linter", "naming", "layout", "typing", "docstring", "docstrings")  # fmt: skip
OFF_LIMITS_WORDS = ("not", "never", "don't", "avoid", "without", "untouched", "forbidden",
                    "must not", "read-only", "frozen")  # fmt: skip


@dataclass(frozen=True, slots=True)
class TaskEntry:
    """A task in the pack: its number in execution order, its file, and what it is shown with."""

    number: int
    path: str  # e.g. "tasks/01-scope.md"
    task: PlanTask
    phase: str | None
    risks: tuple[PlanRisk, ...]
    decisions: tuple[PlanDecision, ...]

    @property
    def file_name(self) -> str:
        """The file's name inside ``tasks/`` (task files link each other by it)."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def label(self) -> str:
        """``01 · Title``, safe as the text of a link."""
        return f"{self.number:02d} · {link_text(redact(self.task.title))}"


def _line(text: str) -> str:
    return inline(redact(text))


def _lines(text: str) -> str:
    return block(redact(text))


def _bullets(items: Sequence[str], empty: str) -> list[str]:
    return [f"- {item}" for item in items] if items else [empty]


def _planner(source: str) -> str:
    return "the local planner (no model)" if source == "local" else f"the model {_line(source)}"


def render_agents(mission: MissionRead, plan: PlanRead, tasks: Sequence[TaskEntry]) -> str:
    """``AGENTS.md`` of the pack whose task files are ``tasks``, in execution order.

    Its sections: goal, plan summary, constraints, stack, conventions, how to run and test,
    what not to touch, task order (with phases), requirements, risks, and the relevance rule.
    """
    lines = [
        f"# AGENTS.md: {_line(mission.title)}",
        "",
        f"Mission `{mission.id}`, plan version {plan.version} by {_planner(plan.source)}. "
        "Work through the tasks in the order below; each task's file in `tasks/` says what "
        "done means. `plan.json` holds the whole plan as data.",
        "",
        "## Goal",
        "",
        _lines(mission.goal),
        "",
        "## Plan summary",
        "",
        _lines(plan.summary),
        "",
        "## Constraints",
        "",
        *_bullets(
            [_line(c) for c in mission.constraints],
            "The mission states no constraints. Ask the mission owner before assuming any "
            "(versions, platforms, licences, deadlines).",
        ),
        "",
        *_stack_section(mission, plan),
        *_quoted_section(
            "Conventions",
            mission,
            CONVENTION_WORDS,
            "The mission records no coding conventions. Follow those of the existing code (its "
            "linter and formatter settings, its layout); where there is no code yet, ask before "
            "choosing.",
        ),
        *_quoted_section(
            "How to run and test",
            mission,
            RUN_WORDS,
            "The mission does not say how to run or test the project. Discover it from the "
            "repository (README, CI configuration, build files) or ask the mission owner; never "
            "report a command as passing that you did not run.",
        ),
        *_off_limits_section(mission),
        *_order_section(plan, tasks),
        *_requirements_section(plan),
        *_risks_section(plan),
        *_rule_section(),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _stack_section(mission: MissionRead, plan: PlanRead) -> list[str]:
    named = [t.name for t in find_technologies("\n".join((mission.goal, *mission.constraints)))]
    if mission.repo_context.strip():
        context = [
            "Repository context, as the mission states it:",
            "",
            _lines(mission.repo_context),
        ]
    elif named:
        context = [
            f"The mission names its stack: {_line(', '.join(named))}. Treat it as a new project "
            "in that stack, and use nothing in its place."
        ]
    else:
        context = [
            "The mission gives no repository context and names no stack: treat it as a new "
            "project, and confirm the stack with the mission owner before you set one up."
        ]
    choices = [f"- **{_line(d.title)}:** {_line(d.choice)}" for d in plan.decisions]
    if choices:
        choices = ["", "Choices the plan made (check them against the repository):", "", *choices]
    return ["## Stack", "", *context, *choices, ""]


def _quoted_section(title: str, mission: MissionRead, words: Sequence[str], none: str) -> list[str]:
    """A section quoting the mission's sentences that name one of ``words``, or ``none``."""
    found = sentences_mentioning([mission.repo_context, *mission.constraints], words)
    body = ["From the mission:", "", *(f"- {_line(s)}" for s in found)] if found else [none]
    return [f"## {title}", "", *body, ""]


def _off_limits_section(mission: MissionRead) -> list[str]:
    found = sentences_mentioning(mission.constraints, OFF_LIMITS_WORDS)
    stated = (
        ["From the mission's constraints:", "", *(f"- {_line(s)}" for s in found), ""]
        if found
        else [
            "The mission names nothing off limits. Change only what your task's description "
            "and expected artifacts cover; ask before touching anything else (shared "
            "configuration, CI, deployment, data migrations, other people's code).",
            "",
        ]
    )
    always = (
        "- Never write a secret into a file or a commit. Text that looked like one was replaced "
        "by `[REDACTED]` in this pack: ask for the real value where you need it."
    )
    return ["## What not to touch", "", *stated, always, ""]


def _order_section(plan: PlanRead, tasks: Sequence[TaskEntry]) -> list[str]:
    lines = ["## Task order", ""]
    if plan.phases:
        lines += ["Phases:", ""]
        lines += [f"- **{_line(p.name)}:** {_line(p.goal)}" for p in plan.phases]
        lines += ["", "Each task starts once the tasks it depends on are done:", ""]
    for entry in tasks:
        phase = f", phase {_line(entry.phase)}" if entry.phase else ""
        lines.append(f"{entry.number}. [{entry.label}]({entry.path}): {entry.task.role}{phase}")
    return [*lines, ""]


def _requirements_section(plan: PlanRead) -> list[str]:
    """The plan's requirements, features first, then the constraints every task honours."""
    lines = ["## Requirements", ""]
    for kind, heading in REQUIREMENT_HEADINGS.items():
        of_kind = [r for r in plan.requirements if r.kind == kind]
        if of_kind:
            lines += [f"{heading}:", ""]
            lines += [f"- **{r.key}** ({r.priority}): {_line(r.text)}" for r in of_kind]
            lines.append("")
    return lines


def _risk_line(risk: PlanRisk) -> str:
    return (
        f"- **{_line(risk.title)}** (severity {risk.severity}, likelihood {risk.likelihood}): "
        f"{_line(risk.description)} Mitigation: {_line(risk.mitigation)}"
    )


def _risks_section(plan: PlanRead) -> list[str]:
    risks = [_risk_line(r)[2:] for r in plan.risks]
    return ["## Risks", "", *_bullets(risks, "None recorded."), ""]


def _rule_section() -> list[str]:
    severities = " or ".join(sorted(EVERYWHERE_SEVERITIES))
    return [
        "## How this pack was made",
        "",
        "Plans do not link risks and decisions to tasks yet, so each task's file lists: every "
        f"risk of severity {severities}; and every other risk or decision that shares at least "
        f"{MIN_SHARED_WORDS} significant words with the task's title and description (words "
        f"found in more than {MAX_COMMON_SHARE:.0%} of the tasks, such as the product's name, "
        "do not count). This file lists them all.",
        "",
    ]


def render_task(entry: TaskEntry, plan: PlanRead, by_key: dict[str, TaskEntry]) -> str:
    """The file of the task ``entry``; ``by_key`` holds every task's entry, for the links.

    Its sections: title, role and phase, dependencies (linked to their files), description,
    acceptance criteria, expected artifacts, traced requirements (key and text), the plan's
    constraints (every task honours them, traced or not), and the decisions and risks ``entry``
    selected (``domain.packs.relevant_items``).
    """
    task = entry.task
    phase = f" · phase {_line(entry.phase)}" if entry.phase else ""
    requirements = {r.key: r for r in plan.requirements}
    traced = [requirements[k] for k in task.traces if k in requirements]
    lines = [
        f"# {entry.label}",
        "",
        f"Task `{task.key}` · role **{task.role}**{phase} · risk tier {task.risk_tier}",
        "",
        "## Depends on",
        "",
        *_bullets(
            [f"[{by_key[k].label}]({by_key[k].file_name})" for k in task.depends_on if k in by_key],
            "Nothing: it can start first.",
        ),
        "",
        "## Description",
        "",
        _lines(task.description),
        "",
        "## Acceptance criteria",
        "",
        *(f"- [ ] {_line(a)}" for a in task.acceptance),
        "",
        "## Expected artifacts",
        "",
        *_bullets([_line(a) for a in task.expected_artifacts], "None named."),
        "",
        "## Requirements",
        "",
        *_bullets(
            [f"**{r.key}** ({r.priority}): {_line(r.text)}" for r in traced],
            "This task traces no requirement.",
        ),
        "",
        "## Constraints every task honours",
        "",
        *_bullets(
            [f"**{r.key}**: {_line(r.text)}" for r in plan.requirements if r.kind == "constraint"],
            "The plan sets none.",
        ),
        "",
        *_task_context(entry),
        f"Back to [{AGENTS_FILE}](../{AGENTS_FILE}).",
    ]
    return "\n".join(lines).rstrip() + "\n"


def _task_context(entry: TaskEntry) -> list[str]:
    decisions = [f"**{_line(d.title)}:** {_line(d.choice)}" for d in entry.decisions]
    risks = [_risk_line(r)[2:] for r in entry.risks]
    return [
        "## Relevant decisions",
        "",
        *_bullets(decisions, "None selected for this task (see AGENTS.md)."),
        "",
        "## Relevant risks",
        "",
        *_bullets(risks, "None selected for this task (see AGENTS.md)."),
        "",
    ]


def task_entries(plan: PlanRead) -> list[TaskEntry]:
    """The plan's tasks in execution order, each with its file and relevant risks and decisions."""
    phase_of = {key: n for n, phase in enumerate(plan.phases) for key in phase.task_keys}
    tasks = {task.key: task for task in plan.tasks}
    order = execution_order(
        [OrderedTask(t.key, t.depends_on, phase_of.get(t.key)) for t in plan.tasks]
    )
    words = dict(
        zip(
            [t.key for t in plan.tasks],
            significant_words([f"{t.title}. {t.description}" for t in plan.tasks]),
            strict=True,
        )
    )
    risks = [Candidate(f"{r.title}. {r.description}", r.severity) for r in plan.risks]
    decisions = [Candidate(f"{d.title}. {d.choice}") for d in plan.decisions]
    entries = []
    for number, key in enumerate(order, 1):
        entries.append(
            TaskEntry(
                number=number,
                path=task_file(number, key, count=len(order)),
                task=tasks[key],
                phase=plan.phases[phase_of[key]].name if key in phase_of else None,
                risks=tuple(plan.risks[n] for n in relevant_items(key, words[key], risks)),
                decisions=tuple(
                    plan.decisions[n] for n in relevant_items(key, words[key], decisions)
                ),
            )
        )
    return entries


__all__ = ["TASKS_DIR", "TaskEntry", "render_agents", "render_task", "task_entries"]
