"""Artifacts: what runs produced, listed by run or by mission, and one described.

Reading them needs ``artifacts:read``. Their bytes, a run's report as a file and its signed
receipt are downloads, still routes of their own (``api.routes.artifacts``).
"""

from missionctl.domain.access import Permission as P
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

OPERATIONS = (RUN_ARTIFACTS, MISSION_ARTIFACTS, READ)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""
