"""Request bodies, once the route's permission is checked: bounded work per identity.

``guard.GuardedRoute`` checks who is asking before any byte of a body is read; what the body
then costs is bounded here (ADR 0076):

- **Large bodies, two at a time per identity.** A body over :data:`LARGE_BODY_BYTES` (or one
  sent without a length) holds one of its sender's :data:`BODIES_PER_IDENTITY` slots until the
  request is answered; past them the answer is ``429`` with ``Retry-After``. The sender is the
  identity (user or token), or for a public route the client's address.
- **One JSON parser.** A JSON body is read by ``schemas.strict_json`` (a key written twice is
  refused, naming the key), on a parser thread when it is large (``services.runtime.offload``),
  before the route sees it; FastAPI's own reading then returns what was read
  (``StrictJsonRequest``). Every refusal is a ``422`` whose problem has the field ``body``.
"""

import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from starlette.applications import Starlette

from missionctl.domain.numbers import ascii_int
from missionctl.errors import Problem, RateLimited, ValidationFailed
from missionctl.schemas import strict_json
from missionctl.services.runtime.offload import off_loop

LARGE_BODY_BYTES = 64 * 1024
"""Bodies larger than this hold one of their sender's slots; JSON ones are parsed on a parser
thread (a definition's text is read by ``workflow_checks.read_definition_text``)."""

BODIES_PER_IDENTITY = 2
"""Large bodies one identity (or one address, on a public route) may have in progress."""

RETRY_AFTER_S = 1.0


class BodySlots:
    """How many large bodies each sender has in progress (one app, one event loop)."""

    def __init__(self, per_sender: int = BODIES_PER_IDENTITY) -> None:
        self.per_sender = per_sender
        self._busy: Counter[str] = Counter()

    def in_progress(self) -> int:
        """Large bodies in progress now, all senders together."""
        return sum(self._busy.values())

    @contextlib.contextmanager
    def hold(self, sender: str) -> Iterator[None]:
        """Hold one of ``sender``'s slots for the block.

        Raises:
            RateLimited: ``sender`` holds all its slots already (``Retry-After``: a second).
        """
        if self._busy[sender] >= self.per_sender:
            raise RateLimited(
                f"{self.per_sender} large request bodies of yours are being read already; "
                "wait for one to be answered, then send this one again",
                retry_after_s=RETRY_AFTER_S,
                field="body",
            )
        self._busy[sender] += 1
        try:
            yield
        finally:
            self._busy[sender] -= 1
            if not self._busy[sender]:
                del self._busy[sender]


def body_slots(app: Starlette) -> BodySlots:
    """The slots of ``app`` (made on first use: one per app)."""
    slots: BodySlots | None = getattr(app.state, "body_slots", None)
    if slots is None:
        slots = app.state.body_slots = BodySlots()
    return slots


def is_large(request: Request) -> bool:
    """Whether the request's body is over :data:`LARGE_BODY_BYTES`, or of unknown length."""
    length = request.headers.get("content-length")
    if length is None:
        return "chunked" in request.headers.get("transfer-encoding", "").lower()
    declared = ascii_int(length.strip())  # "²" is a digit to str.isdigit, not to int
    return declared is None or declared > LARGE_BODY_BYTES


def sender(request: Request) -> str:
    """Who the slots count the request against: its identity, else its client's address."""
    identity = getattr(request.state, "identity", None)
    if identity is not None:
        return f"identity:{identity.actor}"
    return f"address:{request.client.host if request.client else 'unknown'}"


@contextlib.contextmanager
def body_slot(request: Request) -> Iterator[None]:
    """Hold a slot of the request's sender for the block when its body is large.

    Raises:
        RateLimited: the sender has :data:`BODIES_PER_IDENTITY` large bodies in progress.
    """
    if not is_large(request):
        yield
        return
    with body_slots(request.app).hold(sender(request)):
        yield


def is_json(request: Request) -> bool:
    """Whether the body is declared JSON: ``application/json`` or ``application/*+json``.

    The same test FastAPI applies before it reads a body into a model.
    """
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def parse_json_body(body: bytes) -> Any:
    """``body`` read by the one JSON parser.

    Raises:
        ValidationFailed: not JSON, a key written twice (named), or nested too deep to read;
            field ``body``.
    """
    try:
        return strict_json.loads(body)
    except strict_json.DuplicateKeyError as exc:
        problem = f"{exc}"
    except json.JSONDecodeError as exc:
        problem = f"the request body is not valid JSON: {exc.msg} (line {exc.lineno}, column "
        problem += f"{exc.colno})"
    except RecursionError:
        problem = "the request body is nested too deeply to read; flatten its arrays and objects"
    except ValueError as exc:  # not UTF-8; an integer of 5,000 digits
        problem = f"the request body is not valid JSON: {str(exc).partition(';')[0]}"
    raise ValidationFailed([Problem("body", problem)])


class StrictJsonRequest(Request):
    """A request whose JSON body is read once, by :func:`parse_json_body`."""

    async def json(self) -> Any:
        """The body as JSON; a large body is parsed on a parser thread.

        Raises:
            ValidationFailed: see :func:`parse_json_body`.
        """
        if not hasattr(self, "_strict_json"):
            body = await self.body()
            if len(body) > LARGE_BODY_BYTES:
                self._strict_json = await off_loop(parse_json_body, body)
            else:
                self._strict_json = parse_json_body(body)
        return self._strict_json
