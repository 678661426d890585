"""The one reader of JSON text that comes from outside: a key written twice is refused.

``json.loads`` keeps the last of two equal keys without a word, so two readers of one body (a
proxy, a log, this server) could disagree on what it says. Every JSON body the API takes and
every JSON workflow definition is read here (ADR 0076); the event log's canonical form has its
own, stricter reader (``eventlog.chain``).
"""

import json
from typing import Any

from missionctl.schemas.datafiles import DuplicateKeyError

__all__ = ["DuplicateKeyError", "loads"]


def _unique(items: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(items)
    if len(data) < len(items):  # only then look for the key: the common case costs nothing
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                raise DuplicateKeyError(f"the key {key!r} appears twice in one object; keep one")
            seen.add(key)
    return data


def loads(text: str | bytes) -> Any:
    """Parse JSON ``text`` (``bytes`` as UTF-8, -16 or -32, as ``json.loads`` does).

    Raises:
        DuplicateKeyError: an object names a key twice; the message names the key.
        json.JSONDecodeError: not JSON (line and column in the exception).
        RecursionError: arrays or objects nested deeper than the parser can follow.
        ValueError: text ``json.loads`` refuses otherwise (an integer of 5,000 digits).
    """
    return json.loads(text, object_pairs_hook=_unique)
