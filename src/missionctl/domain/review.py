"""The review loop of a code task: builder, tester, reviewer, rework, merge (docs/coding-agents.md).

A mission with ``repository.review`` compiles each code task ``T`` into a chain of coding steps
on one line of commits: ``T`` builds, ``T-test`` adds or strengthens tests on ``T``'s branch,
``T-review`` reads the change read-only and ends its answer with a *verdict block*, ``T-rework``
runs only when that verdict asks for changes, and the merge takes the last branch that ran.

Everything here is pure: the steps' ids and the verdict's format. The verdict is the reviewer's
opinion: it chooses whether the rework runs and is shown beside the merge's diff; it never
decides an outcome (those come from the diff and the test command, ``domain.outcomes``).
"""

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

Verdict = Literal["approve", "changes_requested"]
VERDICTS: Final[tuple[Verdict, ...]] = ("approve", "changes_requested")
CHANGES_REQUESTED: Final[Verdict] = "changes_requested"

_STEP_ID_MAX: Final = 63
_SUFFIXES: Final = ("-test", "-review", "-rework")
# Every id of one chain is cut from the same stem, so that the four always share it.
_STEM_MAX: Final = _STEP_ID_MAX - max(len(suffix) for suffix in _SUFFIXES)

MAX_ANSWER_CHARS: Final = 200_000
MAX_VERDICT_BLOCK_CHARS: Final = 20_000
MAX_FINDINGS: Final = 20
MAX_FINDING_CHARS: Final = 1000
# A fenced block: an opening fence (``` with an optional info word), its body, a closing fence.
_FENCE: Final = re.compile(r"^```[ \t]*([A-Za-z0-9_-]*)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
# Control characters but tab and line break: findings are shown on pages and in terminals.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class ReviewChain:
    """The step ids of one code task's review loop (``task`` is the builder's, the task key)."""

    task: str
    test: str
    review: str
    rework: str

    @property
    def writers(self) -> tuple[str, str, str]:
        """The steps whose branch the merge may take, in order: builder, tester, rework."""
        return (self.task, self.test, self.rework)


def review_chain(task_key: str) -> ReviewChain:
    """The chain of ``task_key``: ``<key>-test``, ``<key>-review``, ``<key>-rework``.

    The key is cut so that every id stays within the 63 characters a step id may have.
    """
    stem = task_key[:_STEM_MAX]
    test, review, rework = (stem + suffix for suffix in _SUFFIXES)
    return ReviewChain(task=task_key, test=test, review=review, rework=rework)


@dataclass(frozen=True, slots=True)
class ReviewVerdict:
    """What a reviewer concluded: ``approve`` or ``changes_requested``, and its findings."""

    verdict: Verdict
    findings: tuple[str, ...]


VERDICT_FORMAT: Final = (
    'End your answer with a fenced JSON block, and nothing after it: ```json\n{"verdict": '
    '"approve" | "changes_requested", "findings": ["…"]}\n```'
)


def parse_verdict(answer: str) -> ReviewVerdict:
    """The verdict block that ends ``answer`` (a reviewer's output).

    The LAST fenced block is read; it must be the end of the answer (only white space after
    it), tagged ``json`` or untagged, at most :data:`MAX_VERDICT_BLOCK_CHARS` characters, and
    exactly ``{"verdict": "approve" | "changes_requested", "findings": [text, …]}``: at most
    :data:`MAX_FINDINGS` findings of at most :data:`MAX_FINDING_CHARS` characters, no control
    characters, and at least one finding when changes are requested (the rework needs them).

    Raises:
        ValueError: the answer holds no such block; the message names what is wrong.
    """
    # Only the end is read: the block ends the answer, and a bound keeps the search short.
    blocks = list(_FENCE.finditer(answer[-MAX_ANSWER_CHARS:]))
    answer = answer[-MAX_ANSWER_CHARS:]
    if not blocks:
        raise ValueError(f"the reviewer's answer ends with no verdict block. {VERDICT_FORMAT}")
    last = blocks[-1]
    if answer[last.end() :].strip():
        raise ValueError(f"the reviewer's answer goes on after its last block. {VERDICT_FORMAT}")
    if last.group(1) not in ("", "json"):
        raise ValueError(f"the last block is {last.group(1)!r}, not json. {VERDICT_FORMAT}")
    body = last.group(2)
    if len(body) > MAX_VERDICT_BLOCK_CHARS:
        raise ValueError(f"the verdict block is over {MAX_VERDICT_BLOCK_CHARS} characters")
    try:
        value = json.loads(body, object_pairs_hook=_no_repeated_keys)
    except ValueError as exc:
        raise ValueError(f"the verdict block is not valid JSON ({exc}). {VERDICT_FORMAT}") from None
    return _verdict_of(value)


def _no_repeated_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"key {repeated[0]!r} appears twice")
    return dict(pairs)


def _verdict_of(value: object) -> ReviewVerdict:
    """Check the block's JSON value field by field; ValueError names the first problem."""
    if not isinstance(value, dict) or set(value) != {"verdict", "findings"}:
        raise ValueError(
            'the verdict block must be an object with exactly "verdict" and "findings"'
        )
    verdict = value["verdict"]
    if verdict not in VERDICTS:
        raise ValueError(
            f'"verdict" must be "approve" or "changes_requested", not {str(verdict)[:50]!r}'
        )
    findings = value["findings"]
    if not isinstance(findings, list) or not all(isinstance(f, str) for f in findings):
        raise ValueError('"findings" must be a list of text')
    if len(findings) > MAX_FINDINGS:
        raise ValueError(f'"findings" may hold at most {MAX_FINDINGS} items')
    cleaned = tuple(finding.strip() for finding in findings if finding.strip())
    for finding in cleaned:
        if len(finding) > MAX_FINDING_CHARS:
            raise ValueError(f"a finding is over {MAX_FINDING_CHARS} characters")
        if _CONTROL.search(finding):
            raise ValueError("a finding holds control characters: write plain text")
    if verdict == CHANGES_REQUESTED and not cleaned:
        raise ValueError('"changes_requested" needs at least one finding: say what to change')
    return ReviewVerdict(verdict=verdict, findings=cleaned)


def chain_members(coding_step_ids: Iterable[str]) -> dict[str, str]:
    """The loop steps among ``coding_step_ids`` by id → the task whose loop they are.

    The tester, reviewer and rework of each task ``T`` in ``coding_step_ids`` (a run's coding
    steps), when they are there too. ``domain.outcomes`` counts them as part of ``T``.
    """
    ids = set(coding_step_ids)
    members: dict[str, str] = {}
    for task in ids:
        chain = review_chain(task)
        for member in (chain.test, chain.review, chain.rework):
            if member in ids and member != task:
                members.setdefault(member, task)
    return members


def is_review_step(step_id: str, task: str) -> bool:
    """Whether ``step_id`` is the review step of ``task``'s loop (its outcome is an opinion)."""
    return step_id == review_chain(task).review
