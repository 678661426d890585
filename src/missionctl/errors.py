"""The error vocabulary of Mission Control.

Every layer raises these; only the adapters translate them (``api/errors.py`` into HTTP
statuses, the CLI into exit codes). Each error carries a stable machine ``code``, a message
written for the person who has to fix the problem, and, where one input is at fault, the
``field`` that names it (dotted path, e.g. ``"goal"`` or ``"steps.2.depends_on"``).
"""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where it is and how to fix it."""

    field: str | None
    message: str


class MissionControlError(Exception):
    """Base class of every error this package raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(MissionControlError):
    """The thing asked for does not exist (or the caller may not know that it does)."""

    code = "not_found"


class Conflict(MissionControlError):
    """The request is well formed but clashes with the current state."""

    code = "conflict"


class InvalidTransition(Conflict):
    """A state machine was asked to move along an edge it does not have."""

    code = "invalid_transition"


class ValidationFailed(MissionControlError):
    """An input broke one or more rules; every problem found is reported at once."""

    code = "validation_failed"

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("ValidationFailed needs at least one problem")
        first = problems[0]
        message = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in problems)
        super().__init__(message, field=first.field)
        self.problems: tuple[Problem, ...] = tuple(problems)


class StateRefused(ValidationFailed):
    """A well-formed input that what is stored or configured now refuses.

    A repository not on the allow-list, a task the newest plan does not have, a decision of
    another mission, an input the workflow does not declare, a field the named agent does not
    take. Its problems name the fields as a :class:`ValidationFailed`'s do; the API answers
    409 (the state can change and the same request then succeed), where 422 says the request
    is wrong whatever is stored.
    """

    code = "conflict"


class BudgetExceeded(MissionControlError):
    """Spending would pass a budget cap."""

    code = "budget_exceeded"


class IntegrityError(MissionControlError):
    """Stored data contradicts itself (for example a broken event hash chain)."""

    code = "integrity_error"


class EventLogUnavailable(IntegrityError):
    """The event log refuses appends: a stored row contradicts its chain head.

    Nothing that must be recorded can happen until an operator has found the break
    (``missionctl audit verify``) and restored the log; reads still work.
    """

    code = "event_log_unavailable"


class LLMUnavailable(MissionControlError):
    """The model endpoint could not be reached or kept failing after retries."""

    code = "llm_unavailable"


class BlobStoreUnavailable(MissionControlError):
    """The blob store (an S3-compatible bucket) could not be reached or refused a request."""

    code = "blob_store_unavailable"


class LLMOutputInvalid(MissionControlError):
    """The model's output still broke its contract after the bounded repair loop."""

    code = "llm_output_invalid"


class NotAuthenticated(MissionControlError):
    """The request carries no identity (or one that no longer lets anyone in): sign in."""

    code = "not_authenticated"


class PermissionDenied(MissionControlError):
    """The identity is known but its role does not hold the permission the action needs."""

    code = "permission_denied"


class CsrfRejected(PermissionDenied):
    """A state-changing browser request came without the session's CSRF token."""

    code = "csrf_rejected"


class RateLimited(MissionControlError):
    """Too many attempts in the window; ``retry_after_s`` says when one may succeed."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: float, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after_s = retry_after_s
