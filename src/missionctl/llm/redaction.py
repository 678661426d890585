"""Keep secrets out of every record: events, rows, blobs, pages and logs.

There is one redaction, :func:`redact`, and everything goes through it: the engine when it
records a step's result and log lines, the artifact service when it stores an artifact's
content, the command agent before it cuts or truncates output, the LLM layer before it logs or
raises, and every log record of the process (:func:`install_log_redaction`). It removes

- the values registered with :func:`register_secret` — the secrets workflow steps declare (see
  ``missionctl.agents.secrets``), every ``MISSIONCTL_SECRET_*`` variable of the process, the
  model's API key, the server's own keys — wherever they occur, and
- with ``patterns=True`` (the default, for log lines, errors, outputs, names and log records),
  anything that looks like a credential even when nobody registered it: a bearer token in a
  header dump, an OpenAI-style ``sk-...`` key, and this server's own API tokens (``mc_…``)
  and sign-in links (``mcl_…``), e.g. in a request line of the access log. Log records are
  also read percent-decoded: a link sent as ``mcl%5F…`` is one to the server that decodes it.

An artifact's content is redacted with ``patterns=False``: exact secrets only. A file is what
its program wrote (a patch, code that builds ``f"Bearer {token}"``); rewriting what merely looks
like a credential would corrupt it and change its digest, while hiding nothing anybody
registered.

A registered secret is also registered line by line (each line of at least
``MIN_SECRET_CHARS`` characters): output is redacted one line at a time, so a PEM key or a JSON
credential would otherwise never match whole. A value shorter than ``MIN_SECRET_CHARS`` is not
registered: it would be a word, and hiding a word from every record of the process would
damage them more than it protects the secret. Such a value is still hidden where it is passed
explicitly (``secrets=``, :class:`Redactor`): a step's own secrets are hidden from that step's
output, whatever their length.

Registration is process-wide and only grows: a secret once used stays hidden from every later
record. Records are redacted in the process that writes them, so a page served by another
process shows what was recorded, never more.
"""

import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, AnyStr, TypeVar, cast, overload
from urllib.parse import unquote

REDACTED = "[REDACTED]"
_REDACTED_BYTES = REDACTED.encode("utf-8")
# Shorter values are not registered process-wide (see the module docstring), and shorter lines
# of a multi-line secret are not hidden on their own: "-----" or "}" is no secret.
MIN_SECRET_CHARS = 8

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

_T = TypeVar("_T")

_lock = threading.Lock()
# Snapshots replaced whole under the lock, so a reader in another thread (the engine's writer)
# never iterates a set that is growing. Longest first: a secret inside another is hidden whole.
_registered_text: tuple[str, ...] = ()
_registered_bytes: tuple[bytes, ...] = ()


def _pieces(value: str) -> list[str]:
    """``value`` and each of its lines of at least ``MIN_SECRET_CHARS`` characters."""
    if not value or not value.strip():
        return []
    lines = [line.strip() for line in value.splitlines()]
    return [value, *(line for line in lines if len(line) >= MIN_SECRET_CHARS and line != value)]


def _longest_first(values: Iterable[str]) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
    text = tuple(sorted(set(values), key=len, reverse=True))
    return text, tuple(secret.encode("utf-8") for secret in text)


def register_secret(value: str) -> None:
    """Hide ``value`` from every later :func:`redact` call in this process.

    Each line of ``value`` of at least ``MIN_SECRET_CHARS`` characters (stripped) is hidden
    too, wherever it occurs alone. A value shorter than ``MIN_SECRET_CHARS`` (stripped) is
    ignored, as are empty and whitespace-only ones; pass it to :func:`redact` as ``secrets=``
    where it must be hidden.
    """
    global _registered_text, _registered_bytes
    if len(value.strip()) < MIN_SECRET_CHARS or value in _registered_text:
        return
    with _lock:
        _registered_text, _registered_bytes = _longest_first([*_registered_text, *_pieces(value)])


def registered_secrets() -> tuple[str, ...]:
    """The values registered so far (and their lines), longest first."""
    return _registered_text


@overload
def redact(value: str, *, secrets: Iterable[str] = (), patterns: bool = True) -> str: ...
@overload
def redact(value: bytes, *, secrets: Iterable[str] = (), patterns: bool = True) -> bytes: ...
@overload
def redact(value: Any, *, secrets: Iterable[str] = (), patterns: bool = True) -> Any: ...
def redact(value: Any, *, secrets: Iterable[str] = (), patterns: bool = True) -> Any:
    """``value`` with every secret (and credential-looking token) replaced by ``[REDACTED]``.

    Strings and bytes (an artifact's content, byte-wise: it may be binary) are redacted; lists,
    tuples and dicts (keys too) are copied with their strings redacted; anything else (numbers,
    ``None``) is returned as is. Every occurrence of every secret is found in the original
    text first and overlapping occurrences are merged, so two secrets that overlap (or one
    inside another) are hidden whole, never leaving a fragment of either behind.

    Args:
        value: what to redact.
        secrets: exact strings to hide besides the registered ones, whatever their length
            (empty ones are ignored); each of their lines of at least ``MIN_SECRET_CHARS``
            characters is hidden too.
        patterns: also hide unregistered credential-looking tokens (bearer tokens, ``sk-…``,
            ``mc_…``, ``mcl_…``). ``False`` for an artifact's content, which must stay what its
            program wrote except for the exact secrets.
    """
    text_secrets, byte_secrets = _registered_text, _registered_bytes
    extra = [p for s in secrets for p in _pieces(s)] if secrets != () else None
    if extra:
        text_secrets, byte_secrets = _longest_first([*text_secrets, *extra])
    return _walk(value, text_secrets, byte_secrets, patterns)


def _walk(
    value: Any, text_secrets: Sequence[str], byte_secrets: Sequence[bytes], patterns: bool
) -> Any:
    if isinstance(value, str):
        if not patterns:
            return _replace(value, text_secrets, REDACTED)
        return _scrub(value, text_secrets, REDACTED, _CREDENTIAL_TEXT, _HINTS_TEXT, "bearer")
    if isinstance(value, bytes):
        if not patterns:
            return _replace(value, byte_secrets, _REDACTED_BYTES)
        return _scrub(
            value, byte_secrets, _REDACTED_BYTES, _CREDENTIAL_BYTES, _HINTS_BYTES, b"bearer"
        )
    if isinstance(value, dict):
        return {
            _walk(k, text_secrets, byte_secrets, patterns): _walk(
                v, text_secrets, byte_secrets, patterns
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_walk(v, text_secrets, byte_secrets, patterns) for v in value]
    if isinstance(value, tuple):
        return tuple(_walk(v, text_secrets, byte_secrets, patterns) for v in value)
    return value


def _replace(text: AnyStr, secrets: Sequence[AnyStr], redacted: AnyStr) -> AnyStr:
    """``text`` with every occurrence of every secret replaced, overlapping ones merged."""
    return _join(text, _spans(text, secrets), redacted)


def _spans(text: AnyStr, secrets: Sequence[AnyStr]) -> list[tuple[int, int]]:
    """Where the secrets occur in ``text``: sorted spans, overlapping or touching ones merged."""
    spans: list[tuple[int, int]] = []
    for secret in secrets:
        size = len(secret)
        first = text.find(secret)
        while first != -1:
            # The farthest occurrence overlapping or touching the span extends it; those between
            # lie inside. Jumping to it keeps a run of a self-overlapping secret ("aaaa…" with
            # "aaaaaaaa") linear instead of one search per character.
            end = first + size
            while (last := text.rfind(secret, end - size + 1, end + size)) != -1:
                end = last + size
            spans.append((first, end))
            first = text.find(secret, end + 1)
    return _merge(spans) if spans else spans


def _join(text: AnyStr, spans: Sequence[tuple[int, int]], redacted: AnyStr) -> AnyStr:
    """``text`` with each of the (sorted, disjoint) ``spans`` replaced by ``redacted``."""
    if not spans:
        return text
    pieces: list[AnyStr] = []
    cursor = 0
    for start, end in spans:
        pieces += [text[cursor:start], redacted]
        cursor = end
    pieces.append(text[cursor:])
    return redacted[:0].join(pieces)


def _scrub(
    text: AnyStr,
    secrets: Sequence[AnyStr],
    redacted: AnyStr,
    pattern: re.Pattern[AnyStr],
    hints: Sequence[AnyStr],
    scheme: AnyStr,
) -> AnyStr:
    text = _replace(text, secrets, redacted)
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


class Redactor:
    """:func:`redact` with some secrets of its own besides the registered ones.

    The secrets it is given are hidden whatever their length (a step's own secrets, a client's
    key); the combined list is rebuilt only when a secret is added here or registered.

    Args:
        secrets: Exact strings to hide wherever they occur (besides the process-wide ones of
            :func:`register_secret`). Empty strings are ignored.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._own: list[str] = []
        self._seen: tuple[str, ...] | None = None
        self._text: tuple[str, ...] = ()
        self._bytes: tuple[bytes, ...] = ()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Register one more secret; empty or whitespace-only strings are ignored."""
        for piece in _pieces(secret):
            if piece not in self._own:
                self._own.append(piece)
                self._seen = None

    def _secrets(self) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
        registered = _registered_text
        if self._seen is not registered:
            self._text, self._bytes = _longest_first([*registered, *self._own])
            self._seen = registered
        return self._text, self._bytes

    def byte_secrets(self) -> tuple[bytes, ...]:
        """Every secret hidden here (its own and the registered ones), UTF-8, longest first."""
        return self._secrets()[1]

    def redact(self, value: _T, *, patterns: bool = True) -> _T:
        """``value`` through :func:`redact` with this redactor's secrets besides the registered."""
        text, data = self._secrets()
        return cast("_T", _walk(value, text, data, patterns))

    def stream(self) -> "StreamRedactor":
        """A :class:`StreamRedactor` for this redactor's exact secrets (content, no patterns)."""
        return StreamRedactor(self.byte_secrets())


class StreamRedactor:
    """Exact secrets replaced in bytes that arrive in chunks (a file copied piece by piece).

    The output, every :meth:`feed` and the final :meth:`end` joined, is exactly
    ``redact(b"".join(chunks), patterns=False)`` with the same secrets, however the bytes were
    cut: a secret split across two chunks is still replaced, and overlapping or touching
    occurrences still become one ``[REDACTED]``. Memory stays bounded by the chunk and the
    longest secret: the last ``len(longest secret) - 1`` bytes are held back until the next
    chunk shows whether a secret continues there, and as many bytes already given out are kept
    to see an occurrence that overlaps one already replaced.

    Args:
        secrets: the exact byte strings to hide (empty ones are ignored).
    """

    def __init__(self, secrets: Iterable[bytes]) -> None:
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
        self._keep = max((len(s) for s in self._secrets), default=1) - 1
        self._seen = b""  # the last bytes already given out (replaced or not)
        self._held = b""  # bytes not given out yet
        self._joined = False  # what was given out ends with a replacement

    def feed(self, chunk: bytes) -> bytes:
        """The redacted bytes that can be given out now that ``chunk`` arrived."""
        if not self._secrets:
            return chunk
        return self._advance(chunk, final=False)

    def end(self) -> bytes:
        """The redacted rest: call once, after the last chunk."""
        if not self._secrets:
            return b""
        return self._advance(b"", final=True)

    def _advance(self, chunk: bytes, *, final: bool) -> bytes:
        data = self._seen + self._held + chunk
        base = len(self._seen)
        # Past ``limit`` an occurrence may be incomplete: those bytes wait for the next chunk.
        limit = len(data) if final else len(data) - self._keep
        out: list[bytes] = []
        cursor, joined = base, self._joined
        for start, end in _spans(data, self._secrets):
            if end <= base or start >= limit:
                continue  # replaced already, or maybe not whole yet
            if start > cursor or (start == cursor and not joined):
                out += [data[cursor:start], _REDACTED_BYTES]
            # else: it overlaps or touches the replacement just given out: the same one
            cursor, joined = end, True
        cut = max(limit, cursor)
        if cut > cursor:
            out.append(data[cursor:cut])
            joined = False
        self._seen = data[max(0, cut - self._keep) : cut]
        self._held, self._joined = data[cut:], joined
        return b"".join(out)


def redact_chunks(chunks: Iterable[bytes], *, secrets: Iterable[str] = ()) -> Iterator[bytes]:
    """``chunks`` with the exact secrets (registered and ``secrets``) replaced, streamed.

    The bytes given out are those of ``redact(b"".join(chunks), secrets=secrets,
    patterns=False)`` (see :class:`StreamRedactor`); no more than a chunk and the longest
    secret is held at a time.
    """
    redactor = Redactor(secrets).stream()
    for chunk in chunks:
        if out := redactor.feed(chunk):
            yield out
    if rest := redactor.end():
        yield rest


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

    logging.setLogRecordFactory(_RedactingFactory(previous))


class _RedactingFactory:
    """A log record factory that redacts what ``previous`` makes; ``redacts`` marks it."""

    redacts = True

    def __init__(self, previous: Callable[..., logging.LogRecord]) -> None:
        self._previous = previous

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._previous(*args, **kwargs)
        _redact_record(record)
        return record


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: the handler reports it; show nothing unredacted
        record.msg, record.args = redact(f"{record.msg!s} {record.args!r}"), None
        message = record.msg
    if redact(message) != message:
        _redact_message(record, message)
    elif "%" in message and _redact_decoded(message) != message:
        # A credential written percent-encoded (a sign-in link's query string in the access
        # log, as some mail clients send it): a server decodes it, so it is one all the same.
        _redact_message(record, message, scrub=_redact_decoded)
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(_TRACEBACKS.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _redact_message(
    record: logging.LogRecord, message: str, *, scrub: Callable[[Any], Any] = redact
) -> None:
    args = record.args
    values = args.values() if isinstance(args, Mapping) else args or ()
    if isinstance(record.msg, str) and all(isinstance(v, _PRIMITIVE) for v in values):
        record.msg, record.args = scrub(record.msg), scrub(args)
        try:
            again = record.getMessage()
        except Exception:
            again = None
        if again is not None and scrub(again) == again:
            return
    record.msg, record.args = scrub(message), None


def _redact_decoded(value: Any) -> Any:
    """``value`` with its strings that hide a credential once percent-decoded, redacted.

    Such a string comes back decoded and redacted; tuples and mappings are gone through item
    by item; anything else comes back as it is.
    """
    if isinstance(value, str):
        plain = unquote(value)
        hidden = redact(plain)
        return hidden if hidden != plain else value
    if isinstance(value, tuple):
        return tuple(_redact_decoded(item) for item in value)
    if isinstance(value, Mapping):
        return {key: _redact_decoded(item) for key, item in value.items()}
    return value
