"""Reading a plan while the model writes it: each phase and task as soon as it is whole.

A model's plan reply arrives in pieces (server-sent chunks). :class:`PartialPlanReader` is fed
those pieces in order and returns, for each piece, the phase and task objects of the plan whose
closing brace it brought: never an object still open, never the same one twice. It scans the
JSON text once, character by character, keeping only its nesting, whether it is inside a string
(and after a backslash), the key it last read at the plan's top level, and the text of the one
object it is collecting; a piece may end anywhere (inside a string, an escape, a unicode escape).

It reads what a planner reply looks like: one JSON object, possibly after a Markdown fence or a
sentence (everything before the first ``{`` is skipped), whose top-level ``phases`` and
``tasks`` arrays hold objects. Anything else (a nested plan, an array, questions) yields
nothing. It never raises on malformed text: an object whose text does not parse is skipped, and
text after the plan's closing brace is ignored. What it yields is a preview; the whole reply,
validated by the plan schema and rules, stays the authority (``llm_planner``).

Why by hand: the parsers at hand read whole documents (``json``) or return the open object
half-built (``pydantic_core.from_json(..., allow_partial=True)``, which would also parse the
whole reply again at every piece); this scanner is linear in the reply's length.
"""

import json
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["DraftedItem", "ItemKind", "PartialPlanReader"]

ItemKind = Literal["phase", "task"]

# The plan's top-level arrays whose objects are read, and what each object is.
_ARRAYS: dict[str, ItemKind] = {"phases": "phase", "tasks": "task"}

MAX_ITEM_CHARS = 32_000
"""The longest text of one phase or task that is collected; a longer one is skipped (a valid
task's fields together stay well under it), so a hostile reply cannot grow memory unbounded."""

MAX_ITEMS = {"phase": 10, "task": 20}
"""The most objects of each kind yielded for one reply: the plan schema's own limits."""

# A key read at the plan's top level is kept only this long: no wanted key is longer.
_MAX_KEY_CHARS = 32


@dataclass(frozen=True, slots=True)
class DraftedItem:
    """One whole phase or task object of the plan being written.

    Attributes:
        kind: ``phase`` or ``task``.
        index: Its position in its array, from 0 (objects skipped as unreadable count too).
        value: The object as the model wrote it (not validated: any keys, any value types).
    """

    kind: ItemKind
    index: int
    value: dict[str, Any]


class PartialPlanReader:
    """Feed the pieces of one reply in order; each call returns the objects they completed.

    Not thread-safe; one reader per reply (a new reply, say a repair, needs a new reader).
    """

    def __init__(self) -> None:
        self._depth = 0  # open objects and arrays, the plan's own object counting 1
        self._started = False  # the plan's opening brace was seen
        self._done = False  # the plan's closing brace was seen (or the text broke its rules)
        self._in_string = False
        self._escaped = False
        self._key: list[str] | None = None  # the top-level key being read, if one is
        self._last_key = ""  # the top-level key whose value is being read
        self._array: ItemKind | None = None  # inside a wanted top-level array
        self._item: list[str] | None = None  # the text of the object being collected
        self._item_chars = 0
        self._oversized = False
        self._counts: dict[ItemKind, int] = {"phase": 0, "task": 0}

    def feed(self, piece: str) -> list[DraftedItem]:
        """The objects ``piece`` completed, in the order their closing braces came.

        Never raises, whatever ``piece`` holds.
        """
        found: list[DraftedItem] = []
        for char in piece:
            if self._done:
                break
            item = self._step(char)
            if item is not None:
                found.append(item)
        return found

    def _step(self, char: str) -> DraftedItem | None:
        """Take one character; the object it closed, if it closed a wanted one."""
        if not self._started:
            if char == "{":
                self._started, self._depth = True, 1
            return None
        self._collect(char)
        if self._in_string:
            self._in_string_step(char)
            return None
        if char == '"':
            self._in_string = True
            if self._depth == 1 and self._key is None:
                self._key = []
            return None
        if char in "{[":
            self._open(char)
            return None
        if char in "}]":
            return self._close()
        if self._depth == 1 and char == ",":
            self._last_key = ""
        return None

    def _in_string_step(self, char: str) -> None:
        """A character inside a string: an escape, the closing quote, or text."""
        if self._escaped:
            self._escaped = False
        elif char == "\\":
            self._escaped = True
        elif char == '"':
            self._in_string = False
            if self._key is not None:
                self._last_key, self._key = "".join(self._key), None
            return
        if self._key is not None and len(self._key) < _MAX_KEY_CHARS:
            self._key.append(char)  # escapes kept as written: no wanted key has one

    def _open(self, char: str) -> None:
        self._depth += 1
        if self._depth == 2 and char == "[":
            self._array = _ARRAYS.get(self._last_key)
        elif self._depth == 3 and char == "{" and self._array is not None:
            self._item, self._item_chars, self._oversized = ["{"], 1, False

    def _close(self) -> DraftedItem | None:
        self._depth -= 1
        if self._depth <= 0:
            self._done = True  # the plan's object is closed (or the text closed more than it
            return None  # opened): nothing after it is the plan
        if self._depth == 1:
            self._array = None
        if self._depth == 2 and self._item is not None:
            return self._finish_item()
        return None

    def _collect(self, char: str) -> None:
        """Keep ``char`` as part of the object being collected, while it fits."""
        if self._item is None:
            return  # the object's opening brace is kept when it opens, after this
        if self._item_chars >= MAX_ITEM_CHARS:
            self._oversized = True
            return
        self._item.append(char)
        self._item_chars += 1

    def _finish_item(self) -> DraftedItem | None:
        """The object just closed, if its text parses as an object and its kind has room."""
        assert self._item is not None and self._array is not None  # called inside an array
        text, oversized, kind = "".join(self._item), self._oversized, self._array
        self._item = None
        index = self._counts[kind]
        self._counts[kind] = index + 1
        if oversized or index >= MAX_ITEMS[kind]:
            return None
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):  # a deeply nested object is skipped too
            return None
        return DraftedItem(kind, index, value) if isinstance(value, dict) else None
