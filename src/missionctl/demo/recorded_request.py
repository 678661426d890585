"""The record a scripted model server keeps of each request it received.

Each server's ``RecordedRequest`` adds, to these facts, the reading of the body its API sends
(the conversation, the tools offered, the tools' results).
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RecordedHTTPRequest:
    """One request as the server received it.

    Made by :class:`~missionctl.demo.threaded_server.RequestLog` as ``(method, path, headers,
    body)``: the headers' names lower-cased, the body only when it was a JSON object.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass(frozen=True)
class RecordedToolRequest(RecordedHTTPRequest):
    """A request to an API whose tools are named at the top of each (Anthropic, Responses)."""

    @property
    def tools(self) -> list[str]:
        """The names of the tools the request offers the model."""
        return [str(t.get("name")) for t in (self.body or {}).get("tools", []) or []]
