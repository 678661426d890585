"""Backtest of the step-risk estimates on the demo history: the last two weeks, held out.

Run: ``PYTHONPATH=src:. .venv/bin/python bench/prediction_backtest.py [--days 90] [--seed 42]``
(``--home DIR``: a home ``missionctl demo seed`` already wrote, instead of seeding one).

It writes the demo history (``missionctl demo seed --days DAYS --seed SEED``, a fixed seed, in
a temporary home), lets the step-risk follower count every attempt, then estimates each
attempt that ended in the last 14 days from the attempts that ended before them only (the
estimate as of the first held-out day: trained on the earlier weeks), and compares with what
happened. It prints, as JSON, for the chance of failing:

- the held-out attempts and the base rate (the share that failed);
- the estimator's AUC (the chance that a failed attempt was given a higher chance than one
  that succeeded; ties count half), precision at 10 (of the 10 attempts given the highest
  chance, the share that failed) and Brier score (mean squared error of the chance);
- the same for two naive baselines: every attempt gets the overall failure rate before the
  held-out weeks (AUC 0.5 by construction), and every attempt gets its step's raw failure rate
  (no shrinking towards its agent, no recent trend).
"""

import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

try:  # imported as bench.prediction_backtest, or run as a script from bench/
    from bench._backtest import run
except ModuleNotFoundError:
    from _backtest import run  # type: ignore[no-redef]

from missionctl.domain.prediction import HISTORY_DAYS
from missionctl.repositories import prediction as repo
from missionctl.services import open_context
from missionctl.services.followers.step_risks import estimate_steps
from missionctl.settings import Settings

HELD_OUT_DAYS = 14


def auc(scores: Sequence[float], outcomes: Sequence[bool]) -> float | None:
    """The area under the ROC curve by ranks (Mann-Whitney): ties count half."""
    ranked = sorted(zip(scores, outcomes, strict=True), key=lambda pair: pair[0])
    positives = sum(outcomes)
    negatives = len(outcomes) - positives
    if not positives or not negatives:
        return None
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mean_rank = (i + 1 + j) / 2  # ranks i+1..j share their mean
        rank_sum += mean_rank * sum(1 for _, y in ranked[i:j] if y)
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def precision_at(k: int, scores: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Of the ``k`` highest scores, the share that happened, ties broken at random.

    Expected over the ways of breaking them: the group of equal scores that straddles the
    ``k``-th place counts at its own rate, so a constant score gets the base rate.
    """
    groups: dict[float, list[bool]] = {}
    for score, happened in zip(scores, outcomes, strict=True):
        groups.setdefault(score, []).append(happened)
    taken = hits = 0.0
    for score in sorted(groups, reverse=True):
        group = groups[score]
        share = min(len(group), k - taken)
        hits += share * sum(group) / len(group)
        taken += share
        if taken >= k:
            break
    return hits / taken


def figures(scores: Sequence[float], outcomes: Sequence[bool]) -> dict[str, Any]:
    """AUC, precision at 10 and Brier score of ``scores`` against ``outcomes``."""
    found = auc(scores, outcomes)
    brier = sum((s - y) ** 2 for s, y in zip(scores, outcomes, strict=True)) / len(scores)
    return {
        "auc": None if found is None else round(found, 3),
        "precision_at_10": round(precision_at(10, scores, outcomes), 2),
        "brier": round(brier, 4),
    }


def seed(home: Path, days: int, seed_value: int) -> None:
    """``missionctl demo seed`` into ``home``, as a person would run it."""
    program = str(Path(sys.executable).with_name("missionctl"))
    days_given = ["--days", str(days), "--seed", str(seed_value)]
    command = [program, "demo", "seed", *days_given, "--home", str(home)]
    subprocess.run(command, check=True, capture_output=True, env={**os.environ})


async def backtest(settings: Settings) -> dict[str, Any]:
    """Estimate every held-out attempt from the weeks before it; compare with what happened."""
    async with open_context(settings) as ctx:
        await ctx.catch_up("risks", quietly=False)
        ends = await ctx.read_blocking(lambda s: repo.read_attempt_ends(s, after=0, upto=2**62))
        last = max(end.day for end in ends)
        cutoff = last - timedelta(days=HELD_OUT_DAYS - 1)
        held = [end for end in ends if end.day >= cutoff]
        steps = [repo.Asked(end.key, 2 if end.later else 1, model=end.model) for end in held]
        estimates = await ctx.read_blocking(lambda s: estimate_steps(s, steps, until=cutoff))
        before = [end for end in ends if cutoff - timedelta(days=HISTORY_DAYS) <= end.day < cutoff]
    outcomes = [end.failed for end in held]
    overall = sum(end.failed for end in before) / len(before)
    raw: dict[Any, list[bool]] = {}
    for end in before:
        raw.setdefault(end.key, []).append(end.failed)
    per_step = [
        sum(raw[end.key]) / len(raw[end.key]) if end.key in raw else overall for end in held
    ]
    return {
        "held_out_days": HELD_OUT_DAYS,
        "trained_on": f"{cutoff - timedelta(days=HISTORY_DAYS)} to {cutoff - timedelta(days=1)}",
        "held_out": f"{cutoff} to {last}",
        "attempts_trained_on": len(before),
        "attempts_held_out": len(held),
        "base_rate": round(sum(outcomes) / len(outcomes), 4),
        "estimator": figures([e.chances["fail"] for e in estimates], outcomes),
        "baseline_overall_rate": figures([overall] * len(held), outcomes),
        "baseline_step_rate": figures(per_step, outcomes),
        "steps": {
            f"{key.step_id} of {key.workflow}": {
                "attempts_trained_on": len(found),
                "failed_share": round(sum(found) / len(found), 3),
            }
            for key, found in sorted(raw.items(), key=lambda item: str(item[0]))
        },
    }


def main() -> None:
    run("prediction_backtest", __doc__, seed, lambda home: backtest(Settings(home=home)))


if __name__ == "__main__":
    main()
