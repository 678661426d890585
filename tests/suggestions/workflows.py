"""Workflows whose runs earn a suggestion, timed by whoever runs them (tests, the backtest).

- ``pipeline``: ``fetch`` then ``lint`` (builtin sleeps; ``lint`` never reads ``fetch``), then
  ``package``, which reads ``lint``. Suggested: run ``lint`` beside ``fetch``.
- ``warming``: one sandboxed ``command`` step whose first attempt finds its workspace cold and
  runs past its limit, and whose retry finds it warm. Suggested: a longer limit.
"""

import sys
from typing import Any


def pipeline(fetch_s: float, lint_s: float) -> dict[str, Any]:
    """``fetch`` sleeps ``fetch_s`` seconds, then ``lint`` ``lint_s``, then ``package`` reads it."""
    return {
        "name": "pipeline",
        "steps": [
            {"id": "fetch", "agent": "builtin:sleep", "inputs": {"seconds": fetch_s}},
            {
                "id": "lint",
                "agent": "builtin:sleep",
                "depends_on": ["fetch"],
                "inputs": {"seconds": lint_s},
            },
            {
                "id": "package",
                "agent": "builtin:noop",
                "depends_on": ["fetch", "lint"],
                "inputs": {"value": "{{ steps.lint.outputs }}"},
            },
        ],
    }


def warming(cold_s: float, warm_s: float, timeout_s: float, backoff_s: float) -> dict[str, Any]:
    """``warm`` sleeps ``cold_s`` seconds in a cold workspace and ``warm_s`` in a warm one.

    Its limit is ``timeout_s``; it has one retry, after ``backoff_s`` seconds.
    """
    cold_start = (
        "import pathlib, time; marker = pathlib.Path('warm'); slow = not marker.exists(); "
        f"marker.touch(); time.sleep({cold_s} if slow else {warm_s})"
    )
    return {
        "name": "warming",
        "steps": [
            {
                "id": "warm",
                "agent": "command",
                "inputs": {"argv": [sys.executable, "-c", cold_start]},
                "timeout_s": timeout_s,
                "retry": {"max_attempts": 2, "backoff_s": backoff_s, "jitter": False},
            }
        ],
    }
