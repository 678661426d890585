"""``missionctl approvals | approve | reject``: the queue of gated steps, and the decisions.

Working on the local database, a decision is recorded as made by ``system`` (ADR 0010), or by
``user:NAME`` with ``--as NAME`` (a gate that names its approvers takes only them); with
``MISSIONCTL_URL`` and ``MISSIONCTL_TOKEN`` set, on that server as the token (an approver's).
Four eyes (ADR 0078): a person may not approve a step of a run they started or of a workflow
version they wrote; an admin may, with ``--override-reason``. ``system`` is no person: the
rule does not judge its decisions.
"""

# Schemas, services and the engine are imported where used, so `missionctl --help` stays fast;
# annotations naming them stay strings.
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from missionctl.cli._ids import id_argument, id_option
from missionctl.cli._runtime import AsUser, console
from missionctl.domain.four_eyes import decider_ids
from missionctl.domain.money import usd_text

if TYPE_CHECKING:
    from missionctl.schemas.governance import ApprovalRead


class State(StrEnum):
    """Which approvals to list."""

    PENDING = "pending"
    DECIDED = "decided"
    ALL = "all"


Ref = Annotated[
    uuid.UUID,
    id_argument(
        "approvals",
        "REF",
        "The approval's id, or the id of the step run it gates (`missionctl approvals`)",
    ),
]


def _at(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}Z" if moment else ""


def _decider(approval: ApprovalRead) -> str:
    return decider_ids(approval.decided_by or "", approval.decided_by_user)


def _print_decision(approval: ApprovalRead) -> None:
    colour = "green" if approval.decision == "approved" else "red"
    console.print(
        f"[{colour}]{approval.decision}[/{colour}] step [bold]{escape(approval.step_id)}[/bold] "
        f"of run {approval.run_id} ({escape(approval.workflow)}) "
        f"by {escape(_decider(approval))} at {_at(approval.decided_at)}"
    )
    console.print(f"action   {escape(approval.action)}")
    if approval.reason:
        console.print(f"reason   {escape(approval.reason)}")
    if approval.override_reason:
        console.print(f"override {escape(approval.override_reason)}  (four-eyes rule)")
    console.print(f"run      {approval.run_status}")


_DIFF_LINES = 40  # of a merge's diff, in the list: the artifact holds the rest


def _print_approval(approval: ApprovalRead) -> None:
    # One block per approval rather than a table row: two full ids (the one to decide with, the
    # run's) and the command line do not fit one row of a terminal, and a table would drop or
    # cut columns where every character of an id matters.
    state = "" if approval.state == "pending" else f"  [bold]{approval.state}[/bold]"
    console.print(
        f"[bold]{escape(approval.step_id)}[/bold]  tier {approval.risk_tier}  "
        f"estimate {usd_text(approval.estimate_usd)}  requested {_at(approval.requested_at)}{state}"
    )
    console.print(f"  id        {approval.id}")
    console.print(
        f"  run       {approval.run_id}  workflow {escape(approval.workflow)}  "
        f"({approval.run_status})"
    )
    console.print(
        f"  by        version written by {escape(approval.version_written_by)}, run started "
        f"by {escape(approval.run_started_by)}"
    )
    console.print(f"  will run  {escape(approval.action)}")
    _print_diffs(approval)
    _print_review(approval)
    if approval.inputs.get("approval_mode") == "full-access":
        console.print(
            "  [bold red]full access[/bold red]: approve with --confirm-full-access "
            "--justification TEXT"
        )
    if approval.decision is not None:
        reason = f": {escape(approval.reason)}" if approval.reason else ""
        console.print(
            f"  decided   {approval.decision} by {escape(_decider(approval))} "
            f"at {_at(approval.decided_at)}{reason}"
        )
        if approval.override_reason:
            console.print(f"  override  {escape(approval.override_reason)}  (four-eyes rule)")


def _print_diffs(approval: ApprovalRead) -> None:
    """The diffs a merge would bring in (a review loop's: each step's), 40 lines in all."""
    diffs = approval.diffs or ([approval.diff] if approval.diff is not None else [])
    budget = _DIFF_LINES // max(1, len(diffs))
    for diff in diffs:
        shown = diff.text.splitlines()
        console.print(
            f"  merges    the diff of {escape(diff.step_id)} ({len(shown)} lines; "
            f"all of it: missionctl artifact download {diff.artifact_id})"
        )
        for line in shown[:budget]:
            console.print("    " + escape(line), highlight=False)
        if len(shown) > budget:
            console.print(f"    … {len(shown) - budget} more lines", highlight=False)


def _print_review(approval: ApprovalRead) -> None:
    """A review loop's verdict: the reviewer's opinion, said to be one, and its findings."""
    review = approval.review
    if review is None:
        return
    verdict = (review.verdict or "no verdict (the review did not succeed)").replace("_", " ")
    reworked = "reworked on its findings" if review.reworked else "no rework ran"
    console.print(
        f"  review    {escape(review.agent)} says {verdict} ({escape(review.step_id)}; an "
        f"opinion, not a test result; {reworked})"
    )
    for finding in review.findings:
        console.print(f"    - {escape(finding)}", highlight=False)


def approvals(
    ref: Annotated[
        uuid.UUID | None,
        id_argument(
            "approvals",
            "REF",
            "Show only this approval: its id, or the id of the step run it gates",
        ),
    ] = None,
    state: Annotated[
        State,
        typer.Option(help="pending: the queue, oldest first; decided or all: newest first."),
    ] = State.PENDING,
    run: Annotated[
        uuid.UUID | None, id_option("runs", "--run", help="Only this run's approvals")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print the approvals as JSON.")] = False,
) -> None:
    """List gated steps: what each will run, its run, workflow, tier, estimated cost and age.

    A merge shows the diff it would bring in; a review loop's, each step's diff and the
    reviewer's verdict and findings (an opinion).
    With REF, show that one approval whatever its state (exit 1 when there is none).
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import approvals as ops

    with open_backend() as api:
        if ref is not None:
            one = api.call(ops.READ, ref=ref)
            if as_json:
                typer.echo(one.model_dump_json(indent=2))
            else:
                _print_approval(one)
            return
        query = ops.ApprovalQuery.model_construct(state=state.value, run_id=run, limit=limit)
        found = api.call(ops.LIST, query=query)
    if as_json:
        typer.echo("[" + ",".join(a.model_dump_json() for a in found) + "]")
        return
    if not found:
        console.print("no approvals" if state is State.ALL else f"no {state.value} approvals")
        return
    console.print(f"[bold]Approvals[/bold] ({state.value}, {len(found)})\n")
    for approval in found:
        _print_approval(approval)
    if state is State.PENDING:
        console.print(
            "\ndecide with: missionctl approve ID [--reason TEXT] | reject ID --reason TEXT"
        )


def approve(
    ref: Ref,
    reason: Annotated[str, typer.Option(help="Why (recorded with the decision).")] = "",
    confirm_full_access: Annotated[
        bool,
        typer.Option(
            "--confirm-full-access",
            help="Confirm that a coding step may run with full access (required for one).",
        ),
    ] = False,
    justification: Annotated[
        str,
        typer.Option(help="Why full access is needed (required with --confirm-full-access)."),
    ] = "",
    as_user: AsUser = None,
    override_reason: Annotated[
        str,
        typer.Option(
            help="Admins: approve a step of a run you started or a workflow version you wrote "
            "(the four-eyes rule), saying why; the decision's event keeps it."
        ),
    ] = "",
) -> None:
    """Approve a waiting step: it is queued and its run resumes.

    A step that names its approvers takes only them: locally, approve as one with --as NAME.
    Nobody approves a step of a run they started or of a workflow version they wrote; an
    admin may, with --override-reason.
    """
    from missionctl.cli._backend import open_backend

    with open_backend() as api:
        _print_decision(
            api.decide_approval(
                ref,
                approve=True,
                reason=reason,
                confirm_full_access=confirm_full_access,
                justification=justification,
                as_user=as_user,
                override_reason=override_reason,
            )
        )


def reject(
    ref: Ref,
    reason: Annotated[
        str, typer.Option(help="Why it must not run (required; recorded with the decision).")
    ],
    as_user: AsUser = None,
) -> None:
    """Reject a waiting step: it fails (or is skipped when its on_reject says skip).

    A step that names its approvers takes only them: locally, reject as one with --as NAME.
    """
    from missionctl.cli._backend import open_backend

    with open_backend() as api:
        _print_decision(api.decide_approval(ref, approve=False, reason=reason, as_user=as_user))
