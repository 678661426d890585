"""Mini-spec gating: which tasks are risky, and whether their work may start (pure).

A *spec policy* lists rule sets (``cross-service interface``, ``security``, ``migration``,
``novel pattern``…). Each rule set marks a plan task by its specialist role, or by a word or
phrase in its title or description, and marks a diff by the paths it changes. A marked task's
implementation waits for an approved, fresh mini-spec; :func:`spec_block` says why it waits.

Words match whole: a phrase matches where no letter or digit touches either end, so ``auth``
marks "add auth to the API" but not "the authority of the tribunal". Spaces in a phrase match
any run of white space or hyphens (``schema change`` marks "schema-change"). Matching ignores
case.

Path globs are matched against repository-relative paths with ``/`` separators: ``*`` and ``?``
stay inside one path segment, ``**`` spans segments (``**/migrations/**`` matches
``db/migrations/0003.sql`` and ``migrations/x``). A glob without ``/`` matches the last segment
anywhere (``*.sql`` matches ``db/migrations/0003.sql``), as in ``.gitignore``.

A step is *guarded* when it implements work: its agent is ``coding:<preset>``, or its phase is
"implementation" (any case). A ``git:merge`` step is guarded by the paths its upstream coding
step changed.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from missionctl.domain.coding import MERGE_AGENT, is_coding_agent

__all__ = [
    "MERGE_AGENT",
    "Mark",
    "RuleSet",
    "SpecGuard",
    "SpecPolicy",
    "SpecState",
    "glob_matches",
    "implements_work",
    "mark_summary",
    "path_marks",
    "phrase_in",
    "spec_block",
    "task_for_step",
    "task_marks",
]

IMPLEMENTATION_PHASE = "implementation"
SPEC_STATUSES = ("draft", "approved", "rejected")


@dataclass(frozen=True, slots=True)
class RuleSet:
    """One reason a task needs a mini-spec.

    Attributes:
        name: What the rule set is about, shown in reasons (``migration``).
        roles: Plan task roles that mark a task (``security``).
        phrases: Words or phrases that mark a task when its title or description holds them.
        paths: Globs of changed paths that mark a diff.
    """

    name: str
    roles: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SpecPolicy:
    """The rule sets in force, in the order reasons list them."""

    rule_sets: tuple[RuleSet, ...] = ()


@dataclass(frozen=True, slots=True)
class Mark:
    """Why a rule set marks a task or a diff: ``rule`` and the evidence (``why``)."""

    rule: str
    why: str

    def __str__(self) -> str:
        return f"{self.rule} ({self.why})"


@dataclass(frozen=True, slots=True)
class SpecState:
    """What is known of a task's mini-specs when a guarded step is ready.

    Attributes:
        approved_at: When the most recently approved spec was approved; ``None`` if none is.
        latest_status: The status of the task's newest spec, ``None`` when it has none.
    """

    approved_at: datetime | None = None
    latest_status: str | None = None


@dataclass(frozen=True, slots=True)
class SpecGuard:
    """What the guard applies: the policy in force and how long an approval stays fresh."""

    policy: SpecPolicy
    max_age: timedelta


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(word) for word in phrase.split()]
    body = r"[\s\-]+".join(words)
    return re.compile(rf"(?<![0-9a-z]){body}(?![0-9a-z])", re.IGNORECASE)


_phrase_regex = cache(_phrase_pattern)


def phrase_in(phrase: str, text: str) -> bool:
    """Whether ``phrase`` occurs in ``text`` as whole words (see the module doc)."""
    if not phrase.split():
        return False
    return _phrase_regex(phrase.casefold()).search(text) is not None


def _glob_pattern(glob: str) -> re.Pattern[str]:
    if "/" not in glob.strip("/"):
        glob = "**/" + glob.strip("/")
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.IGNORECASE)


_glob_regex = cache(_glob_pattern)


def glob_matches(glob: str, path: str) -> bool:
    """Whether the repository-relative ``path`` matches ``glob`` (see the module doc)."""
    clean = path.replace("\\", "/")
    while clean.startswith("./"):
        clean = clean[2:]
    clean = clean.lstrip("/")
    return _glob_regex(glob).match(clean) is not None


def task_marks(policy: SpecPolicy, *, title: str, description: str, role: str) -> list[Mark]:
    """Every rule set that marks a plan task, each with its first piece of evidence.

    Returns:
        One :class:`Mark` per marking rule set, in the policy's order; empty when none does.
    """
    marks = []
    for rules in policy.rule_sets:
        why = _task_evidence(rules, title=title, description=description, role=role)
        if why is not None:
            marks.append(Mark(rules.name, why))
    return marks


def _task_evidence(rules: RuleSet, *, title: str, description: str, role: str) -> str | None:
    if role and role in rules.roles:
        return f'role "{role}"'
    for where, text in (("title", title), ("description", description)):
        for phrase in rules.phrases:
            if phrase.split() and (found := _phrase_regex(phrase.casefold()).search(text)):
                return f"the {where} says “{_around(text, found.start(), found.end())}”"
    return None


_CONTEXT_WORDS = 3
"""Words shown on each side of the phrase that marked a task, so a person sees its sense."""


def _around(text: str, start: int, end: int) -> str:
    """The words of ``text`` holding ``text[start:end]``, a few more on each side.

    "…" marks where the text goes on beyond them.
    """
    spans = [m.span() for m in _WORDS.finditer(text)]
    first = next(i for i, (_, stop) in enumerate(spans) if stop > start)
    last = max(i for i, (begin, _) in enumerate(spans) if begin < end)
    low, high = max(first - _CONTEXT_WORDS, 0), min(last + _CONTEXT_WORDS, len(spans) - 1)
    shown = " ".join(text[spans[low][0] : spans[high][1]].split())
    return ("…" if low > 0 else "") + shown + ("…" if high < len(spans) - 1 else "")


_WORDS = re.compile(r"\S+")


def path_marks(policy: SpecPolicy, paths: Iterable[str]) -> list[Mark]:
    """Every rule set whose path globs match a changed path, with the first match."""
    listed = [p for p in paths if isinstance(p, str) and p]
    marks = []
    for rules in policy.rule_sets:
        hit = next(
            ((path, glob) for path in listed for glob in rules.paths if glob_matches(glob, path)),
            None,
        )
        if hit is not None:
            marks.append(Mark(rules.name, f'path "{hit[0]}" matches "{hit[1]}"'))
    return marks


def implements_work(agent: str, phase: str | None) -> bool:
    """Whether a step implements a task: a ``coding:*`` agent, or the implementation phase."""
    if is_coding_agent(agent):
        return True
    return (phase or "").strip().casefold() == IMPLEMENTATION_PHASE


def task_for_step(step_id: str, inputs: Mapping[str, Any], task_keys: Iterable[str]) -> str | None:
    """The plan task a step implements: ``inputs.task_key``, else its id if a task has it."""
    named = inputs.get("task_key")
    if isinstance(named, str) and named.strip():
        return named.strip()
    return step_id if step_id in set(task_keys) else None


def mark_summary(marks: Sequence[Mark]) -> str:
    """The marks as one line: ``migration (the title says “Add the visits migration”); …``."""
    return "; ".join(str(mark) for mark in marks)


def spec_block(
    task_key: str,
    marks: Sequence[Mark],
    state: SpecState,
    *,
    now: datetime,
    max_age: timedelta,
) -> str | None:
    """Why a guarded step of a marked task may not start yet, or ``None`` when it may.

    It may start when the task is unmarked, or when its most recently approved spec was
    approved no longer than ``max_age`` ago. Otherwise the reason names the task, the marks
    and what is missing: no spec, a draft awaiting a decision, a rejection, or a stale
    approval (``spec approved 41 days ago is stale (max 30)``).
    """
    if not marks:
        return None
    needs = f"needs an approved mini-spec for task `{task_key}`: {mark_summary(marks)}"
    if state.approved_at is not None:
        age = now - state.approved_at
        if age <= max_age:
            return None
        days, limit = age.days, max_age.days
        return f"{needs}; spec approved {days} days ago is stale (max {limit})"
    if state.latest_status == "draft":
        return f"{needs}; its spec is a draft awaiting an approver"
    if state.latest_status == "rejected":
        return f"{needs}; its spec was rejected, write a new one"
    return f"{needs}; no spec written yet"
