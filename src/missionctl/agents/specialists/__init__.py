"""Builtin specialists: deterministic, model-free agents that write a task's documents.

With no model configured, a mission's plan runs on these (``builtin:<role>``). Each specialist
reads the mission, its plan, its own task and its upstream results and writes Markdown
specifications — scope, architecture, data model, API contract, screens, risk review, test plan,
delivery checklist, … — named after the task's expected artifacts. A specification says what to
build and how to verify it; it never says that anything was built, tested or deployed, prints no
empty section and ticks no box (docs/specialists.md). Code and infrastructure changes are
specified, not made: those tasks say so and name the hand-off.
"""

from missionctl.agents.specialists.agent import (
    SPECIALIST_ROLES,
    SpecialistAgent,
    register_specialists,
    render_document,
)
from missionctl.agents.specialists.brief import Brief, analyse_goal, build_brief
from missionctl.agents.specialists.catalog import plan_documents

__all__ = [
    "SPECIALIST_ROLES",
    "Brief",
    "SpecialistAgent",
    "analyse_goal",
    "build_brief",
    "plan_documents",
    "register_specialists",
    "render_document",
]
