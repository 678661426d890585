"""The engine's units of work: claims, outcomes, log lines, and the state of one tick."""

import functools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy.orm import Session

from missionctl.agents.base import ArtifactOutput
from missionctl.agents.coding import PRESETS, CodingPreset, load_presets
from missionctl.blobs import BlobRef
from missionctl.db.models import Workflow
from missionctl.domain.budget import charges_tokens
from missionctl.domain.coding import CodingCli
from missionctl.domain.governance import (
    CODING_RULE,
    AgentRule,
    ProgramRule,
    any_restricted,
    hold_reason,
    parse_programs,
    parse_repositories,
)
from missionctl.domain.specs import SpecGuard
from missionctl.domain.spending_caps import Period, SpendingCap
from missionctl.domain.states import TransitionRule
from missionctl.domain.workflows import COMMAND_AGENT, WorkflowDag
from missionctl.errors import NotFound
from missionctl.eventlog import NewEvent
from missionctl.llm import LLMUsage
from missionctl.repositories import execution as repo
from missionctl.repositories import spending_caps as caps_repo
from missionctl.schemas.spec_policy import load_spec_policy
from missionctl.services.runtime.context import DagStore
from missionctl.services.usecases.transitions import moved
from missionctl.settings import Settings

ENGINE_ACTOR = "system"
DEFAULT_SPEC_MAX_AGE_DAYS = 30


def default_spec_guard() -> SpecGuard:
    """The packaged spec policy and the default age (a ``Tick`` made without settings)."""
    return SpecGuard(load_spec_policy(None), timedelta(days=DEFAULT_SPEC_MAX_AGE_DAYS))


def spec_guard_for(settings: Settings) -> SpecGuard:
    """The spec policy and age limit ``settings`` name (``MISSIONCTL_SPEC_*``).

    Raises:
        DataFileError: the policy file is missing or broken.
    """
    policy = load_spec_policy(settings.spec_policy_file)
    return SpecGuard(policy, timedelta(days=settings.spec_max_age_days))


def _clis(presets: Mapping[str, CodingPreset]) -> Mapping[str, CodingCli]:
    return MappingProxyType(
        {
            name: CodingCli(
                argv=tuple(preset.argv),
                modes={mode: tuple(args) for mode, args in preset.modes.items()},
                key_env=preset.model.key_env if preset.model else None,
            )
            for name, preset in presets.items()
        }
    )


SHIPPED_CLIS: Mapping[str, CodingCli] = _clis(PRESETS)


@functools.cache
def _clis_with(presets_file: Path) -> Mapping[str, CodingCli]:
    return _clis({**PRESETS, **load_presets(presets_file)})


def coding_clis(settings: Settings | None) -> Mapping[str, CodingCli]:
    """The coding presets' command lines the approval rule judges (``domain.coding.CodingCli``).

    The shipped presets, and the admin's file (``MISSIONCTL_CODING_PRESETS_FILE``), read once
    per process as the agents' registry reads it, whose presets replace shipped ones by name.

    Raises:
        DataFileError: the presets file is missing or broken.
    """
    path = None if settings is None else settings.coding.presets_file
    return SHIPPED_CLIS if path is None else _clis_with(Path(path))


@dataclass(frozen=True, slots=True)
class ClaimedStep:
    """A step run handed to a worker under a lease."""

    step_run_id: uuid.UUID
    run_id: uuid.UUID
    mission_id: uuid.UUID | None
    workflow_id: uuid.UUID
    step_id: str
    attempt: int
    agent: str
    inputs: dict[str, Any]
    lease_token: uuid.UUID
    timeout_s: float
    # Whether the run has a budget cap. Its dependents then go through the queue and the
    # budget gate; uncapped runs' dependents may be claimed the moment they become ready.
    budget_capped: bool = True
    # The steps whose outputs this one may read (``StepContext.load_upstream_outputs``).
    depends_on: tuple[str, ...] = ()
    # The most tokens an LLM step of a capped run may use (its reserve paid for them); ``None``
    # for every other step.
    token_limit: int | None = None
    # The model routing chose for an ``llm:`` step when its run was created (ADR 0119);
    # ``None``: the configured model.
    model: str | None = None


@dataclass(frozen=True, slots=True)
class StoredArtifact:
    """An artifact already written to the blob store, waiting for its row."""

    output: ArtifactOutput
    blob: BlobRef


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What happened to one claimed step."""

    claim: ClaimedStep
    ok: bool
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    retryable: bool = True
    usage: LLMUsage = field(default_factory=LLMUsage)
    cost_micros: int = 0
    # The model ``cost_micros`` was priced at (``None`` when the attempt used no tokens).
    model: str | None = None
    duration_ms: int = 0
    artifacts: tuple[StoredArtifact, ...] = ()
    lease_expired: bool = False


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line an agent logged."""

    run_id: uuid.UUID
    mission_id: uuid.UUID | None
    step_id: str
    attempt: int
    level: str
    message: str


class DagCache:
    """Parsed workflow definitions by workflow id, read from the database when not held."""

    def __init__(self, shared: DagStore | None = None) -> None:
        """Use ``shared`` (e.g. ``ServiceContext.dags``), or a store of this cache's own."""
        self._store = DagStore() if shared is None else shared

    def get(self, session: Session, workflow_id: uuid.UUID) -> WorkflowDag:
        """The DAG of a workflow version.

        Raises:
            NotFound: no such workflow.
        """
        dag = self._store.get(workflow_id)
        if dag is None:
            workflow = repo.read_workflow(session, workflow_id=workflow_id)
            if workflow is None:
                raise NotFound(f"no workflow with id {workflow_id}", field="workflow_id")
            dag = self.of(workflow)
        return dag

    def of(self, workflow: Workflow) -> WorkflowDag:
        """The DAG of a workflow version already read, parsed only if it is not held."""
        dag = self._store.get(workflow.id)
        if dag is None:
            dag = WorkflowDag.from_definition(workflow.definition, version=workflow.version)
            self._store.put(workflow.id, dag)
        return dag

    def put(self, workflow_id: uuid.UUID, dag: WorkflowDag) -> None:
        """Remember a DAG already parsed."""
        self._store.put(workflow_id, dag)


class ClaimRow:
    """A claimed step's identity from its claim, with the fence read from the database."""

    __slots__ = (
        "attempt",
        "id",
        "lease_token",
        "mission_id",
        "run_id",
        "status",
        "step_id",
        "workflow_id",
    )

    def __init__(
        self, claim: ClaimedStep, status: str, attempt: int, lease_token: uuid.UUID | None
    ) -> None:
        self.id = claim.step_run_id
        self.run_id = claim.run_id
        self.step_id = claim.step_id
        self.mission_id = claim.mission_id
        self.workflow_id = claim.workflow_id
        self.status = status
        self.attempt = attempt
        self.lease_token = lease_token


class FenceConflict(Exception):
    """A result write found a step run no longer under the lease that produced the result.

    Raised by the optimistic path, which writes results without reading their fences first;
    the tick's transaction is rolled back and redone on the careful path.
    """


@dataclass(frozen=True, slots=True)
class DispatchPolicy:
    """What governs dispatch in one tick: the emergency stop, the agents' rules, spending caps.

    ``loaded`` is false for the empty policy a ``Tick`` starts with outside an engine (a run's
    start, an approval's decision): admission then reads the rules before judging a program.
    """

    halted: bool = False
    rules: Mapping[str, AgentRule] = field(default_factory=dict)
    version: int = 0
    loaded: bool = False
    caps: tuple[SpendingCap, ...] = ()

    def hold_reason(self, agent: str, risk_tier: str) -> str | None:
        """Why a step may not be dispatched now, or ``None``."""
        return hold_reason(self.rules, agent=agent, risk_tier=risk_tier)

    def unrestricted(self, step_ids: Sequence[str], dag: WorkflowDag) -> bool:
        """Whether no rule or spending cap can hold back any of these steps.

        Such steps may be claimed at once; the others go through the queue, where the claim
        judges them.
        """
        agents = [dag.steps[s].agent for s in step_ids]
        if self.caps and any(
            cap.governs(a) and charges_tokens(a) for cap in self.caps for a in agents
        ):
            return False
        return not self.rules or not any_restricted(self.rules, agents)

    @property
    def programs(self) -> Mapping[str, ProgramRule]:
        """The programs ``command`` steps may run without an approver (the allow-list)."""
        rule = self.rules.get(COMMAND_AGENT)
        return rule.programs if rule is not None else {}

    @property
    def repositories(self) -> tuple[str, ...]:
        """The repositories coding steps may work on (empty: none)."""
        rule = self.rules.get(CODING_RULE)
        return rule.repositories if rule is not None else ()


def read_rules(session: Session) -> dict[str, AgentRule]:
    """Every agent's rule as stored, the allow-lists of programs and repositories included."""
    return {
        row.name: AgentRule(
            enabled=bool(row.enabled),
            allowed_risk_tiers=tuple(row.allowed_risk_tiers or ()),
            programs=parse_programs(row.config) if row.name == COMMAND_AGENT else {},
            repositories=parse_repositories(row.config) if row.name == CODING_RULE else (),
        )
        for row in repo.read_agent_rules(session)
    }


def read_caps(session: Session) -> tuple[SpendingCap, ...]:
    """Every spending cap as the engine reads it (ADR 0104)."""
    return tuple(
        SpendingCap(
            id=row.id, agent=row.agent, period=Period(row.period), cap_micros=row.cap_micros
        )
        for row in caps_repo.read_caps(session)
    )


def refresh_policy(session: Session, state: "Tick") -> DispatchPolicy:
    """The tick's policy, made current before a program is judged by the allow-list.

    The controls' version is read under a shared lock held until the tick commits: a change to
    the rules either committed before (and is read here, if the tick's rules are older) or
    waits for this tick, whose queued steps it then sees. Done once per tick. A transaction
    that may admit takes it before any lock on a run or step (``PolicyCache.load`` for the
    engine's tick, a decision or a run's start by calling this first): the emergency stop
    locks the row before the runs, and the opposite order would deadlock with it.
    """
    if not state.policy_current:
        version = repo.read_controls_version_locked(session)
        policy = state.policy
        if not policy.loaded or version != policy.version:
            state.policy = DispatchPolicy(
                halted=policy.halted,
                rules=read_rules(session),
                version=version,
                loaded=True,
                caps=read_caps(session),
            )
        state.policy_current = True
    return state.policy


class PolicyCache:
    """The agents' rules as last read, re-read only when the controls' version moves.

    ``load`` reads the one controls row in every tick (so a stop is seen by the next tick of
    every engine, in any process) and the agents table only after a change.

    The row is read under a shared lock held until the tick commits, before the tick locks
    any step or run: a tick may admit or claim a program, which is judged under that lock, and
    the emergency stop and changes to the rules take the row ``FOR UPDATE`` before they lock
    runs and steps. Taking it first keeps every transaction's locks in one order, so the two
    never deadlock; ticks share the lock and do not wait for each other.
    """

    def __init__(self) -> None:
        self._version: int | None = None
        self._rules: Mapping[str, AgentRule] = {}
        self._caps: tuple[SpendingCap, ...] = ()
        self.halted = False
        # The UTC day whose spending caps' holds this engine last looked at (``None``: never):
        # a daily cap's period turns at midnight, and its holds are looked at again then.
        self.caps_day: date | None = None

    def load(self, session: Session) -> DispatchPolicy:
        """The policy in force now, with the controls' row locked (shared) until commit."""
        repo.read_controls_version_locked(session)
        halted, version = repo.read_controls(session)
        if version != self._version:
            self._rules = read_rules(session)
            self._caps = read_caps(session)
            self._version = version
        self.halted = halted
        return DispatchPolicy(
            halted=halted, rules=self._rules, version=version, loaded=True, caps=self._caps
        )


@dataclass
class Tick:
    """Everything one tick accumulates before it writes."""

    now: datetime
    events: list[NewEvent] = field(default_factory=list)
    touched_runs: dict[uuid.UUID, uuid.UUID | None] = field(default_factory=dict)
    # Runs that queued or claimed a step in this tick cannot be finished: skip that check.
    progressing_runs: set[uuid.UUID] = field(default_factory=set)
    run_workflows: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    # Whether each touched run has a budget cap (unknown counts as capped).
    capped_runs: dict[uuid.UUID, bool] = field(default_factory=dict)
    # Steps that succeeded, were skipped, and failed for good, in this tick, by run.
    succeeded: dict[uuid.UUID, list[str]] = field(default_factory=dict)
    skipped: dict[uuid.UUID, list[str]] = field(default_factory=dict)
    failed: dict[uuid.UUID, list[str]] = field(default_factory=dict)
    policy: DispatchPolicy = field(default_factory=DispatchPolicy)
    # Whether ``policy`` was checked against the controls' version under a lock in this tick.
    policy_current: bool = False
    # The spec guard's policy and age limit (ADR 0066); callers with settings pass theirs.
    specs: SpecGuard = field(default_factory=default_spec_guard)
    # The coding presets' command lines (``coding_clis``); callers with settings pass theirs.
    clis: Mapping[str, CodingCli] = field(default_factory=lambda: SHIPPED_CLIS)


@dataclass
class Dispatch:
    """What a tick may still claim, and what it has claimed.

    Every step claimed in one tick shares one lease token: a token identifies one grant of a
    lease (results are fenced by step run id, attempt and token together), and a fresh one is
    drawn for every tick.
    """

    worker: str
    lease_token: uuid.UUID
    expires: datetime
    capacity: int
    claimed: list[ClaimedStep] = field(default_factory=list)


def step_event(rule: TransitionRule[Any], row: Any, attempt: int, **payload: Any) -> NewEvent:
    """The engine's event of a step's move by ``rule`` (``row`` has run_id, mission_id, step_id)."""
    return moved(
        rule,
        actor=ENGINE_ACTOR,
        run_id=row.run_id,
        mission_id=row.mission_id,
        step_id=row.step_id,
        attempt=attempt,
        **payload,
    )
