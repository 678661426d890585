"""Dependencies page routes declare through ``Annotated`` aliases.

Every page route declares the permission it needs: controls take an identity alias below
(``WriteMissions``, ``ControlRuns``), pages that only read list ``requires(P.X)`` in their
decorator's ``dependencies``.

The web layer is a sibling of ``api`` and must not import it, so the aliases it shares with the
JSON API are defined again here, reading the same application state.
"""

import uuid
from typing import Annotated

from fastapi import Depends, Path, Request

from missionctl.domain.access import Identity
from missionctl.domain.access import Permission as P
from missionctl.errors import NotFound
from missionctl.schemas.events import MAX_SEQ as MAX_SEQ  # the pages name it from here
from missionctl.security.guard import public, requires
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import Runtime


def get_context(request: Request) -> ServiceContext:
    """The service context the app's lifespan built."""
    ctx: ServiceContext = request.app.state.ctx
    return ctx


def get_runtime(request: Request) -> Runtime:
    """The planner and agents the settings chose (``runtime.llm`` is set when a model is)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def wants_fragment(request: Request) -> bool:
    """Whether htmx asked for part of a page rather than a whole document.

    htmx sends ``HX-Request: true`` on every request it makes. It also sends
    ``HX-Request-Type: full`` when it will swap the whole ``<body>`` (boosted links, and restoring
    a page from history, which also sets ``HX-History-Restore-Request``); those get the full page.
    """
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-request-type") != "full"
        and headers.get("hx-history-restore-request") != "true"
    )


def _path_id(noun: str, name: str, raw: str) -> uuid.UUID:
    # A malformed id names nothing, like an unknown one: the same not-found page, not a 422
    # that quotes the validator to a person who followed or typed an address.
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"no {noun} with id {raw}", field=name) from None


def mission_id_param(mission_id: Annotated[str, Path()]) -> uuid.UUID:
    """The ``{mission_id}`` of the path; raises ``NotFound`` when it is not a UUID."""
    return _path_id("mission", "mission_id", mission_id)


def run_id_param(run_id: Annotated[str, Path()]) -> uuid.UUID:
    """The ``{run_id}`` of the path; raises ``NotFound`` when it is not a UUID."""
    return _path_id("run", "run_id", run_id)


def artifact_id_param(artifact_id: Annotated[str, Path()]) -> uuid.UUID:
    """The ``{artifact_id}`` of the path; raises ``NotFound`` when it is not a UUID."""
    return _path_id("artifact", "artifact_id", artifact_id)


def approval_id_param(approval_id: Annotated[str, Path()]) -> uuid.UUID:
    """The ``{approval_id}`` of the path; raises ``NotFound`` when it is not a UUID."""
    return _path_id("approval", "approval_id", approval_id)


def worker_id_param(worker_id: Annotated[str, Path()]) -> uuid.UUID:
    """The ``{worker_id}`` of the path; raises ``NotFound`` when it is not a UUID."""
    return _path_id("worker", "worker_id", worker_id)


def schedule_id_param(schedule_id: Annotated[str, Path()]) -> uuid.UUID:
    """The ``{schedule_id}`` of the path; raises ``NotFound`` when it is not a UUID."""
    return _path_id("schedule", "schedule_id", schedule_id)


def webhook_id_param(webhook_id: Annotated[str, Path()]) -> uuid.UUID:
    """The ``{webhook_id}`` of the path; raises ``NotFound`` when it is not a UUID."""
    return _path_id("webhook", "webhook_id", webhook_id)


def epic_id_param(epic_id: Annotated[str, Path()]) -> uuid.UUID:
    """The ``{epic_id}`` of the path; raises ``NotFound`` when it is not a UUID."""
    return _path_id("epic", "epic_id", epic_id)


def delivery_id_param(delivery_id: Annotated[str, Path()]) -> uuid.UUID:
    """The ``{delivery_id}`` of the path; raises ``NotFound`` when it is not a UUID."""
    return _path_id("delivery", "delivery_id", delivery_id)


Context = Annotated[ServiceContext, Depends(get_context)]
# Ids in page paths: malformed ones are a 404 page like unknown ones.
MissionId = Annotated[uuid.UUID, Depends(mission_id_param)]
RunId = Annotated[uuid.UUID, Depends(run_id_param)]
ArtifactId = Annotated[uuid.UUID, Depends(artifact_id_param)]
ApprovalId = Annotated[uuid.UUID, Depends(approval_id_param)]
WorkerId = Annotated[uuid.UUID, Depends(worker_id_param)]
ScheduleId = Annotated[uuid.UUID, Depends(schedule_id_param)]
WebhookId = Annotated[uuid.UUID, Depends(webhook_id_param)]
DeliveryId = Annotated[uuid.UUID, Depends(delivery_id_param)]
EpicId = Annotated[uuid.UUID, Depends(epic_id_param)]

# The identities of the page controls (each route declares what it needs: ADR 0011).
WriteMissions = Annotated[Identity, requires(P.MISSIONS_WRITE)]
ControlRuns = Annotated[Identity, requires(P.RUNS_CONTROL)]
Fragment = Annotated[bool, Depends(wants_fragment)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

__all__ = [
    "MAX_SEQ",
    "ApprovalId",
    "ArtifactId",
    "Context",
    "ControlRuns",
    "DeliveryId",
    "EpicId",
    "Fragment",
    "Identity",
    "MissionId",
    "P",
    "RunId",
    "RuntimeDep",
    "ScheduleId",
    "WebhookId",
    "WorkerId",
    "WriteMissions",
    "public",
    "requires",
]
