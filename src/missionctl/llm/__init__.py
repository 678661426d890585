"""The LLM layer: one protocol, one OpenAI-compatible client, usage and redaction.

Everything is imported lazily, on first use of a name: most importers only need ``LLMUsage``
or the protocol, importing the ``openai`` SDK costs about half a second of start-up, and the
command line's start (log redaction, ``llm.redaction``) needs neither pydantic nor the protocol.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from missionctl.llm.openai_client import OpenAICompatibleClient
    from missionctl.llm.protocol import (
        LLMClient,
        LLMUsage,
        OutputMode,
        ReplyListener,
        ReplyPreparer,
        Sampling,
        StructuredResult,
        TokenLimitReached,
        UsageSink,
    )
    from missionctl.llm.redaction import Redactor

__all__ = [
    "LLMClient",
    "LLMUsage",
    "OpenAICompatibleClient",
    "OutputMode",
    "Redactor",
    "ReplyListener",
    "ReplyPreparer",
    "Sampling",
    "StructuredResult",
    "TokenLimitReached",
    "UsageSink",
]

_LAZY = {
    "OpenAICompatibleClient": "openai_client",
    "LLMClient": "protocol",
    "LLMUsage": "protocol",
    "OutputMode": "protocol",
    "ReplyListener": "protocol",
    "ReplyPreparer": "protocol",
    "Sampling": "protocol",
    "StructuredResult": "protocol",
    "TokenLimitReached": "protocol",
    "UsageSink": "protocol",
    "Redactor": "redaction",
}
"""Each name this package exports, and the module of the package that defines it."""


def __getattr__(name: str) -> Any:
    if module := _LAZY.get(name):
        from importlib import import_module

        return getattr(import_module(f"missionctl.llm.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
