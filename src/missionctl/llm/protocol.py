"""The port every LLM consumer (planner, LLM agent) depends on.

Consumers receive an ``LLMClient``; production passes the OpenAI-compatible client, tests may
pass the same client pointed at a scripted loopback server.
"""

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class LLMUsage:
    """Tokens spent by one or more calls (all attempts of a repair loop included)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0

    def __add__(self, other: "LLMUsage") -> "LLMUsage":
        return LLMUsage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
        )


@dataclass(frozen=True, slots=True)
class StructuredResult(Generic[T]):
    """A validated structured output and what it cost."""

    value: T
    usage: LLMUsage
    model: str
    attempts: int


class LLMClient(Protocol):
    """Structured generation against one configured model."""

    @property
    def model(self) -> str:
        """The model name calls go to."""
        ...

    async def generate_structured(
        self,
        *,
        system: str,
        user: str,
        output_model: type[T],
        schema_name: str,
        max_repairs: int = 2,
    ) -> StructuredResult[T]:
        """Ask for JSON matching ``output_model``; repair invalid replies up to ``max_repairs``.

        Raises:
            missionctl.errors.LLMOutputInvalid: still invalid after the last repair (the message
                lists the validation errors).
            missionctl.errors.LLMUnavailable: the endpoint failed after retries (429, 5xx,
                timeouts, connection errors).
        """
        ...
