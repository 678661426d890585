"""Keep secrets out of logs and error messages.

Everything the LLM layer writes to a log, and every error message it builds from a server's
reply, goes through a :class:`Redactor` first. It removes the secrets it was given (the API key
always) and anything that looks like a credential even when nobody registered it: a bearer token
in a header dump, or an OpenAI-style ``sk-...`` key echoed back by a server.

Secrets declared at run time (the values workflows reference by name, see
``missionctl.agents.secrets``) are registered process-wide with :func:`register_secret`: every
redactor hides them too, so a secret that reaches a prompt is still absent from the logs.
"""

import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"

# A bearer token is whatever follows the scheme up to whitespace or a quote (headers are often
# logged inside JSON or a repr). The scheme is kept so the log still says what was hidden.
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+")
# OpenAI-style keys: sk-..., sk-proj-..., sk-svcacct-...; eight characters at least so ordinary
# words such as "sk-learn" survive.
_SK_KEY = re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}")


# Values declared secret while this process runs. A set only grows: a secret once used stays
# hidden from every later log line and record.
_REGISTERED: set[str] = set()


def register_secret(value: str) -> None:
    """Make every :class:`Redactor` (and :func:`redact_registered`) hide ``value`` from now on.

    Empty or whitespace-only values are ignored.
    """
    if value and value.strip():
        _REGISTERED.add(value)


def redact_registered(text: str) -> str:
    """``text`` with every registered secret and credential-looking token replaced."""
    return Redactor().redact(text)


class Redactor:
    """Replaces secrets and credential-looking tokens with ``[REDACTED]``.

    Args:
        secrets: Exact strings to hide wherever they occur (besides the process-wide ones of
            :func:`register_secret`). Empty strings are ignored.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Register one more secret; empty or whitespace-only strings are ignored."""
        if secret and secret.strip():
            self._secrets.add(secret)

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret and credential-looking token replaced.

        Every occurrence of every secret is found in the original text first and overlapping
        occurrences are merged, so two secrets that overlap (or one inside another) are hidden
        whole, never leaving a fragment of either behind.
        """
        spans: list[tuple[int, int]] = []
        for secret in self._secrets | _REGISTERED:
            start = text.find(secret)
            while start != -1:
                spans.append((start, start + len(secret)))
                start = text.find(secret, start + 1)
        if spans:
            pieces: list[str] = []
            cursor = 0
            for start, end in _merge(spans):
                pieces += [text[cursor:start], REDACTED]
                cursor = end
            pieces.append(text[cursor:])
            text = "".join(pieces)
        text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
        return _SK_KEY.sub(REDACTED, text)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with overlapping or touching ones joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
