"""Contracts of the event feed and the audit explorer: their filters, pages and exports.

``EventFilters`` narrows the event log (``GET /api/v1/events``, its stream, the Events and Audit
pages, ``missionctl audit search|export``); ``AuditRunFilters`` narrows runs for the audit
explorer. The API's query parameters, the pages' URLs and the CLI's options carry the same names.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)

from missionctl.domain.events import SEVERITIES, Severity
from missionctl.domain.states import RunStatus
from missionctl.errors import Problem, ValidationFailed
from missionctl.schemas.missions import NO_NUL_PATTERN
from missionctl.schemas.paging import KeysetQuery

FILTER_TEXT_MAX_CHARS = 200
"""The longest text filter (a workflow, agent or actor name)."""

MAX_TYPES = 20
"""The most event types (or prefixes) one filter may name."""

MAX_FEED_PAGE = 500
"""The largest page of ``GET /api/v1/events`` and of an audit search."""

MAX_SEQ = 2**63 - 1
"""The largest seq a cursor may name: seqs are a signed 64-bit BIGINT, so a larger cursor cannot
name an event, and the databases refuse to compare the column with it (a 500, not a 422)."""

TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.?$"
"""An event type (``step.failed``) or a prefix of types ending with a dot (``step.``)."""

ISO_HINT = "an ISO 8601 date-time such as 2026-11-22T09:30:00Z (UTC when it names no zone)"
TIME_QUERY_SCHEMA = {
    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "maxLength": 0}]
}
"""The OpenAPI schema of a time filter in a URL: a date-time, or empty (no filter)."""


def iso_datetime(value: Any) -> Any:
    """Read ISO 8601 text as an aware date-time (UTC when it names no zone).

    Raises:
        ValueError: ``value`` is a number or text that is not ISO 8601; the message shows the
            format expected.
    """
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        raise ValueError(f"expected {ISO_HINT}")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
    except ValueError:
        raise ValueError(f"expected {ISO_HINT}") from None
    if not text[:4].isdigit() or len(text) < 10:
        raise ValueError(f"expected {ISO_HINT}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range: give a time between years 1 and 9999") from None


IsoTime = Annotated[datetime, BeforeValidator(iso_datetime), AfterValidator(_in_utc)]
"""A date-time given as ISO 8601 text, held in UTC."""

FilterText = Annotated[
    str, Field(min_length=1, max_length=FILTER_TEXT_MAX_CHARS, pattern=NO_NUL_PATTERN)
]
EVENT_TYPE_MAX_CHARS = 80
EventType = Annotated[str, Field(max_length=EVENT_TYPE_MAX_CHARS, pattern=TYPE_PATTERN)]


class _Window(BaseModel):
    """A time window ``[since, until)``; both ends optional."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    since: IsoTime | None = Field(default=None, description=f"At or after this time: {ISO_HINT}.")
    until: IsoTime | None = Field(default=None, description=f"Before this time: {ISO_HINT}.")

    @model_validator(mode="after")
    def _ordered(self) -> "_Window":
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError("since is later than until: swap the two")
        return self

    def query_pairs(self) -> list[tuple[str, str]]:
        """The filters as query parameters (a list repeats its name; unset ones left out)."""
        pairs: list[tuple[str, str]] = []
        for name, value in self.model_dump(mode="json", exclude_none=True).items():
            values = value if isinstance(value, list) else [value]
            pairs += [(name, str(v)) for v in values]
        return pairs

    @property
    def active(self) -> bool:
        """Whether any filter narrows the results."""
        return any(value not in (None, "", []) for value in self.model_dump().values())


class EventFilters(_Window):
    """What narrows the event log; every filter is optional and they combine with AND.

    ``type`` may name several types (any of them matches); a type ending with a dot is a
    prefix (``step.`` matches every step event). ``severity`` may name several too.
    ``workflow`` and ``agent`` select events of runs of that workflow (any version) and of
    steps run by that agent.
    """

    type: list[EventType] = Field(
        default_factory=list,
        max_length=MAX_TYPES,
        description="Event types, or prefixes ending with a dot (`step.`); any of them matches.",
    )
    run_id: uuid.UUID | None = Field(default=None, description="Events of this run.")
    mission_id: uuid.UUID | None = Field(default=None, description="Events of this mission.")
    workflow: FilterText | None = Field(
        default=None, description="Events of runs of the workflow with this name (any version)."
    )
    agent: FilterText | None = Field(
        default=None, description="Events of steps run by this agent, e.g. `command`."
    )
    actor: FilterText | None = Field(default=None, description="Events recorded by this actor.")
    severity: list[Severity] = Field(
        default_factory=list, max_length=4, description="Severities; any of them matches."
    )

    @property
    def needs_database(self) -> bool:
        """Whether matching needs the runs' rows (the workflow and agent filters)."""
        return self.workflow is not None or self.agent is not None


class AuditRunFilters(_Window):
    """What narrows runs in the audit explorer; the filters combine with AND.

    ``since``/``until`` bound when the run started (``started_at``); a run that never started
    is outside every window.
    """

    workflow: FilterText | None = Field(
        default=None, description="Runs of the workflow with this name (any version)."
    )
    agent: FilterText | None = Field(
        default=None, description="Runs in which this agent ran a step, e.g. `command`."
    )
    actor: FilterText | None = Field(default=None, description="Runs started by this actor.")
    status: RunStatus | None = None


_QueryText = Annotated[str | None, Field(max_length=FILTER_TEXT_MAX_CHARS, pattern=r"^[^\x00]*$")]
_QueryTime = Annotated[
    str | None, Field(max_length=64, description=ISO_HINT, json_schema_extra=TIME_QUERY_SCHEMA)
]
"""Read as ISO 8601 by ``parse_filters`` (``iso_datetime``); the schema says what it accepts."""


class _FeedPageQuery(BaseModel):
    """A page of the event feed: its size, and the seq it is older or newer than."""

    limit: int = Field(50, ge=1, le=MAX_FEED_PAGE)
    before: int | None = Field(None, ge=1, le=MAX_SEQ, description="Events older than this seq")
    after: int | None = Field(None, ge=0, le=MAX_SEQ, description="Events newer than this seq")


class _FilterQuery(BaseModel):
    """Filters as a URL carries them, ``FILTERS``' fields: the document's limits checked.

    ``filters()`` reads them as ``FILTERS``, so that a 422 names each at fault in its own words
    (the ISO 8601 format a time must have) rather than the schema's. A filter at fault is
    reported before any other field of a subclass (a page's ``limit``), as the searches always
    have. Parameters it does not know are ignored: a page's URL may carry others.
    """

    model_config = ConfigDict(extra="ignore")
    FILTERS: ClassVar[type[_Window]]

    @classmethod
    def of(cls, filters: _Window, **page: object) -> Self:
        """The parameters that send ``filters``, and ``page``'s (a page's size, its cursor)."""
        return cls.model_validate(
            {**filters.model_dump(mode="json", exclude_defaults=True), **page}
        )

    @model_validator(mode="wrap")
    @classmethod
    def _filters_first(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        """``data`` validated; when only another field is at fault, a filter at fault first."""
        try:
            return handler(data)
        except ValidationError as exc:
            faults = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
            if isinstance(data, Mapping) and not faults & set(cls.FILTERS.model_fields):
                parse_filters(
                    cls.FILTERS, {name: data.get(name) for name in cls.FILTERS.model_fields}
                )
            raise

    def _filters(self) -> _Window:
        """The filters (an id, a status as text, as ``parse_filters`` reads them).

        Raises:
            ValidationFailed: each filter at fault, named, with the fix.
        """
        sent = self.model_dump(mode="json", include=set(self.FILTERS.model_fields))
        return parse_filters(self.FILTERS, sent)


class EventFilterQuery(_FilterQuery):
    """``EventFilters`` as query parameters: ``type`` and ``severity`` repeat."""

    FILTERS = EventFilters

    type: list[str] | None = Field(
        None,
        description="An event type, or a prefix ending with a dot (`step.`); repeat for "
        "several (any matches).",
        # For the document: ``parse_filters`` checks each against it and words the 422.
        json_schema_extra={
            "items": {"type": "string", "pattern": TYPE_PATTERN, "maxLength": EVENT_TYPE_MAX_CHARS}
        },
    )
    run_id: uuid.UUID | None = Field(None, description="Events of this run")
    mission_id: uuid.UUID | None = Field(None, description="Events of this mission")
    workflow: _QueryText = Field(None, description="Events of runs of this workflow (name)")
    agent: _QueryText = Field(None, description="Events of steps run by this agent")
    actor: _QueryText = Field(None, description="Events recorded by this actor")
    severity: list[str] | None = Field(
        None,
        description="info, success, warning or error; repeat for several (any matches)",
        json_schema_extra={
            "items": {"type": "string", "enum": list(SEVERITIES)},
            "maxItems": len(SEVERITIES),
        },
    )
    since: _QueryTime = Field(None, description=f"At or after this time: {ISO_HINT}")
    until: _QueryTime = Field(None, description=f"Before this time: {ISO_HINT}")

    def filters(self) -> EventFilters:
        """The filters these parameters give (``ValidationFailed`` naming each at fault)."""
        filters = self._filters()
        assert isinstance(filters, EventFilters)
        return filters


class EventQuery(EventFilterQuery, _FeedPageQuery):
    """``GET /api/v1/events``: a page of the feed (its parameters first), and its filters."""


class AuditRunFilterQuery(_FilterQuery):
    """``AuditRunFilters`` as query parameters."""

    FILTERS = AuditRunFilters

    workflow: _QueryText = Field(None, description="Runs of this workflow (name, any version)")
    agent: _QueryText = Field(None, description="Runs in which this agent ran a step")
    actor: _QueryText = Field(None, description="Runs started by this actor")
    status: RunStatus | None = None
    since: _QueryTime = Field(None, description=f"Started at or after: {ISO_HINT}")
    until: _QueryTime = Field(None, description=f"Started before: {ISO_HINT}")

    def filters(self) -> AuditRunFilters:
        """The filters these parameters give (``ValidationFailed`` naming each at fault)."""
        filters = self._filters()
        assert isinstance(filters, AuditRunFilters)
        return filters


class AuditRunQuery(AuditRunFilterQuery, KeysetQuery):
    """``GET /api/v1/audit/runs``: a page of the runs list (its parameters first), filtered."""

    # Not the list's: a search's URL may carry parameters it does not know (_FilterQuery).
    model_config = ConfigDict(extra="ignore")


class EventFeedItem(BaseModel):
    """One event of the feed, with its severity and the ids it concerns."""

    seq: int
    ts: datetime
    type: str
    severity: Severity
    actor: str
    mission_id: uuid.UUID | None
    run_id: uuid.UUID | None
    step_id: str | None
    payload: dict[str, Any]


class SubjectNames(BaseModel):
    """What a list of events concerns, by name: its missions' titles, its runs' workflows."""

    missions: dict[uuid.UUID, str] = Field(default_factory=dict)
    runs: dict[uuid.UUID, str] = Field(
        default_factory=dict, description="The name of the workflow each run runs."
    )


class EventFeedPage(BaseModel):
    """Events matching the filters, newest first."""

    items: list[EventFeedItem]
    next_before: int | None = Field(
        description="Pass as `before` for the older events; null when there are none."
    )
    newest: int = Field(
        description="Pass as `after` to get only newer events (the largest `seq` seen, or the "
        "cursor given when the page is empty)."
    )


ExportFormat = Literal["csv", "jsonl"]
ExportKind = Literal["events", "runs"]


F = TypeVar("F", bound="_Window")


def _problems(exc: ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "since"
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(Problem(field, message))
    return problems


def parse_filters(model: type[F], raw: Mapping[str, str | Sequence[str] | None]) -> F:
    """``model`` from query parameters, empty values left out (an empty field means "any").

    Raises:
        ValidationFailed: every parameter at fault, named, with the fix (e.g. the ISO 8601
            format a time must have).
    """
    values = {
        name: [v for v in value if v] if isinstance(value, list | tuple) else value
        for name, value in raw.items()
        if value not in (None, "", [], ())
    }
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise ValidationFailed(_problems(exc)) from None
