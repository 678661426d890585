"""A mission's AI execution pack: the folder a coding agent works from, and its zip.

``build_pack`` reads a mission and one version of its plan (default: the newest) and lays out
the pack (``domain/packs.py`` holds its rules, docs/packs.md describes it):

- ``AGENTS.md``: goal, constraints, stack, conventions, how to run and test, what not to touch,
  the task order and the requirements (``documents/pack_documents.py``);
- ``tasks/NN-<key>.md``: one file per task, numbered in execution order;
- ``plan.json``: the plan version as ``GET /api/v1/missions/{id}/plan`` returns it.

Every file is redacted (``llm.redaction.redact``, credential patterns included): secrets never
leave the server. ``pack_zip`` packs the files into a zip that is byte-identical for the same
files (ADR 0050): entries sorted by path, one fixed timestamp and mode, stored uncompressed.
"""

import io
import json
import uuid
import zipfile
from dataclasses import dataclass

from missionctl.documents.pack_documents import render_agents, render_task, task_entries
from missionctl.domain.files import FileAnswer
from missionctl.domain.packs import AGENTS_FILE, PLAN_FILE
from missionctl.domain.slugs import slug
from missionctl.errors import NotFound
from missionctl.llm.redaction import redact
from missionctl.schemas.missions import MissionRead
from missionctl.schemas.plans import PlanRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import plans as plan_service

ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
"""Every entry's time: the earliest a zip can hold, so that the bytes never depend on a clock."""
ZIP_FILE_MODE = 0o644
_UNIX = 3  # the "made by" system of every entry, whatever system builds the zip


@dataclass(frozen=True, slots=True)
class PackFile:
    """One file of a pack: its relative path (``domain.packs.is_pack_path``) and its bytes."""

    path: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Pack:
    """A mission's pack for one plan version, its files sorted by path."""

    mission_id: uuid.UUID
    plan_version: int
    zip_name: str  # e.g. "url-shortener-plan-v2-pack.zip": [a-z0-9-] and the suffix only
    files: tuple[PackFile, ...]


async def build_pack(
    ctx: ServiceContext, *, mission_id: uuid.UUID, plan_version: int | None = None
) -> Pack:
    """The pack of ``mission_id`` for plan ``plan_version`` (default: the newest).

    Raises:
        NotFound: no such mission (``field="mission_id"``), or no such plan version
            (``field="plan_version"``).
        Conflict: the mission has no plan yet (``field="mission_id"``): plan it first.
    """
    mission, plan = await plan_service.read_planned(
        ctx, mission_id=mission_id, version=plan_version, lacking="so it has no execution pack"
    )
    return lay_out_pack(mission, plan)


async def read_agents_file(
    ctx: ServiceContext, *, mission_id: uuid.UUID, plan_version: int | None = None
) -> str:
    """The pack's ``AGENTS.md`` for plan ``plan_version`` (default: the newest), as text.

    Raises:
        NotFound | Conflict: as :func:`build_pack`.
    """
    mission, plan = await plan_service.read_planned(
        ctx, mission_id=mission_id, version=plan_version, lacking="so it has no execution pack"
    )
    text: str = redact(render_agents(mission, plan, task_entries(plan)))
    return text


async def read_task_file(
    ctx: ServiceContext, *, mission_id: uuid.UUID, task_key: str, plan_version: int | None = None
) -> str:
    """One task's file of the pack for plan ``plan_version`` (default: the newest), as text.

    The same text as that task's file in the zip.

    Raises:
        NotFound | Conflict: as :func:`build_pack`; also no such task in the plan
            (``field="task_key"``, the message lists the plan's tasks).
    """
    _, plan = await plan_service.read_planned(
        ctx, mission_id=mission_id, version=plan_version, lacking="so it has no execution pack"
    )
    text = task_file(plan, task_key)
    if text is None:
        raise NotFound(
            f"plan v{plan.version} has no task {task_key[:80]!r}; its tasks are: "
            + ", ".join(task.key for task in plan.tasks),
            field="task_key",
        )
    return text


def lay_out_pack(mission: MissionRead, plan: PlanRead) -> Pack:
    """The pack of ``mission`` and ``plan`` (pure: the same inputs give the same bytes)."""
    entries = task_entries(plan)
    by_key = {entry.task.key: entry for entry in entries}
    files = [
        PackFile(AGENTS_FILE, _text(render_agents(mission, plan, entries))),
        PackFile(PLAN_FILE, _text(plan_json(plan))),
        *(PackFile(e.path, _text(render_task(e, plan, by_key))) for e in entries),
    ]
    name = f"{slug(redact(mission.title))}-plan-v{plan.version}-pack.zip"
    return Pack(mission.id, plan.version, name, tuple(sorted(files, key=lambda f: f.path)))


def task_file(plan: PlanRead, task_key: str) -> str | None:
    """One task's file of the pack (redacted Markdown); ``None``: the plan has no such task.

    The same text as that task's file in the zip (:func:`lay_out_pack`).
    """
    entries = task_entries(plan)
    by_key = {entry.task.key: entry for entry in entries}
    entry = by_key.get(task_key)
    return None if entry is None else redact(render_task(entry, plan, by_key))


def plan_json(plan: PlanRead) -> str:
    """The plan version as the API returns it (``PlanRead``), redacted, indented.

    Fields keep the schema's order, so the same plan always gives the same text.
    """
    return json.dumps(redact(plan.model_dump(mode="json")), indent=2, ensure_ascii=False) + "\n"


def _text(text: str) -> bytes:
    # The documents redact each piece of user text; this pass also catches what escaping or
    # joining could have split across pieces.
    return redact(text).encode("utf-8")


def pack_zip(pack: Pack) -> bytes:
    """The pack's files as a zip, byte-identical for the same files (see the module docstring).

    Entries are stored (not deflated): compressed bytes depend on the zlib build, and a pack
    is a few dozen kilobytes of text.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for file in sorted(pack.files, key=lambda f: f.path):
            info = zipfile.ZipInfo(file.path, date_time=ZIP_TIMESTAMP)
            info.create_system = _UNIX
            info.external_attr = ZIP_FILE_MODE << 16
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, file.content)
    return buffer.getvalue()


async def download_pack(
    ctx: ServiceContext, *, mission_id: uuid.UUID, plan_version: int | None = None
) -> FileAnswer:
    """:func:`build_pack`'s files as a zip to save (:func:`pack_zip`).

    Raises:
        NotFound | Conflict: as :func:`build_pack`.
    """
    pack = await build_pack(ctx, mission_id=mission_id, plan_version=plan_version)
    return FileAnswer(pack_zip(pack), "application/zip", name=pack.zip_name)


__all__ = [
    "Pack",
    "PackFile",
    "build_pack",
    "download_pack",
    "lay_out_pack",
    "pack_zip",
    "read_agents_file",
    "read_task_file",
]
