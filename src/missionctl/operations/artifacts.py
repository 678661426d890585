"""Artifacts: what runs produced, listed by run or by mission, one described, its bytes.

Reading them needs ``artifacts:read``, as a run's signed receipt does. A run's report, JSON or
a file by its ``format``, is still a route of its own (``api.routes.artifacts``).
"""

from pydantic import BaseModel, ConfigDict, Field

from missionctl.domain.access import Permission as P
from missionctl.domain.files import FileAnswer
from missionctl.operations import Operation
from missionctl.schemas.artifacts import ArtifactRead

_SERVICE = "missionctl.services.usecases.artifacts"

RUN_ARTIFACTS: Operation[list[ArtifactRead]] = Operation(
    name="list_run_artifacts",
    doc="Every artifact a run produced (reports included), oldest first.",
    method="GET",
    path="/runs/{run_id}/artifacts",
    permission=P.ARTIFACTS_READ,
    service=f"{_SERVICE}:read_artifacts",
    output=list[ArtifactRead],
    cli="runs artifacts",
)
MISSION_ARTIFACTS: Operation[list[ArtifactRead]] = Operation(
    name="list_mission_artifacts",
    doc="Every artifact of every run of a mission, oldest first.",
    method="GET",
    path="/missions/{mission_id}/artifacts",
    permission=P.ARTIFACTS_READ,
    service=f"{_SERVICE}:read_artifacts",
    output=list[ArtifactRead],
    cli="mission artifacts",
)
READ: Operation[ArtifactRead] = Operation(
    name="get_artifact",
    doc="An artifact's description.",
    method="GET",
    path="/artifacts/{artifact_id}",
    permission=P.ARTIFACTS_READ,
    service=f"{_SERVICE}:read_artifact",
    output=ArtifactRead,
    cli="artifact show",
)

CONTENT: Operation[FileAnswer] = Operation(
    name="download_artifact",
    doc="The artifact's bytes as an attachment, streamed, served inert whatever they are.\n\n"
    "A passive media type is kept (plain text, Markdown, CSV, a diff, JSON, a ZIP or gzip file, "
    "a PNG, JPEG, GIF or WebP image); any other (a script, HTML, SVG) is sent as "
    "`application/octet-stream`, never sniffed (`nosniff`) and sandboxed (a `sandbox` content "
    "security policy). 500 when the stored content is missing or does not match its digest.",
    method="GET",
    path="/artifacts/{artifact_id}/content",
    permission=P.ARTIFACTS_READ,
    service=f"{_SERVICE}:download_artifact",
    output=FileAnswer,
    file_types=("application/octet-stream", "*/*"),
    errors=(500,),
    cli="artifact download",
)


class ReceiptQuery(BaseModel):
    """How to send a receipt."""

    model_config = ConfigDict(extra="forbid")

    download: bool = Field(False, description="Send it as a file to save")


RECEIPT: Operation[FileAnswer] = Operation(
    name="get_run_receipt",
    doc="The run's receipt (`missionctl-run-receipt/1`, JSON), signed now with the audit "
    "signing key.\n\nIt holds the run's entries of the hash chain, its steps' output digests, "
    "its artifacts' hashes and its approvals. Anyone with the public key (`missionctl audit "
    "public-key`) checks it offline with `missionctl verify receipt FILE --public-key KEY`. A "
    "run whose events or stored outputs disagree with the chain gets no receipt: a 500, since "
    "the server's own record is damaged (`missionctl audit verify` says where).",
    method="GET",
    path="/runs/{run_id}/receipt",
    permission=P.ARTIFACTS_READ,
    service="missionctl.services.usecases.receipts:download_receipt",
    query=ReceiptQuery,
    output=FileAnswer,
    file_types=("application/json",),
    errors=(500,),
    cli="runs receipt",
)

OPERATIONS = (RUN_ARTIFACTS, MISSION_ARTIFACTS, READ, CONTENT, RECEIPT)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""
