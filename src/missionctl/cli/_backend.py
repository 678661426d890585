"""The one interface commands talk to: Mission Control's API, on a server or in this process.

Each command parses its arguments and prints its output once, and asks a ``MissionControl``
for what it needs. Each method sends the matching ``/api/v1`` request: to ``MISSIONCTL_URL``
as ``MISSIONCTL_TOKEN``, or, without a server, to the same routes in this process on the
local database, acting as ``system`` (ADRs 0010, 0089). So both take one code path, and
report failures the same way (``RemoteClient``): exit 1 when something is not found, 2 for
anything else.

Only what a server would do beside its API is done here without one: an engine in this
process runs a run the command follows, and checking a workflow definition needs no
database.

Schemas, services and the HTTP client are imported inside the methods, so that ``missionctl
--help`` loads none of them (``tests/cli/test_startup.py``); annotations stay strings.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from missionctl.cli._runtime import LocalSession, refuse_as_on_a_server

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic import BaseModel

    from missionctl.cli._drafts import DraftPrinter
    from missionctl.cli.remote import RemoteClient
    from missionctl.domain.access import Permission
    from missionctl.domain.files import FileAnswer
    from missionctl.operations import Operation, Out
    from missionctl.schemas.events import (
        AuditRunFilters,
        EventFeedItem,
        EventFilters,
        ExportFormat,
        ExportKind,
    )
    from missionctl.schemas.governance import ApprovalRead
    from missionctl.schemas.reports import RunReport
    from missionctl.schemas.runs import RunRead
    from missionctl.schemas.workflows import WorkflowCheckRead, WorkflowRead
    from missionctl.services import ServiceContext
    from missionctl.services.usecases.workflow_checks import Syntax


@contextmanager
def open_backend() -> Iterator[MissionControl]:
    """The server at ``MISSIONCTL_URL`` when it and ``MISSIONCTL_TOKEN`` are set, else local.

    Exits 2 when only one of the two is set (``remote.connect``).
    """
    from missionctl.cli.remote import connect

    client = connect()
    if client is None:
        from missionctl.cli.remote import RemoteClient
        from missionctl.domain.access import SYSTEM_IDENTITY

        with LocalSession() as session, RemoteClient.in_process(session, SYSTEM_IDENTITY) as here:
            yield MissionControl(here, session)
        return
    with client:
        yield MissionControl(client)


# What a user's and a token's fields are called on the command line (``user add``,
# ``token create``), so that a validation problem names the option to fix.
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


def _segment(value: str, *, whole_path: bool) -> str:
    """``value`` as path text: reserved characters escaped, ``:`` ``*`` ``@`` kept.

    Agent, price and workflow names hold those, and their routes take them as they are; ``/``
    is kept only for a ``{name:path}`` parameter (``whole_path``), so that a value such as
    ``../x`` of any other parameter stays one segment rather than moving up the path.
    """
    return quote(value, safe="/:*@" if whole_path else ":*@")


class MissionControl:
    """Mission Control's ``/api/v1``: a server's, or this process's (``open_backend``)."""

    def __init__(self, client: RemoteClient, here: LocalSession | None = None) -> None:
        self.client = client
        self.where = client.display_url
        self._here = here

    def local_home(self) -> Path | None:
        """The data directory, when Mission Control is in this process; else ``None``."""
        if self._here is None:
            return None

        async def home(ctx: ServiceContext) -> Path:
            return ctx.settings.home

        return self._here.call(home)

    def web_address(self) -> str | None:
        """The base URL of the pages that show what this reaches, or ``None`` if none answers.

        A server's own address; in this process, the server on this machine that keeps the
        same record, if one answers (``cli._web_link``).
        """
        if self._here is None:
            return self.where.rstrip("/")

        async def local(ctx: ServiceContext) -> str | None:
            from missionctl.cli._web_link import local_web_address
            from missionctl.services.usecases.health import log_origin

            return local_web_address(ctx.settings, await log_origin(ctx))

        return self._here.call(local)

    def resolve_id(self, kind: str, prefix: str) -> uuid.UUID:
        """The whole id of ``kind`` (``schemas.ids.IdKind``) that ``prefix`` starts."""
        from missionctl.schemas.ids import ResolvedId

        path = f"/api/v1/ids/{quote(kind, safe='')}/{quote(prefix, safe='')}"
        return self.client.get(path, ResolvedId).id

    def call(
        self,
        op: Operation[Out],
        *,
        body: BaseModel | None = None,
        query: BaseModel | None = None,
        options: dict[str, str] | None = None,
        refusal_hint: str | None = None,
        **path: object,
    ) -> Out:
        """Perform ``op`` (``missionctl.operations``): its request, its answer parsed.

        ``path`` gives each of the path's parameters; ``query`` its query parameters (those
        not given are left out); ``body`` is sent as JSON, only the fields set for a
        ``PATCH``, a secret field (a password) as its value (over TLS beyond loopback).
        ``options`` names the command option of each body field, for a refusal that names
        one; ``refusal_hint`` is added to a 403's message (what the user can do about it).
        Failures exit as every request's do.
        """
        answer: Out = self._send(
            op, path, body=body, query=query, options=options, refusal_hint=refusal_hint
        )
        return answer

    def file(
        self, op: Operation[FileAnswer], *, query: BaseModel | None = None, **path: object
    ) -> bytes:
        """``call`` of an operation that answers a file: the file's bytes."""
        answer = self._send(op, path, query=query)
        content: bytes = answer.content
        return content

    def call_or_none(
        self, op: Operation[Out], *, query: BaseModel | None = None, **path: object
    ) -> Out | None:
        """``call``, but ``None`` (nothing printed) when the server answers 404: not found."""
        answer: Out | None = self._send(op, path, query=query, missing_ok=True)
        return answer

    def _send(
        self,
        op: Operation[Any],
        path: dict[str, object],
        *,
        body: BaseModel | None = None,
        query: BaseModel | None = None,
        options: dict[str, str] | None = None,
        refusal_hint: str | None = None,
        missing_ok: bool = False,
    ) -> Any:
        url = op.url(
            **{
                name: _segment(str(value), whole_path=f"{{{name}:path}}" in op.path)
                for name, value in path.items()
            }
        )
        sent = None
        if body is not None:
            sent = _json_with_secrets(body, changes_only=op.method == "PATCH")
        params = None if query is None else query.model_dump(mode="json", exclude_none=True)
        if op.file_types:
            from missionctl.domain.files import FileAnswer

            return FileAnswer(*self.client.get_bytes(url, params=params))
        return self.client.send(
            op.method,
            url,
            op.outputs,
            body=sent,
            params=params,
            options=options,
            refusal_hint=refusal_hint,
            missing_ok=missing_ok,
        )

    @contextmanager
    def drafts_shown(self, mission_id: uuid.UUID, printer: DraftPrinter | None) -> Iterator[None]:
        """Around a request that plans: each draft of the mission's plan to ``printer``.

        Planning a mission and answering the planner's questions are such requests; ``None``
        shows nothing.

        In this process the drafts are followed on the session's loop, which runs while the
        request does; from a server, over its event stream on a thread. When the block ends,
        the lines still on their way are waited for a moment (``cli._drafts.END_WAIT_S``).
        """
        if printer is None:
            yield
            return
        from missionctl.cli._drafts import StreamedDrafts

        if self._here is None:
            streamed = StreamedDrafts(self.client, mission_id, printer)
            streamed.start()
            try:
                yield
            finally:
                streamed.finish()
            return
        with self._here.drafts(mission_id, printer):
            yield

    def export_audit(
        self,
        kind: ExportKind,
        fmt: ExportFormat,
        filters: EventFilters | AuditRunFilters,
        write: Callable[[bytes], object],
    ) -> None:
        """The server streams it; it is written as it arrives."""
        params = [*filters.query_pairs(), ("kind", kind), ("format", fmt)]
        self.client.download("/api/v1/audit/export", params, write)

    def follow_events(
        self, filters: EventFilters, *, after: int, emit: Callable[[EventFeedItem], object]
    ) -> None:
        """``GET /api/v1/events/stream``, reopened when it drops."""
        from missionctl.schemas.events import EventFeedItem

        def take(data: str) -> int:
            item = self.client.model_of(data, EventFeedItem)
            emit(item)
            return item.seq

        params = [*filters.query_pairs(), ("after", str(after))]
        self.client.follow_stream("/api/v1/events/stream", params, take)

    def follow(self, run: RunRead, *, live: bool) -> RunRead:
        """Wait for ``run`` to end, drawing its steps.

        A server's engine runs it, and this reads it until it ends; without a server, an
        engine in this process runs it, as ``serve`` would.
        """
        from missionctl.cli._live import follow_polling

        if self._here is None:
            from missionctl.operations import runs as ops

            return follow_polling(lambda: self.call(ops.READ, run_id=run.id), run, live=live)

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

        return self._here.call(execute)

    def run_report(self, run_id: uuid.UUID) -> RunReport:
        from missionctl.schemas.reports import RunReport

        return self.client.get(f"/api/v1/runs/{run_id}/report", RunReport)

    def run_report_markdown(self, run_id: uuid.UUID) -> str:
        path = f"/api/v1/runs/{run_id}/report"
        content, _ = self.client.get_bytes(path, params={"format": "markdown"})
        return content.decode("utf-8", errors="replace")

    def run_report_pdf(self, run_id: uuid.UUID) -> bytes:
        path = f"/api/v1/runs/{run_id}/report"
        return self.client.get_bytes(path, params={"format": "pdf"})[0]

    def save_workflow(self, text: str, syntax: Syntax) -> WorkflowRead:
        """The text is sent as it was read (JSON or YAML)."""
        from missionctl.schemas.workflows import WorkflowRead

        return self.client.post_text(
            "/api/v1/workflows", WorkflowRead, text=text, media_type=_media_type(syntax)
        )

    def check_workflow(self, text: str, syntax: Syntax) -> WorkflowCheckRead:
        """The definition's problems and layers.

        A server also judges its gates under its allow-list; without one no database is
        needed, and gates are judged without it.
        """
        from missionctl.schemas.workflows import WorkflowCheckRead
        from missionctl.services.usecases import workflows

        if self._here is not None:
            return workflows.validate_workflow(text, syntax=syntax)
        return self.client.post_text(
            "/api/v1/workflows/validate",
            WorkflowCheckRead,
            text=text,
            media_type=_media_type(syntax),
        )

    def workflow_schema(self) -> dict[str, Any]:
        """The definition's JSON Schema (without a server, no database is needed)."""
        from missionctl.operations import workflows as ops
        from missionctl.schemas.workflows import WorkflowSpec

        if self._here is not None:
            return WorkflowSpec.model_json_schema()
        return self.call(ops.SCHEMA)

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
        """Approve or reject the approval ``ref``.

        ``as_user``: on this machine's database, decide as that user (who must hold
        ``approvals:decide``); a server decides as its token's user, and refuses it. Without
        it the decider locally is the system, which is no user: a gate that names its
        approvers refuses it, and the refusal says to use ``--as``.
        """
        from missionctl.domain.access import Permission
        from missionctl.operations import approvals as ops

        # Built unchecked: the server checks the fields and names the one at fault.
        op: Operation[ApprovalRead]
        body: BaseModel
        if approve:
            op = ops.APPROVE
            body = ops.DecisionBody.model_construct(
                reason=reason,
                confirm_full_access=confirm_full_access,
                justification=justification,
                override_reason=override_reason,
            )
        else:
            op = ops.REJECT
            body = ops.RejectionBody.model_construct(reason=reason)
        hint = None
        if self._here is not None and as_user is None:
            hint = "decide as one of them with --as NAME"
        with self.acting(as_user, Permission.APPROVALS_DECIDE) as api:
            return api.call(op, body=body, refusal_hint=hint, ref=ref)

    @contextmanager
    def acting(self, name: str | None, permission: Permission) -> Iterator[MissionControl]:
        """This backend, or with ``name`` (a command's ``--as``) one acting as that user.

        Only on this machine's database: the user must be enabled and hold ``permission``
        (exit 1 naming what is missing). Against a server ``--as`` is refused (exit 2): a
        server acts as its token's user.
        """
        if name is None:
            yield self
            return
        with self._acting_as(name, permission) as client:
            yield MissionControl(client, self._here)

    def _acting_as(self, name: str, permission: Permission) -> RemoteClient:
        """A client of the API in this process as user ``name``, who must hold ``permission``.

        Against a server ``--as`` is refused (exit 2): a server acts as its token's user.
        """
        from missionctl.cli.remote import RemoteClient
        from missionctl.services.usecases.identity import acting_user

        if self._here is None:
            refuse_as_on_a_server()
            raise AssertionError("unreachable: the refusal exits")
        who = self._here.call(lambda ctx: acting_user(ctx, name=name, permission=permission))
        return RemoteClient.in_process(self._here, who)


def _json_with_secrets(body: BaseModel, *, changes_only: bool) -> dict[str, Any]:
    """``body`` as JSON, each ``SecretStr`` field as its value: the server it goes to keeps it.

    ``changes_only``: only the fields set. (A model's own JSON hides a secret as asterisks.)
    """
    from pydantic import SecretStr

    sent = body.model_dump(mode="json", exclude_unset=changes_only)
    for name in sent:
        value = getattr(body, name)
        if isinstance(value, SecretStr):
            sent[name] = value.get_secret_value()
    return sent


def _media_type(syntax: Syntax) -> str:
    return "application/json" if syntax == "json" else "application/yaml"
