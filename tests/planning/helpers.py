"""Shared helpers for the planning tests: the goal fixtures and plan text."""

from pathlib import Path

from missionctl.planning.base import PlanningInput
from missionctl.schemas.plans import PlanDraft

GOALS_FILE = Path(__file__).with_name("goals.txt")

GOALS: list[str] = [
    line.strip()
    for line in GOALS_FILE.read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
"""Twenty goals of many kinds, then the goals of the two product briefs below."""

SEED_000 = PlanningInput(
    title="Codex Mission Control",
    goal=GOALS[20],
    constraints=(
        "Avoid mock demos. Make the MVP real end to end, keep the architecture extensible, "
        "and optimize for a strong judge-facing demo.",
    ),
    repo_context=(
        "Greenfield Next.js application in a hackathon repo. We need a compelling UI, local "
        "persistence, route handlers, and OpenAI-backed planning and execution."
    ),
)
SEED_001 = PlanningInput(
    title="Product Analytics Cockpit",
    goal=GOALS[21],
    constraints=(
        "Focus on high-signal product metrics, anomaly detection narratives, and a crisp "
        "judge-facing dashboard. Avoid overbuilding data infrastructure.",
    ),
    repo_context=(
        "Greenfield Next.js app with API routes, local persistence, chart-friendly "
        "architecture, and room for future event ingestion pipelines."
    ),
)


def mission(goal: str, *constraints: str, repo_context: str = "") -> PlanningInput:
    """A planning input whose title is the goal's start."""
    return PlanningInput(
        title=goal[:80], goal=goal, constraints=constraints, repo_context=repo_context
    )


def plan_text(draft: PlanDraft) -> str:
    """Requirements and tasks as one lower-case text, for "does the plan mention …"."""
    parts = [r.text for r in draft.requirements]
    for task in draft.tasks:
        parts.extend([task.title, task.description, *task.acceptance, *task.expected_artifacts])
    return "\n".join(parts).lower()
