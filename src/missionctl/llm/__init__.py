"""The LLM layer: one protocol, one OpenAI-compatible client, usage and redaction.

The client is imported lazily: most importers only need ``LLMUsage`` or the protocol, and
importing the ``openai`` SDK costs about half a second of start-up (felt by every CLI command).
"""

from typing import TYPE_CHECKING, Any

from missionctl.llm.protocol import (
    LLMClient,
    LLMUsage,
    OutputMode,
    ReplyPreparer,
    StructuredResult,
    TokenLimitReached,
    UsageSink,
)
from missionctl.llm.redaction import Redactor

if TYPE_CHECKING:
    from missionctl.llm.openai_client import OpenAICompatibleClient

__all__ = [
    "LLMClient",
    "LLMUsage",
    "OpenAICompatibleClient",
    "OutputMode",
    "Redactor",
    "ReplyPreparer",
    "StructuredResult",
    "TokenLimitReached",
    "UsageSink",
]

_LAZY = {"OpenAICompatibleClient"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from missionctl.llm import openai_client

        return getattr(openai_client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
