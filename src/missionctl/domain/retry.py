"""Retry policy: how many attempts a step gets and how long to wait between them.

:func:`decide` says what follows an attempt: the step succeeded, is retried, or has failed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol


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


LEASE_RECOVERY_EXTRA_ATTEMPTS = 2
"""Attempts a step gets beyond its policy when its worker vanished (its lease expired): the
step did not fail, its worker did, so a crash does not use up the step's own retries."""


class Outcome(Protocol):
    """How an attempt ended, as far as the retry decision is concerned."""

    @property
    def ok(self) -> bool:
        """The agent finished and returned outputs."""

    @property
    def retryable(self) -> bool:
        """The failure is one another attempt might not have."""

    @property
    def lease_expired(self) -> bool:
        """The attempt's worker stopped heartbeating; the step itself did not fail."""


@dataclass(frozen=True, slots=True)
class Succeeded:
    """The attempt succeeded: the step is done."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Another attempt, ``attempt``, is queued after ``delay_s`` seconds."""

    attempt: int
    delay_s: float


@dataclass(frozen=True, slots=True)
class Failed:
    """The attempt failed and no attempt is left: the step has failed."""


SUCCEEDED: Final = Succeeded()
FAILED: Final = Failed()


def decide(
    outcome: Outcome, policy: RetryPolicy, attempt: int, random: Callable[[], float]
) -> Succeeded | Retry | Failed:
    """What follows attempt ``attempt`` of a step whose retry policy is ``policy``.

    A failure is retried while attempts are left and it is ``retryable``; a lost lease is
    always retried, at once, with ``LEASE_RECOVERY_EXTRA_ATTEMPTS`` more attempts than the
    policy allows. Otherwise the delay is the policy's backoff (``random()`` ∈ [0, 1) draws
    its jitter).
    """
    if outcome.ok:
        return SUCCEEDED
    if outcome.lease_expired:
        if attempt < policy.max_attempts + LEASE_RECOVERY_EXTRA_ATTEMPTS:
            return Retry(attempt + 1, 0.0)
        return FAILED
    if outcome.retryable and policy.can_retry(attempt):
        return Retry(attempt + 1, policy.delay_s(attempt, random))
    return FAILED
