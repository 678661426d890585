"""How a coding step's attempt is checked and bounded (``agents.coding``; docs/coding-agents.md).

- **The prompt's end** (:func:`checking_section`): the task's acceptance criteria and the test
  command Mission Control runs after the CLI; on a retry after a failed test run, the last
  :data:`TEST_TAIL_LINES` lines of that run, which the failed attempt left in its outputs
  (``test_output_tail``, read through ``StepContext.load_previous_outputs``).
- **The attempt** (:func:`attempt_section`, after that): the attempt's number and the step's
  idempotency key, the same for every attempt (ADR 0093), so that a CLI that makes something
  outside its worktree can recognise a re-run; the CLI's environment has both as well.
- **The time limit** (:meth:`AttemptGuard.within_time`): a program still running shortly
  before the step's timeout is stopped by the agent itself, so that the step's error holds its
  last lines (the engine's own timeout would cancel it with none).
- **Writes outside the worktree** (:meth:`AttemptGuard.check_outside`): the CLI may change its
  worktree (``repo/``) and its home (``home/``, its ``HOME``: settings and caches); any other
  entry of its workspace it adds, removes or changes fails the step, naming the paths.
  ``artifacts/`` and ``prompt.md`` are Mission Control's and not compared.

A program's standard input is ``/dev/null`` (``CommandAgent.run_program``): one that asks a
question at a terminal reads end-of-file at once instead of waiting.
"""

import asyncio
import dataclasses
import os
import stat
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from missionctl.agents.base import AgentError, LogLevel, StepContext
from missionctl.agents.command import ProgramRun
from missionctl.domain.test_commands import show_command

TEST_TAIL_LINES = 60
TEST_TAIL_LINE_CHARS = 500
FAILURE_TAIL_LINES = 40
HOME_DIR = "home"
# Entries of the workspace that are not the CLI's to change, or not compared.
NOT_COMPARED = frozenset({"repo", HOME_DIR, "artifacts", "prompt.md"})
MAX_ENTRIES = 5000  # of the workspace outside those: more is itself reported
MAX_PATHS_NAMED = 10
# Of a step's timeout, what is left for the agent to stop the program and clean up.
STOP_MARGIN_S = 5.0
STOP_MARGIN_SHARE = 0.1

Entry = tuple[int, int, int]  # file type, size, modification time (ns)


def test_output_tail(transcript: Sequence[str]) -> str:
    """The last :data:`TEST_TAIL_LINES` lines of a test run, each cut to a readable length."""
    lines = transcript[-TEST_TAIL_LINES:]
    return "\n".join(
        line if len(line) <= TEST_TAIL_LINE_CHARS else line[:TEST_TAIL_LINE_CHARS] + "…"
        for line in lines
    )


def tests_failed(
    run: ProgramRun, argv: Sequence[str], *, agent: ProgramRun, program: str
) -> AgentError:
    """The (retryable) error of a failed test run; its outputs keep the run's last lines.

    The coding CLI's own last lines (``agent``, the run of ``program``) follow the tests': a CLI
    that exits 0 after its model failed says why only there.
    """
    error = run.failure(argv[0])
    cli = "\n".join(agent.stdout_tail[-10:] + agent.stderr_tail[-10:])
    if cli:
        error = AgentError(
            f"{error}\n--- {program} (its last lines) ---\n{cli}",
            retryable=error.retryable,
            outputs=error.outputs,
        )
    error.outputs |= {
        "tests_exit_code": run.code,
        "test_output_tail": test_output_tail(run.transcript),
    }
    return error


async def checking_section(step: StepContext, tests: Sequence[str] | None) -> str:
    """The prompt's last part: how the work is checked (and, on a retry, how it failed)."""
    parts = ["## How your work is checked"]
    acceptance = step.inputs.get("acceptance")
    if isinstance(acceptance, list) and acceptance:
        criteria = "\n".join(f"- {item}" for item in acceptance if isinstance(item, str))
        parts.append(f"The task is done when it meets its acceptance criteria:\n{criteria}")
    if tests:
        parts.append(
            f"After you finish, Mission Control runs `{show_command(tests)}` in the worktree; "
            "the change counts as built only when it passes."
        )
    else:
        parts.append("No test command runs after you finish: check your change yourself.")
    if step.attempt > 1:
        previous = await step.load_previous_outputs()
        tail = previous.get("test_output_tail")
        if isinstance(tail, str) and tail:
            parts.append(
                "## The previous attempt failed its tests\n"
                f"Its test run ended with these lines:\n```\n{tail}\n```\nMake them pass."
            )
    return "\n\n".join(parts)


def attempt_section(step: StepContext) -> str:
    """The prompt's note of this attempt: its number and the step's idempotency key.

    The key is the same for every attempt of the step, the number grows with each (a failed
    attempt retried, or one whose worker stopped run again): a CLI that creates or changes
    something outside its worktree tags it with the key and looks for it first.
    """
    return (
        "## This attempt\n"
        f"Attempt: {step.attempt}\n"
        f"Idempotency key: {step.idempotency_key}\n\n"
        "A step may run more than once. The key is the same for every attempt of this step; the "
        "attempt number grows with each. If you create or change anything outside the worktree "
        "(an issue, a deployment, a record in another system), tag it with the key and look for "
        "it before you make it, so that a re-run does not make it twice. Your environment has "
        "both as MISSIONCTL_IDEMPOTENCY_KEY and MISSIONCTL_ATTEMPT."
    )


def _last_lines(lines: Sequence[str]) -> str:
    return "\n".join(lines[-FAILURE_TAIL_LINES:]) or "(no output)"


@dataclasses.dataclass(slots=True)
class AttemptGuard:
    """One attempt's bounds: its CLI's home, its deadline, its workspace as it was."""

    step: StepContext
    home: Path
    deadline: float | None  # loop time; None: no limit (outside an engine)
    before: dict[str, Entry]

    @classmethod
    async def start(cls, step: StepContext) -> "AttemptGuard":
        """Make the CLI's home and note the workspace's entries, before any program runs."""
        home = step.workspace / HOME_DIR
        await asyncio.to_thread(home.mkdir, mode=0o700, exist_ok=True)
        before = await asyncio.to_thread(outside_entries, step.workspace)
        deadline = None
        if step.timeout_s is not None:
            margin = min(STOP_MARGIN_S, step.timeout_s * STOP_MARGIN_SHARE)
            deadline = asyncio.get_running_loop().time() + step.timeout_s - margin
        return cls(step, home, deadline, before)

    async def within_time(
        self, program: str, run: Callable[[StepContext], Awaitable[ProgramRun]]
    ) -> ProgramRun:
        """``run(step)``, stopped shortly before the step's timeout.

        Raises:
            AgentError: (retryable, as a timeout is) it ran too long; the message holds the
                last lines it printed.
        """
        tail: deque[str] = deque(maxlen=FAILURE_TAIL_LINES)
        log = self.step.log

        def keep(message: str, *, level: LogLevel = "info") -> None:
            tail.append(message)  # already redacted: the program's lines are, before logging
            log(message, level=level)

        try:
            async with asyncio.timeout_at(self.deadline):
                return await run(dataclasses.replace(self.step, log=keep))
        except TimeoutError:
            limit = f"{self.step.timeout_s:g} s"
            raise AgentError(
                f"{program} was still running near the step's timeout ({limit}) and was "
                f"stopped; give the step a longer timeout_s if it needs one\n"
                f"--- last lines ---\n{_last_lines(list(tail))}"
            ) from None

    async def check_outside(self, run: ProgramRun) -> None:
        """Fail when the workspace outside ``repo/`` and ``home/`` changed since the start.

        Raises:
            AgentError: (not retryable) naming the paths, with the program's last lines.
        """
        after = await asyncio.to_thread(outside_entries, self.step.workspace)
        changed = sorted(
            path
            for path in self.before.keys() | after.keys()
            if self.before.get(path) != after.get(path)
        )
        if not changed:
            return
        named = ", ".join(changed[:MAX_PATHS_NAMED])
        more = (
            f" and {len(changed) - MAX_PATHS_NAMED} more" if len(changed) > MAX_PATHS_NAMED else ""
        )
        lines = _last_lines([*run.stdout_tail, *run.stderr_tail])
        raise AgentError(
            f"the program wrote outside its worktree, in its workspace: {named}{more}; only "
            f"repo/ (the worktree) and home/ (its HOME) are its to change, so nothing is "
            f"committed\n--- last lines ---\n{lines}",
            retryable=False,
            outputs=run.outputs,
        )


def outside_entries(workspace: Path) -> dict[str, Entry]:
    """The workspace's entries outside :data:`NOT_COMPARED`: relative path → what it is.

    Walked without following a link; at most :data:`MAX_ENTRIES` (a fuller walk is reported
    as one more entry, ``…``, so that filling the workspace is noticed too).
    """
    found: dict[str, Entry] = {}
    pending = [(workspace, "")]
    while pending:
        directory, prefix = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            path = prefix + entry.name
            if not prefix and entry.name in NOT_COMPARED:
                continue
            if len(found) >= MAX_ENTRIES:
                found["…"] = (0, len(found), 0)
                return found
            info = entry.stat(follow_symlinks=False)
            found[path] = (stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns)
            if stat.S_ISDIR(info.st_mode):
                pending.append((Path(entry.path), path + "/"))
    return found
