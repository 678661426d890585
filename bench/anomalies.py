"""How often the anomaly detector alerts on noise, and how often it catches the failures it must.

Simulates `--histories` histories (tests/analytics/history.py: ~40 people, 5-20 runs a day at
about 90 % success, costs with ±30 % noise a day, weekdays busier than weekends, weekly cohorts
of 6-10 new people), the day judged moving through every weekday, and runs
`domain.anomalies.detect` with the rules of `schemas/analytics.yaml` on each. Prints JSON:

- `noise`: the share of ordinary histories with any alert, with a warning or critical one,
  and per metric and comparison the
  share that alerted (by severity);
- `injections`: for each failure (success falling to 65 % over the last 10 days, cost tripled
  over the last 3 days, the cohorts 3 and 4 weeks ago returning half as often), the share of
  histories where it was caught with its expected severity (or above) and the share with any
  alert on the metric; and the detector's time per history (p50, ms).

Run: `.venv/bin/python bench/anomalies.py [--histories N]` (default 500).
"""

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.analytics import history
from tests.analytics.history import AS_OF, Injection

from missionctl.domain.anomalies import SEVERITY_ORDER, Anomaly, detect
from missionctl.services.usecases.anomalies import detector_rules

RULES, SETTINGS = detector_rules()
CLEAN = Injection()
CASES: dict[str, tuple[Injection, str, str, str]] = {
    "success_rate_65_percent_10_days": (
        Injection(success_rate=0.65),
        "success_rate",
        "week_over_week",
        "critical",
    ),
    "cost_x3_3_days_day": (Injection(cost_factor=3.0), "cost_usd", "day_vs_median", "critical"),
    "cost_x3_3_days_week": (Injection(cost_factor=3.0), "cost_usd", "week_over_week", "warning"),
    "retention_halved_cohorts_3_4_weeks_ago": (
        Injection(retention_factor=0.5),
        "retention",
        "cohort_vs_prior",
        "warning",
    ),
}


def _run(seed: int, injection: Injection, timings: list[float]) -> list[Anomaly]:
    as_of = AS_OF + timedelta(days=seed % 7)
    days = history.days(seed, as_of=as_of, injection=injection)
    cohorts = history.cohorts(seed, as_of=as_of, injection=injection)
    started = time.perf_counter()
    found = detect(
        days, cohorts, as_of=as_of, history_start=min(days), rules=RULES, settings=SETTINGS
    )
    timings.append((time.perf_counter() - started) * 1000)
    return found


def _noise(histories: int, timings: list[float]) -> dict[str, Any]:
    alerted = serious = 0
    by_metric = Counter[str]()
    for seed in range(histories):
        found = _run(seed, CLEAN, timings)
        alerted += bool(found)
        serious += any(a.severity != "info" for a in found)
        for anomaly in found:
            by_metric[f"{anomaly.metric}:{anomaly.comparison}:{anomaly.severity}"] += 1
    return {
        "any_alert_share": round(alerted / histories, 4),
        "warning_or_critical_share": round(serious / histories, 4),
        "alert_share": {key: round(n / histories, 4) for key, n in sorted(by_metric.items())},
    }


def _caught(histories: int, timings: list[float]) -> dict[str, Any]:
    results = {}
    for name, (injection, metric, comparison, severity) in CASES.items():
        at_least = SEVERITY_ORDER[: SEVERITY_ORDER.index(severity) + 1]  # type: ignore[arg-type]
        caught = alerted = exact = 0
        for seed in range(histories):
            found = [
                a
                for a in _run(seed, injection, timings)
                if a.metric == metric and a.comparison == comparison
            ]
            alerted += bool(found)
            caught += any(a.severity in at_least for a in found)
            exact += any(a.severity == severity for a in found)
        results[name] = {
            "expected": f"{metric}:{comparison} {severity}",
            "caught_share": round(caught / histories, 4),
            "exact_severity_share": round(exact / histories, 4),
            "any_alert_share": round(alerted / histories, 4),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--histories", type=int, default=500)
    histories = parser.parse_args().histories
    timings: list[float] = []
    report = {
        "histories": histories,
        "noise": _noise(histories, timings),
        "injections": _caught(histories, timings),
        "detect_p50_ms": round(statistics.median(timings), 3),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
