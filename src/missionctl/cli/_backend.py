"""The one interface commands talk to: Mission Control in this process, or a server's API.

Each command parses its arguments and prints its output once, and asks a ``MissionControl``
for what it needs. ``open_backend()`` picks the implementation: ``LocalMissionControl`` calls
the services on the local database as ``system`` (ADR 0010), ``RemoteMissionControl`` sends
the matching ``/api/v1`` request as ``MISSIONCTL_TOKEN`` to ``MISSIONCTL_URL``. Both report
failures the same way and exit with the same codes: 1 when something is not found, 2 for
anything else (``LocalSession`` locally, ``RemoteClient`` remotely).

Schemas, services and the HTTP client are imported inside the methods, so that ``missionctl
--help`` loads none of them (``tests/cli/test_startup.py``); annotations stay strings.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, TypeVar
from urllib.parse import quote

from missionctl.cli._runtime import LocalSession, refuse_as_on_a_server
from missionctl.errors import NotFound, PermissionDenied

if TYPE_CHECKING:
    from pydantic import SecretStr

    from missionctl.cli.remote import RemoteClient
    from missionctl.domain.access import Role
    from missionctl.domain.memory import MemoryKind
    from missionctl.domain.search import SearchKind
    from missionctl.schemas.analytics import (
        AnomaliesAnswer,
        DefinitionsAnswer,
        FunnelAnswer,
        InsightsAnswer,
        RetentionAnswer,
        TrendsAnswer,
    )
    from missionctl.schemas.artifacts import ArtifactRead
    from missionctl.schemas.clarifications import ClarificationAnswers, ClarificationRead
    from missionctl.schemas.costs import CostBreakdown, CostQuery
    from missionctl.schemas.diagrams import MissionDiagramsRead
    from missionctl.schemas.documents import (
        DocumentCompareRead,
        DocumentKind,
        DocumentKindRead,
        DocumentRead,
    )
    from missionctl.schemas.documents import ExportFormat as DocumentFormat
    from missionctl.schemas.events import (
        AuditRunFilters,
        EventFeedItem,
        EventFeedPage,
        EventFilters,
        ExportFormat,
        ExportKind,
    )
    from missionctl.schemas.governance import (
        AgentRead,
        AgentUpdate,
        ApprovalRead,
        ControlsRead,
        EmergencyStopResult,
    )
    from missionctl.schemas.health import (
        FollowerRead,
        HealthSummaryRead,
        WorkerDetail,
        WorkerRead,
    )
    from missionctl.schemas.identity import TokenRead, UserCreate, UserRead
    from missionctl.schemas.memory import MemoryPage, SimilarMission
    from missionctl.schemas.missions import MissionCreate, MissionPage, MissionRead
    from missionctl.schemas.palette import PalettePage
    from missionctl.schemas.plans import PlanAgain, PlanDiffRead, PlanRead, PlanVersionRead
    from missionctl.schemas.register import (
        DecisionCreate,
        DecisionEdit,
        DecisionRead,
        RiskCreate,
        RiskEdit,
        RiskRead,
        RiskRegister,
    )
    from missionctl.schemas.replay import RunStateRead
    from missionctl.schemas.reports import RunReport
    from missionctl.schemas.runs import EventPage, RunFilters, RunPage, RunRead
    from missionctl.schemas.schedules import ScheduleCreate, ScheduleEdit, ScheduleRead
    from missionctl.schemas.search import SearchPage
    from missionctl.schemas.templates import (
        MissionFromTemplate,
        TemplateRead,
        TemplateSave,
        TemplateUse,
        TemplateUsed,
    )
    from missionctl.schemas.tracemap import TraceMapRead
    from missionctl.schemas.utilisation import UtilisationRead, UtilisationWindow
    from missionctl.schemas.webhooks import (
        DeliveryRead,
        WebhookCreate,
        WebhookCreated,
        WebhookRead,
        WebhookUpdate,
    )
    from missionctl.schemas.workflows import (
        WorkflowCheckRead,
        WorkflowRead,
        WorkflowRunCreate,
        WorkflowSummary,
    )
    from missionctl.services import ServiceContext
    from missionctl.services.usecases.pricing import PriceRead, PriceSet
    from missionctl.services.usecases.workflow_checks import Syntax

# Working on the local database directly is acting as the system itself (ADR 0010).
LOCAL_ACTOR = "system"
T = TypeVar("T")
ApprovalState = Literal["pending", "decided", "all"]
AnalyticsEndpoint = Literal["funnel", "trends", "retention", "anomalies", "definitions"]
AnalyticsAnswer: TypeAlias = (
    "FunnelAnswer | TrendsAnswer | RetentionAnswer | AnomaliesAnswer | DefinitionsAnswer"
)


class MissionControl(Protocol):
    """What commands may ask of Mission Control; every method exits 1 or 2 on failure."""

    where: str  # "the local database", or the server's URL (for messages)

    # Missions and plans
    def create_mission(self, data: MissionCreate) -> MissionRead: ...
    def list_missions(
        self, *, limit: int, cursor: str | None, status: str | None, q: str | None
    ) -> MissionPage: ...
    def read_mission(self, mission_id: uuid.UUID) -> MissionRead: ...
    def plan_mission(
        self, mission_id: uuid.UUID, changes: PlanAgain | None
    ) -> PlanRead | ClarificationRead:
        """A new plan version (after replacing the context ``changes`` sets), or questions."""
        ...

    def answer_questions(
        self, mission_id: uuid.UUID, answers: ClarificationAnswers
    ) -> PlanRead | ClarificationRead:
        """Answer the planner's questions; a new plan version, or its next questions."""
        ...

    def read_plan(self, mission_id: uuid.UUID, version: int | None) -> PlanRead: ...
    def plan_versions(self, mission_id: uuid.UUID) -> list[PlanVersionRead]: ...
    def compare_plans(self, mission_id: uuid.UUID, *, version: int, base: int) -> PlanDiffRead: ...
    def newest_plan_or_none(self, mission_id: uuid.UUID) -> PlanRead | None: ...
    def run_mission(self, mission_id: uuid.UUID) -> RunRead: ...
    def mission_trace(self, mission_id: uuid.UUID, plan_version: int | None) -> TraceMapRead:
        """The mission's traceability map for a plan version (default: the newest)."""
        ...

    def mission_pack(self, mission_id: uuid.UUID, plan_version: int | None) -> bytes:
        """The mission's AI execution pack for a plan version (default: newest), as a zip."""
        ...

    def mission_diagrams(
        self, mission_id: uuid.UUID, plan_version: int | None
    ) -> MissionDiagramsRead:
        """The architecture and deployment diagrams of a plan version (default: newest)."""
        ...

    # Runs
    def list_runs(self, filters: RunFilters, *, limit: int, cursor: str | None) -> RunPage: ...
    def read_run(self, run_id: uuid.UUID) -> RunRead: ...
    def cancel_run(self, run_id: uuid.UUID) -> RunRead: ...
    def retry_step(self, run_id: uuid.UUID, step_id: str) -> RunRead: ...
    def rerun(self, run_id: uuid.UUID, *, from_step: str | None = None) -> RunRead: ...
    def run_state(self, run_id: uuid.UUID, *, at: int | None) -> RunStateRead: ...
    def run_events(self, run_id: uuid.UUID, *, after: int, limit: int) -> EventPage: ...

    # The audit explorer
    def search_events(
        self, filters: EventFilters, *, limit: int, before: int | None, after: int | None = None
    ) -> EventFeedPage: ...
    def search_runs(
        self, filters: AuditRunFilters, *, limit: int, cursor: str | None
    ) -> RunPage: ...
    def export_audit(
        self,
        kind: ExportKind,
        fmt: ExportFormat,
        filters: EventFilters | AuditRunFilters,
        write: Callable[[bytes], object],
    ) -> None:
        """Stream the search's export to ``write``, a page at a time."""
        ...

    def head_seq(self) -> int:
        """The newest event's ``seq`` (0 for an empty log): where following starts."""
        ...

    def follow_events(
        self, filters: EventFilters, *, after: int, emit: Callable[[EventFeedItem], object]
    ) -> None:
        """Hand every event matching ``filters`` after seq ``after`` to ``emit`` as it happens.

        Each event once, in ``seq`` order; returns only by an exception (``KeyboardInterrupt``
        when Ctrl-C stops it). Remotely, a dropped connection is reopened with
        ``Last-Event-ID``: the stream resumes after the last event handed to ``emit``.
        """
        ...

    # The system's health
    def health_summary(self) -> HealthSummaryRead: ...
    def list_followers(self) -> list[FollowerRead]: ...
    def list_workers(self) -> list[WorkerRead]: ...
    def read_worker(self, worker_id: uuid.UUID) -> WorkerDetail: ...
    def command_worker(self, worker_id: uuid.UUID, command: str) -> WorkerDetail:
        """Ask a worker to ``drain``, ``resume`` or ``stop`` (obeyed at its next heartbeat)."""
        ...

    def scale_worker(self, worker_id: uuid.UUID, concurrency: int) -> WorkerDetail: ...

    def follow(self, run: RunRead, *, live: bool) -> RunRead:
        """Wait for ``run`` to end, drawing its steps (locally: execute it here)."""
        ...

    # Search
    def search(
        self,
        q: str,
        *,
        kind: SearchKind | None,
        run_id: uuid.UUID | None,
        mission_id: uuid.UUID | None,
        limit: int,
        cursor: str | None,
    ) -> SearchPage: ...
    def search_memory(
        self, q: str, *, kind: MemoryKind | None, limit: int, cursor: str | None
    ) -> MemoryPage: ...
    def similar_missions(self, mission_id: uuid.UUID) -> list[SimilarMission]: ...
    def search_palette(self, q: str, *, limit: int) -> PalettePage: ...

    # Artifacts and reports
    def run_artifacts(self, run_id: uuid.UUID) -> list[ArtifactRead]: ...
    def mission_artifacts(self, mission_id: uuid.UUID) -> list[ArtifactRead]: ...
    def read_artifact(self, artifact_id: uuid.UUID) -> ArtifactRead: ...
    def artifact_content(self, artifact_id: uuid.UUID) -> bytes: ...
    def run_report(self, run_id: uuid.UUID) -> RunReport: ...
    def run_report_markdown(self, run_id: uuid.UUID) -> str: ...
    def run_report_pdf(self, run_id: uuid.UUID) -> bytes:
        """The report as a PDF's bytes (the same drawing as the API's ``format=pdf``)."""
        ...

    # Workflows
    def list_workflows(self, *, include_plans: bool) -> list[WorkflowSummary]: ...
    def save_workflow(self, text: str, syntax: Syntax) -> WorkflowRead: ...
    def check_workflow(self, text: str, syntax: Syntax) -> WorkflowCheckRead: ...
    def workflow_schema(self) -> dict[str, Any]: ...
    def workflow_or_none(self, workflow_id: uuid.UUID) -> WorkflowRead | None: ...
    def workflow_by_name(self, name: str, version: int | None) -> WorkflowRead: ...
    def workflow_by_name_or_none(self, name: str) -> WorkflowRead | None: ...
    def workflow_versions(self, name: str) -> list[WorkflowSummary]: ...
    def run_workflow(self, workflow_id: uuid.UUID, data: WorkflowRunCreate) -> RunRead: ...

    # Approvals, the emergency stop, agents, prices
    def list_approvals(
        self, *, state: ApprovalState, run_id: uuid.UUID | None, limit: int
    ) -> list[ApprovalRead]: ...
    def read_approval(self, ref: uuid.UUID) -> ApprovalRead: ...
    def decide_approval(
        self,
        ref: uuid.UUID,
        *,
        approve: bool,
        reason: str,
        confirm_full_access: bool = False,
        justification: str = "",
        as_user: str | None = None,
        override_reason: str = "",
    ) -> ApprovalRead:
        """Decide the approval ``ref`` names.

        ``as_user``: locally, decide as that user; a server decides as its token's user and
        refuses it. ``override_reason``: an admin's reason to approve despite the four-eyes
        rule.
        """
        ...

    def read_controls(self) -> ControlsRead: ...
    def engage_stop(self, reason: str) -> EmergencyStopResult: ...
    def release_stop(self, reason: str) -> ControlsRead: ...
    def list_agents(self) -> list[AgentRead]: ...
    def update_agent(self, name: str, data: AgentUpdate) -> AgentRead: ...
    def agent_utilisation(self, window: UtilisationWindow) -> UtilisationRead: ...
    def list_prices(self) -> list[PriceRead]: ...
    def read_price(self, model: str) -> PriceRead: ...
    def set_price(self, data: PriceSet) -> PriceRead: ...
    def read_costs(self, query: CostQuery) -> CostBreakdown: ...

    # People and tokens
    def list_users(self) -> list[UserRead]: ...
    def create_user(self, data: UserCreate) -> UserRead: ...
    def set_role(self, name: str, role: Role) -> UserRead: ...
    def disable_user(self, name: str) -> UserRead: ...
    def list_tokens(self, user_name: str | None) -> list[TokenRead]: ...
    def create_token(
        self, *, name: str, user_name: str, role_ceiling: Role | None, expires_in_days: int | None
    ) -> tuple[TokenRead, SecretStr]: ...
    def revoke_token(self, name: str) -> TokenRead: ...

    # Decision log and risk register (ADR 0051)
    def list_decisions(self, mission_id: uuid.UUID) -> list[DecisionRead]: ...
    def add_decision(self, mission_id: uuid.UUID, data: DecisionCreate) -> DecisionRead: ...
    def edit_decision(
        self, mission_id: uuid.UUID, decision_id: uuid.UUID, edit: DecisionEdit
    ) -> DecisionRead: ...
    def adr_files(self, mission_id: uuid.UUID) -> list[tuple[str, str]]: ...
    def read_risks(self, mission_id: uuid.UUID) -> RiskRegister: ...
    def add_risk(self, mission_id: uuid.UUID, data: RiskCreate) -> RiskRead: ...
    def edit_risk(self, mission_id: uuid.UUID, risk_id: uuid.UUID, edit: RiskEdit) -> RiskRead: ...

    # The document studio
    def generate_documents(
        self, mission_id: uuid.UUID, kinds: list[DocumentKind]
    ) -> list[DocumentRead]:
        """The mission's documents of ``kinds``, each written now as its kind's next version."""
        ...

    def list_documents(self, mission_id: uuid.UUID) -> list[DocumentKindRead]: ...
    def read_document(
        self, mission_id: uuid.UUID, kind: DocumentKind, version: int | None
    ) -> DocumentRead: ...
    def compare_documents(
        self, mission_id: uuid.UUID, kind: DocumentKind, base: int, target: int
    ) -> DocumentCompareRead: ...
    def export_document(
        self, mission_id: uuid.UUID, kind: DocumentKind, version: int | None, fmt: DocumentFormat
    ) -> bytes:
        """A version (default: the latest) as a file's bytes in ``fmt`` (md, html or pdf)."""
        ...

    # Outbound webhooks (ADR 0060)
    def create_webhook(self, data: WebhookCreate) -> WebhookCreated: ...
    def list_webhooks(self) -> list[WebhookRead]: ...
    def read_webhook(self, webhook_id: uuid.UUID) -> WebhookRead: ...
    def update_webhook(self, webhook_id: uuid.UUID, data: WebhookUpdate) -> WebhookRead: ...
    def delete_webhook(self, webhook_id: uuid.UUID) -> None: ...
    def webhook_deliveries(self, webhook_id: uuid.UUID, *, limit: int) -> list[DeliveryRead]: ...
    def redeliver(self, delivery_id: uuid.UUID) -> DeliveryRead: ...
    def test_webhook(self, webhook_id: uuid.UUID) -> DeliveryRead: ...
    # Schedules (ADR 0059)
    def list_schedules(self) -> list[ScheduleRead]: ...
    def read_schedule(self, schedule_id: uuid.UUID) -> ScheduleRead: ...
    def create_schedule(self, data: ScheduleCreate) -> ScheduleRead: ...
    def edit_schedule(self, schedule_id: uuid.UUID, edit: ScheduleEdit) -> ScheduleRead: ...
    def pause_schedule(self, schedule_id: uuid.UUID) -> ScheduleRead: ...
    def resume_schedule(self, schedule_id: uuid.UUID) -> ScheduleRead: ...
    def run_schedule_now(self, schedule_id: uuid.UUID) -> ScheduleRead:
        """Start the schedule's run now; ``last_run_id`` of the answer names it."""
        ...

    def delete_schedule(self, schedule_id: uuid.UUID) -> None: ...

    # Templates (ADR 0065)
    def list_templates(self, category: str | None) -> list[TemplateRead]: ...
    def read_template(self, name: str) -> TemplateRead: ...
    def save_template(self, data: TemplateSave) -> TemplateRead: ...
    def use_template(self, name: str, data: TemplateUse) -> TemplateUsed: ...
    def start_mission_from_template(self, name: str, data: MissionFromTemplate) -> TemplateUsed:
        """Create a mission whose workflow is the template rendered; run it when asked."""
        ...

    def delete_template(self, name: str) -> None: ...

    # Analytics of the product's own activity (ADR 0068)
    def read_analytics(
        self, endpoint: AnalyticsEndpoint, params: dict[str, str]
    ) -> AnalyticsAnswer:
        """One analytics answer; ``params`` are the route's query parameters."""
        ...

    def read_insights(self, params: dict[str, str]) -> InsightsAnswer:
        """The insights of a range (``since``, ``until``, ``segment``), by the model if any."""
        ...


@contextmanager
def open_backend() -> Iterator[MissionControl]:
    """The server at ``MISSIONCTL_URL`` when it and ``MISSIONCTL_TOKEN`` are set, else local.

    Exits 2 when only one of the two is set (``remote.connect``).
    """
    from missionctl.cli.remote import connect

    client = connect()
    if client is None:
        with LocalSession() as session:
            yield LocalMissionControl(session)
        return
    with client:
        yield RemoteMissionControl(client)


class LocalMissionControl:
    """The services on the local database, acting as ``system``, in one ``LocalSession``.

    Each call is the service's own transaction; the context is opened once per command.
    """

    where = "the local database"

    def __init__(self, session: LocalSession) -> None:
        self.call = session.call

    def create_mission(self, data: MissionCreate) -> MissionRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import missions

        return self.call(lambda ctx: missions.create_mission(ctx, data=data, actor=LOCAL_ACTOR))

    def list_missions(
        self, *, limit: int, cursor: str | None, status: str | None, q: str | None
    ) -> MissionPage:
        """See ``MissionControl``."""
        from missionctl.domain.states import MissionStatus
        from missionctl.services.usecases import missions

        state = None if status is None else MissionStatus(status)
        return self.call(
            lambda ctx: missions.read_missions(ctx, limit=limit, cursor=cursor, status=state, q=q)
        )

    def read_mission(self, mission_id: uuid.UUID) -> MissionRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import missions

        return self.call(lambda ctx: missions.read_mission(ctx, mission_id=mission_id))

    def plan_mission(
        self, mission_id: uuid.UUID, changes: PlanAgain | None
    ) -> PlanRead | ClarificationRead:
        """See ``MissionControl``; the planner is the one the local settings choose."""

        async def plan(ctx: ServiceContext) -> PlanRead | ClarificationRead:
            from missionctl.services.runtime.composition import open_runtime
            from missionctl.services.usecases.plans import plan_again

            async with open_runtime(ctx.settings) as runtime:
                return await plan_again(
                    ctx,
                    mission_id=mission_id,
                    actor=LOCAL_ACTOR,
                    planner=runtime.planner,
                    changes=changes,
                )

        return self.call(plan)

    def answer_questions(
        self, mission_id: uuid.UUID, answers: ClarificationAnswers
    ) -> PlanRead | ClarificationRead:
        """See ``MissionControl``; the planner is the one the local settings choose."""

        async def answer(ctx: ServiceContext) -> PlanRead | ClarificationRead:
            from missionctl.services.runtime.composition import open_runtime
            from missionctl.services.usecases.plans import answer_questions

            async with open_runtime(ctx.settings) as runtime:
                return await answer_questions(
                    ctx,
                    mission_id=mission_id,
                    actor=LOCAL_ACTOR,
                    planner=runtime.planner,
                    answers=answers,
                )

        return self.call(answer)

    def read_plan(self, mission_id: uuid.UUID, version: int | None) -> PlanRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases.plans import read_plan

        return self.call(lambda ctx: read_plan(ctx, mission_id=mission_id, version=version))

    def plan_versions(self, mission_id: uuid.UUID) -> list[PlanVersionRead]:
        """See ``MissionControl``."""
        from missionctl.services.usecases.plans import list_plan_versions

        return self.call(lambda ctx: list_plan_versions(ctx, mission_id=mission_id))

    def compare_plans(self, mission_id: uuid.UUID, *, version: int, base: int) -> PlanDiffRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases.plans import compare_plans

        return self.call(
            lambda ctx: compare_plans(ctx, mission_id=mission_id, base=base, target=version)
        )

    def newest_plan_or_none(self, mission_id: uuid.UUID) -> PlanRead | None:
        """See ``MissionControl``."""

        async def newest(ctx: ServiceContext) -> PlanRead | None:
            from missionctl.services.usecases.plans import read_plan

            try:
                return await read_plan(ctx, mission_id=mission_id)
            except NotFound:
                return None

        return self.call(newest)

    def run_mission(self, mission_id: uuid.UUID) -> RunRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases.plans import run_mission

        return self.call(
            lambda ctx: run_mission(ctx, mission_id=mission_id, actor=LOCAL_ACTOR, trigger="cli")
        )

    def mission_trace(self, mission_id: uuid.UUID, plan_version: int | None) -> TraceMapRead:
        """See ``MissionControl``: the map ``GET /api/v1/missions/{id}/trace`` returns."""
        from missionctl.services.usecases.tracemap import read_trace, to_trace_read

        trace = self.call(
            lambda ctx: read_trace(ctx, mission_id=mission_id, plan_version=plan_version)
        )
        return to_trace_read(trace)

    def mission_diagrams(
        self, mission_id: uuid.UUID, plan_version: int | None
    ) -> MissionDiagramsRead:
        """See ``MissionControl``: what ``GET /api/v1/missions/{id}/diagrams`` returns."""
        from missionctl.schemas.diagrams import diagrams_read
        from missionctl.services.usecases.diagrams import read_diagrams

        drawn = self.call(
            lambda ctx: read_diagrams(ctx, mission_id=mission_id, plan_version=plan_version)
        )
        return diagrams_read(mission_id, drawn.diagrams)

    def mission_pack(self, mission_id: uuid.UUID, plan_version: int | None) -> bytes:
        """See ``MissionControl``: the same zip as ``GET /api/v1/missions/{id}/pack``."""
        from missionctl.services.usecases.packs import build_pack, pack_zip

        pack = self.call(
            lambda ctx: build_pack(ctx, mission_id=mission_id, plan_version=plan_version)
        )
        return pack_zip(pack)

    def generate_documents(
        self, mission_id: uuid.UUID, kinds: list[DocumentKind]
    ) -> list[DocumentRead]:
        """See ``MissionControl``: from one reading of the mission, by the local model if any."""

        async def generate(ctx: ServiceContext) -> list[DocumentRead]:
            from missionctl.services.runtime.composition import open_runtime
            from missionctl.services.usecases.documents import generate_documents

            async with open_runtime(ctx.settings) as runtime:
                return await generate_documents(
                    ctx, mission_id=mission_id, kinds=kinds, actor=LOCAL_ACTOR, llm=runtime.llm
                )

        return self.call(generate)

    def list_documents(self, mission_id: uuid.UUID) -> list[DocumentKindRead]:
        """See ``MissionControl``."""
        from missionctl.services.usecases.documents import list_documents

        return self.call(lambda ctx: list_documents(ctx, mission_id=mission_id))

    def read_document(
        self, mission_id: uuid.UUID, kind: DocumentKind, version: int | None
    ) -> DocumentRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases.documents import read_document

        return self.call(
            lambda ctx: read_document(ctx, mission_id=mission_id, kind=kind, version=version)
        )

    def compare_documents(
        self, mission_id: uuid.UUID, kind: DocumentKind, base: int, target: int
    ) -> DocumentCompareRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases.documents import compare_documents

        return self.call(
            lambda ctx: compare_documents(
                ctx, mission_id=mission_id, kind=kind, base=base, target=target
            )
        )

    def export_document(
        self, mission_id: uuid.UUID, kind: DocumentKind, version: int | None, fmt: DocumentFormat
    ) -> bytes:
        """See ``MissionControl``: the same bytes as the API's export."""
        from missionctl.services.usecases.documents import export_document

        exported = self.call(
            lambda ctx: export_document(
                ctx, mission_id=mission_id, kind=kind, version=version, fmt=fmt
            )
        )
        return exported.content

    def list_runs(self, filters: RunFilters, *, limit: int, cursor: str | None) -> RunPage:
        """See ``MissionControl``."""
        from missionctl.services.usecases.dashboard import runs

        return self.call(
            lambda ctx: runs.read_runs(ctx, filters=filters, limit=limit, cursor=cursor)
        )

    def read_run(self, run_id: uuid.UUID) -> RunRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import runs

        return self.call(lambda ctx: runs.read_run(ctx, run_id=run_id))

    def cancel_run(self, run_id: uuid.UUID) -> RunRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import runs

        return self.call(lambda ctx: runs.cancel_run(ctx, run_id=run_id, actor=LOCAL_ACTOR))

    def retry_step(self, run_id: uuid.UUID, step_id: str) -> RunRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import runs

        return self.call(
            lambda ctx: runs.retry_step(ctx, run_id=run_id, step_id=step_id, actor=LOCAL_ACTOR)
        )

    def rerun(self, run_id: uuid.UUID, *, from_step: str | None = None) -> RunRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import runs

        return self.call(
            lambda ctx: runs.rerun_from_failure(
                ctx, run_id=run_id, actor=LOCAL_ACTOR, from_step=from_step
            )
        )

    def run_state(self, run_id: uuid.UUID, *, at: int | None) -> RunStateRead:
        """See ``MissionControl``: the run as of the event with seq ``at`` (its last: None)."""
        from missionctl.services.usecases.replay import read_run_state

        return self.call(lambda ctx: read_run_state(ctx, run_id=run_id, at=at))

    def run_events(self, run_id: uuid.UUID, *, after: int, limit: int) -> EventPage:
        """See ``MissionControl``: the page the API's ``/runs/{id}/events`` would send."""
        from missionctl.services.usecases.audit import read_run_event_page

        return self.call(
            lambda ctx: read_run_event_page(ctx, run_id=run_id, after=after, limit=limit)
        )

    def search(
        self,
        q: str,
        *,
        kind: SearchKind | None,
        run_id: uuid.UUID | None,
        mission_id: uuid.UUID | None,
        limit: int,
        cursor: str | None,
    ) -> SearchPage:
        """See ``MissionControl``."""
        from missionctl.services.usecases import search

        return self.call(
            lambda ctx: search.search(
                ctx,
                q=q,
                kind=kind,
                run_id=run_id,
                mission_id=mission_id,
                limit=limit,
                cursor=cursor,
            )
        )

    def search_memory(
        self, q: str, *, kind: MemoryKind | None, limit: int, cursor: str | None
    ) -> MemoryPage:
        """See ``MissionControl``."""
        from missionctl.services.usecases import memory

        return self.call(
            lambda ctx: memory.search_memory(ctx, q=q, kind=kind, limit=limit, cursor=cursor)
        )

    def similar_missions(self, mission_id: uuid.UUID) -> list[SimilarMission]:
        """See ``MissionControl``."""
        from missionctl.services.usecases import memory_recall

        return self.call(lambda ctx: memory_recall.similar_missions(ctx, mission_id=mission_id))

    def search_palette(self, q: str, *, limit: int) -> PalettePage:
        """See ``MissionControl``; locally as the system, which may take every action."""
        from missionctl.domain.access import Identity, Role
        from missionctl.services.usecases import palette

        system = Identity(actor=LOCAL_ACTOR, user_name=LOCAL_ACTOR, role=Role.ADMIN)
        return self.call(lambda ctx: palette.search_palette(ctx, who=system, q=q, limit=limit))

    def search_events(
        self, filters: EventFilters, *, limit: int, before: int | None, after: int | None = None
    ) -> EventFeedPage:
        """See ``MissionControl``: the page ``GET /api/v1/events`` would send."""
        from missionctl.services.usecases.event_feed import read_event_feed

        return self.call(
            lambda ctx: read_event_feed(
                ctx, filters=filters, before=before, after=after, limit=limit
            )
        )

    def search_runs(self, filters: AuditRunFilters, *, limit: int, cursor: str | None) -> RunPage:
        """See ``MissionControl``: the page ``GET /api/v1/audit/runs`` would send."""
        from missionctl.services.usecases.event_feed import search_runs

        return self.call(lambda ctx: search_runs(ctx, filters=filters, limit=limit, cursor=cursor))

    def export_audit(
        self,
        kind: ExportKind,
        fmt: ExportFormat,
        filters: EventFilters | AuditRunFilters,
        write: Callable[[bytes], object],
    ) -> None:
        """See ``MissionControl``: the body ``GET /api/v1/audit/export`` would stream."""
        from missionctl.schemas.events import AuditRunFilters, EventFilters
        from missionctl.services.usecases import event_feed

        async def export(ctx: ServiceContext) -> None:
            if isinstance(filters, EventFilters):
                chunks = event_feed.export_events(ctx, filters=filters, fmt=fmt)
            else:
                assert isinstance(filters, AuditRunFilters)
                chunks = event_feed.export_runs(ctx, filters=filters, fmt=fmt)
            async for chunk in chunks:
                write(chunk)

        self.call(export)

    def head_seq(self) -> int:
        """See ``MissionControl``."""
        from missionctl.services.usecases.dashboard import read_head_seq

        return self.call(read_head_seq)

    def follow_events(
        self, filters: EventFilters, *, after: int, emit: Callable[[EventFeedItem], object]
    ) -> None:
        """See ``MissionControl``: what ``GET /api/v1/events/stream`` follows, in this process."""
        from missionctl.services.usecases.dashboard import follow_events
        from missionctl.services.usecases.event_feed import to_feed_item

        async def follow(ctx: ServiceContext) -> None:
            async for batch in follow_events(ctx, after_seq=after, filters=filters):
                for item in batch.items:
                    emit(to_feed_item(item))

        self.call(follow)

    def health_summary(self) -> HealthSummaryRead:
        """See ``MissionControl``: the figures read now (the server keeps them a second)."""
        from missionctl.services.usecases.health import read_health_summary

        return self.call(read_health_summary)

    def list_followers(self) -> list[FollowerRead]:
        """See ``MissionControl``."""
        from missionctl.services.followers import follower_lags

        return self.call(follower_lags)

    def list_workers(self) -> list[WorkerRead]:
        """See ``MissionControl``."""
        from missionctl.services.usecases.workers import list_workers

        return self.call(list_workers)

    def read_worker(self, worker_id: uuid.UUID) -> WorkerDetail:
        """See ``MissionControl``."""
        from missionctl.services.usecases import workers

        return self.call(lambda ctx: workers.read_worker(ctx, worker_id=worker_id))

    def command_worker(self, worker_id: uuid.UUID, command: str) -> WorkerDetail:
        """See ``MissionControl``."""
        from missionctl.domain.workers import WorkerCommand
        from missionctl.services.usecases import workers

        return self.call(
            lambda ctx: workers.command_worker(
                ctx, worker_id=worker_id, command=WorkerCommand(command), actor=LOCAL_ACTOR
            )
        )

    def scale_worker(self, worker_id: uuid.UUID, concurrency: int) -> WorkerDetail:
        """See ``MissionControl``."""
        from missionctl.services.usecases import workers

        return self.call(
            lambda ctx: workers.set_concurrency(
                ctx, worker_id=worker_id, concurrency=concurrency, actor=LOCAL_ACTOR
            )
        )

    def follow(self, run: RunRead, *, live: bool) -> RunRead:
        """See ``MissionControl``: an engine in this process runs it, as ``serve`` would."""

        async def execute(ctx: ServiceContext) -> RunRead:
            from missionctl.cli._live import execute_live
            from missionctl.engine.hooks import write_report_when_run_ends
            from missionctl.engine.worker import Engine, EngineConfig
            from missionctl.services.runtime.composition import open_runtime

            async with open_runtime(ctx.settings) as runtime:
                engine = Engine(
                    ctx,
                    runtime.agents,
                    config=EngineConfig.from_settings(ctx.settings.engine),
                    on_run_finished=lambda run_id: write_report_when_run_ends(ctx, run_id),
                )
                return await execute_live(ctx, engine, run, live=live)

        return self.call(execute)

    def run_artifacts(self, run_id: uuid.UUID) -> list[ArtifactRead]:
        """See ``MissionControl``."""
        from missionctl.services.usecases.artifacts import read_artifacts

        return self.call(lambda ctx: read_artifacts(ctx, run_id=run_id))

    def mission_artifacts(self, mission_id: uuid.UUID) -> list[ArtifactRead]:
        """See ``MissionControl``."""
        from missionctl.services.usecases.artifacts import read_artifacts

        return self.call(lambda ctx: read_artifacts(ctx, mission_id=mission_id))

    def read_artifact(self, artifact_id: uuid.UUID) -> ArtifactRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases.artifacts import read_artifact

        return self.call(lambda ctx: read_artifact(ctx, artifact_id=artifact_id))

    def artifact_content(self, artifact_id: uuid.UUID) -> bytes:
        """See ``MissionControl``."""
        from missionctl.services.usecases.artifacts import read_artifact_content

        return self.call(lambda ctx: read_artifact_content(ctx, artifact_id=artifact_id))[1]

    def run_report(self, run_id: uuid.UUID) -> RunReport:
        """See ``MissionControl``."""
        from missionctl.services.usecases.reports import build_run_report

        return self.call(lambda ctx: build_run_report(ctx, run_id=run_id))

    def run_report_markdown(self, run_id: uuid.UUID) -> str:
        """See ``MissionControl``: the same rendering as the API's ``format=markdown``."""
        from missionctl.services.usecases.reports import render_report_markdown

        return render_report_markdown(self.run_report(run_id))

    def run_report_pdf(self, run_id: uuid.UUID) -> bytes:
        """See ``MissionControl``: the same drawing as the API's ``format=pdf``."""
        from missionctl.services.usecases.reports import render_report_pdf

        return render_report_pdf(self.run_report(run_id))

    def list_workflows(self, *, include_plans: bool) -> list[WorkflowSummary]:
        """See ``MissionControl``."""
        from missionctl.services.usecases import workflows

        return self.call(lambda ctx: workflows.list_workflows(ctx, include_plans=include_plans))

    def save_workflow(self, text: str, syntax: Syntax) -> WorkflowRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import workflows

        return self.call(
            lambda ctx: workflows.save_workflow(
                ctx, definition=text, actor=LOCAL_ACTOR, syntax=syntax
            )
        )

    def check_workflow(self, text: str, syntax: Syntax) -> WorkflowCheckRead:
        """See ``MissionControl``; needs no database (gates are judged without allow-list)."""
        from missionctl.services.usecases import workflows

        return workflows.validate_workflow(text, syntax=syntax)

    def workflow_schema(self) -> dict[str, Any]:
        """See ``MissionControl``."""
        from missionctl.schemas.workflows import WorkflowSpec

        return WorkflowSpec.model_json_schema()

    def workflow_or_none(self, workflow_id: uuid.UUID) -> WorkflowRead | None:
        """See ``MissionControl``."""

        async def read(ctx: ServiceContext) -> WorkflowRead | None:
            from missionctl.services.usecases import workflows

            try:
                return await workflows.read_workflow(ctx, workflow_id=workflow_id)
            except NotFound:
                return None

        return self.call(read)

    def workflow_by_name(self, name: str, version: int | None) -> WorkflowRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import workflows

        return self.call(
            lambda ctx: workflows.read_workflow_by_name(ctx, name=name, version=version)
        )

    def workflow_by_name_or_none(self, name: str) -> WorkflowRead | None:
        """See ``MissionControl``."""

        async def read(ctx: ServiceContext) -> WorkflowRead | None:
            from missionctl.services.usecases import workflows

            try:
                return await workflows.read_workflow_by_name(ctx, name=name)
            except NotFound:
                return None

        return self.call(read)

    def workflow_versions(self, name: str) -> list[WorkflowSummary]:
        """See ``MissionControl``."""
        from missionctl.services.usecases import workflows

        return self.call(lambda ctx: workflows.read_workflow_versions(ctx, name=name))

    def run_workflow(self, workflow_id: uuid.UUID, data: WorkflowRunCreate) -> RunRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import workflows

        return self.call(
            lambda ctx: workflows.run_workflow(
                ctx, workflow_id=workflow_id, actor=LOCAL_ACTOR, trigger="cli", data=data
            )
        )

    def list_approvals(
        self, *, state: ApprovalState, run_id: uuid.UUID | None, limit: int
    ) -> list[ApprovalRead]:
        """See ``MissionControl``."""
        from missionctl.services.usecases import approvals

        return self.call(
            lambda ctx: approvals.list_approvals(ctx, state=state, run_id=run_id, limit=limit)
        )

    def read_approval(self, ref: uuid.UUID) -> ApprovalRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import approvals

        return self.call(lambda ctx: approvals.read_approval(ctx, ref=ref))

    def decide_approval(
        self,
        ref: uuid.UUID,
        *,
        approve: bool,
        reason: str,
        confirm_full_access: bool = False,
        justification: str = "",
        as_user: str | None = None,
        override_reason: str = "",
    ) -> ApprovalRead:
        """See ``MissionControl``.

        Without ``as_user`` the decider is no user, which a gate that names its approvers
        refuses: the refusal then says to use ``--as``.
        """
        from missionctl.domain.access import Permission
        from missionctl.services.usecases import approvals, identity

        async def decide(ctx: ServiceContext) -> ApprovalRead:
            actor, user, admin = LOCAL_ACTOR, None, False
            if as_user is not None:
                found = await identity.acting_user(
                    ctx, name=as_user, permission=Permission.APPROVALS_DECIDE
                )
                actor, user = found.actor, found.user_name
                admin = found.allows(Permission.POLICIES_ADMIN)
            try:
                return await approvals.decide_approval(
                    ctx,
                    ref=ref,
                    approve=approve,
                    actor=actor,
                    reason=reason,
                    confirm_full_access=confirm_full_access,
                    justification=justification,
                    user=user,
                    override_reason=override_reason,
                    may_override=admin,
                )
            except PermissionDenied as exc:
                if as_user is not None:
                    raise
                hint = f"{exc.message}; decide as one of them with --as NAME"
                raise PermissionDenied(hint, field=exc.field) from None

        return self.call(decide)

    def read_controls(self) -> ControlsRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import controls

        return self.call(controls.read_controls)

    def engage_stop(self, reason: str) -> EmergencyStopResult:
        """See ``MissionControl``."""
        from missionctl.services.usecases import controls

        return self.call(
            lambda ctx: controls.engage_emergency_stop(ctx, actor=LOCAL_ACTOR, reason=reason)
        )

    def release_stop(self, reason: str) -> ControlsRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import controls

        return self.call(
            lambda ctx: controls.release_emergency_stop(ctx, actor=LOCAL_ACTOR, reason=reason)
        )

    def list_agents(self) -> list[AgentRead]:
        """See ``MissionControl``."""
        from missionctl.services.usecases import agents

        return self.call(agents.list_agents)

    def update_agent(self, name: str, data: AgentUpdate) -> AgentRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import agents

        return self.call(
            lambda ctx: agents.update_agent(ctx, name=name, data=data, actor=LOCAL_ACTOR)
        )

    def agent_utilisation(self, window: UtilisationWindow) -> UtilisationRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import utilisation

        return self.call(lambda ctx: utilisation.read_utilisation(ctx, window=window))

    def list_prices(self) -> list[PriceRead]:
        """See ``MissionControl``: with the locally configured model."""
        from missionctl.services.usecases import pricing

        return self.call(
            lambda ctx: pricing.list_prices(ctx, configured_model=ctx.settings.llm.model)
        )

    def read_price(self, model: str) -> PriceRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import pricing

        return self.call(lambda ctx: pricing.read_price(ctx, model=model))

    def set_price(self, data: PriceSet) -> PriceRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import pricing

        return self.call(lambda ctx: pricing.set_price(ctx, data=data, actor=LOCAL_ACTOR))

    def read_costs(self, query: CostQuery) -> CostBreakdown:
        """See ``MissionControl``."""
        from missionctl.services.usecases import costs

        return self.call(lambda ctx: costs.read_costs(ctx, query=query))

    def read_analytics(
        self, endpoint: AnalyticsEndpoint, params: dict[str, str]
    ) -> AnalyticsAnswer:
        """See ``MissionControl``; the parameters are checked as the route checks them."""
        from missionctl.services.usecases import analytics, anomalies

        async def read(ctx: ServiceContext) -> AnalyticsAnswer:
            if endpoint == "definitions":
                return analytics.read_definitions()
            if endpoint == "anomalies":
                asked = anomalies.parse_query(
                    since=params.get("since"),
                    until=params.get("until"),
                    segment=params.get("segment"),
                )
                return await anomalies.read_anomalies(ctx, query=asked)
            query = analytics.parse_query(
                since=params.get("since"), until=params.get("until"), segment=params.get("segment")
            )
            grain: Literal["day", "week"] = "week" if params.get("grain") == "week" else "day"
            if endpoint == "funnel":
                return await analytics.read_funnel(ctx, query=query, grain=grain)
            if endpoint == "trends":
                return await analytics.read_trends(ctx, query=query, grain=grain)
            return await analytics.read_retention(ctx, query=query)

        return self.call(read)

    def read_insights(self, params: dict[str, str]) -> InsightsAnswer:
        """See ``MissionControl``: by the configured model, as the server would write them."""
        from missionctl.services.usecases import analytics, insights

        async def read(ctx: ServiceContext) -> InsightsAnswer:
            from missionctl.services.runtime.composition import open_runtime

            query = analytics.parse_query(
                since=params.get("since"), until=params.get("until"), segment=params.get("segment")
            )
            async with open_runtime(ctx.settings) as runtime:
                return await insights.read_insights(ctx, query=query, llm=runtime.llm)

        return self.call(read)

    def list_users(self) -> list[UserRead]:
        """See ``MissionControl``."""
        from missionctl.services.usecases import identity

        return self.call(identity.list_users)

    def create_user(self, data: UserCreate) -> UserRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import identity

        return self.call(
            renaming_problems(
                lambda ctx: identity.create_user(ctx, data=data, actor=LOCAL_ACTOR), USER_OPTIONS
            )
        )

    def set_role(self, name: str, role: Role) -> UserRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import identity

        return self.call(
            lambda ctx: identity.set_role(ctx, name=name, role=role, actor=LOCAL_ACTOR)
        )

    def disable_user(self, name: str) -> UserRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import identity

        return self.call(lambda ctx: identity.disable_user(ctx, name=name, actor=LOCAL_ACTOR))

    def list_tokens(self, user_name: str | None) -> list[TokenRead]:
        """See ``MissionControl``."""
        from missionctl.services.usecases import identity

        return self.call(lambda ctx: identity.list_tokens(ctx, user_name=user_name))

    def create_token(
        self, *, name: str, user_name: str, role_ceiling: Role | None, expires_in_days: int | None
    ) -> tuple[TokenRead, SecretStr]:
        """See ``MissionControl``; problems name the command's options (``--user``…)."""
        from datetime import timedelta

        from pydantic import SecretStr

        from missionctl.services.usecases import identity

        expires_in = None if expires_in_days is None else timedelta(days=expires_in_days)
        token, secret = self.call(
            renaming_problems(
                lambda ctx: identity.create_token(
                    ctx,
                    user_name=user_name,
                    name=name,
                    role_ceiling=role_ceiling,
                    expires_in=expires_in,
                    actor=LOCAL_ACTOR,
                ),
                TOKEN_OPTIONS,
            )
        )
        return token, SecretStr(secret)

    def revoke_token(self, name: str) -> TokenRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import identity

        return self.call(lambda ctx: identity.revoke_token(ctx, name=name, actor=LOCAL_ACTOR))

    def list_decisions(self, mission_id: uuid.UUID) -> list[DecisionRead]:
        """See ``MissionControl``."""
        from missionctl.services.usecases import decision_log

        return self.call(lambda ctx: decision_log.list_decisions(ctx, mission_id=mission_id))

    def add_decision(self, mission_id: uuid.UUID, data: DecisionCreate) -> DecisionRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import decision_log

        return self.call(
            lambda ctx: decision_log.add_decision(
                ctx, mission_id=mission_id, actor=LOCAL_ACTOR, data=data
            )
        )

    def edit_decision(
        self, mission_id: uuid.UUID, decision_id: uuid.UUID, edit: DecisionEdit
    ) -> DecisionRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import decision_log

        return self.call(
            lambda ctx: decision_log.edit_decision(
                ctx, mission_id=mission_id, decision_id=decision_id, actor=LOCAL_ACTOR, edit=edit
            )
        )

    def adr_files(self, mission_id: uuid.UUID) -> list[tuple[str, str]]:
        """See ``MissionControl``."""
        from missionctl.services.usecases import decision_export

        files = self.call(lambda ctx: decision_export.adr_files(ctx, mission_id=mission_id))
        return [(file.name, file.text) for file in files]

    def read_risks(self, mission_id: uuid.UUID) -> RiskRegister:
        """See ``MissionControl``."""
        from missionctl.services.usecases import risk_register

        return self.call(lambda ctx: risk_register.read_register(ctx, mission_id=mission_id))

    def add_risk(self, mission_id: uuid.UUID, data: RiskCreate) -> RiskRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import risk_register

        return self.call(
            lambda ctx: risk_register.add_risk(
                ctx, mission_id=mission_id, actor=LOCAL_ACTOR, data=data
            )
        )

    def edit_risk(self, mission_id: uuid.UUID, risk_id: uuid.UUID, edit: RiskEdit) -> RiskRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import risk_register

        return self.call(
            lambda ctx: risk_register.edit_risk(
                ctx, mission_id=mission_id, risk_id=risk_id, actor=LOCAL_ACTOR, edit=edit
            )
        )

    def create_webhook(self, data: WebhookCreate) -> WebhookCreated:
        """See ``MissionControl``."""
        from missionctl.services.usecases import webhooks

        return self.call(lambda ctx: webhooks.create_webhook(ctx, data=data, actor=LOCAL_ACTOR))

    def list_webhooks(self) -> list[WebhookRead]:
        """See ``MissionControl``."""
        from missionctl.services.usecases import webhooks

        return self.call(webhooks.list_webhooks)

    def read_webhook(self, webhook_id: uuid.UUID) -> WebhookRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import webhooks

        return self.call(lambda ctx: webhooks.read_webhook(ctx, webhook_id=webhook_id))

    def update_webhook(self, webhook_id: uuid.UUID, data: WebhookUpdate) -> WebhookRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import webhooks

        return self.call(
            lambda ctx: webhooks.update_webhook(
                ctx, webhook_id=webhook_id, data=data, actor=LOCAL_ACTOR
            )
        )

    def delete_webhook(self, webhook_id: uuid.UUID) -> None:
        """See ``MissionControl``."""
        from missionctl.services.usecases import webhooks

        self.call(
            lambda ctx: webhooks.delete_webhook(ctx, webhook_id=webhook_id, actor=LOCAL_ACTOR)
        )

    def webhook_deliveries(self, webhook_id: uuid.UUID, *, limit: int) -> list[DeliveryRead]:
        """See ``MissionControl``."""
        from missionctl.services.usecases import webhooks

        return self.call(
            lambda ctx: webhooks.list_deliveries(ctx, webhook_id=webhook_id, limit=limit)
        )

    def redeliver(self, delivery_id: uuid.UUID) -> DeliveryRead:
        """See ``MissionControl``: sent from this process, signed here."""
        from missionctl.security.signing import sign
        from missionctl.services.usecases import webhook_sender

        return self.call(
            lambda ctx: webhook_sender.redeliver(
                ctx, delivery_id=delivery_id, actor=LOCAL_ACTOR, sign=sign
            )
        )

    def test_webhook(self, webhook_id: uuid.UUID) -> DeliveryRead:
        """See ``MissionControl``: sent from this process, signed here."""
        from missionctl.security.signing import sign
        from missionctl.services.usecases import webhook_sender

        return self.call(
            lambda ctx: webhook_sender.send_test(
                ctx, webhook_id=webhook_id, actor=LOCAL_ACTOR, sign=sign
            )
        )

    # Schedules (ADR 0059)
    def list_schedules(self) -> list[ScheduleRead]:
        """See ``MissionControl``."""
        from missionctl.services.usecases import schedules

        return self.call(schedules.list_schedules)

    def read_schedule(self, schedule_id: uuid.UUID) -> ScheduleRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import schedules

        return self.call(lambda ctx: schedules.read_schedule(ctx, schedule_id=schedule_id))

    def create_schedule(self, data: ScheduleCreate) -> ScheduleRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import schedules

        return self.call(lambda ctx: schedules.create_schedule(ctx, data=data, actor=LOCAL_ACTOR))

    def edit_schedule(self, schedule_id: uuid.UUID, edit: ScheduleEdit) -> ScheduleRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import schedules

        return self.call(
            lambda ctx: schedules.edit_schedule(
                ctx, schedule_id=schedule_id, edit=edit, actor=LOCAL_ACTOR
            )
        )

    def pause_schedule(self, schedule_id: uuid.UUID) -> ScheduleRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import schedules

        return self.call(
            lambda ctx: schedules.pause_schedule(ctx, schedule_id=schedule_id, actor=LOCAL_ACTOR)
        )

    def resume_schedule(self, schedule_id: uuid.UUID) -> ScheduleRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import schedules

        return self.call(
            lambda ctx: schedules.resume_schedule(ctx, schedule_id=schedule_id, actor=LOCAL_ACTOR)
        )

    def run_schedule_now(self, schedule_id: uuid.UUID) -> ScheduleRead:
        """See ``MissionControl``; a mission is planned by the planner the settings choose."""

        async def fire(ctx: ServiceContext) -> ScheduleRead:
            from missionctl.services.runtime.composition import open_runtime
            from missionctl.services.usecases.scheduler import run_now

            async with open_runtime(ctx.settings) as runtime:
                return await run_now(
                    ctx, schedule_id=schedule_id, actor=LOCAL_ACTOR, planner=runtime.planner
                )

        return self.call(fire)

    def delete_schedule(self, schedule_id: uuid.UUID) -> None:
        """See ``MissionControl``."""
        from missionctl.services.usecases import schedules

        self.call(
            lambda ctx: schedules.delete_schedule(ctx, schedule_id=schedule_id, actor=LOCAL_ACTOR)
        )

    def list_templates(self, category: str | None) -> list[TemplateRead]:
        """See ``MissionControl``."""
        from missionctl.services.usecases import templates

        return self.call(lambda ctx: templates.list_templates(ctx, category=category))

    def read_template(self, name: str) -> TemplateRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import templates

        return self.call(lambda ctx: templates.read_template(ctx, name=name))

    def save_template(self, data: TemplateSave) -> TemplateRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases import templates

        return self.call(lambda ctx: templates.save_template(ctx, data=data, actor=LOCAL_ACTOR))

    def use_template(self, name: str, data: TemplateUse) -> TemplateUsed:
        """See ``MissionControl``."""
        from missionctl.services.usecases import templates

        return self.call(
            lambda ctx: templates.use_template(ctx, name=name, data=data, actor=LOCAL_ACTOR)
        )

    def start_mission_from_template(self, name: str, data: MissionFromTemplate) -> TemplateUsed:
        """See ``MissionControl``."""
        from missionctl.services.usecases import templates

        return self.call(
            lambda ctx: templates.start_mission_from_template(
                ctx, template=name, data=data, actor=LOCAL_ACTOR
            )
        )

    def delete_template(self, name: str) -> None:
        """See ``MissionControl``."""
        from missionctl.services.usecases import templates

        self.call(lambda ctx: templates.delete_template(ctx, name=name, actor=LOCAL_ACTOR))


# What a user's and a token's fields are called on the command line (``user add``,
# ``token create``), so that a local validation problem names the option to fix.
USER_OPTIONS = {
    "name": "NAME",
    "display_name": "--display-name",
    "role": "--role",
    "password": "--password-stdin",
}
TOKEN_OPTIONS = {
    "name": "NAME",
    "user_name": "--user",
    "role_ceiling": "--role-ceiling",
    "expires_in": "--expires-in-days",
    "expires_in_days": "--expires-in-days",
}


def renaming_problems(
    call: Callable[[ServiceContext], Awaitable[T]], options: dict[str, str]
) -> Callable[[ServiceContext], Awaitable[T]]:
    """Wrap the service ``call`` so that its validation problems name command options."""
    from missionctl.errors import Problem, ValidationFailed

    async def renamed(ctx: ServiceContext) -> T:
        try:
            return await call(ctx)
        except ValidationFailed as exc:
            raise ValidationFailed(
                [Problem(options.get(p.field or "", p.field), p.message) for p in exc.problems]
            ) from exc

    return renamed


def _segment(value: str) -> str:
    """``value`` as path text: reserved characters escaped, ``/`` ``:`` ``*`` kept.

    Agent, price and workflow names hold those, and their routes take them as they are.
    """
    return quote(value, safe="/:*@")


class RemoteMissionControl:
    """The ``/api/v1`` of the server at ``MISSIONCTL_URL``, acting as ``MISSIONCTL_TOKEN``."""

    def __init__(self, client: RemoteClient) -> None:
        self.client = client
        self.where = client.display_url

    def create_mission(self, data: MissionCreate) -> MissionRead:
        """See ``MissionControl``."""
        from missionctl.schemas.missions import MissionRead

        return self.client.post("/api/v1/missions", MissionRead, body=data)

    def list_missions(
        self, *, limit: int, cursor: str | None, status: str | None, q: str | None
    ) -> MissionPage:
        """See ``MissionControl``."""
        from missionctl.schemas.missions import MissionPage

        params: dict[str, str | int | None] = {
            "limit": limit,
            "cursor": cursor,
            "status": status,
            "q": q,
        }
        return self.client.get("/api/v1/missions", MissionPage, params=params)

    def read_mission(self, mission_id: uuid.UUID) -> MissionRead:
        """See ``MissionControl``."""
        from missionctl.schemas.missions import MissionRead

        return self.client.get(f"/api/v1/missions/{mission_id}", MissionRead)

    def plan_mission(
        self, mission_id: uuid.UUID, changes: PlanAgain | None
    ) -> PlanRead | ClarificationRead:
        """See ``MissionControl``; the server's planner plans it.

        Only the fields ``changes`` sets are sent: an omitted one keeps its value.
        """
        from missionctl.schemas.clarifications import PlanOutcome

        body = None if changes is None else changes.model_dump(mode="json", exclude_none=True)
        path = f"/api/v1/missions/{mission_id}/plan"
        return self.client.post(path, PlanOutcome, body=body).root

    def answer_questions(
        self, mission_id: uuid.UUID, answers: ClarificationAnswers
    ) -> PlanRead | ClarificationRead:
        """See ``MissionControl``; the server's planner reads the answers."""
        from missionctl.schemas.clarifications import PlanOutcome

        path = f"/api/v1/missions/{mission_id}/clarification"
        return self.client.post(path, PlanOutcome, body=answers).root

    def read_plan(self, mission_id: uuid.UUID, version: int | None) -> PlanRead:
        """See ``MissionControl``: the newest from ``/plan``, a version from ``/plans/N``."""
        from missionctl.schemas.plans import PlanRead

        if version is None:
            return self.client.get(f"/api/v1/missions/{mission_id}/plan", PlanRead)
        return self.client.get(f"/api/v1/missions/{mission_id}/plans/{version}", PlanRead)

    def plan_versions(self, mission_id: uuid.UUID) -> list[PlanVersionRead]:
        """See ``MissionControl``."""
        from missionctl.schemas.plans import PlanVersionRead

        return self.client.get_list(f"/api/v1/missions/{mission_id}/plans", PlanVersionRead)

    def compare_plans(self, mission_id: uuid.UUID, *, version: int, base: int) -> PlanDiffRead:
        """See ``MissionControl``."""
        from missionctl.schemas.plans import PlanDiffRead

        path = f"/api/v1/missions/{mission_id}/plans/{version}/diff"
        return self.client.get(path, PlanDiffRead, params={"base": base})

    def newest_plan_or_none(self, mission_id: uuid.UUID) -> PlanRead | None:
        """See ``MissionControl``."""
        from missionctl.schemas.plans import PlanRead

        return self.client.get_or_none(f"/api/v1/missions/{mission_id}/plan", PlanRead)

    def run_mission(self, mission_id: uuid.UUID) -> RunRead:
        """See ``MissionControl``; the server's engine runs it."""
        from missionctl.schemas.runs import RunRead

        return self.client.post(f"/api/v1/missions/{mission_id}/runs", RunRead)

    def mission_trace(self, mission_id: uuid.UUID, plan_version: int | None) -> TraceMapRead:
        """See ``MissionControl``."""
        from missionctl.schemas.tracemap import TraceMapRead

        path = f"/api/v1/missions/{mission_id}/trace"
        return self.client.get(path, TraceMapRead, params={"plan_version": plan_version})

    def mission_diagrams(
        self, mission_id: uuid.UUID, plan_version: int | None
    ) -> MissionDiagramsRead:
        """See ``MissionControl``."""
        from missionctl.schemas.diagrams import MissionDiagramsRead

        path = f"/api/v1/missions/{mission_id}/diagrams"
        return self.client.get(path, MissionDiagramsRead, params={"plan_version": plan_version})

    def mission_pack(self, mission_id: uuid.UUID, plan_version: int | None) -> bytes:
        """See ``MissionControl``."""
        path = f"/api/v1/missions/{mission_id}/pack"
        return self.client.get_bytes(path, params={"plan_version": plan_version})[0]

    def list_runs(self, filters: RunFilters, *, limit: int, cursor: str | None) -> RunPage:
        """See ``MissionControl``; the filters travel as the route's query parameters."""
        from missionctl.schemas.runs import RunPage

        params: dict[str, str | int | None] = {"limit": limit, "cursor": cursor}
        for name, value in filters.model_dump(mode="json", exclude_none=True).items():
            params[name] = str(value)
        return self.client.get("/api/v1/runs", RunPage, params=params)

    def read_run(self, run_id: uuid.UUID) -> RunRead:
        """See ``MissionControl``."""
        from missionctl.schemas.runs import RunRead

        return self.client.get(f"/api/v1/runs/{run_id}", RunRead)

    def cancel_run(self, run_id: uuid.UUID) -> RunRead:
        """See ``MissionControl``."""
        from missionctl.schemas.runs import RunRead

        return self.client.post(f"/api/v1/runs/{run_id}/cancel", RunRead)

    def retry_step(self, run_id: uuid.UUID, step_id: str) -> RunRead:
        """See ``MissionControl``."""
        from missionctl.schemas.runs import RunRead

        path = f"/api/v1/runs/{run_id}/steps/{quote(step_id, safe='')}/retry"
        return self.client.post(path, RunRead)

    def rerun(self, run_id: uuid.UUID, *, from_step: str | None = None) -> RunRead:
        """See ``MissionControl``."""
        from missionctl.schemas.runs import RunRead

        query = "" if from_step is None else f"?from_step={quote(from_step, safe='')}"
        return self.client.post(f"/api/v1/runs/{run_id}/rerun{query}", RunRead)

    def run_state(self, run_id: uuid.UUID, *, at: int | None) -> RunStateRead:
        """See ``MissionControl``."""
        from missionctl.schemas.replay import RunStateRead

        params: dict[str, str | int | None] = {"at": at}
        return self.client.get(f"/api/v1/runs/{run_id}/state", RunStateRead, params=params)

    def run_events(self, run_id: uuid.UUID, *, after: int, limit: int) -> EventPage:
        """See ``MissionControl``."""
        from missionctl.schemas.runs import EventPage

        params: dict[str, str | int | None] = {"after": after, "limit": limit}
        return self.client.get(f"/api/v1/runs/{run_id}/events", EventPage, params=params)

    def search(
        self,
        q: str,
        *,
        kind: SearchKind | None,
        run_id: uuid.UUID | None,
        mission_id: uuid.UUID | None,
        limit: int,
        cursor: str | None,
    ) -> SearchPage:
        """See ``MissionControl``; the filters travel as the route's query parameters."""
        from missionctl.schemas.search import SearchPage

        params: dict[str, str | int | None] = {
            "q": q,
            "kind": None if kind is None else kind.value,
            "run_id": None if run_id is None else str(run_id),
            "mission_id": None if mission_id is None else str(mission_id),
            "limit": limit,
            "cursor": cursor,
        }
        return self.client.get("/api/v1/search", SearchPage, params=params)

    def search_memory(
        self, q: str, *, kind: MemoryKind | None, limit: int, cursor: str | None
    ) -> MemoryPage:
        """See ``MissionControl``; ``GET /api/v1/memory``."""
        from missionctl.schemas.memory import MemoryPage

        params: dict[str, str | int | None] = {
            "q": q,
            "kind": None if kind is None else kind.value,
            "limit": limit,
            "cursor": cursor,
        }
        return self.client.get("/api/v1/memory", MemoryPage, params=params)

    def similar_missions(self, mission_id: uuid.UUID) -> list[SimilarMission]:
        """See ``MissionControl``; ``GET /api/v1/missions/{id}/similar``."""
        from missionctl.schemas.memory import SimilarMission

        return self.client.get_list(f"/api/v1/missions/{mission_id}/similar", SimilarMission)

    def search_palette(self, q: str, *, limit: int) -> PalettePage:
        """See ``MissionControl``; ``GET /api/v1/palette`` as the token."""
        from missionctl.schemas.palette import PalettePage

        return self.client.get("/api/v1/palette", PalettePage, params={"q": q, "limit": limit})

    def search_events(
        self, filters: EventFilters, *, limit: int, before: int | None, after: int | None = None
    ) -> EventFeedPage:
        """See ``MissionControl``; the filters travel as the route's query parameters."""
        from missionctl.schemas.events import EventFeedPage

        params = [*filters.query_pairs(), ("limit", str(limit))]
        for name, cursor in (("before", before), ("after", after)):
            if cursor is not None:
                params.append((name, str(cursor)))
        return self.client.get_pairs("/api/v1/events", EventFeedPage, params)

    def search_runs(self, filters: AuditRunFilters, *, limit: int, cursor: str | None) -> RunPage:
        """See ``MissionControl``; the filters travel as the route's query parameters."""
        from missionctl.schemas.runs import RunPage

        params = [*filters.query_pairs(), ("limit", str(limit))]
        if cursor:
            params.append(("cursor", cursor))
        return self.client.get_pairs("/api/v1/audit/runs", RunPage, params)

    def export_audit(
        self,
        kind: ExportKind,
        fmt: ExportFormat,
        filters: EventFilters | AuditRunFilters,
        write: Callable[[bytes], object],
    ) -> None:
        """See ``MissionControl``: the server streams it; it is written as it arrives."""
        params = [*filters.query_pairs(), ("kind", kind), ("format", fmt)]
        self.client.download("/api/v1/audit/export", params, write)

    def head_seq(self) -> int:
        """See ``MissionControl``: the newest of a one-event page of the unfiltered feed."""
        from missionctl.schemas.events import EventFeedPage

        return self.client.get_pairs("/api/v1/events", EventFeedPage, [("limit", "1")]).newest

    def follow_events(
        self, filters: EventFilters, *, after: int, emit: Callable[[EventFeedItem], object]
    ) -> None:
        """See ``MissionControl``: ``GET /api/v1/events/stream``, reopened when it drops."""
        from missionctl.schemas.events import EventFeedItem

        def take(data: str) -> int:
            item = self.client.model_of(data, EventFeedItem)
            emit(item)
            return item.seq

        params = [*filters.query_pairs(), ("after", str(after))]
        self.client.follow_stream("/api/v1/events/stream", params, take)

    def health_summary(self) -> HealthSummaryRead:
        """See ``MissionControl``."""
        from missionctl.schemas.health import HealthSummaryRead

        return self.client.get("/api/v1/health/summary", HealthSummaryRead)

    def list_followers(self) -> list[FollowerRead]:
        """See ``MissionControl``."""
        from missionctl.schemas.health import FollowerRead

        return self.client.get_list("/api/v1/followers", FollowerRead)

    def list_workers(self) -> list[WorkerRead]:
        """See ``MissionControl``."""
        from missionctl.schemas.health import WorkerRead

        return self.client.get_list("/api/v1/workers", WorkerRead)

    def read_worker(self, worker_id: uuid.UUID) -> WorkerDetail:
        """See ``MissionControl``."""
        from missionctl.schemas.health import WorkerDetail

        return self.client.get(f"/api/v1/workers/{worker_id}", WorkerDetail)

    def command_worker(self, worker_id: uuid.UUID, command: str) -> WorkerDetail:
        """See ``MissionControl``."""
        from missionctl.schemas.health import WorkerDetail

        path = f"/api/v1/workers/{worker_id}/{quote(command, safe='')}"
        return self.client.post(path, WorkerDetail)

    def scale_worker(self, worker_id: uuid.UUID, concurrency: int) -> WorkerDetail:
        """See ``MissionControl``."""
        from missionctl.schemas.health import WorkerDetail

        body = {"concurrency": concurrency}
        return self.client.patch(f"/api/v1/workers/{worker_id}", WorkerDetail, body=body)

    def follow(self, run: RunRead, *, live: bool) -> RunRead:
        """See ``MissionControl``: the server's engine runs it; this reads it until it ends."""
        from missionctl.cli._live import follow_polling

        return follow_polling(lambda: self.read_run(run.id), run, live=live)

    def run_artifacts(self, run_id: uuid.UUID) -> list[ArtifactRead]:
        """See ``MissionControl``."""
        from missionctl.schemas.artifacts import ArtifactRead

        return self.client.get_list(f"/api/v1/runs/{run_id}/artifacts", ArtifactRead)

    def mission_artifacts(self, mission_id: uuid.UUID) -> list[ArtifactRead]:
        """See ``MissionControl``."""
        from missionctl.schemas.artifacts import ArtifactRead

        return self.client.get_list(f"/api/v1/missions/{mission_id}/artifacts", ArtifactRead)

    def read_artifact(self, artifact_id: uuid.UUID) -> ArtifactRead:
        """See ``MissionControl``."""
        from missionctl.schemas.artifacts import ArtifactRead

        return self.client.get(f"/api/v1/artifacts/{artifact_id}", ArtifactRead)

    def artifact_content(self, artifact_id: uuid.UUID) -> bytes:
        """See ``MissionControl``."""
        return self.client.get_bytes(f"/api/v1/artifacts/{artifact_id}/content")[0]

    def run_report(self, run_id: uuid.UUID) -> RunReport:
        """See ``MissionControl``."""
        from missionctl.schemas.reports import RunReport

        return self.client.get(f"/api/v1/runs/{run_id}/report", RunReport)

    def run_report_markdown(self, run_id: uuid.UUID) -> str:
        """See ``MissionControl``."""
        path = f"/api/v1/runs/{run_id}/report"
        content, _ = self.client.get_bytes(path, params={"format": "markdown"})
        return content.decode("utf-8", errors="replace")

    def run_report_pdf(self, run_id: uuid.UUID) -> bytes:
        """See ``MissionControl``."""
        path = f"/api/v1/runs/{run_id}/report"
        return self.client.get_bytes(path, params={"format": "pdf"})[0]

    def list_workflows(self, *, include_plans: bool) -> list[WorkflowSummary]:
        """See ``MissionControl``."""
        from missionctl.schemas.workflows import WorkflowSummary

        params: dict[str, str | int | None] = {"include_plans": str(include_plans).lower()}
        return self.client.get_list("/api/v1/workflows", WorkflowSummary, params=params)

    def save_workflow(self, text: str, syntax: Syntax) -> WorkflowRead:
        """See ``MissionControl``: the text is sent as it was read (JSON or YAML)."""
        from missionctl.schemas.workflows import WorkflowRead

        return self.client.post_text(
            "/api/v1/workflows", WorkflowRead, text=text, media_type=_media_type(syntax)
        )

    def check_workflow(self, text: str, syntax: Syntax) -> WorkflowCheckRead:
        """See ``MissionControl``; the server also judges gates under its allow-list."""
        from missionctl.schemas.workflows import WorkflowCheckRead

        return self.client.post_text(
            "/api/v1/workflows/validate",
            WorkflowCheckRead,
            text=text,
            media_type=_media_type(syntax),
        )

    def workflow_schema(self) -> dict[str, Any]:
        """See ``MissionControl``."""
        return self.client.get_json("/api/v1/workflows/schema")

    def workflow_or_none(self, workflow_id: uuid.UUID) -> WorkflowRead | None:
        """See ``MissionControl``."""
        from missionctl.schemas.workflows import WorkflowRead

        return self.client.get_or_none(f"/api/v1/workflows/{workflow_id}", WorkflowRead)

    def workflow_by_name(self, name: str, version: int | None) -> WorkflowRead:
        """See ``MissionControl``."""
        from missionctl.schemas.workflows import WorkflowRead

        path = f"/api/v1/workflows/by-name/{_segment(name)}"
        return self.client.get(path, WorkflowRead, params={"version": version})

    def workflow_by_name_or_none(self, name: str) -> WorkflowRead | None:
        """See ``MissionControl``."""
        from missionctl.schemas.workflows import WorkflowRead

        path = f"/api/v1/workflows/by-name/{_segment(name)}"
        return self.client.get_or_none(path, WorkflowRead)

    def workflow_versions(self, name: str) -> list[WorkflowSummary]:
        """See ``MissionControl``."""
        from missionctl.schemas.workflows import WorkflowSummary

        path = f"/api/v1/workflows/by-name/{_segment(name)}/versions"
        return self.client.get_list(path, WorkflowSummary)

    def run_workflow(self, workflow_id: uuid.UUID, data: WorkflowRunCreate) -> RunRead:
        """See ``MissionControl``; the server's engine runs it."""
        from missionctl.schemas.runs import RunRead

        return self.client.post(f"/api/v1/workflows/{workflow_id}/runs", RunRead, body=data)

    def list_approvals(
        self, *, state: ApprovalState, run_id: uuid.UUID | None, limit: int
    ) -> list[ApprovalRead]:
        """See ``MissionControl``."""
        from missionctl.schemas.governance import ApprovalRead

        params: dict[str, str | int | None] = {
            "state": state,
            "run_id": None if run_id is None else str(run_id),
            "limit": limit,
        }
        return self.client.get_list("/api/v1/approvals", ApprovalRead, params=params)

    def read_approval(self, ref: uuid.UUID) -> ApprovalRead:
        """See ``MissionControl``."""
        from missionctl.schemas.governance import ApprovalRead

        return self.client.get(f"/api/v1/approvals/{ref}", ApprovalRead)

    def decide_approval(
        self,
        ref: uuid.UUID,
        *,
        approve: bool,
        reason: str,
        confirm_full_access: bool = False,
        justification: str = "",
        as_user: str | None = None,
        override_reason: str = "",
    ) -> ApprovalRead:
        """See ``MissionControl``."""
        from missionctl.schemas.governance import ApprovalRead

        if as_user is not None:
            refuse_as_on_a_server()
        path = f"/api/v1/approvals/{ref}/{'approve' if approve else 'reject'}"
        body: dict[str, object] = {"reason": reason}
        if approve and (confirm_full_access or justification):
            body |= {"confirm_full_access": confirm_full_access, "justification": justification}
        if approve and override_reason:
            body["override_reason"] = override_reason
        return self.client.post(path, ApprovalRead, body=body)

    def read_controls(self) -> ControlsRead:
        """See ``MissionControl``."""
        from missionctl.schemas.governance import ControlsRead

        return self.client.get("/api/v1/controls", ControlsRead)

    def engage_stop(self, reason: str) -> EmergencyStopResult:
        """See ``MissionControl``."""
        from missionctl.schemas.governance import EmergencyStopResult

        return self.client.post(
            "/api/v1/emergency-stop", EmergencyStopResult, body={"reason": reason}
        )

    def release_stop(self, reason: str) -> ControlsRead:
        """See ``MissionControl``."""
        from missionctl.schemas.governance import ControlsRead

        return self.client.post(
            "/api/v1/emergency-stop/release", ControlsRead, body={"reason": reason}
        )

    def list_agents(self) -> list[AgentRead]:
        """See ``MissionControl``."""
        from missionctl.schemas.governance import AgentRead

        return self.client.get_list("/api/v1/agents", AgentRead)

    def update_agent(self, name: str, data: AgentUpdate) -> AgentRead:
        """See ``MissionControl``: only the fields the change sets are sent."""
        from missionctl.schemas.governance import AgentRead

        body = data.model_dump(mode="json", exclude_unset=True)
        return self.client.patch(f"/api/v1/agents/{_segment(name)}", AgentRead, body=body)

    def list_prices(self) -> list[PriceRead]:
        """See ``MissionControl``: with the server's configured model."""
        from missionctl.services.usecases.pricing import PriceRead

        return self.client.get_list("/api/v1/prices", PriceRead)

    def read_price(self, model: str) -> PriceRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases.pricing import PriceRead

        return self.client.get(f"/api/v1/prices/{_segment(model)}", PriceRead)

    def set_price(self, data: PriceSet) -> PriceRead:
        """See ``MissionControl``."""
        from missionctl.services.usecases.pricing import PriceRead

        body = data.model_dump(mode="json", exclude={"model"})
        return self.client.put(f"/api/v1/prices/{_segment(data.model)}", PriceRead, body=body)

    def agent_utilisation(self, window: UtilisationWindow) -> UtilisationRead:
        """See ``MissionControl``."""
        from missionctl.schemas.utilisation import UtilisationRead

        return self.client.get(
            "/api/v1/agents/utilisation", UtilisationRead, params={"window": window}
        )

    def read_costs(self, query: CostQuery) -> CostBreakdown:
        """See ``MissionControl``; the query travels as the route's query parameters."""
        from missionctl.schemas.costs import CostBreakdown

        params: dict[str, str | int | None] = {
            name: value for name, value in query.model_dump(mode="json").items() if value
        }
        return self.client.get("/api/v1/costs", CostBreakdown, params=params)

    def read_analytics(
        self, endpoint: AnalyticsEndpoint, params: dict[str, str]
    ) -> AnalyticsAnswer:
        """See ``MissionControl``."""
        from missionctl.schemas import analytics

        path, query = f"/api/v1/analytics/{endpoint}", dict[str, str | int | None](params)
        if endpoint == "funnel":
            return self.client.get(path, analytics.FunnelAnswer, params=query)
        if endpoint == "trends":
            return self.client.get(path, analytics.TrendsAnswer, params=query)
        if endpoint == "retention":
            return self.client.get(path, analytics.RetentionAnswer, params=query)
        if endpoint == "anomalies":
            return self.client.get(path, analytics.AnomaliesAnswer, params=query)
        return self.client.get(path, analytics.DefinitionsAnswer, params=query)

    def read_insights(self, params: dict[str, str]) -> InsightsAnswer:
        """See ``MissionControl``."""
        from missionctl.schemas.analytics import InsightsAnswer

        query = dict[str, str | int | None](params)
        return self.client.get("/api/v1/analytics/insights", InsightsAnswer, params=query)

    def list_users(self) -> list[UserRead]:
        """See ``MissionControl``."""
        from missionctl.schemas.identity import UserRead

        return self.client.get_list("/api/v1/users", UserRead)

    def create_user(self, data: UserCreate) -> UserRead:
        """See ``MissionControl``: the password goes in the body (over TLS beyond loopback)."""
        from missionctl.schemas.identity import UserRead

        body = data.model_dump(mode="json")
        if data.password is not None:
            body["password"] = data.password.get_secret_value()
        return self.client.post("/api/v1/users", UserRead, body=body)

    def set_role(self, name: str, role: Role) -> UserRead:
        """See ``MissionControl``."""
        from missionctl.schemas.identity import UserRead

        path = f"/api/v1/users/{quote(name, safe='')}/role"
        return self.client.put(path, UserRead, body={"role": role.value})

    def disable_user(self, name: str) -> UserRead:
        """See ``MissionControl``."""
        from missionctl.schemas.identity import UserRead

        return self.client.post(f"/api/v1/users/{quote(name, safe='')}/disable", UserRead)

    def list_tokens(self, user_name: str | None) -> list[TokenRead]:
        """See ``MissionControl``; the API lists every token, filtered here by user."""
        from missionctl.schemas.identity import TokenRead

        tokens = self.client.get_list("/api/v1/tokens", TokenRead)
        return [t for t in tokens if user_name is None or t.user_name == user_name]

    def create_token(
        self, *, name: str, user_name: str, role_ceiling: Role | None, expires_in_days: int | None
    ) -> tuple[TokenRead, SecretStr]:
        """See ``MissionControl``."""
        from pydantic import SecretStr

        from missionctl.api.routes.access import TokenCreated

        body = {
            "name": name,
            "user_name": user_name,
            "role_ceiling": None if role_ceiling is None else role_ceiling.value,
            "expires_in_days": expires_in_days,
        }
        created = self.client.post("/api/v1/tokens", TokenCreated, body=body)
        return created.token, SecretStr(created.secret)

    def revoke_token(self, name: str) -> TokenRead:
        """See ``MissionControl``."""
        from missionctl.schemas.identity import TokenRead

        return self.client.post(f"/api/v1/tokens/{quote(name, safe='')}/revoke", TokenRead)

    def list_decisions(self, mission_id: uuid.UUID) -> list[DecisionRead]:
        """See ``MissionControl``."""
        from missionctl.schemas.register import DecisionRead

        return self.client.get_list(f"/api/v1/missions/{mission_id}/decisions", DecisionRead)

    def add_decision(self, mission_id: uuid.UUID, data: DecisionCreate) -> DecisionRead:
        """See ``MissionControl``."""
        from missionctl.schemas.register import DecisionRead

        body = data.model_dump(mode="json", exclude_unset=True)
        return self.client.post(f"/api/v1/missions/{mission_id}/decisions", DecisionRead, body=body)

    def edit_decision(
        self, mission_id: uuid.UUID, decision_id: uuid.UUID, edit: DecisionEdit
    ) -> DecisionRead:
        """See ``MissionControl``: only the fields the edit sets are sent."""
        from missionctl.schemas.register import DecisionRead

        path = f"/api/v1/missions/{mission_id}/decisions/{decision_id}"
        return self.client.patch(
            path, DecisionRead, body=edit.model_dump(mode="json", exclude_unset=True)
        )

    def adr_files(self, mission_id: uuid.UUID) -> list[tuple[str, str]]:
        """See ``MissionControl``: the server's zip, unpacked."""
        import io
        import zipfile

        content, _ = self.client.get_bytes(f"/api/v1/missions/{mission_id}/adrs")
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return [(name, archive.read(name).decode()) for name in archive.namelist()]

    def read_risks(self, mission_id: uuid.UUID) -> RiskRegister:
        """See ``MissionControl``."""
        from missionctl.schemas.register import RiskRegister

        return self.client.get(f"/api/v1/missions/{mission_id}/risks", RiskRegister)

    def add_risk(self, mission_id: uuid.UUID, data: RiskCreate) -> RiskRead:
        """See ``MissionControl``."""
        from missionctl.schemas.register import RiskRead

        body = data.model_dump(mode="json", exclude_unset=True)
        return self.client.post(f"/api/v1/missions/{mission_id}/risks", RiskRead, body=body)

    def edit_risk(self, mission_id: uuid.UUID, risk_id: uuid.UUID, edit: RiskEdit) -> RiskRead:
        """See ``MissionControl``: only the fields the edit sets are sent."""
        from missionctl.schemas.register import RiskRead

        path = f"/api/v1/missions/{mission_id}/risks/{risk_id}"
        return self.client.patch(
            path, RiskRead, body=edit.model_dump(mode="json", exclude_unset=True)
        )

    def generate_documents(
        self, mission_id: uuid.UUID, kinds: list[DocumentKind]
    ) -> list[DocumentRead]:
        """See ``MissionControl``: one request per kind, written by the server's model."""
        from missionctl.schemas.documents import DocumentRead

        path = f"/api/v1/missions/{mission_id}/documents"
        return [self.client.post(path, DocumentRead, body={"kind": kind}) for kind in kinds]

    def list_documents(self, mission_id: uuid.UUID) -> list[DocumentKindRead]:
        """See ``MissionControl``."""
        from missionctl.schemas.documents import DocumentKindRead

        path = f"/api/v1/missions/{mission_id}/documents"
        return self.client.get_list(path, DocumentKindRead)

    def read_document(
        self, mission_id: uuid.UUID, kind: DocumentKind, version: int | None
    ) -> DocumentRead:
        """See ``MissionControl``."""
        from missionctl.schemas.documents import DocumentRead

        path = f"/api/v1/missions/{mission_id}/documents/{quote(kind, safe='')}"
        if version is not None:
            path += f"/versions/{version}"
        return self.client.get(path, DocumentRead)

    def compare_documents(
        self, mission_id: uuid.UUID, kind: DocumentKind, base: int, target: int
    ) -> DocumentCompareRead:
        """See ``MissionControl``."""
        from missionctl.schemas.documents import DocumentCompareRead

        path = f"/api/v1/missions/{mission_id}/documents/{quote(kind, safe='')}/compare"
        return self.client.get(path, DocumentCompareRead, params={"base": base, "target": target})

    def export_document(
        self, mission_id: uuid.UUID, kind: DocumentKind, version: int | None, fmt: DocumentFormat
    ) -> bytes:
        """See ``MissionControl``: the latest version is asked for first when none is named."""
        from missionctl.schemas.documents import DocumentRead

        base = f"/api/v1/missions/{mission_id}/documents/{quote(kind, safe='')}"
        if version is None:
            version = self.client.get(base, DocumentRead).version
        path = f"{base}/versions/{version}/export"
        return self.client.get_bytes(path, params={"format": fmt})[0]

    def create_webhook(self, data: WebhookCreate) -> WebhookCreated:
        """See ``MissionControl``."""
        from missionctl.schemas.webhooks import WebhookCreated

        body = data.model_dump(mode="json")
        return self.client.post("/api/v1/webhooks", WebhookCreated, body=body)

    def list_webhooks(self) -> list[WebhookRead]:
        """See ``MissionControl``."""
        from missionctl.schemas.webhooks import WebhookRead

        return self.client.get_list("/api/v1/webhooks", WebhookRead)

    def read_webhook(self, webhook_id: uuid.UUID) -> WebhookRead:
        """See ``MissionControl``."""
        from missionctl.schemas.webhooks import WebhookRead

        return self.client.get(f"/api/v1/webhooks/{webhook_id}", WebhookRead)

    def update_webhook(self, webhook_id: uuid.UUID, data: WebhookUpdate) -> WebhookRead:
        """See ``MissionControl``: only the fields the change sets are sent."""
        from missionctl.schemas.webhooks import WebhookRead

        body = data.model_dump(mode="json", exclude_unset=True)
        return self.client.patch(f"/api/v1/webhooks/{webhook_id}", WebhookRead, body=body)

    def delete_webhook(self, webhook_id: uuid.UUID) -> None:
        """See ``MissionControl``."""
        self.client.delete(f"/api/v1/webhooks/{webhook_id}")

    def webhook_deliveries(self, webhook_id: uuid.UUID, *, limit: int) -> list[DeliveryRead]:
        """See ``MissionControl``."""
        from missionctl.schemas.webhooks import DeliveryRead

        path = f"/api/v1/webhooks/{webhook_id}/deliveries"
        return self.client.get_list(path, DeliveryRead, params={"limit": limit})

    def redeliver(self, delivery_id: uuid.UUID) -> DeliveryRead:
        """See ``MissionControl``: the server sends it."""
        from missionctl.schemas.webhooks import DeliveryRead

        return self.client.post(
            f"/api/v1/webhooks/deliveries/{delivery_id}/redeliver", DeliveryRead
        )

    def test_webhook(self, webhook_id: uuid.UUID) -> DeliveryRead:
        """See ``MissionControl``: the server sends it."""
        from missionctl.schemas.webhooks import DeliveryRead

        return self.client.post(f"/api/v1/webhooks/{webhook_id}/test", DeliveryRead)

    # Schedules (ADR 0059)
    def list_schedules(self) -> list[ScheduleRead]:
        """See ``MissionControl``."""
        from missionctl.schemas.schedules import ScheduleRead

        return self.client.get_list("/api/v1/schedules", ScheduleRead)

    def read_schedule(self, schedule_id: uuid.UUID) -> ScheduleRead:
        """See ``MissionControl``."""
        from missionctl.schemas.schedules import ScheduleRead

        return self.client.get(f"/api/v1/schedules/{schedule_id}", ScheduleRead)

    def create_schedule(self, data: ScheduleCreate) -> ScheduleRead:
        """See ``MissionControl``."""
        from missionctl.schemas.schedules import ScheduleRead

        return self.client.post("/api/v1/schedules", ScheduleRead, body=data)

    def edit_schedule(self, schedule_id: uuid.UUID, edit: ScheduleEdit) -> ScheduleRead:
        """See ``MissionControl``: only the fields the edit sets are sent."""
        from missionctl.schemas.schedules import ScheduleRead

        body = edit.model_dump(mode="json", exclude_unset=True)
        return self.client.patch(f"/api/v1/schedules/{schedule_id}", ScheduleRead, body=body)

    def pause_schedule(self, schedule_id: uuid.UUID) -> ScheduleRead:
        """See ``MissionControl``."""
        from missionctl.schemas.schedules import ScheduleRead

        return self.client.post(f"/api/v1/schedules/{schedule_id}/pause", ScheduleRead)

    def resume_schedule(self, schedule_id: uuid.UUID) -> ScheduleRead:
        """See ``MissionControl``."""
        from missionctl.schemas.schedules import ScheduleRead

        return self.client.post(f"/api/v1/schedules/{schedule_id}/resume", ScheduleRead)

    def run_schedule_now(self, schedule_id: uuid.UUID) -> ScheduleRead:
        """See ``MissionControl``."""
        from missionctl.schemas.schedules import ScheduleRead

        return self.client.post(f"/api/v1/schedules/{schedule_id}/run-now", ScheduleRead)

    def delete_schedule(self, schedule_id: uuid.UUID) -> None:
        """See ``MissionControl``."""
        self.client.delete(f"/api/v1/schedules/{schedule_id}")

    def list_templates(self, category: str | None) -> list[TemplateRead]:
        """See ``MissionControl``."""
        from missionctl.schemas.templates import TemplateRead

        params: dict[str, str | int | None] = {"category": category}
        return self.client.get_list("/api/v1/templates", TemplateRead, params=params)

    def read_template(self, name: str) -> TemplateRead:
        """See ``MissionControl``."""
        from missionctl.schemas.templates import TemplateRead

        return self.client.get(f"/api/v1/templates/{_segment(name)}", TemplateRead)

    def save_template(self, data: TemplateSave) -> TemplateRead:
        """See ``MissionControl``."""
        from missionctl.schemas.templates import TemplateRead

        return self.client.post("/api/v1/templates", TemplateRead, body=data)

    def use_template(self, name: str, data: TemplateUse) -> TemplateUsed:
        """See ``MissionControl``."""
        from missionctl.schemas.templates import TemplateUsed

        path = f"/api/v1/templates/{_segment(name)}/use"
        return self.client.post(path, TemplateUsed, body=data)

    def start_mission_from_template(self, name: str, data: MissionFromTemplate) -> TemplateUsed:
        """See ``MissionControl``."""
        from missionctl.schemas.templates import TemplateUsed

        path = f"/api/v1/templates/{_segment(name)}/missions"
        return self.client.post(path, TemplateUsed, body=data)

    def delete_template(self, name: str) -> None:
        """See ``MissionControl``."""
        self.client.delete(f"/api/v1/templates/{_segment(name)}")


def _media_type(syntax: Syntax) -> str:
    return "application/json" if syntax == "json" else "application/yaml"
