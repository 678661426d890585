"""The port every LLM consumer (planner, LLM agent) depends on.

Consumers receive an ``LLMClient``; production passes the OpenAI-compatible client, tests may
pass the same client pointed at a scripted loopback server.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from missionctl.domain.sampling import Sampling as Sampling  # re-exported: the port's knobs
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


class ReplyListener(Protocol):
    """Told the text of a reply as it arrives, while the call runs (a streamed reply).

    It must return quickly and must not raise: it runs between the reply's chunks.
    """

    def __call__(self, text: str, *, fresh: bool) -> None:
        """Take ``text``, the next piece of the reply.

        ``fresh``: it starts a new reply (a repair, or a request sent again after a broken
        stream), and every piece before it is void.
        """
        ...


class OutputMode(IntEnum):
    """How structured output is requested, strongest first; a server's mode only moves down."""

    JSON_SCHEMA = 0
    """``response_format=json_schema``: the server constrains the reply to the schema."""
    JSON_OBJECT = 1
    """``response_format=json_object``: any JSON object; the schema rides in the system prompt."""
    PROMPT_ONLY = 2
    """No ``response_format`` at all; the schema rides in the system prompt."""


ReplyPreparer = Callable[[Any], tuple[Any, Sequence[str]]]
"""Turns a reply's parsed JSON into the data to validate, with a note per change it made.

It is given whatever JSON the model sent (any value, not only an object) and must not raise
for a reply it cannot mend: it leaves it as it is, for validation to report back to the model.
Each note is one sentence a person can read ("Requirement key 'REQ-1' renamed R1"). Two
exceptions are part of the contract: ``ReplyError`` sends the reply back to the model with the
preparer's own problems (a repair, as for a schema error), and any other exception ends the
call and propagates unchanged, for a preparer that recognises a reply its caller handles
itself (the planner's questions); the caller learns that call's usage through ``on_usage``.
"""


@dataclass(frozen=True, slots=True)
class StructuredResult(Generic[T]):
    """A validated structured output and what it cost.

    Attributes:
        value: The validated output.
        usage: Tokens of every attempt.
        model: The model that wrote it.
        attempts: Requests that returned a reply (repairs included).
        notes: What the caller's ``prepare`` changed in the accepted reply, after a note per
            reply that was sent back to the model; empty when the first reply was used as is.
        output_mode: How the accepted reply was asked for (weaker than ``JSON_SCHEMA`` when
            the server refused a ``response_format``).
        sampling: The temperature and seed every request of the call was sent with
            (``None``: that key was not sent).
    """

    value: T
    usage: LLMUsage
    model: str
    attempts: int
    notes: tuple[str, ...] = ()
    output_mode: OutputMode = OutputMode.JSON_SCHEMA
    sampling: Sampling = field(default_factory=Sampling)


class LLMClient(Protocol):
    """Structured generation against one configured model."""

    @property
    def model(self) -> str:
        """The model name calls go to."""
        ...

    @property
    def sampling(self) -> Sampling:
        """The temperature and seed a call is sent with when it asks for none of its own."""
        ...

    def with_model(self, model: str) -> "LLMClient":
        """The same endpoint asked for ``model`` (routing's choice for a step, ADR 0119)."""
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
        prepare: ReplyPreparer | None = None,
        sampling: Sampling | None = None,
        on_text: ReplyListener | None = None,
    ) -> StructuredResult[T]:
        """Ask for JSON matching ``output_model``; repair invalid replies up to ``max_repairs``.

        ``on_text``, when given, asks for the reply streamed where the server allows it, and is
        told each piece of each reply's text as it arrives; a server that refuses streaming
        answers whole, and ``on_text`` is then not called. What it is told is a preview: the
        result is only what validation accepts.

        ``sampling`` sets this call's temperature and seed; each it leaves unset is the
        client's own (:attr:`sampling`), and one unset in both is not sent at all. Every
        request of the call, repairs included, is sent with the same knobs.

        ``prepare``, when given, is applied to each reply's parsed JSON before it is validated
        against ``output_model``: what it mends costs no repair round trip, and its notes on the
        accepted reply come back in :attr:`StructuredResult.notes`. A reply still invalid after
        it is sent back to the model as usual, with the validation errors (and what ``prepare``
        had already mended).

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
