"""What a model planner shows of a plan while it writes it: drafted phases and tasks.

:class:`DraftRelay` listens to a streamed plan reply (an ``LLMClient`` reply listener), reads
it with :class:`~missionctl.planning.partial_plan.PartialPlanReader`, and tells its sink one
:class:`DraftNote` per phase or task as soon as the model has written it whole, and a
``restart`` note when a new reply begins after an earlier one drafted something (a repair, a
plan sent back, a request sent again): what was drafted before is void. The notes are a
preview for people watching; the plan the planner returns is the only plan.

Every string of a note is redacted (the model may echo a secret of the prompt) and cut to a
bound, and lists are cut too, so a note is small whatever the model wrote.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from missionctl.llm.redaction import redact
from missionctl.planning.partial_plan import DraftedItem, PartialPlanReader

__all__ = ["DraftKind", "DraftNote", "DraftRelay", "DraftSink", "shown_item"]

DraftKind = Literal["phase", "task", "restart"]

TEXT_CHARS = 200
"""The longest title, name or role a note carries."""
PROSE_CHARS = 280
"""The longest goal or description a note carries (the start of it: the plan has the rest)."""
KEY_CHARS = 64
"""The longest key a note carries (a valid key is shorter)."""
MAX_KEYS = 20
"""The most keys a note's list (``depends_on``, ``task_keys``) carries."""

# The fields a note keeps of each kind, and how each is bounded.
_TEXT_FIELDS: Mapping[str, Mapping[str, int]] = {
    "phase": {"key": KEY_CHARS, "name": TEXT_CHARS, "goal": PROSE_CHARS},
    "task": {
        "key": KEY_CHARS,
        "title": TEXT_CHARS,
        "role": TEXT_CHARS,
        "risk_tier": KEY_CHARS,
        "description": PROSE_CHARS,
    },
}
_LIST_FIELDS: Mapping[str, tuple[str, ...]] = {"phase": ("task_keys",), "task": ("depends_on",)}


@dataclass(frozen=True, slots=True)
class DraftNote:
    """One thing shown of a plan being written.

    Attributes:
        kind: ``phase`` or ``task`` (one more item of the draft), or ``restart`` (a new reply
            began: forget the items of the earlier ones).
        attempt: Which reply of this planning drafted it, from 1.
        index: The item's position in its array of the reply, from 0 (``None`` for a restart).
        item: The item's fields, redacted and bounded (:func:`shown_item`); empty for a restart.
    """

    kind: DraftKind
    attempt: int
    index: int | None = None
    item: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """The note as an event payload: kind, attempt, and index and item for an item."""
        if self.kind == "restart":
            return {"kind": self.kind, "attempt": self.attempt}
        return {"kind": self.kind, "attempt": self.attempt, "index": self.index, "item": self.item}


DraftSink = Callable[[DraftNote], None]
"""Told each note as the model drafts; it must return quickly and must not raise."""


def shown_item(drafted: DraftedItem) -> dict[str, Any]:
    """The fields of a drafted phase or task that a note shows, redacted and bounded.

    A phase keeps key, name, goal and task_keys; a task key, title, role, risk_tier,
    description and depends_on. A field of the wrong type (a number for a title, an object in
    a list) is left out; text is redacted first, then its whitespace folded and its end cut,
    so a secret is never cut into a piece the redaction would not know.
    """
    value = drafted.value
    shown: dict[str, Any] = {}
    for name, limit in _TEXT_FIELDS[drafted.kind].items():
        text = value.get(name)
        if isinstance(text, str) and (cut := _bounded(text, limit)):
            shown[name] = cut
    for name in _LIST_FIELDS[drafted.kind]:
        items = value.get(name)
        if isinstance(items, list):
            keys = [_bounded(k, KEY_CHARS) for k in items if isinstance(k, str)]
            shown[name] = [k for k in keys if k][:MAX_KEYS]
    return shown


def _bounded(text: str, limit: int) -> str:
    """``text`` redacted, its whitespace folded to single spaces, cut to ``limit`` characters."""
    folded = " ".join(redact(text).split())
    return folded if len(folded) <= limit else folded[: limit - 1].rstrip() + "…"


class DraftRelay:
    """A reply listener that tells ``sink`` the plan's phases and tasks as they are written.

    One relay per planning: it counts the replies (``attempt``) across all its model calls.
    It never raises: the reader does not, and ``sink`` must not.
    """

    def __init__(self, sink: DraftSink) -> None:
        self._sink = sink
        self._reader = PartialPlanReader()
        self._attempt = 0
        self._drafted = False  # whether the current attempt's notes include an item

    @property
    def attempt(self) -> int:
        """The replies begun so far (0 before the first piece)."""
        return self._attempt

    def __call__(self, text: str, *, fresh: bool) -> None:
        """Read the next piece of a reply; ``fresh`` starts a new reply (and a new attempt)."""
        if fresh or self._attempt == 0:
            self._begin()
        for drafted in self._reader.feed(text):
            self._drafted = True
            note = DraftNote(drafted.kind, self._attempt, drafted.index, shown_item(drafted))
            self._sink(note)

    def _begin(self) -> None:
        """A new reply: a new reader, and a restart note if an earlier reply drafted items."""
        self._attempt += 1
        self._reader = PartialPlanReader()
        if self._drafted:
            self._sink(DraftNote("restart", self._attempt))
        self._drafted = False
