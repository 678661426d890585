"""The QA document: a test plan with one test per requirement and per acceptance criterion."""

import re

from missionctl.agents.specialists.brief import Brief
from missionctl.agents.specialists.markdown import bullets, checklist, section, table

LEVELS: tuple[tuple[str, str], ...] = (
    (r"p95|latency|\bms\b|load|throughput|under \d", "load"),
    (r"wcag|keyboard|accessib|lighthouse|contrast", "accessibility"),
    (r"\b403\b|unauthori|authori[sz]|owasp|rate limit|secret|token", "security"),
    (r"migration|rollback|deploy|production|health|runbook|restore", "operational"),
    (r"end to end|end-to-end|journey|works|user story|screen", "end-to-end"),
)
ENVIRONMENTS = (
    "CI: every push, on a fresh database",
    "Staging: production-like data volume for load and end-to-end tests",
    "Production: smoke test after each deploy",
)
EXIT_CRITERIA = (
    "Every must requirement has a passing test",
    "No open critical or high defect",
    "Load tests meet the stated targets",
    "No flaky test quarantined without an issue",
)

TestCase = tuple[str, str, str, str]


def level(text: str) -> str:
    """The test level a criterion calls for (load, security, end-to-end, …)."""
    return next((name for pattern, name in LEVELS if re.search(pattern, text, re.I)), "integration")


def test_cases(brief: Brief) -> list[TestCase]:
    """``(id, traces, expected result, level)``: one per requirement and per criterion."""
    cases = [
        (
            f"T-{r.key}",
            f"{r.key}; tasks {', '.join(brief.traced_by(r.key)) or '—'}",
            r.text,
            level(r.text),
        )
        for r in brief.requirements
    ]
    for task in brief.tasks:
        traces = ", ".join([task.key, *task.traces])
        cases += [
            (f"T-{task.key}-{n}", traces, c, level(c)) for n, c in enumerate(task.acceptance, 1)
        ]
    if not brief.tasks:
        own = brief.task
        cases += [
            (f"T-{own.key}-{n}", own.key, c, level(c)) for n, c in enumerate(own.acceptance, 1)
        ]
    return cases


def write_test_plan(brief: Brief) -> list[str]:
    """``test-plan.md``: strategy, test cases traced by key, coverage, environments, exit."""
    cases = test_cases(brief)
    levels = sorted({c[3] for c in cases})
    strategy = [
        f"{name}: {sum(1 for c in cases if c[3] == name)} planned test(s)" for name in levels
    ]
    untested = [r.key for r in brief.requirements if not any(c[1].startswith(r.key) for c in cases)]
    coverage = (
        f"{len(brief.requirements)} requirement(s), {len(cases)} planned test case(s); "
        f"requirements without a planned test: {', '.join(untested) or 'none'}."
    )
    return [
        *section("Scope", [f"Tests for the {brief.subject}: {brief.goal}"]),
        *section("Strategy", bullets(strategy)),
        *section("Test cases", table(["ID", "Traces", "Expected result", "Level"], cases)),
        *section("Coverage", [coverage]),
        *section("Environments", bullets(ENVIRONMENTS)),
        *section("Exit criteria", checklist(EXIT_CRITERIA)),
    ]
