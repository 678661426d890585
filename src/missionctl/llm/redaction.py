"""Keep secrets out of every record: events, rows, blobs, pages and logs.

There is one redaction, :func:`redact`, and everything goes through it: the engine when it
records a step's result and log lines, the artifact service when it stores an artifact, the
command agent before it cuts or truncates output, the LLM layer before it logs or raises, and
every log record of the process (:func:`install_log_redaction`). It removes

- the values registered with :func:`register_secret` — the secrets workflow steps declare (see
  ``missionctl.agents.secrets``), the model's API key, the server's own keys — wherever they
  occur, and
- anything that looks like a credential even when nobody registered it: a bearer token in a
  header dump, an OpenAI-style ``sk-...`` key, and this server's own API tokens (``mc_…``)
  and sign-in links (``mcl_…``), e.g. in a request line of the access log.

Registration is process-wide and only grows: a secret once used stays hidden from every later
record. Records are redacted in the process that writes them, so a page served by another
process shows what was recorded, never more.
"""

import logging
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, AnyStr, overload

REDACTED = "[REDACTED]"
_REDACTED_BYTES = REDACTED.encode("utf-8")

# A bearer token is whatever follows the scheme up to whitespace or a quote (headers are often
# logged inside JSON or a repr); the scheme is kept so the record still says what was hidden.
# Prose about the scheme ("Bearer tokens", "bearer <token>") is not a token.
# OpenAI-style keys: sk-..., sk-proj-..., sk-svcacct-...; eight characters at least so that
# ordinary words such as "sk-learn" survive. Our own tokens carry 32 random bytes (43
# characters); the 8-character prefixes that lists and events show are not secrets.
_CREDENTIALS = (
    r"(?i:\b(bearer))(\s+)(?!(?i:tokens?|auth\w*|scheme|header)\b|<)[^\s\"',;]+"
    r"|\bsk-[A-Za-z0-9_\-]{8,}"
    r"|\bmcl?_[A-Za-z0-9_\-]{32,}"
)
_CREDENTIAL_TEXT = re.compile(_CREDENTIALS)
_CREDENTIAL_BYTES = re.compile(_CREDENTIALS.encode("ascii"))
# Literals one of which any match contains ("bearer" in lower case): checking for them is an
# order of magnitude cheaper than running the pattern over text that has none (most text).
_HINTS_TEXT = ("sk-", "mc_", "mcl_")
_HINTS_BYTES = (b"sk-", b"mc_", b"mcl_")

_lock = threading.Lock()
# Snapshots replaced whole under the lock, so a reader in another thread (the engine's writer)
# never iterates a set that is growing. Longest first: a secret inside another is hidden whole.
_registered_text: tuple[str, ...] = ()
_registered_bytes: tuple[bytes, ...] = ()


def register_secret(value: str) -> None:
    """Hide ``value`` from every later :func:`redact` call in this process.

    Empty or whitespace-only values are ignored.
    """
    global _registered_text, _registered_bytes
    if not value or not value.strip() or value in _registered_text:
        return
    with _lock:
        known = sorted({*_registered_text, value}, key=len, reverse=True)
        _registered_text = tuple(known)
        _registered_bytes = tuple(secret.encode("utf-8") for secret in known)


def registered_secrets() -> tuple[str, ...]:
    """The values registered so far, longest first."""
    return _registered_text


@overload
def redact(value: str, *, secrets: Iterable[str] = ()) -> str: ...
@overload
def redact(value: bytes, *, secrets: Iterable[str] = ()) -> bytes: ...
@overload
def redact(value: Any, *, secrets: Iterable[str] = ()) -> Any: ...
def redact(value: Any, *, secrets: Iterable[str] = ()) -> Any:
    """``value`` with every secret and credential-looking token replaced by ``[REDACTED]``.

    Strings and bytes (an artifact's content, byte-wise: it may be binary) are redacted; lists,
    tuples and dicts (keys too) are copied with their strings redacted; anything else (numbers,
    ``None``) is returned as is. Every occurrence of every secret is found in the original
    text first and overlapping occurrences are merged, so two secrets that overlap (or one
    inside another) are hidden whole, never leaving a fragment of either behind.

    Args:
        value: what to redact.
        secrets: exact strings to hide besides the registered ones (empty ones are ignored).
    """
    text_secrets, byte_secrets = _registered_text, _registered_bytes
    extra = [s for s in secrets if s and s.strip()] if secrets != () else None
    if extra:
        text_secrets = tuple(sorted({*text_secrets, *extra}, key=len, reverse=True))
        byte_secrets = tuple(s.encode("utf-8") for s in text_secrets)
    return _walk(value, text_secrets, byte_secrets)


def _walk(value: Any, text_secrets: Sequence[str], byte_secrets: Sequence[bytes]) -> Any:
    if isinstance(value, str):
        return _scrub(value, text_secrets, REDACTED, _CREDENTIAL_TEXT, _HINTS_TEXT, "bearer")
    if isinstance(value, bytes):
        return _scrub(
            value, byte_secrets, _REDACTED_BYTES, _CREDENTIAL_BYTES, _HINTS_BYTES, b"bearer"
        )
    if isinstance(value, dict):
        return {
            _walk(k, text_secrets, byte_secrets): _walk(v, text_secrets, byte_secrets)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_walk(v, text_secrets, byte_secrets) for v in value]
    if isinstance(value, tuple):
        return tuple(_walk(v, text_secrets, byte_secrets) for v in value)
    return value


def _scrub(
    text: AnyStr,
    secrets: Sequence[AnyStr],
    redacted: AnyStr,
    pattern: re.Pattern[AnyStr],
    hints: Sequence[AnyStr],
    scheme: AnyStr,
) -> AnyStr:
    spans: list[tuple[int, int]] = []
    for secret in secrets:
        start = text.find(secret)
        while start != -1:
            spans.append((start, start + len(secret)))
            start = text.find(secret, start + 1)
    if spans:
        pieces: list[AnyStr] = []
        cursor = 0
        for start, end in _merge(spans):
            pieces += [text[cursor:start], redacted]
            cursor = end
        pieces.append(text[cursor:])
        text = redacted[:0].join(pieces)
    first, second, third = hints
    if (
        first not in text
        and second not in text
        and third not in text
        and scheme not in text.lower()
    ):
        return text

    def replace(match: re.Match[AnyStr]) -> AnyStr:
        scheme, space = match.group(1, 2)
        return redacted if scheme is None else scheme + space + redacted

    return pattern.sub(replace, text)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with overlapping or touching ones joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def redact_registered(text: str) -> str:
    """``text`` through :func:`redact` (kept for callers that name it so)."""
    return redact(text)


class Redactor:
    """:func:`redact` with some secrets of its own besides the registered ones.

    Args:
        secrets: Exact strings to hide wherever they occur (besides the process-wide ones of
            :func:`register_secret`). Empty strings are ignored.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Register one more secret; empty or whitespace-only strings are ignored."""
        if secret and secret.strip() and secret not in self._secrets:
            self._secrets.append(secret)

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret and credential-looking token replaced."""
        return redact(text, secrets=self._secrets)


# --- Log records ------------------------------------------------------------------------------

_TRACEBACKS = logging.Formatter()
_PRIMITIVE = (str, int, float, bool, type(None))


def install_log_redaction() -> None:
    """Redact every log record of this process as it is made, whichever handler prints it.

    The record factory (not a handler filter) is the choke point: it sees the records of every
    logger, including handlers added later (the server's, a test's capture). The message,
    the traceback (formatted once, redacted, and cached where formatters look for it) and the
    stack are redacted. Arguments are redacted one by one when that is enough, so formatters
    that read them (the access log's) keep working; otherwise the message is formatted here.
    Installing twice changes nothing.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    factory.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: the handler reports it; show nothing unredacted
        record.msg, record.args = redact(f"{record.msg!s} {record.args!r}"), None
        message = record.msg
    if redact(message) != message:
        _redact_message(record, message)
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(_TRACEBACKS.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _redact_message(record: logging.LogRecord, message: str) -> None:
    args = record.args
    values = args.values() if isinstance(args, Mapping) else args or ()
    if isinstance(record.msg, str) and all(isinstance(v, _PRIMITIVE) for v in values):
        record.msg, record.args = redact(record.msg), redact(args)
        try:
            again = record.getMessage()
        except Exception:
            again = None
        if again is not None and redact(again) == again:
            return
    record.msg, record.args = redact(message), None
