"""The step runs' stored outputs checked against the digests the chain holds (ADR 0098).

A replay and ``audit verify`` read a step's outputs from its row, which is outside the hash
chain; the digest in the step's newest terminal event is inside it. A row whose outputs no
longer hash to that digest was changed after the fact, and is caught like a changed event.
"""

import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.errors import NotFound
from missionctl.eventlog.receipts import outputs_digest
from missionctl.repositories import evidence as repo
from missionctl.repositories import runs as run_repo
from missionctl.services.runtime.context import ServiceContext


@dataclass(frozen=True, slots=True)
class OutputProblem:
    """A step whose stored outputs the chain does not vouch for."""

    run_id: uuid.UUID
    step_id: str
    reason: str
    seq: int | None = None
    """The event whose digest the row contradicts (``None``: no event holds one)."""

    def __str__(self) -> str:
        return f"run {self.run_id} step {self.step_id}: {self.reason}"


@dataclass(frozen=True, slots=True)
class OutputsReport:
    """Outputs that match the chain, those recorded before digests, and those that differ."""

    matched: int = 0
    unvouched: int = 0
    """Rows with outputs written before digests were recorded: nothing can vouch for them."""
    problems: list[OutputProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every stored output the chain vouches for still matches it."""
        return not self.problems

    def __str__(self) -> str:
        if self.problems:
            return (
                f"BROKEN outputs of {len(self.problems)} step(s): the first is {self.problems[0]}"
            )
        text = f"OK outputs of {self.matched} step run(s) match the digests in the chain"
        if self.unvouched:
            text += f"; {self.unvouched} recorded before digests are not covered"
        return text


async def check_outputs(ctx: ServiceContext, *, run_id: uuid.UUID | None = None) -> OutputsReport:
    """Check every step run's outputs (of one run when given) against the chain, in one snapshot.

    Raises:
        NotFound: ``run_id`` names no run (``field="run_id"``).
    """
    async with ctx.read() as session:
        if run_id is not None and await run_repo.read_run(session, run_id=run_id) is None:
            raise NotFound(f"no run with id {run_id}", field="run_id")
        return await outputs_report(session, run_id=run_id)


async def outputs_report(
    session: AsyncSession, *, run_id: uuid.UUID | None = None
) -> OutputsReport:
    """``check_outputs`` in the caller's snapshot (``audit verify`` reads the chain in it too)."""
    matched = unvouched = 0
    problems: list[OutputProblem] = []
    vouched = await repo.read_vouched_outputs(session, run_id=run_id)
    covered = await repo.read_runs_with_digests(session, run_id=run_id)
    async for row in repo.read_stored_outputs(session, run_id=run_id):
        claim = vouched.get((row.run_id, row.step_id))
        if claim is not None:
            if outputs_digest(row.outputs) == claim.digest:
                matched += 1
                continue
            reason = (
                f"its stored outputs differ from those event seq {claim.seq} recorded: "
                "the row was changed after the event"
            )
            problems.append(OutputProblem(row.run_id, row.step_id, reason, claim.seq))
        elif row.outputs and row.run_id in covered:
            reason = "it has outputs that no event recorded: the row was written outside the log"
            problems.append(OutputProblem(row.run_id, row.step_id, reason))
        elif row.outputs:
            unvouched += 1
    return OutputsReport(matched, unvouched, problems)


__all__ = ["OutputProblem", "OutputsReport", "check_outputs", "outputs_report"]
