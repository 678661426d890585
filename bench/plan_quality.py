"""Quality and speed of the local planner's plans, judged by tests/planning/quality.py.

Plans the goals of tests/planning/goals.txt (the two product briefs with their constraints
and repository context, as tests/planning/helpers.py defines them) and of
bench/plan_quality_goals.txt with `LocalPlanner`, `--repeat` times each, and prints JSON:

- `goals`: per goal, the kind of software the planner detected, the domain-noun coverage and
  the missing nouns, stack leaks, duplicate artifacts, near-duplicate risks and requirements,
  the grammar-slip count with examples, and the planning time (p50 and p95 in milliseconds);
- `totals`: mean, min and pooled noun coverage, the counts of every finding, and the planning
  p50 and p95 over all runs;
- `targets`: 0 leaks, 0 duplicate artifacts, at least 90 % of the goals' domain nouns covered
  (pooled), and every goal's planning p50 under 100 ms, each with `met`;
- `worst`: the ten worst examples of each checker;
- `fidelity` (without `--goal`): the figures of bench/plan_fidelity.py for the tuning and the
  held-out goals apart (clause coverage, figures kept verbatim, stack contradictions, repeated
  sentence templates, phrase-made names) and its targets.

Run: `.venv/bin/python bench/plan_quality.py [--goal TEXT] [--repeat N]`. A goal line may carry
` | constraint: TEXT` and ` | repo_context: TEXT` fields (see bench/plan_quality_goals.txt).
"""

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from itertools import zip_longest
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the oracle lives with the planner's tests

from tests.planning.goal_sets import (  # noqa: E402
    GoalLine,
    held_out_lines,
    parse_goal_line,
    tuning_missions,
)
from tests.planning.quality import PlanQuality, judge  # noqa: E402

from missionctl.planning import LocalPlanner, PlanningInput  # noqa: E402
from missionctl.planning.base import ClarificationNeeded, PlannerResult  # noqa: E402
from missionctl.planning.local import detect_kind  # noqa: E402

EXAMPLES = 3
WORST = 10
TARGET_COVERAGE = 0.90
TARGET_P50_MS = 100.0


def parse_mission(line: str) -> PlanningInput:
    """A mission from ``goal | constraint: … | repo_context: …`` (a ``kind:`` tag is ignored).

    Raises:
        SystemExit: the line has a field ``tests/planning/goal_sets.py`` does not know.
    """
    try:
        return parse_goal_line(line).mission
    except ValueError as error:
        raise SystemExit(str(error)) from error


def all_missions() -> list[PlanningInput]:
    """The fixture goals (the seeds with their context), then this benchmark's own: the tuning
    half of tests/planning/goal_sets.py."""
    return tuning_missions()


async def plan_timed(
    target: PlanningInput, repeat: int
) -> tuple[PlanQuality | ClarificationNeeded, list[float]]:
    """The plan's verdict (or the planner's questions) and the milliseconds of each of
    ``repeat`` plannings."""
    planner = LocalPlanner()
    times: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            result: PlannerResult | ClarificationNeeded = await planner.plan(target)
        except ClarificationNeeded as asked:
            result = asked
        times.append((time.perf_counter() - started) * 1000)
    return (
        result if isinstance(result, ClarificationNeeded) else judge(result.draft, target)
    ), times


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile of ``values`` (nearest rank), rounded to 0.01."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return round(ordered[index], 2)


def goal_figures(target: PlanningInput, quality: PlanQuality, times: list[float]) -> dict[str, Any]:
    """One goal's entry of the report."""
    figures = asdict(quality)
    slips = figures.pop("grammar_slips")
    return {
        "goal": target.goal,
        "kind": detect_kind(target).kind.key,
        **({"constraints": list(target.constraints)} if target.constraints else {}),
        **({"repo_context": target.repo_context} if target.repo_context else {}),
        **figures,
        "noun_coverage": round(quality.noun_coverage, 3),
        "grammar_slips": len(slips),
        "grammar_examples": slips[:EXAMPLES],
        "plan_ms_p50": round(statistics.median(times), 2),
        "plan_ms_p95": percentile(times, 0.95),
    }


def totals(entries: list[dict[str, Any]], all_times: list[float]) -> dict[str, Any]:
    """The figures over every goal."""
    shares = [e["noun_coverage"] for e in entries]
    nouns = sum(len(e["nouns"]) for e in entries)
    missing = sum(len(e["missing_nouns"]) for e in entries)
    return {
        "goals": len(entries),
        "noun_coverage_mean": round(statistics.fmean(shares), 3),
        "noun_coverage_min": min(shares),
        "noun_coverage_pooled": round((nouns - missing) / nouns, 3) if nouns else 1.0,
        "domain_nouns": nouns,
        "missing_nouns": missing,
        "leaks": sum(len(e["leaks"]) for e in entries),
        "duplicate_artifacts": sum(len(e["duplicate_artifacts"]) for e in entries),
        "near_duplicate_risks": sum(len(e["near_duplicate_risks"]) for e in entries),
        "near_duplicate_requirements": sum(len(e["near_duplicate_requirements"]) for e in entries),
        "grammar_slips": sum(e["grammar_slips"] for e in entries),
        "plan_ms_p50": round(statistics.median(all_times), 2),
        "plan_ms_p95": percentile(all_times, 0.95),
        "slowest_goal_plan_ms_p50": max(e["plan_ms_p50"] for e in entries),
    }


def targets(total: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the measured value and whether it is met."""
    rows = [
        ("leaks", "0", total["leaks"], total["leaks"] == 0),
        (
            "duplicate_artifacts",
            "0",
            total["duplicate_artifacts"],
            total["duplicate_artifacts"] == 0,
        ),
        (
            "noun_coverage_pooled",
            f">= {TARGET_COVERAGE}",
            total["noun_coverage_pooled"],
            total["noun_coverage_pooled"] >= TARGET_COVERAGE,
        ),
        (
            "slowest_goal_plan_ms_p50",
            f"< {TARGET_P50_MS}",
            total["slowest_goal_plan_ms_p50"],
            total["slowest_goal_plan_ms_p50"] < TARGET_P50_MS,
        ),
    ]
    return [{"name": n, "target": t, "value": v, "met": m} for n, t, v, m in rows]


def worst(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The ten worst examples of each checker.

    Goals take turns, the one with the most findings first, so the examples show ten goals'
    problems rather than one goal's ten.
    """

    def findings(key: str, items: Callable[[dict[str, Any]], list[Any]]) -> list[Any]:
        ranked = sorted(entries, key=lambda e: len(items(e)), reverse=True)
        turns = zip_longest(*(items(e) for e in ranked))
        return [
            {"goal": e["goal"][:80], key: item}
            for turn in turns
            for e, item in zip(ranked, turn, strict=True)
            if item is not None
        ][:WORST]

    by_coverage = sorted(entries, key=lambda e: e["noun_coverage"])[:WORST]
    slowest = sorted(entries, key=lambda e: e["plan_ms_p50"], reverse=True)[:WORST]
    return {
        "noun_coverage": [
            {"goal": e["goal"][:80], "share": e["noun_coverage"], "missing": e["missing_nouns"]}
            for e in by_coverage
            if e["missing_nouns"]
        ],
        "leaks": findings("leak", lambda e: e["leaks"]),
        "duplicate_artifacts": findings("artifact", lambda e: e["duplicate_artifacts"]),
        "near_duplicate_risks": findings("pair", lambda e: e["near_duplicate_risks"]),
        "near_duplicate_requirements": findings("pair", lambda e: e["near_duplicate_requirements"]),
        "grammar_slips": findings("slip", lambda e: e["all_slips"]),
        "plan_time": [{"goal": e["goal"][:80], "p50_ms": e["plan_ms_p50"]} for e in slowest],
    }


async def measure(missions: list[PlanningInput], repeat: int) -> dict[str, Any]:
    """Plan and judge every mission; the whole report."""
    await LocalPlanner().plan(missions[0])  # warm-up: first-use caches are not planning time
    entries: list[dict[str, Any]] = []
    all_times: list[float] = []
    asked: list[dict[str, Any]] = []
    for target in missions:
        outcome, times = await plan_timed(target, repeat)
        all_times.extend(times)
        if isinstance(outcome, ClarificationNeeded):  # judged by the questions, not a plan
            asked.append(
                {
                    "goal": target.goal,
                    "reason": outcome.reason,
                    "questions": list(outcome.questions),
                }
            )
            continue
        entries.append({**goal_figures(target, outcome, times), "all_slips": outcome.grammar_slips})
    total = {**totals(entries, all_times), "asked_instead_of_planning": len(asked)}
    report = {
        "repeat": repeat,
        "totals": total,
        "targets": targets(total),
        "worst": worst(entries),
        "goals": entries,
        "asked": asked,
    }
    for entry in entries:
        del entry["all_slips"]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--goal", help="judge this goal only (may carry ' | field: …' parts)")
    parser.add_argument("--repeat", type=int, default=20, help="plannings per goal (default 20)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    missions = [parse_mission(args.goal)] if args.goal else all_missions()
    report = asyncio.run(measure(missions, args.repeat))
    if not args.goal:
        report["fidelity"] = asyncio.run(fidelity_summary())
    print(json.dumps(report, indent=2, ensure_ascii=False))


async def fidelity_summary() -> dict[str, Any]:
    """bench/plan_fidelity.py's figures for the tuning and the held-out halves, and its targets
    (clause coverage, figures kept, stack contradictions, repeated templates, phrase-made
    names), without the per-goal entries: both benches print them, one planning each."""
    sys.path.insert(0, str(Path(__file__).parent))
    from plan_fidelity import measure as measure_fidelity

    halves = {"tuning": [GoalLine(m) for m in tuning_missions()], "held_out": held_out_lines()}
    return await measure_fidelity(halves, details=False)


if __name__ == "__main__":
    main()
