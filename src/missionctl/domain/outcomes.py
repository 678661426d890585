"""What a step or task did, derived from facts: never from the agent's own words.

A step's engine status says whether it ran to the end; its *outcome* says what that produced:

- ``built``: a coding step changed code and its verification (the test command) passed;
- ``changed``: a coding step changed code and no verification ran;
- ``no_change``: a coding step finished without changing anything;
- ``merged``: a ``git:merge`` step merged a branch into its base;
- ``documented``: the step wrote documents only (builtin specialists, model roles without tools);
- ``ran``: any other step that succeeded (a command, a webhook, a tool call, a gate, a
  diagnostic builtin such as ``builtin:sleep``);
- ``failed``, ``skipped``, ``canceled``: as the engine status says;
- ``None`` while the step has not ended.

The facts are what Mission Control itself measured: the status, the agent kind, the diff it took
(``files_changed``) and the exit code of the test command it ran (``tests_exit_code``). An
agent's summary or outputs of its own choosing never decide it.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

from missionctl.domain.coding import MERGE_AGENT, merge_step_id
from missionctl.domain.review import chain_members, is_review_step
from missionctl.domain.workflows import writes_only_documents

Outcome = Literal[
    "built", "changed", "no_change", "merged", "documented", "ran", "failed", "skipped", "canceled"
]
OUTCOMES: Final[tuple[Outcome, ...]] = (
    "built",
    "changed",
    "no_change",
    "merged",
    "documented",
    "ran",
    "failed",
    "skipped",
    "canceled",
)
"""Every outcome, strongest first (the order summaries list them in)."""

OUTCOME_LABELS: Final[Mapping[Outcome, str]] = {
    "built": "built",
    "changed": "changed, not verified",
    "no_change": "no change",
    "merged": "merged",
    "documented": "documented",
    "ran": "ran",
    "failed": "failed",
    "skipped": "skipped",
    "canceled": "canceled",
}
"""How pages and the terminal name each outcome."""

_ENDED_AS_ITSELF: Final[Mapping[str, Outcome]] = {
    "failed": "failed",
    "skipped": "skipped",
    "canceled": "canceled",
}


def step_outcome(agent: str, status: str, outputs: Mapping[str, Any]) -> Outcome | None:
    """The outcome of a step of ``agent`` that ended with ``status`` and ``outputs``.

    ``outputs`` are the step's recorded outputs; for a coding step Mission Control writes
    ``files_changed`` (from the diff it took) and, when it ran the test command,
    ``tests_exit_code``. Returns ``None`` for a step that has not ended.
    """
    if status in _ENDED_AS_ITSELF:
        return _ENDED_AS_ITSELF[status]
    if status != "succeeded":
        return None
    kind = agent.partition(":")[0]
    if kind == "coding":
        if not outputs.get("files_changed"):
            return "no_change"
        return "built" if outputs.get("tests_exit_code") == 0 else "changed"
    if agent == MERGE_AGENT:
        return "merged"
    if writes_only_documents(agent):
        return "documented"
    return "ran"


def outcome_of_status(status: str) -> Outcome | None:
    """The outcome ``status`` decides alone: ``failed``, ``skipped`` or ``canceled``; else ``None``.

    What a move to one of these states records without reading the step's agent or outputs;
    a step that succeeded needs :func:`step_outcome`.

    >>> outcome_of_status("canceled"), outcome_of_status("queued")
    ('canceled', None)
    """
    return _ENDED_AS_ITSELF.get(status)


def task_outcome(outcomes: Iterable[Outcome | None]) -> Outcome | None:
    """A task's outcome from its steps' (its own step, then its merge step, if any).

    A failure of any step is the task's; otherwise its own (first) step decides: a task is
    ``built`` once its code was built and verified, whether its merge has run yet or not (a
    merge that waits for its approver, or never ran, takes nothing back; a failed or rejected
    one does). Returns ``None`` while its own step has not ended.

    >>> task_outcome(["built", None]), task_outcome(["built", "failed"]), task_outcome([None])
    ('built', 'failed', None)
    """
    seen = list(outcomes)
    if not seen or seen[0] is None:
        return None
    for ended in ("failed", "canceled", "skipped"):
        if ended in seen:
            return ended
    return seen[0]


def task_outcomes(
    steps: Iterable[tuple[str, str, Outcome | None]],
) -> dict[str, Outcome | None]:
    """Each task's outcome, by task key, from a plan run's ``(step_id, agent, outcome)`` rows.

    A plan's task is one step, followed by its merge step (a ``git:merge`` step whose id is
    ``merge_step_id`` of the task's) when it changed code on a repository: the two are one
    task, decided by :func:`task_outcome`. Tasks keep the order of their first step.

    >>> task_outcomes([("api", "coding:generic", "built"), ("api-merge", "git:merge", "merged"),
    ...                ("docs", "builtin:writer", "documented")])
    {'api': 'built', 'docs': 'documented'}
    """
    rows = list(steps)
    merges = {merge_step_id(step_id): step_id for step_id, _, _ in rows}
    # A review loop's tester, reviewer and rework are part of their task (``domain.review``).
    loops = chain_members(step_id for step_id, agent, _ in rows if agent.startswith("coding:"))
    own: dict[str, list[Outcome | None]] = {}
    merged: dict[str, list[Outcome | None]] = {}
    for step_id, agent, outcome in rows:
        if step_id in loops:
            # The review is an opinion, and a rework its verdict did not ask for is skipped:
            # neither says what the task produced; a failure of either still does.
            if outcome in ("failed", "canceled") or not (
                outcome == "skipped" or is_review_step(step_id, loops[step_id])
            ):
                merged.setdefault(loops[step_id], []).append(outcome)
            continue
        task = merges.get(step_id) if agent == MERGE_AGENT else None
        if task is None or task == step_id:
            own.setdefault(step_id, []).append(outcome)
        else:
            merged.setdefault(task, []).append(outcome)
    # The task's own step first, whatever order the rows came in: it decides a clean task.
    return {task: task_outcome(mine + merged.get(task, [])) for task, mine in own.items()}


def outcome_counts(outcomes: Iterable[Outcome | None]) -> dict[Outcome, int]:
    """How many of each ended outcome, strongest first; outcomes that did not occur are left out."""
    counted = Counter(o for o in outcomes if o is not None)
    return {o: counted[o] for o in OUTCOMES if counted[o]}


BUILD_HINT: Final = (
    "to build, give the mission a repository and a coding agent "
    "(missionctl mission create --repository and --coding-agent) and run it"
)
"""How to get code instead of documents. A model's roles without tools write documents too
(``documented``): only a coding agent on a repository changes code."""


def headline(outcomes: Iterable[Outcome | None], *, noun: str = "task", ended: bool = False) -> str:
    """The one sentence that opens a run's record: what its tasks produced.

    Says how many were built and documented first (the question a reader has), then the rest,
    then those without an outcome (``None``): "not ended yet" while the run goes on (a task
    whose merge still waits, say), "not run" once it has ``ended`` (blocked by a failure).
    When nothing was built but something was documented, and nothing is still going on, it
    names how to build. A run with neither (a workflow of commands, say) is counted by its
    outcomes alone.

    >>> headline(["documented", "documented", "failed"]).split(":")[0]
    '2 tasks documented, 0 built, 1 failed'
    >>> headline(["built", "documented", None])
    '1 task built, 1 documented, 1 not ended yet'
    >>> headline(["ran", "failed", None], noun="step", ended=True)
    '1 step ran, 1 failed, 1 not run'
    >>> headline([None, None])
    '2 tasks not ended yet'
    """
    listed = list(outcomes)
    waiting = sum(o is None for o in listed)
    counts = outcome_counts(listed)
    if listed and waiting == len(listed):  # nothing has ended: nothing produced to count
        return _count(waiting, noun, "not run" if ended else "not ended yet")
    documented, built = counts.pop("documented", 0), counts.pop("built", 0)
    if built:
        parts = [_count(built, noun, "built"), f"{documented} documented"]
    elif counts and not documented:
        first, n = next(iter(counts.items()))
        del counts[first]
        parts = [_count(n, noun, OUTCOME_LABELS[first])]
    else:
        parts = [_count(documented, noun, "documented"), "0 built"]
    parts += [f"{n} {OUTCOME_LABELS[o]}" for o, n in counts.items()]
    if waiting:
        parts.append(f"{waiting} not run" if ended else f"{waiting} not ended yet")
    sentence = ", ".join(parts)
    going_on = waiting and not ended
    if documented and not built and not counts.get("changed") and not going_on:
        sentence += f": {BUILD_HINT}"
    return sentence


def _count(n: int, noun: str, what: str) -> str:
    return f"{n} {noun if n == 1 else noun + 's'} {what}"


def run_outcomes(
    steps: Iterable[tuple[str, str, Outcome | None]], *, from_plan: bool, ended: bool = False
) -> tuple[dict[Outcome, int], str]:
    """A run's outcome counts (strongest first) and its headline.

    ``steps`` are its ``(step_id, agent, outcome)`` rows. A run compiled from a plan is
    counted by task (:func:`task_outcomes`: a task's merge step is part of it); any other run
    by step, and its headline says "steps". ``ended``: the run has ended (see :func:`headline`).

    >>> run_outcomes([("a", "command", "ran")], from_plan=False)
    ({'ran': 1}, '1 step ran')
    """
    rows = list(steps)
    if from_plan:
        by_task = list(task_outcomes(rows).values())
        return outcome_counts(by_task), headline(by_task, ended=ended)
    by_step = [outcome for _, _, outcome in rows]
    return outcome_counts(by_step), headline(by_step, noun="step", ended=ended)
