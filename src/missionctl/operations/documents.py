"""The document studio: a mission's documents generated, listed, read and compared (ADR 0053).

Reading needs ``missions:read``; generating needs ``missions:write`` (a generation may spend
model tokens, charged to the mission). Versions are never edited: generating again adds one.
A version is also exported as a file: Markdown, standalone HTML or PDF.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from missionctl.domain.access import Permission as P
from missionctl.domain.files import FileAnswer
from missionctl.operations import Operation
from missionctl.schemas.documents import (
    MAX_DOCUMENT_VERSION,
    DocumentCompareRead,
    DocumentCreate,
    DocumentKind,
    DocumentKindRead,
    DocumentRead,
    ExportFormat,
)

_SERVICE = "missionctl.services.usecases.documents"

Kind = Annotated[DocumentKind, Field(description="The kind of document, e.g. `prd`.")]
"""A path's kind of document (anything else: a 422 naming the kinds)."""
Version = Annotated[int, Field(ge=1, le=MAX_DOCUMENT_VERSION, description="1, 2, …")]
"""A path's version of a document."""


class CompareQuery(BaseModel):
    """Which two versions to compare."""

    model_config = ConfigDict(extra="forbid")

    base: int = Field(ge=1, le=MAX_DOCUMENT_VERSION, description="The older version")
    target: int = Field(ge=1, le=MAX_DOCUMENT_VERSION, description="The version to compare it with")


GENERATE: Operation[DocumentRead] = Operation(
    name="generate_document",
    doc="Write the mission's document of `kind` and store it as that kind's next version.\n\n"
    "The configured model writes it (within `MISSIONCTL_DOCUMENTS_MODEL_TIMEOUT_S` and the "
    "mission's budget); without one, or when it times out or fails, the local writer does, and "
    "`notes` say why. 409 when the mission has no plan yet (plan it first); 422 names a `kind` "
    "that does not exist.",
    method="POST",
    path="/missions/{mission_id}/documents",
    permission=P.MISSIONS_WRITE,
    service=f"{_SERVICE}:generate_document",
    body=DocumentCreate,
    body_fields=True,
    needs=("llm",),
    output=DocumentRead,
    status_code=201,
    errors=(409,),
    cli="docs generate",
)
LIST: Operation[list[DocumentKindRead]] = Operation(
    name="list_documents",
    doc="Every kind of document, what it is for, and the mission's versions of it, newest first.",
    method="GET",
    path="/missions/{mission_id}/documents",
    permission=P.MISSIONS_READ,
    service=f"{_SERVICE}:list_documents",
    output=list[DocumentKindRead],
    cli="docs list",
)
LATEST: Operation[DocumentRead] = Operation(
    name="read_latest",
    doc="The latest version of the mission's `kind` document; 404 before one is generated.",
    method="GET",
    path="/missions/{mission_id}/documents/{kind}",
    permission=P.MISSIONS_READ,
    service=f"{_SERVICE}:read_document",
    path_types={"kind": Kind},
    arguments={"version": None},
    output=DocumentRead,
    cli="docs show",
)
VERSION: Operation[DocumentRead] = Operation(
    name="read_version",
    doc="One version of the mission's `kind` document; 404 names the `version` that is missing.",
    method="GET",
    path="/missions/{mission_id}/documents/{kind}/versions/{version}",
    permission=P.MISSIONS_READ,
    service=f"{_SERVICE}:read_document",
    path_types={"kind": Kind, "version": Version},
    output=DocumentRead,
    cli="docs show",
)
COMPARE: Operation[DocumentCompareRead] = Operation(
    name="compare_versions",
    doc="Two versions compared line by line: each line `same`, `added` or `removed`.",
    method="GET",
    path="/missions/{mission_id}/documents/{kind}/compare",
    permission=P.MISSIONS_READ,
    service=f"{_SERVICE}:compare_documents",
    path_types={"kind": Kind},
    query=CompareQuery,
    output=DocumentCompareRead,
    cli="docs compare",
)


class ExportQuery(BaseModel):
    """Which file to make of a version."""

    model_config = ConfigDict(extra="forbid")

    format: ExportFormat = Field("md", description="`md` (the body), `html` or `pdf`")


EXPORT: Operation[FileAnswer] = Operation(
    name="export_version",
    doc="One version as a file to download: `md`, `html` (standalone, sanitised) or `pdf` (of "
    "selectable text).",
    method="GET",
    path="/missions/{mission_id}/documents/{kind}/versions/{version}/export",
    permission=P.MISSIONS_READ,
    service=f"{_SERVICE}:export_document",
    path_types={"kind": Kind, "version": Version},
    query=ExportQuery,
    output=FileAnswer,
    file_types=("text/markdown", "text/html", "application/pdf"),
    cli="docs export",
)

OPERATIONS = (GENERATE, LIST, LATEST, VERSION, COMPARE, EXPORT)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""
