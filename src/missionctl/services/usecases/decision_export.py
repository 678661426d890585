"""A mission's decision log as Architecture Decision Records: one Markdown file per decision.

Each file is ``NNNN-title-as-slug.md`` (``NNNN`` the decision's number in its mission's log)
with the ADR's sections: status, date, deciders, context, decision, consequences, reasons,
trade-offs, alternatives, and the links to the decisions it supersedes and that supersede it.
The API sends the files as one zip; the CLI writes them to a directory.
"""

import io
import re
import uuid
import zipfile
from dataclasses import dataclass

from missionctl.domain.files import FileAnswer
from missionctl.llm.redaction import redact
from missionctl.schemas.register import DecisionRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.decision_log import list_decisions

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_MAX_CHARS = 60
# A fixed time for every entry of the zip, so the same log always zips to the same bytes.
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class AdrFile:
    """One ADR: its file name and its Markdown text."""

    name: str
    text: str


def file_name(decision: DecisionRead) -> str:
    """``0007-use-postgresql.md``: the number, then the title as a slug (``decision`` if none)."""
    slug = _NOT_SLUG.sub("-", decision.title.lower()).strip("-")[:SLUG_MAX_CHARS].strip("-")
    return f"{decision.number:04d}-{slug or 'decision'}.md"


async def adr_files(ctx: ServiceContext, *, mission_id: uuid.UUID) -> list[AdrFile]:
    """The mission's decision log as ADR files, in the log's order.

    Raises:
        NotFound: no such mission.
    """
    decisions = await list_decisions(ctx, mission_id=mission_id)
    by_id = {d.id: d for d in decisions}
    return [AdrFile(file_name(d), redact(render_adr(d, by_id))) for d in decisions]


async def export_adrs(ctx: ServiceContext, *, mission_id: uuid.UUID) -> FileAnswer:
    """The mission's :func:`adr_files` in a zip to save.

    Raises:
        NotFound: no such mission.
    """
    files = await adr_files(ctx, mission_id=mission_id)
    return FileAnswer(zip_files(files), "application/zip", name=f"mission-{mission_id}-adr.zip")


def zip_files(files: list[AdrFile]) -> bytes:
    """The files as a zip archive (deflated, every entry dated alike)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.writestr(zipfile.ZipInfo(file.name, _ZIP_TIME), file.text)
    return buffer.getvalue()


def _link(decision_id: uuid.UUID, by_id: dict[uuid.UUID, DecisionRead]) -> str:
    """A Markdown link to another ADR of the export, or its id when it is not exported."""
    other = by_id.get(decision_id)
    if other is None:
        return f"decision {decision_id} (of an earlier plan version, not in this log)"
    return f"[ADR {other.number}: {other.title}]({file_name(other)})"


def _bullets(items: list[str]) -> list[str]:
    return [f"- {item}" for item in items] if items else ["None recorded."]


def render_adr(decision: DecisionRead, by_id: dict[uuid.UUID, DecisionRead]) -> str:
    """One decision as an ADR in Markdown; links name the other ADRs' files."""
    status = [decision.status.value.capitalize()]
    if decision.supersedes is not None:
        status.append(f"Supersedes {_link(decision.supersedes, by_id)}")
    status += [f"Superseded by {_link(other, by_id)}" for other in decision.superseded_by]
    lines = [
        f"# {decision.number}. {decision.title}",
        "",
        f"Date: {decision.decided_on.isoformat()}",
        "",
        f"Deciders: {', '.join(decision.deciders) if decision.deciders else 'not recorded'}",
        "",
        "## Status",
        "",
        *(f"{line}\n" for line in status),
        "## Context",
        "",
        decision.context or "Not recorded.",
        "",
        "## Decision",
        "",
        decision.choice,
        "",
        "## Consequences",
        "",
        decision.consequences or "Not recorded.",
        "",
        "## Reasons",
        "",
        *_bullets(decision.reasons),
        "",
        "## Trade-offs",
        "",
        *_bullets(decision.trade_offs),
        "",
        "## Alternatives considered",
        "",
        *_bullets(decision.alternatives),
        "",
    ]
    return "\n".join(lines)
