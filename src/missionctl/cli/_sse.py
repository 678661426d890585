"""Reading a Server-Sent Events stream line by line (``missionctl events --follow`` remotely).

Only what the server's streams send is read: ``data:`` lines (several are joined with a newline),
``id:`` and comments (``:``, the keep-alive pings), a blank line ending each message. A message
the stream broke in the middle of is dropped: the reconnection resumes after the last whole one.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Message:
    """One message of the stream: its ``id`` (``None`` when it has none) and its data."""

    id: str | None
    data: str


def read_messages(lines: Iterable[str]) -> Iterator[Message]:
    """The messages of a stream given as lines without their line ends, as they arrive.

    Fields other than ``data`` and ``id`` (``event``, ``retry``) are ignored, and so is a
    message without data (a ping).
    """
    data: list[str] = []
    message_id: str | None = None
    for line in lines:
        if not line:
            if data:
                yield Message(message_id, "\n".join(data))
            data, message_id = [], None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data.append(value)
        elif field == "id":
            message_id = value
