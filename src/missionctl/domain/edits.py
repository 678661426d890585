"""The lines a diff changes, as fingerprints two coding steps' diffs can be compared by.

A *duplicated edit* is a line of a mission that more than one coding step changed (ADR 0117).
Each coding step's diff is against the tree it started from, so line numbers do not compare
across steps; a line is known instead by its file and its text: a step that rewrites a line an
earlier step wrote removes the text the earlier one added, and two steps that change the same
line both remove its old text. So a changed line is ``(path, text)`` of each added or removed
line of a unified diff, its white space collapsed; :func:`changed_lines` hashes each to eight
bytes (BLAKE2b), and :func:`pack`/:func:`unpack` keep a step's set as a few bytes a line.

Lines with fewer than :data:`MIN_LINE_CHARS` characters, or with no letter or digit (a brace,
a blank line, ``end``), are left out: every file has many alike, so two steps changing one
would say nothing about their overlap. Two equal lines of one file are one line here.
"""

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

MIN_LINE_CHARS: Final = 6
"""The shortest line (white space collapsed) that counts as an edit of its own."""

DIGEST_BYTES: Final = 8
"""The size of one line's fingerprint: collisions are one in 2**64 per pair of lines."""

_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_WORD = re.compile(r"[^\W_]")


@dataclass(slots=True)
class _Hunk:
    """The lines of a hunk still to read on its old and its new side."""

    old: int
    new: int

    @property
    def done(self) -> bool:
        return self.old <= 0 and self.new <= 0


def changed_lines(patch: str) -> frozenset[bytes]:
    """The fingerprints of every line ``patch`` (a unified diff, as ``git diff``) adds or removes.

    The file of a line is the diff's new path (the old one for a deleted file). Hunks are read
    by their line counts, so a removed line that starts with ``--`` is not taken for a header.
    """
    return frozenset(
        _fingerprint(path, text) for path, text in _changes(patch.splitlines()) if _counts(text)
    )


def pack(fingerprints: Iterable[bytes]) -> bytes:
    """``fingerprints`` as one string of bytes, sorted (the same set packs the same)."""
    return b"".join(sorted(fingerprints))


def unpack(packed: bytes) -> frozenset[bytes]:
    """The fingerprints :func:`pack` joined."""
    return frozenset(packed[i : i + DIGEST_BYTES] for i in range(0, len(packed), DIGEST_BYTES))


def _changes(lines: list[str]) -> Iterator[tuple[str, str]]:
    """``(path, text)`` of each added or removed line, its white space collapsed."""
    old_path = new_path = ""
    hunk: _Hunk | None = None
    for line in lines:
        if hunk is not None and not hunk.done:
            kind, text = line[:1], line[1:]
            if kind in ("-", " "):
                hunk.old -= 1
            if kind in ("+", " "):
                hunk.new -= 1
            if kind in ("+", "-"):
                yield (new_path or old_path), " ".join(text.split())
            continue
        hunk = None
        if line.startswith("--- "):
            old_path, new_path = _path(line[4:]), ""
        elif line.startswith("+++ "):
            new_path = _path(line[4:])
        elif found := _HUNK.match(line):
            hunk = _Hunk(_count(found.group(1)), _count(found.group(2)))


def _path(named: str) -> str:
    """A header's path without its ``a/`` or ``b/`` prefix; empty for ``/dev/null``."""
    named = named.split("\t", 1)[0].strip()
    if named == "/dev/null":
        return ""
    return named[2:] if named[:2] in ("a/", "b/") else named


def _count(group: str | None) -> int:
    """A hunk header's line count: absent means one."""
    return 1 if group is None else int(group)


def _counts(text: str) -> bool:
    """Whether a changed line says enough to count (see the module's docstring)."""
    return len(text) >= MIN_LINE_CHARS and _WORD.search(text) is not None


def _fingerprint(path: str, text: str) -> bytes:
    digest = hashlib.blake2b(f"{path}\n{text}".encode(), digest_size=DIGEST_BYTES)
    return digest.digest()
