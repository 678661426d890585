"""The builtin specialists' documents say only what is true.

A specialist writes a specification of what to build, without a model and without building
anything. So its documents open by saying so, print no heading without content, tick no box
(Mission Control checked none of those facts), and never claim that something was built,
tested, deployed, measured or verified. Quoted plan text (requirements, acceptance criteria,
decisions, risks) is the plan's own wording and is not the specialist's claim: it is taken out
before the wording is read.
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest

from missionctl.agents.base import AgentResult
from missionctl.agents.specialists import SpecialistAgent
from missionctl.agents.specialists.catalog import ROLE_WRITERS
from missionctl.agents.specialists.traits import THREATS
from tests.agents.test_specialists import context, mission_of, plan_of, run_plan

# Goals of varied kinds, none of them from the planner's fixtures.
GOALS = [
    "A chess engine in Rust that plays at 2000 Elo over UCI",
    "A mobile app for a yoga studio where members book classes and get push reminders",
    "Migrate our customer database from Oracle to PostgreSQL with no data loss",
    "A command-line tool that renames photos by their EXIF date",
    "A Kubernetes operator that rotates TLS certificates for ingress resources",
    "A Python library for parsing ICS calendar files",
    "Predict which subscribers will churn next month from usage data, retrained weekly",
    "A browser extension that blocks trackers and shows a count per site",
    "A web dashboard with login where a sales team tracks deals and sees monthly revenue",
]

# Sentences that say the work happened. A specification says what to build and how to check it.
CLAIM = re.compile(
    r"\b(?:(?:was|were|is|are|has been|have been|been) "
    r"(?:built|implemented|deployed|delivered|tested|verified|measured|released|shipped|done)"
    r"|implemented|deployed|delivered|passes|passed|verified|shipped|done:)",
    re.I,
)
HEADING = re.compile(r"^#{1,6} ")
PLACEHOLDER = re.compile(r"^_None\b.*_$")
SPEC_LINE = re.compile(
    r"^_Written by the builtin (?P<role>[a-z]+) specialist \(no model\): a specification of "
    r"what to build and how to verify it, not the code or its results\._$"
)


def empty_sections(text: str) -> list[str]:
    """Headings followed directly by another heading or the end, or by a ``_None…_`` only."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if HEADING.match(line) and not in_fence(lines, i)]
    empty = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        body = [line.strip() for line in lines[start + 1 : end] if line.strip()]
        if not body or all(PLACEHOLDER.match(line) for line in body):
            empty.append(lines[start])
    return empty


def in_fence(lines: list[str], index: int) -> bool:
    """Whether line ``index`` lies inside a fenced code block."""
    return sum(line.startswith("```") for line in lines[:index]) % 2 == 1


def quoted_texts(plan: dict[str, Any] | None, goal: str) -> list[str]:
    """The plan's and the goal's own phrases, and the typical threats', longest first."""
    found = [goal, *(t.title for t in THREATS), *(t.mitigation for t in THREATS)]

    def walk(value: Any) -> Iterator[str]:
        if isinstance(value, str) and " " in value.strip():
            yield value.strip()
        elif isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    found += walk(plan)
    return sorted(set(found), key=len, reverse=True)


def own_words(text: str, quoted: list[str]) -> str:
    """``text`` without the phrases it quotes from the plan, the goal and the threat table."""
    for phrase in quoted:
        text = re.sub(re.escape(phrase), " ", text, flags=re.I)
    return text


def problems(result: AgentResult, quoted: list[str]) -> list[str]:
    """Everything untrue or empty in the documents of one step."""
    found = []
    for artifact in result.artifacts:
        text = artifact.content.decode()
        lines = text.splitlines()
        where = f"{artifact.name} ({result.outputs['role']})"
        spec = SPEC_LINE.match(lines[2]) if len(lines) > 2 else None
        if not (lines[0].startswith("# ") and spec and spec["role"] == result.outputs["role"]):
            found.append(f"{where}: does not open with the specification line")
        found += [f"{where}: empty section {heading!r}" for heading in empty_sections(text)]
        found += [f"{where}: ticked {line.strip()!r}" for line in lines if "[x]" in line.lower()]
        for line in own_words(text, quoted).splitlines():
            if match := CLAIM.search(line):
                found.append(f"{where}: claims {match.group(0)!r} in {line.strip()!r}")
    return found


@pytest.mark.parametrize("goal", GOALS)
async def test_every_document_of_a_plan_is_a_true_specification(goal: str) -> None:
    results = await run_plan(goal)
    quoted = quoted_texts(plan_of(mission_of(goal)), goal)
    found = [p for result in results.values() for p in problems(result, quoted)]
    assert found == []


def every_writer_inputs(role: str, risk_tier: str) -> dict[str, Any]:
    """Step inputs that ask a role for every document it can write, and a report it cannot."""
    names = [writer.default_name for writer in ROLE_WRITERS[role]] + ["verification-report.md"]
    return {
        "title": f"{role.capitalize()} work",
        "description": "",
        "acceptance": ["Each item is listed with its owner"],
        "expected_artifacts": names,
        "risk_tier": risk_tier,
    }


@pytest.mark.parametrize("goal", [GOALS[0], GOALS[1], GOALS[6]])
@pytest.mark.parametrize("risk_tier", ["read", "write"])
async def test_every_kind_of_document_is_a_true_specification(goal: str, risk_tier: str) -> None:
    mission = mission_of(goal)
    plan = plan_of(mission)
    quoted = [*quoted_texts(plan, goal), "Each item is listed with its owner"]
    found = []
    for role in ROLE_WRITERS:
        inputs = every_writer_inputs(role, risk_tier)
        step = context(f"{role}-work", role, inputs, mission=mission, plan=plan)
        found += problems(await SpecialistAgent(role).run(step), quoted)
    assert found == []


async def test_a_step_without_a_plan_or_criteria_prints_no_empty_outline() -> None:
    inputs = {"title": "Task list", "goal": "Add CSV export", "expected_artifacts": ["tasks.md"]}
    for role in ROLE_WRITERS:
        step = context("tasks", role, inputs, mission=None, plan=None)
        result = await SpecialistAgent(role).run(step)
        assert problems(result, quoted_texts(None, "Add CSV export")) == []
        for artifact in result.artifacts:  # every document says something beyond its header
            assert len(artifact.content.decode().splitlines()) > 8, artifact.name


async def test_quoting_a_criterion_is_not_discussing_it() -> None:
    # The scope lists its task's criteria in a table; that alone states no difference.
    criterion = "Differences from at least two existing libraries are stated"
    inputs = {
        "title": "Survey prior art",
        "goal": "A Python library for parsing ICS calendar files",
        "acceptance": [criterion],
    }
    step = context("prior-art", "product", inputs, mission=None, plan=None)
    result = await SpecialistAgent("product").run(step)
    scope = result.artifacts[0].content.decode()
    assert f"| prior-art | {criterion} |" in scope
    assert f"- [ ] {criterion} — not discussed here; check it by hand" in scope
    assert result.outputs["checks"][0]["status"] == "open"
