"""Budget and pricing math (pure). Money is integer micro-dollars; prices are per million tokens.

A step's *estimate* is what it is expected to cost; it is checked against the cap before a run
starts. A step's *reserve* is the most it may cost: its token limit at the model's highest
token price. A capped run dispatches a step only if spent + the reserves of its running steps +
the step's own reserve fit the cap, and the agent never uses more than the limit, so spending
stays within the cap (docs/workflows.md, "Budgets", states the one assumption this rests on).
"""

import math
from dataclasses import dataclass

# A token estimate does not say how it splits between prompt and completion; planning and
# execution prompts are input-heavy, so estimates are priced as 3/4 input and 1/4 output.
ESTIMATE_INPUT_SHARE = 0.75


@dataclass(frozen=True, slots=True)
class Price:
    """A model's price in micro-dollars per million tokens."""

    model: str
    input_micros_per_mtok: int
    cached_input_micros_per_mtok: int
    output_micros_per_mtok: int
    source: str  # "override" (admin row) or "genai-prices"


def cost_micros(
    price: Price, *, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0
) -> int:
    """What the usage costs, rounded up to a whole micro-dollar (never under-counts)."""
    cached = min(cached_input_tokens, input_tokens)
    total = (
        (input_tokens - cached) * price.input_micros_per_mtok
        + cached * price.cached_input_micros_per_mtok
        + output_tokens * price.output_micros_per_mtok
    )
    return math.ceil(total / 1_000_000)


def estimate_micros(price: Price, tokens: int) -> int:
    """The expected cost of ``tokens`` (split 3/4 input, 1/4 output), rounded up."""
    input_tokens = math.ceil(tokens * ESTIMATE_INPUT_SHARE)
    return cost_micros(price, input_tokens=input_tokens, output_tokens=tokens - input_tokens)


def max_cost_micros(price: Price, tokens: int) -> int:
    """The most ``tokens`` can cost, whatever their kind: each at the highest token price."""
    highest = _highest_micros_per_mtok(price)
    return math.ceil(tokens * highest / 1_000_000)


def token_allowance(price: Price, micros: int) -> int | None:
    """The most tokens ``micros`` can pay for at ``price``'s highest token price (free: None).

    The inverse of :func:`max_cost_micros`: ``max_cost_micros(price, n) <= micros`` holds for
    the ``n`` returned.
    """
    highest = _highest_micros_per_mtok(price)
    if highest == 0:
        return None
    return max(0, micros) * 1_000_000 // highest


def _highest_micros_per_mtok(price: Price) -> int:
    """The dearest of ``price``'s token prices: what a token of unknown kind may cost."""
    return max(
        price.input_micros_per_mtok,
        price.cached_input_micros_per_mtok,
        price.output_micros_per_mtok,
    )


def charges_tokens(agent: str) -> bool:
    """Whether steps of ``agent`` are paid by the token (``llm:<role>``); others cost nothing."""
    return agent.partition(":")[0] == "llm"


def fits_budget(
    *, cap_micros: int | None, spent_micros: int, reserved_micros: int, reserve: int
) -> bool:
    """Whether reserving ``reserve`` more keeps spent + reserved within the cap (no cap: yes)."""
    if cap_micros is None:
        return True
    return spent_micros + reserved_micros + reserve <= cap_micros


@dataclass(frozen=True, slots=True)
class Usage:
    """What some work spent: micro-dollars and tokens in and out. Usages add up (``a + b``)."""

    micros: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            self.micros + other.micros,
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
        )

    def __bool__(self) -> bool:
        """Whether anything was spent (nothing to record otherwise)."""
        return bool(self.micros or self.input_tokens or self.output_tokens)


@dataclass(frozen=True, slots=True)
class SpendCheck:
    """What spending ``before → spent`` crossed, against a cap.

    Attributes:
        warn: Spending first reached ``warning_share`` of the cap (``budget.warning``).
        exhausted: Spending first reached the cap: dispatch stops (``budget.exceeded``).
    """

    warn: bool
    exhausted: bool


def check_spend(*, before: int, spent: int, cap: int, warning_share: float) -> SpendCheck:
    """Which thresholds spending crossed going from ``before`` to ``spent`` micro-dollars."""
    warn_at = math.ceil(cap * warning_share)
    return SpendCheck(warn=before < warn_at <= spent, exhausted=before < cap <= spent)
