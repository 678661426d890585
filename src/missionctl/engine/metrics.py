"""The engine's Prometheus instruments: how long steps take, and what models were paid for.

Counted by the engine that ran the step, in its own process: a ``missionctl worker`` shows them
on its own ``/metrics`` (``MISSIONCTL_METRICS_ADDRESS``), not on the server's (ADR 0043).
"""

import functools

from prometheus_client import Counter, Histogram

from missionctl.llm import LLMUsage

STEP_SECONDS = Histogram(
    "missionctl_step_duration_seconds",
    "Time one attempt of a step took in its agent, by agent and outcome (succeeded, failed).",
    ["agent", "outcome"],
    buckets=(0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)
TOKENS = Counter(
    "missionctl_tokens",
    "Tokens the engine billed, by model and direction (input, output).",
    ["model", "direction"],
)
COST_USD = Counter(
    "missionctl_cost_usd",
    "US dollars the engine billed for model usage, by model (at the known price; 0 without one).",
    ["model"],
)


@functools.lru_cache(maxsize=512)
def _step_seconds(agent: str, ok: bool) -> Histogram:
    # Looking a labelled child up costs more than observing into it, once per step.
    return STEP_SECONDS.labels(agent=agent, outcome="succeeded" if ok else "failed")


def observe_step(agent: str, ok: bool, duration_ms: int) -> None:
    """Count one finished attempt of a step run by ``agent``."""
    _step_seconds(agent, ok).observe(duration_ms / 1000)


def count_billed(model: str, usage: LLMUsage, cost_micros: int) -> None:
    """Count the tokens and cost the engine billed for ``model``."""
    TOKENS.labels(model=model, direction="input").inc(usage.input_tokens)
    TOKENS.labels(model=model, direction="output").inc(usage.output_tokens)
    COST_USD.labels(model=model).inc(cost_micros / 1_000_000)
