"""The LLM layer: one protocol, one OpenAI-compatible client, usage and redaction."""

from missionctl.llm.protocol import LLMClient, LLMUsage, StructuredResult

__all__ = ["LLMClient", "LLMUsage", "StructuredResult"]
