"""What an agent is: something that turns a step's context into a result.

Agents do not touch the database. The engine gives them a ``StepContext`` (inputs, workspace,
idempotency key, a log sink, loaders for upstream outputs and mission data) and records the
``AgentResult`` they return — or the ``AgentError`` they raise — through the services.
"""

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from missionctl.llm import LLMUsage, UsageSink

ArtifactKind = Literal["markdown", "json", "diff", "file", "link", "log", "report"]
LogLevel = Literal["debug", "info", "warning", "error"]


class LogSink(Protocol):
    """Receives an agent's log lines; the engine turns them into batched ``step.log`` events."""

    def __call__(self, message: str, *, level: LogLevel = "info") -> None:
        """Record one line."""
        ...


class ContentStream(Protocol):
    """Bytes read piece by piece: a file opened for reading, a spooled copy of one."""

    def read(self, size: int = -1, /) -> bytes:
        """At most ``size`` bytes (all that is left when negative); ``b""`` at the end."""
        ...

    def close(self) -> None:
        """Let go of what holds the bytes; reading afterwards is an error."""
        ...


@dataclass(frozen=True, slots=True)
class ArtifactOutput:
    """A file an agent produced; the engine stores it in the blob store.

    ``content`` is the bytes themselves, or, for a file too large to hold in memory, a stream
    the engine copies into the blob store piece by piece and then closes (:meth:`close`).
    """

    name: str
    kind: ArtifactKind
    media_type: str
    content: bytes | ContentStream

    def close(self) -> None:
        """Close ``content`` when it is a stream (bytes need nothing); closing twice is harmless."""
        if not isinstance(self.content, bytes):
            self.content.close()


@dataclass(slots=True)
class AgentResult:
    """A successful step's result."""

    outputs: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    artifacts: list[ArtifactOutput] = field(default_factory=list)
    usage: LLMUsage = field(default_factory=LLMUsage)
    model: str | None = None
    risks: list[dict[str, Any]] = field(default_factory=list)
    next_steps: list[dict[str, Any]] = field(default_factory=list)


class AgentError(Exception):
    """The step failed. ``retryable`` says whether another attempt could succeed."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        usage: LLMUsage | None = None,
        outputs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.usage = usage or LLMUsage()
        self.outputs = outputs or {}


class InputSink(Protocol):
    """Receives the request an agent sends a model: ``model``, ``prompt_version``, ``messages``."""

    async def __call__(self, request: Mapping[str, Any]) -> None:
        """Record ``request`` (``messages``: ``[{role, content}]``) for this attempt."""
        ...


async def _no_input_record(request: Mapping[str, Any]) -> None:
    """Record nothing (agents run outside an engine, in tests and tools)."""


async def _no_task_pack(task_key: str) -> str | None:
    """No pack (agents run outside an engine, in tests and tools)."""
    return None


async def _no_previous_outputs() -> dict[str, Any]:
    """No earlier attempt (agents run outside an engine, in tests and tools)."""
    return {}


@dataclass(frozen=True, slots=True)
class Callback:
    """A callback opened for one attempt: poll it by ``id``; ``token`` goes into its URL."""

    id: uuid.UUID
    token: str


class CallbackChannel(Protocol):
    """Callbacks of one attempt: the database's pending rows, reached through the engine.

    An agent holds no session (the import contracts forbid it): the engine gives it this
    channel, which opens a callback row and reads the answer posted to it.
    """

    async def open(self, *, expires_in_s: float) -> Callback:
        """Open a single-use callback valid for ``expires_in_s`` seconds."""
        ...

    async def answer(self, callback_id: uuid.UUID) -> dict[str, Any] | None:
        """The answer posted to the callback, or ``None`` while none has arrived."""
        ...


@dataclass(frozen=True, slots=True)
class StepContext:
    """Everything an agent may use for one attempt of one step.

    The loaders read lazily (most agents need none of them): ``load_upstream_outputs`` gives
    the outputs of the step's dependencies by step id; ``load_mission`` the mission
    (``MissionRead`` as JSON) and ``load_plan`` the plan the run executes (``PlanRead`` as
    JSON: the one its workflow was compiled from, else the mission's newest), both ``None``
    for a run without a mission. ``report_usage`` shows tokens on the running step
    before it finishes (the result's usage is what is finally recorded).

    The step's directories are derived from ``run_dir`` when an agent asks for them (only
    programs do): joining paths costs microseconds that a step of no-op work would notice.
    """

    run_id: uuid.UUID
    mission_id: uuid.UUID | None
    step_id: str
    attempt: int
    agent: str
    inputs: Mapping[str, Any]
    # The directory of the run's step workspaces (``Workspaces.run_dir``).
    run_dir: Path
    log: LogSink
    load_upstream_outputs: Callable[[], Awaitable[dict[str, dict[str, Any]]]]
    load_mission: Callable[[], Awaitable[dict[str, Any] | None]]
    load_plan: Callable[[], Awaitable[dict[str, Any] | None]]
    report_usage: UsageSink = field(default=lambda usage, *, estimated: None)
    # Records what the agent is about to send to a model (``step.input``, ADR 0044): the
    # engine redacts and bounds it; awaited, so the record precedes the attempt's result.
    record_input: InputSink = field(default_factory=lambda: _no_input_record)
    # The steps this one depends on (their workspaces are ``upstream_workspaces``).
    depends_on: tuple[str, ...] = ()
    # The most tokens the step may use, every model call counted (a capped run reserved their
    # cost when it dispatched the step); ``None``: no limit. Agents that call a model keep it.
    token_limit: int | None = None
    # The attempt's time limit in seconds (the engine cancels the agent after it); ``None``
    # outside an engine. Agents that wait for someone else (a callback) wait no longer.
    timeout_s: float | None = None
    # Callbacks for agents answered later by someone else (``http``); ``None`` outside an
    # engine, where nothing could receive them.
    callbacks: CallbackChannel | None = None
    # The task's file of the mission's AI execution pack (Markdown), by task key; ``None`` when
    # the run's plan has no such task or the run has no mission. Coding agents prompt with it.
    load_task_pack: Callable[[str], Awaitable[str | None]] = field(
        default_factory=lambda: _no_task_pack
    )
    # The outputs the step's previous attempt left when it failed (its ``AgentError.outputs``),
    # on a retry; empty on a first attempt and outside an engine.
    load_previous_outputs: Callable[[], Awaitable[dict[str, Any]]] = field(
        default_factory=lambda: _no_previous_outputs
    )
    # The model routing chose for an ``llm:`` step (ADR 0119); ``None``: the client's own
    # (the configured model). Only agents that call a model read it.
    model: str | None = None

    @property
    def workspace(self) -> Path:
        """This step's own directory: ``run_dir / step_id`` (concurrent steps never share one)."""
        return self.run_dir / self.step_id

    @property
    def upstream_workspaces(self) -> dict[str, Path]:
        """The workspaces of the steps this one depends on, by step id.

        Siblings of ``workspace``: a program may read them, never write them.
        """
        return {dep: self.run_dir / dep for dep in self.depends_on}

    @property
    def idempotency_key(self) -> str:
        """``run:step`` — the same for every attempt of this step of this run (ADR 0093).

        Execution is at least once: a step whose worker died runs again as ``attempt + 1``
        (``step.lease_expired``), and a failed attempt is retried. A key that changed with the
        attempt would let the system a step writes to tell neither apart from new work, so
        the key names the work (run and step) and ``attempt`` says which try this is.
        """
        return step_idempotency_key(self.run_id, self.step_id)


def step_idempotency_key(run_id: uuid.UUID, step_id: str) -> str:
    """The idempotency key of step ``step_id`` of run ``run_id``: ``<run id>:<step id>``.

    A pure function of the two, so every attempt, on any worker, derives the same key.
    """
    return f"{run_id}:{step_id}"


class Agent(Protocol):
    """One kind of agent."""

    async def run(self, step: StepContext) -> AgentResult:
        """Do the step's work.

        Returns when the work is done. Raises ``AgentError`` when it failed. On cancellation
        (run canceled, emergency stop, timeout) it must stop its work — kill subprocesses, close
        connections — and let ``asyncio.CancelledError`` propagate.
        """
        ...
