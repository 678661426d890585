"""The rules of a mission's AI execution pack: task order, file names, what is relevant where.

A pack is a folder a coding agent works from: ``AGENTS.md``, one ``tasks/NN-<key>.md`` per task
in execution order, and ``plan.json`` (``services/usecases/packs.py`` builds it, docs/packs.md
describes it). Everything here is pure, so the same plan always gives the same order, the same names
and the same selections.

**Relevance.** Plans do not link risks and decisions to tasks. Until they do,
:func:`relevant_items` decides, in one place, which of them a task's file lists:

1. explicit links, when an item has them, decide alone for that item;
2. otherwise a risk of severity ``high`` or ``critical`` concerns every task;
3. otherwise an item concerns a task when they share at least :data:`MIN_SHARED_WORDS`
   significant words: content words (``domain.similarity.content_words``: lower case, function
   words dropped, plural and verb endings folded) that occur in at most
   :data:`MAX_COMMON_SHARE` of the plan's tasks. The subject every task names ("URL
   shortener") is thereby not evidence of anything.
"""

import heapq
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from missionctl.domain.similarity import content_words
from missionctl.domain.slugs import slug

AGENTS_FILE = "AGENTS.md"
PLAN_FILE = "plan.json"
TASKS_DIR = "tasks"
MIN_SHARED_WORDS = 2
"""Significant words a task and a risk or decision must share for the item to be listed."""
MAX_COMMON_SHARE = 0.5
"""A word found in more than this share of the plan's tasks says nothing about any one task."""
EVERYWHERE_SEVERITIES = frozenset({"high", "critical"})
"""Severities of the risks every task's file lists."""
TASK_KEY_CHARS = 40
"""Longest key part of a task's file name (keys may have 63 characters)."""

# A path inside a pack: at most one folder, every part starting with a letter or digit (so no
# ".", "..", hidden or absolute names), of letters, digits, ".", "_" and "-" only.
_PACK_PATH = re.compile(r"(?:[a-z0-9][a-z0-9._-]{0,63}/)?[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True, slots=True)
class OrderedTask:
    """A task as ordering sees it: its key, what it waits for, and its phase's position."""

    key: str
    depends_on: Sequence[str] = ()
    phase: int | None = None  # the position of its phase in the plan; None: in no phase


def execution_order(tasks: Sequence[OrderedTask]) -> list[str]:
    """The task keys in an order that runs every task after the tasks it depends on.

    Among the tasks whose dependencies are done, the one of the earliest phase goes first
    (tasks in no phase after every phase), then the one listed first in the plan. So the order
    follows the plan's phases wherever its dependencies allow. Dependencies on unknown keys
    are ignored; tasks caught in a cycle (a stored plan has none) follow in plan order.
    """
    position = {task.key: n for n, task in enumerate(tasks)}
    rank = {t.key: (len(tasks) if t.phase is None else t.phase, position[t.key]) for t in tasks}
    waiting = {t.key: {d for d in t.depends_on if d in position and d != t.key} for t in tasks}
    dependents: dict[str, list[str]] = {t.key: [] for t in tasks}
    for key, needs in waiting.items():
        for need in needs:
            dependents[need].append(key)
    ready = [(rank[key], key) for key, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, key = heapq.heappop(ready)
        order.append(key)
        for dependent in dependents[key]:
            waiting[dependent].discard(key)
            if not waiting[dependent]:
                heapq.heappush(ready, (rank[dependent], dependent))
    placed = set(order)
    return order + [t.key for t in tasks if t.key not in placed]


def task_file(number: int, key: str, *, count: int) -> str:
    """The pack path of the ``number``-th task (from 1) of ``count``: ``tasks/01-<key>.md``.

    The number is zero-padded to the width of ``count`` (two digits at least), so the files
    sort in execution order; the key goes through :func:`domain.slugs.slug`, so the name is
    ``[a-z0-9-]`` whatever the key holds.
    """
    width = max(2, len(str(count)))
    name = slug(key, max_chars=TASK_KEY_CHARS, fallback="task")
    return f"{TASKS_DIR}/{number:0{width}d}-{name}.md"


def is_pack_path(path: str) -> bool:
    """Whether ``path`` may name a file of a pack: relative, one folder at most, no dot parts.

    The command line checks every name of a downloaded pack with this before it writes it.
    """
    return _PACK_PATH.fullmatch(path) is not None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A risk or decision that a task's file may list.

    ``text`` is what it says (title and description or choice); ``severity`` is a risk's (None
    for a decision); ``linked`` holds the keys of the tasks it is explicitly linked to, or
    None when the plan links it to none (today, always).
    """

    text: str
    severity: str | None = None
    linked: Collection[str] | None = None


def significant_words(task_texts: Sequence[str]) -> list[frozenset[str]]:
    """Each task text's content words, without those found in most of the tasks.

    A word is kept when at most :data:`MAX_COMMON_SHARE` of ``task_texts`` contain it.
    """
    words = [content_words(text) for text in task_texts]
    counts: dict[str, int] = {}
    for found in words:
        for word in found:
            counts[word] = counts.get(word, 0) + 1
    limit = MAX_COMMON_SHARE * len(words)
    return [frozenset(w for w in found if counts[w] <= limit) for found in words]


def relevant_items(
    task_key: str, task_words: frozenset[str], candidates: Sequence[Candidate]
) -> list[int]:
    """The positions in ``candidates`` of the items that concern the task, in their order.

    The rule is the module's (explicit links first, then high severity, then
    :data:`MIN_SHARED_WORDS` shared significant words); ``task_words`` are the task's
    significant words (:func:`significant_words`).
    """
    chosen = []
    for n, item in enumerate(candidates):
        if item.linked is not None:
            relevant = task_key in item.linked
        elif item.severity in EVERYWHERE_SEVERITIES:
            relevant = True
        else:
            relevant = len(task_words & content_words(item.text)) >= MIN_SHARED_WORDS
        if relevant:
            chosen.append(n)
    return chosen


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")


def sentences_mentioning(texts: Sequence[str], words: Collection[str]) -> list[str]:
    """The sentences of ``texts`` that name one of ``words`` (whole words, any case), in order.

    Texts are split after ``.``, ``!``, ``?`` and ``;`` and at line breaks; a sentence found
    twice is listed once.
    """
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(words)) + r")\b", re.I)
    found: list[str] = []
    for text in texts:
        for sentence in _SENTENCE_END.split(text):
            sentence = sentence.strip()
            if sentence and pattern.search(sentence) and sentence not in found:
                found.append(sentence)
    return found
