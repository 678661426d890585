"""Budget math: a step's reserve is the most its token limit can cost, and the inverse holds."""

from hypothesis import given
from hypothesis import strategies as st

from missionctl.domain.budget import (
    Price,
    charges_tokens,
    cost_micros,
    estimate_micros,
    fits_budget,
    max_cost_micros,
    token_allowance,
)

prices = st.builds(
    Price,
    model=st.just("m"),
    input_micros_per_mtok=st.integers(0, 100_000_000),
    cached_input_micros_per_mtok=st.integers(0, 100_000_000),
    output_micros_per_mtok=st.integers(0, 100_000_000),
    source=st.just("override"),
)
MINI = Price("gpt-4o-mini", 150_000, 75_000, 600_000, "genai-prices")


@given(prices, st.integers(0, 2_000_000), st.integers(0, 2_000_000), st.integers(0, 2_000_000))
def test_no_usage_within_the_limit_costs_more_than_the_reserve(
    price: Price, tokens_in: int, tokens_out: int, cached: int
) -> None:
    limit = tokens_in + tokens_out
    spent = cost_micros(
        price, input_tokens=tokens_in, output_tokens=tokens_out, cached_input_tokens=cached
    )
    assert spent <= max_cost_micros(price, limit)
    assert estimate_micros(price, limit) <= max_cost_micros(price, limit)


@given(prices, st.integers(0, 10_000_000))
def test_the_allowance_of_a_sum_costs_no_more_than_it(price: Price, micros: int) -> None:
    tokens = token_allowance(price, micros)
    if tokens is None:  # a free model: any number of tokens costs nothing
        assert max_cost_micros(price, 1_000_000_000) == 0
        return
    assert max_cost_micros(price, tokens) <= micros
    highest = max(
        price.input_micros_per_mtok,
        price.cached_input_micros_per_mtok,
        price.output_micros_per_mtok,
    )
    assert (tokens + 1) * highest > micros * 1_000_000  # one token more would not be paid for


def test_the_reserve_prices_every_token_at_the_highest_price() -> None:
    assert max_cost_micros(MINI, 10_000) == 6_000  # $0.60 per million output tokens
    assert estimate_micros(MINI, 10_000) == 2_625  # 3/4 at $0.15, 1/4 at $0.60
    assert token_allowance(MINI, 100) == 166  # $0.0001 pays for 166 tokens at $0.60/M
    assert token_allowance(MINI, -5) == 0


def test_only_llm_agents_charge_tokens() -> None:
    assert charges_tokens("llm:architect")
    assert not any(charges_tokens(a) for a in ("builtin:noop", "command", "llmish:x"))


def test_a_reserve_fits_only_what_spent_and_reserved_leave() -> None:
    assert fits_budget(cap_micros=None, spent_micros=10, reserved_micros=10, reserve=10)
    assert fits_budget(cap_micros=30, spent_micros=10, reserved_micros=10, reserve=10)
    assert not fits_budget(cap_micros=29, spent_micros=10, reserved_micros=10, reserve=10)
