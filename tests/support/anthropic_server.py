"""The scripted Anthropic Messages API server: it lives in the package.

``missionctl demo coding --scripted-model`` runs it for a newcomer, who has no tests folder, so
the one implementation is :mod:`missionctl.demo.anthropic_server`; the real-CLI tests import it
from here.
"""

from missionctl.demo.anthropic_server import (
    Block,
    HTTPError,
    Message,
    RecordedRequest,
    Reply,
    Script,
    ScriptedAnthropicServer,
    Text,
    ToolUse,
)

__all__ = [
    "Block",
    "HTTPError",
    "Message",
    "RecordedRequest",
    "Reply",
    "Script",
    "ScriptedAnthropicServer",
    "Text",
    "ToolUse",
]
