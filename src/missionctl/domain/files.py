"""A file an operation answers with: a download, rather than a model sent as JSON.

A use case that returns one says what the bytes are and what to call them; the route sends
them as a file (``api.declared``) and a command receives them as bytes (``cli._backend``).
"""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FileAnswer:
    """A file to send.

    Attributes:
        content: the bytes, or their chunks in order (streamed, never all in memory; a
            blocking iterator is read in a thread).
        media_type: what they are, as ``type/subtype`` with parameters.
        name: the file name a browser saves it as; ``None`` sends no ``Content-Disposition``.
        inline: shown in place (a diagram, a calendar feed) rather than saved as an attachment.
        untrusted: what a step or a model wrote: sent as ``application/octet-stream`` unless
            its media type is a passive one (``security.downloads``).
        size: the length in bytes, announced when the content is chunks, so that a download
            cut short is seen as incomplete.
    """

    content: bytes | Iterator[bytes] | AsyncIterator[bytes]
    media_type: str
    name: str | None = None
    inline: bool = False
    untrusted: bool = False
    size: int | None = None
