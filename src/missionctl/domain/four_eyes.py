"""Four eyes on approvals: nobody approves a step of work they set going themselves.

An approval is a second person saying yes. Whoever started a run, or wrote the workflow
version it runs, is the first person; they may not also be the second (ADR 0078):

- The rule is about people. ``user:NAME`` is the person NAME and ``token:NAME`` the token's
  owner (:func:`person_of` reads the first; the token's owner is looked up by the caller). A
  run a schedule started (``schedule:NAME``) counts as started by the schedule's maker (the
  caller looks them up). Any other actor (``system``, the engine) is nobody.
- Only approving is refused. Rejecting one's own step stops work that has not run, the safe
  direction, so it is allowed: the starter can always take their request back.
- A decision made locally as ``system`` (the CLI acting for whoever holds the database, who
  can change any row anyway) is not a person's and is not checked; ``--as NAME`` makes it
  NAME's, and checked.
- An admin may override the rule with a reason (``override_reason``), which the decision's
  event keeps and the approval shows; a reason where nothing needs overriding is refused.

Pure: no I/O; the caller resolves tokens to their owners.
"""

from dataclasses import dataclass

OVERRIDE_FIELD = "override_reason"
MAX_OVERRIDE_CHARS = 2000


def person_of(actor: str) -> str | None:
    """The user name of a ``user:NAME`` actor; ``None`` for any other actor.

    A ``token:NAME`` actor names a token, whose owner only the database knows.
    """
    kind, _, name = actor.partition(":")
    return name if kind == "user" and name else None


def decider_label(actor: str, user: str | None) -> str:
    """Who decided, as people read it: ``alice``, or ``alice (token ci-bot)`` for a token.

    ``actor`` is what acted (``user:NAME``, ``token:NAME``, ``system``) and ``user`` the
    person behind it, when known; both show, so a token's decision names its owner.
    """
    kind, _, name = actor.partition(":")
    if kind == "token" and name:
        return f"{user} (token {name})" if user else f"token {name}"
    return name or actor  # "user:alice" → "alice", "schedule:nightly" → "nightly"


def decider_ids(actor: str, user: str | None) -> str:
    """Who decided, as ids: the actor, then its person when the actor is not that person.

    ``token:ci-bot (alice)`` for a token, ``user:alice`` for a person signed in.
    """
    return f"{actor} ({user})" if user and actor != f"user:{user}" else actor


@dataclass(frozen=True, slots=True)
class Authors:
    """The people behind the work an approval gates (``None``: nobody, e.g. ``system``).

    Attributes:
        writer: who wrote the workflow version the run executes.
        starter: who started the run.
    """

    writer: str | None
    starter: str | None


def own_work(decider: str, authors: Authors) -> list[str]:
    """What ``decider`` did to the work: ``started its run``, ``wrote its workflow version``."""
    done = []
    if authors.starter == decider:
        done.append("started its run")
    if authors.writer == decider:
        done.append("wrote its workflow version")
    return done


def four_eyes_refusal(
    *, decider: str | None, approve: bool, authors: Authors, step_id: str
) -> str | None:
    """Why ``decider`` may not make this decision by the four-eyes rule, or ``None``.

    Args:
        decider: the deciding person's user name; ``None`` for a decision that is nobody's
            (the local ``system``), which the rule does not judge.
        approve: approving (judged) or rejecting (always allowed).
        authors: who started the run and who wrote its workflow version.
        step_id: the gated step, named in the message.
    """
    if decider is None or not approve:
        return None
    done = own_work(decider, authors)
    if not done:
        return None
    return (
        f"four eyes: {decider} {' and '.join(done)}, so step {step_id!r} needs another "
        f"approver to approve it ({decider} may still reject it); an admin may override the "
        f"rule with a reason ({OVERRIDE_FIELD})"
    )


__all__ = [
    "MAX_OVERRIDE_CHARS",
    "OVERRIDE_FIELD",
    "Authors",
    "four_eyes_refusal",
    "own_work",
    "person_of",
]
