"""Retry policy: how many attempts a step gets and how long to wait between them."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_attempts`` counts the first attempt (1 means never retry).

    The delay before attempt ``n + 1`` is ``min(max_backoff_s, backoff_s * 2 ** (n - 1))``; with
    ``jitter`` it is drawn uniformly from ``[0, that]`` ("full jitter"), which spreads retries of
    many failing steps instead of synchronising them.
    """

    max_attempts: int = 1
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_s < 0 or self.max_backoff_s < 0:
            raise ValueError("backoff must not be negative")

    def can_retry(self, attempt: int) -> bool:
        """Whether a step that just failed its ``attempt``-th try gets another one."""
        return attempt < self.max_attempts

    def delay_s(self, attempt: int, random: Callable[[], float]) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based); ``random()`` ∈ [0, 1)."""
        ceiling = min(self.max_backoff_s, self.backoff_s * float(2 ** max(0, attempt - 1)))
        return ceiling * random() if self.jitter else ceiling
