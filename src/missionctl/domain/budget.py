"""Budget and pricing math (pure). Money is integer micro-dollars; prices are per million tokens."""

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


def fits_budget(
    *, cap_micros: int | None, spent_micros: int, reserved_micros: int, estimate: int
) -> bool:
    """Whether spending ``estimate`` more keeps spent + reserved within the cap (no cap: yes)."""
    if cap_micros is None:
        return True
    return spent_micros + reserved_micros + estimate <= cap_micros
