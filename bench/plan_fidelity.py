"""Fidelity of the local planner's plans to what the user said, on tuning and held-out goals.

Plans every goal of the two halves that tests/planning/goal_sets.py defines (tuning:
tests/planning/goals.txt and bench/plan_quality_goals.txt; held-out:
bench/plan_fidelity_goals.txt) once with `LocalPlanner`, judges each plan with
tests/planning/fidelity.py and prints JSON:

- `sets.tuning` and `sets.held_out`: the files, then the totals of each half:
  `clause_coverage` (kept / total clauses of the goals and constraints, pooled), `figures_kept`
  (figures and named standards a requirement repeats verbatim, pooled), `stack_contradictions`
  (plan artifacts in the convention of a stack the mission did not name), `repeated_templates`
  (sentence templates shared by more than two requirements of one plan) and
  `phrase_made_names` (task keys and file names made of more than three words of the goal),
  with the goals affected; the held-out half also by kind of software;
- `gap`: tuning minus held-out, in points for the shares and per goal for the counts;
- `targets`: the issue's targets for the held-out half, each with the value and `met`;
- `goals`: per goal of each half, the dropped clauses, missed figures, contradictions,
  repeated templates and phrase-made names.

Goals the planner answers with questions instead of a plan are listed under `asked`.

Run: `.venv/bin/python bench/plan_fidelity.py [--goal LINE] [--summary]`; `--goal` judges one
goal line (` | constraint: …` fields allowed), `--summary` leaves out the per-goal entries.
"""

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkers live with the planner's tests

from tests.planning.fidelity import Fidelity, judge_fidelity  # noqa: E402
from tests.planning.goal_sets import (  # noqa: E402
    HELD_OUT_FILE,
    HELD_OUT_KINDS,
    TUNING_FILES,
    GoalLine,
    held_out_lines,
    parse_goal_line,
    tuning_missions,
)

from missionctl.planning import LocalPlanner  # noqa: E402
from missionctl.planning.base import ClarificationNeeded  # noqa: E402

TARGET_COVERAGE = 0.95
TARGET_GAP_POINTS = 5.0
COUNTS = ("stack_contradictions", "repeated_templates", "phrase_made_names")


async def judge_line(planner: LocalPlanner, line: GoalLine) -> dict[str, Any]:
    """One goal's entry: its fidelity figures, or the planner's questions (``asked``)."""
    target = line.mission
    head = {"goal": target.goal, **({"kind": line.kind} if line.kind else {})}
    try:
        result = await planner.plan(target)
    except ClarificationNeeded as asked:
        return {**head, "asked": asked.reason}
    return {**head, **entry_figures(judge_fidelity(result.draft, target))}


def entry_figures(fidelity: Fidelity) -> dict[str, Any]:
    """The per-goal figures of one verdict."""
    found = asdict(fidelity)
    return {
        "clauses": len(fidelity.clauses),
        "clauses_kept": len(fidelity.clauses) - len(fidelity.dropped_clauses),
        "dropped_clauses": found["dropped_clauses"],
        "figures": found["figures"],
        "missed_figures": found["missed_figures"],
        "named_ecosystems": found["named_ecosystems"],
        "stack_contradictions": found["contradictions"],
        "repeated_templates": [
            {"template": t, "requirements": n} for t, n in found["repeated_templates"]
        ],
        "phrase_made_names": found["phrase_made_names"],
    }


def share(kept: int, total: int) -> float:
    """``kept / total`` rounded to 0.001; 1.0 when there is nothing to keep."""
    return round(kept / total, 3) if total else 1.0


def set_totals(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The pooled figures of one half (goals that were asked about left out)."""
    planned = [e for e in entries if "asked" not in e]
    clauses = sum(e["clauses"] for e in planned)
    kept = sum(e["clauses_kept"] for e in planned)
    wanted = sum(len(e["figures"]) for e in planned)
    missed = sum(len(e["missed_figures"]) for e in planned)
    totals: dict[str, Any] = {
        "goals": len(entries),
        "planned": len(planned),
        "asked_instead_of_planning": len(entries) - len(planned),
        "clause_coverage": share(kept, clauses),
        "clauses": clauses,
        "clauses_kept": kept,
        "goals_fully_covered": sum(not e["dropped_clauses"] for e in planned),
        "figures_kept": share(wanted - missed, wanted),
        "figures": wanted,
        "figures_missed": missed,
        "goals_naming_a_language": sum(bool(e["named_ecosystems"]) for e in planned),
        "requirements_in_repeated_templates": sum(
            t["requirements"] for e in planned for t in e["repeated_templates"]
        ),
    }
    for name in COUNTS:
        totals[name] = sum(len(e[name]) for e in planned)
        totals[f"goals_with_{name}"] = sum(bool(e[name]) for e in planned)
    return totals


def by_kind(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The main figures of the held-out half for each kind of software."""
    rows: dict[str, dict[str, Any]] = {}
    for kind in HELD_OUT_KINDS:
        total = set_totals([e for e in entries if e.get("kind") == kind])
        rows[kind] = {
            key: total[key] for key in ("planned", "clause_coverage", "figures_kept", *COUNTS)
        }
    return rows


def gap(tuning: dict[str, Any], held_out: dict[str, Any]) -> dict[str, float]:
    """Tuning minus held-out: points for the shares, per planned goal for the counts."""
    gaps = {
        f"{name}_points": round(100 * (tuning[name] - held_out[name]), 1)
        for name in ("clause_coverage", "figures_kept")
    }
    for name in COUNTS:
        per_goal = [half[name] / max(1, half["planned"]) for half in (tuning, held_out)]
        gaps[f"{name}_per_goal"] = round(per_goal[0] - per_goal[1], 2) + 0.0  # no "-0.0"
    return gaps


def targets(held_out: dict[str, Any], gaps: dict[str, float]) -> list[dict[str, Any]]:
    """The issue's targets for the held-out half, each with its value and whether it is met."""
    rows: list[tuple[str, str, float, bool]] = [
        (
            "held_out.clause_coverage",
            f">= {TARGET_COVERAGE}",
            held_out["clause_coverage"],
            held_out["clause_coverage"] >= TARGET_COVERAGE,
        ),
        *((f"held_out.{n}", "0", held_out[n], held_out[n] == 0) for n in COUNTS),
        *(
            (f"gap.{n}", f"within ±{TARGET_GAP_POINTS}", gaps[n], abs(gaps[n]) <= TARGET_GAP_POINTS)
            for n in ("clause_coverage_points", "figures_kept_points")
        ),
    ]
    return [{"name": n, "target": t, "value": v, "met": m} for n, t, v, m in rows]


async def measure(halves: dict[str, list[GoalLine]], details: bool) -> dict[str, Any]:
    """Plan and judge every goal of each half; the whole report."""
    planner = LocalPlanner()
    entries = {
        name: [await judge_line(planner, line) for line in lines] for name, lines in halves.items()
    }
    totals = {name: set_totals(found) for name, found in entries.items()}
    report: dict[str, Any] = {"sets": {}}
    files = {"tuning": [str(f.relative_to(ROOT)) for f in TUNING_FILES]}
    files["held_out"] = [str(HELD_OUT_FILE.relative_to(ROOT))]
    for name, total in totals.items():
        report["sets"][name] = {"files": files.get(name, ["--goal"]), "totals": total}
    if "held_out" in entries:
        report["sets"]["held_out"]["by_kind"] = by_kind(entries["held_out"])
    if {"tuning", "held_out"} <= totals.keys():
        report["gap"] = gap(totals["tuning"], totals["held_out"])
        report["targets"] = targets(totals["held_out"], report["gap"])
    report["asked"] = [e for found in entries.values() for e in found if "asked" in e]
    if details:
        report["goals"] = {
            name: [e for e in found if "asked" not in e] for name, found in entries.items()
        }
    return report


def main() -> None:
    """Parse the arguments, measure, print the report as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--goal", help="judge this goal line only (may carry ' | field: …' parts)")
    parser.add_argument("--summary", action="store_true", help="leave out the per-goal entries")
    args = parser.parse_args()
    if args.goal:
        halves = {"goal": [parse_goal_line(args.goal)]}
    else:
        halves = {
            "tuning": [GoalLine(m) for m in tuning_missions()],
            "held_out": held_out_lines(),
        }
    report = asyncio.run(measure(halves, details=not args.summary))
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
