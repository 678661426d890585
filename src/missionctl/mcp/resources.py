"""The resources: what a client may read (missions, epics, plans, packs, runs, artifacts).

Each is JSON or text.

Every URI starts with ``missionctl://``. Each read checks the permission the matching route
needs (``caller.permitted``) and calls one service; an id that is not a UUID, or names
nothing, is an error naming it. ``RESOURCES`` lists them for the docs and the tests.
"""

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from pydantic import BaseModel

from missionctl.domain.access import Permission as P
from missionctl.mcp.caller import permitted, resource_errors
from missionctl.services.usecases import artifacts as artifact_service
from missionctl.services.usecases import dashboard
from missionctl.services.usecases import epics as epic_service
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import packs as pack_service
from missionctl.services.usecases import plans as plan_service
from missionctl.services.usecases import runs as run_service

JSON = "application/json"
MARKDOWN = "text/markdown"
LIST_LIMIT = 50
"""How many missions or runs the list resources hold: the newest."""
TEXT_MAX_BYTES = 1_048_576
"""The largest artifact whose content is served as text (1 MiB); larger ones name the API."""
_TEXT_KINDS = frozenset({"markdown", "json", "diff", "log", "report"})
_TEXT_TYPES = frozenset({"application/json", "application/yaml", "application/x-ndjson"})


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ResourceError(f"{field}: {value[:80]!r} is not a UUID") from None


def _json(model: BaseModel | dict[str, Any]) -> str:
    body = model.model_dump(mode="json") if isinstance(model, BaseModel) else model
    return json.dumps(body, indent=2, ensure_ascii=False)


async def missions() -> str:
    """The newest missions (``missions:read``)."""
    with resource_errors():
        caller = await permitted(P.MISSIONS_READ, "missionctl://missions")
        return _json(await mission_service.read_missions(caller.ctx, limit=LIST_LIMIT))


async def mission(mission_id: str) -> str:
    """One mission (``missions:read``)."""
    with resource_errors():
        caller = await permitted(P.MISSIONS_READ, "missionctl://missions/{mission_id}")
        found = await mission_service.read_mission(
            caller.ctx, mission_id=_uuid(mission_id, "mission_id")
        )
        return _json(found)


async def epics() -> str:
    """The active epics with their missions' figures (``missions:read``)."""
    with resource_errors():
        caller = await permitted(P.MISSIONS_READ, "missionctl://epics")
        found = await epic_service.list_epics(caller.ctx)
        return _json({"epics": [epic.model_dump(mode="json") for epic in found]})


async def epic(epic_id: str) -> str:
    """One epic's roll-up (``missions:read``)."""
    with resource_errors():
        caller = await permitted(P.MISSIONS_READ, "missionctl://epics/{epic_id}")
        return _json(await epic_service.read_epic(caller.ctx, epic_id=_uuid(epic_id, "epic_id")))


async def plan(mission_id: str) -> str:
    """A mission's newest plan (``missions:read``)."""
    with resource_errors():
        caller = await permitted(P.MISSIONS_READ, "missionctl://missions/{mission_id}/plan")
        found = await plan_service.read_plan(caller.ctx, mission_id=_uuid(mission_id, "mission_id"))
        return _json(found)


async def pack(mission_id: str) -> str:
    """A mission's AI execution pack: its ``AGENTS.md`` for the newest plan (``missions:read``)."""
    with resource_errors():
        caller = await permitted(P.MISSIONS_READ, "missionctl://missions/{mission_id}/pack")
        text = await pack_service.read_agents_file(
            caller.ctx, mission_id=_uuid(mission_id, "mission_id")
        )
        return text


async def task_pack(mission_id: str, task_key: str) -> str:
    """One task's file of a mission's pack, for the newest plan (``missions:read``)."""
    with resource_errors():
        caller = await permitted(
            P.MISSIONS_READ, "missionctl://missions/{mission_id}/pack/{task_key}"
        )
        text = await pack_service.read_task_file(
            caller.ctx, mission_id=_uuid(mission_id, "mission_id"), task_key=task_key
        )
        return text


async def runs() -> str:
    """The newest runs (``runs:read``)."""
    with resource_errors():
        caller = await permitted(P.RUNS_READ, "missionctl://runs")
        return _json(await dashboard.read_runs(caller.ctx, limit=LIST_LIMIT))


async def run(run_id: str) -> str:
    """One run with its steps (``runs:read``)."""
    with resource_errors():
        caller = await permitted(P.RUNS_READ, "missionctl://runs/{run_id}")
        return _json(await run_service.read_run(caller.ctx, run_id=_uuid(run_id, "run_id")))


async def run_artifacts(run_id: str) -> str:
    """What a run's steps produced: the artifacts' descriptions (``artifacts:read``)."""
    with resource_errors():
        caller = await permitted(P.ARTIFACTS_READ, "missionctl://runs/{run_id}/artifacts")
        found = await artifact_service.read_artifacts(caller.ctx, run_id=_uuid(run_id, "run_id"))
        return _json({"artifacts": [artifact.model_dump(mode="json") for artifact in found]})


async def artifact(artifact_id: str) -> str:
    """One artifact's description (``artifacts:read``)."""
    with resource_errors():
        caller = await permitted(P.ARTIFACTS_READ, "missionctl://artifacts/{artifact_id}")
        found = await artifact_service.read_artifact(
            caller.ctx, artifact_id=_uuid(artifact_id, "artifact_id")
        )
        return _json(found)


async def artifact_content(artifact_id: str) -> str:
    """An artifact's content, when it is text of at most 1 MiB (``artifacts:read``)."""
    with resource_errors():
        caller = await permitted(P.ARTIFACTS_READ, "missionctl://artifacts/{artifact_id}/content")
        wanted = _uuid(artifact_id, "artifact_id")
        found = await artifact_service.read_artifact(caller.ctx, artifact_id=wanted)
        download = f"GET /api/v1/artifacts/{wanted}/content"
        textual = found.kind in _TEXT_KINDS or found.media_type.split(";")[0] in _TEXT_TYPES
        if not (textual or found.media_type.startswith("text/")):
            raise ResourceError(f"artifact_id: {found.name} is {found.media_type}; {download}")
        if found.size > TEXT_MAX_BYTES:
            raise ResourceError(f"artifact_id: {found.name} is {found.size} bytes; {download}")
        _, content = await artifact_service.read_artifact_content(caller.ctx, artifact_id=wanted)
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError:
            raise ResourceError(
                f"artifact_id: {found.name} is not UTF-8 text; {download}"
            ) from None


Reader = Callable[..., Awaitable[str]]
RESOURCES: tuple[tuple[str, Reader, str, str], ...] = (
    ("missionctl://missions", missions, JSON, "The newest missions"),
    ("missionctl://missions/{mission_id}", mission, JSON, "One mission"),
    ("missionctl://missions/{mission_id}/plan", plan, JSON, "A mission's newest plan"),
    ("missionctl://epics", epics, JSON, "The active epics"),
    ("missionctl://epics/{epic_id}", epic, JSON, "One epic's roll-up of its missions"),
    ("missionctl://missions/{mission_id}/pack", pack, MARKDOWN, "A mission's pack: AGENTS.md"),
    (
        "missionctl://missions/{mission_id}/pack/{task_key}",
        task_pack,
        MARKDOWN,
        "One task's file of a mission's pack",
    ),
    ("missionctl://runs", runs, JSON, "The newest runs"),
    ("missionctl://runs/{run_id}", run, JSON, "One run with its steps"),
    ("missionctl://runs/{run_id}/artifacts", run_artifacts, JSON, "A run's artifacts"),
    ("missionctl://artifacts/{artifact_id}", artifact, JSON, "One artifact's description"),
    (
        "missionctl://artifacts/{artifact_id}/content",
        artifact_content,
        "text/plain",
        "An artifact's text content",
    ),
)
"""Each resource: its URI (a template when it has ``{…}``), reader, media type, description."""


def register_resources(server: MCPServer[Any]) -> None:
    """Add every resource of ``RESOURCES`` to ``server``."""
    for uri, reader, media_type, description in RESOURCES:
        name = uri.removeprefix("missionctl://").replace("/", "-").replace("{", "").replace("}", "")
        server.resource(uri, name=name, description=description, mime_type=media_type)(reader)
