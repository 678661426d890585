"""The headers of a download: a file name any browser reads, and a media type that is sound.

An artifact's name is whatever its program or model chose: ``报告.md``, a name with quotes,
backslashes, semicolons or line breaks, 255 bytes long. HTTP header values are Latin-1 and a
quoted string ends at the first ``"``, so the name is sent twice (RFC 6266, RFC 8187):
``filename="…"`` with an ASCII stand-in for old clients, and ``filename*=UTF-8''…`` with the
exact name percent-encoded, which every current browser prefers.

An artifact's bytes are whatever a step wrote, and they are served from the app's own origin:
a ``z.js`` served as ``text/javascript`` would be a script that ``script-src 'self'`` lets any
later injection load, an ``x.html`` or ``y.svg`` opened in a tab would run in the app's origin.
So a download is served inert (:data:`INERT_DOWNLOAD_HEADERS`, :func:`served_media_type`): as an
attachment, with its media type kept only when it is on a short list of passive types
(:data:`PASSIVE_MEDIA_TYPES`) and ``application/octet-stream`` otherwise, never sniffed, and
sandboxed should a browser render it anyway.
"""

import re
import unicodedata
from urllib.parse import quote

DEFAULT_NAME = "download"
FALLBACK_MEDIA_TYPE = "application/octet-stream"
# In the ASCII stand-in, printable ASCII survives except what ends or escapes a quoted string
# (", \\), what old parsers split on (;), and % (some clients percent-decode this form too).
_UNSAFE_ASCII = re.compile(r'[^\x20-\x7e]|["\\;%]')
# type/subtype with optional parameters of token characters (RFC 9110), a quoted value being
# printable ASCII but " and \, with spaces or tabs around ";" (never a line break): nothing
# that could end the header or start another, and nothing the server cannot encode (headers
# are Latin-1; RFC 9110's obs-text is obsolete), which would make a download a 500.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"[\x20\x21\x23-\x5b\x5d-\x7e]*"'
_CHARSET = re.compile(r"charset=\"?([A-Za-z0-9._-]{1,40})\"?", re.IGNORECASE)
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}([ \t]*;[ \t]*{_TOKEN}=({_QUOTED}|{_TOKEN}))*")

PASSIVE_MEDIA_TYPES = frozenset(
    {
        "text/plain",
        "text/markdown",
        "text/csv",
        "text/x-diff",
        "application/json",
        "application/x-ndjson",
        "application/zip",
        "application/gzip",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
    }
)
"""Media types a download keeps: data no browser runs. Anything else (scripts, HTML, SVG,
XML, PDF, types nobody listed) is served as ``application/octet-stream``."""

INERT_DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # A document served with this policy has an opaque origin and runs no script, should a
    # browser render it despite the attachment disposition.
    "Content-Security-Policy": "sandbox",
}
"""The headers every download of stored bytes carries, beside its ``Content-Disposition``."""


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """A ``Content-Disposition`` value for ``filename`` (pure ASCII, one line, any name).

    Args:
        filename: the name as recorded; a path's folders are kept in the UTF-8 form (browsers
            turn ``/`` into ``_``) and replaced in the ASCII one.
        inline: ``inline`` instead of ``attachment``.
    """
    name = filename or DEFAULT_NAME
    ascii_name = _ascii_stand_in(name)
    encoded = quote(name, safe="")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"


def _ascii_stand_in(name: str) -> str:
    # Accents dropped where the letter is ASCII underneath (é → e); anything else becomes _.
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_name = _UNSAFE_ASCII.sub("_", stripped.replace("/", "_")).strip() or DEFAULT_NAME
    return ascii_name


def download_media_type(media_type: str) -> str:
    """``media_type`` when it is a well-formed media type, else ``application/octet-stream``.

    A recorded media type comes from an agent; one that could break the header (a line break,
    a stray quote, a character that is not printable ASCII) is served as plain bytes instead of
    failing the download.
    """
    return media_type if _MEDIA_TYPE.fullmatch(media_type) else FALLBACK_MEDIA_TYPE


def served_media_type(media_type: str) -> str:
    """The media type a download of bytes recorded as ``media_type`` is served with.

    The recorded type without its parameters, lower-cased, when it is on
    :data:`PASSIVE_MEDIA_TYPES` (a text type keeps a well-formed ``charset``); otherwise
    ``application/octet-stream``, whatever the name or the recorded type claims.
    """
    sound = download_media_type(media_type)
    essence, _, parameters = sound.partition(";")
    essence = essence.strip().lower()
    if essence not in PASSIVE_MEDIA_TYPES:
        return FALLBACK_MEDIA_TYPE
    charset = _CHARSET.search(parameters)
    if essence.startswith("text/") and charset:
        return f"{essence}; charset={charset.group(1).lower()}"
    return essence
