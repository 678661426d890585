"""The port every LLM consumer (planner, LLM agent) depends on.

Consumers receive an ``LLMClient``; production passes the OpenAI-compatible client, tests may
pass the same client pointed at a scripted loopback server.
"""

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

from missionctl.errors import Problem, ValidationFailed

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


# A prompt's size in tokens before the server has counted it: about four characters per token
# for English text and code (the server's count replaces it when the reply arrives).
CHARS_PER_TOKEN = 4


def estimate_prompt_tokens(*texts: str) -> int:
    """A rough count of the input tokens of a prompt made of ``texts`` (never zero for text)."""
    return sum(-(-len(text) // CHARS_PER_TOKEN) + 4 for text in texts if text)


# A request is not sent when its token limit leaves less than this for the reply: a reply cut
# shorter is almost never valid JSON, and its repair would cost more than it could save.
MIN_REPLY_TOKENS = 64


class TokenLimitReached(ValidationFailed):
    """A call's token limit cannot pay for its next request (the prompt and a reply).

    Nothing was sent for that request; ``usage`` is what the earlier requests of the call
    spent. The problem names ``max_tokens``; callers that know what set the limit (a budget,
    a step's ``estimate_tokens``) say so in their own words.
    """

    def __init__(self, message: str, *, limit: int, usage: "LLMUsage", attempts: int = 0) -> None:
        super().__init__([Problem("max_tokens", message)])
        self.message = message
        self.limit = limit
        self.usage = usage
        self.attempts = attempts  # requests sent (and paid for) before the limit stopped them


class UsageSink(Protocol):
    """Told how many tokens a call has used so far, while it runs."""

    def __call__(self, usage: LLMUsage, *, estimated: bool) -> None:
        """``estimated``: the input count is the local estimate of a request just sent."""
        ...


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
        on_usage: UsageSink | None = None,
        max_tokens: int | None = None,
    ) -> StructuredResult[T]:
        """Ask for JSON matching ``output_model``; repair invalid replies up to ``max_repairs``.

        ``on_usage`` is told the usage so far when each request is sent (its input estimated)
        and when each reply arrives (as the server counted it).

        ``max_tokens`` limits the tokens of the whole call, every request and repair counted
        (input and output as the server counts them). Each request asks the server for at most
        the limit less the tokens already used and the prompt's estimate
        (:func:`estimate_prompt_tokens`); a request that would leave less than
        :data:`MIN_REPLY_TOKENS` for the reply is not sent.

        Raises:
            TokenLimitReached: the limit cannot pay for the next request (nothing was sent
                for it).
            missionctl.errors.LLMOutputInvalid: still invalid after the last repair (the message
                lists the validation errors).
            missionctl.errors.LLMUnavailable: the endpoint failed after retries (429, 5xx,
                timeouts, connection errors).
        """
        ...
