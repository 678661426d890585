"""Entities a goal's nouns imply, with the fields such an entity usually needs.

The hints are data, written compactly in ``_SPEC``: a header line ``Name [flags] ~ pattern``
(flags: ``append-only``, ``personal``), then one indented line per column:
``name: type [-> Entity][; note]``. A goal noun matching a pattern brings in that entity; other
noun phrases of the goal's features become generic entities named after their last two words.
"""

import re
from dataclasses import dataclass

_SPEC = r"""
Link ~ urls?|links?|shortener
  slug: text; unique, generated, 7+ unguessable characters
  target_url: text; validated http(s) URL
  owner_id: uuid -> User; nullable for anonymous links
  expires_at: timestamptz; nullable
Alias ~ alias(?:es)?
  link_id: uuid -> Link
  alias: text; unique (case-insensitive), 3 to 64 of [a-z0-9-], reserved words refused
Click [append-only] ~ clicks?
  link_id: uuid -> Link
  occurred_at: timestamptz; indexed with link_id
  referrer_host: text; nullable
  country: char(2); from IP at ingest; the IP itself is not stored
  visitor_hash: text; salted daily hash for unique-visitor counts
Patient [personal] ~ patients?|pets?
  name: text
  species: text
  date_of_birth: date; nullable
  owner_contact: text; personal data: encrypted at rest, redacted in logs
Appointment ~ appointments?
  patient_id: uuid -> Patient
  staff_id: uuid -> User; who sees the patient
  starts_at: timestamptz
  ends_at: timestamptz; after starts_at; no overlap per staff member
  status: text; booked → checked_in → completed, or cancelled / no_show
Invoice ~ invoices?|billing
  number: text; unique, sequential
  patient_id: uuid -> Patient
  customer_id: uuid -> Customer
  status: text; draft → issued → paid, or void
  total_cents: bigint; ≥ 0; money in integer minor units
  currency: char(3)
  due_at: date
Payment ~ payments?|checkout
  invoice_id: uuid -> Invoice
  amount_cents: bigint
  provider_ref: text; unique: the idempotency key with the provider
  status: text; pending → succeeded | failed | refunded
Customer [personal] ~ customers?|clients?
  name: text
  email: text; personal data
Order ~ orders?
  source_id: text; unique per source: makes re-ingestion idempotent
  customer_id: uuid -> Customer
  placed_at: timestamptz
  total_cents: bigint
  currency: char(3)
  status: text
Daily revenue ~ revenue tables?|revenue
  day: date; unique with currency
  currency: char(3)
  orders: integer
  gross_cents: bigint
  refunds_cents: bigint
Class session ~ classes|class
  title: text
  starts_at: timestamptz
  capacity: integer; > 0
  instructor: text
Booking ~ bookings?|booking
  class_session_id: uuid -> Class session
  member_id: uuid -> User
  status: text; booked | cancelled | attended; one booking per member and class
Notification ~ reminders?|notifications?|push
  user_id: uuid -> User
  channel: text; push | email
  send_at: timestamptz
  sent_at: timestamptz; nullable; set once, so a retry never sends twice
Event [append-only] ~ events?|funnels?|activation|cohorts?|retention
  user_id: uuid -> User
  name: text; from a documented list of event names
  occurred_at: timestamptz; UTC
  properties: json
Alert [append-only] ~ anomal(?:y|ies)|alerts?
  metric: text
  severity: text; info | warning | critical
  detected_at: timestamptz
  baseline: numeric
  observed: numeric
  explanation: text
Vendor ~ vendors?
  name: text; unique
  owner_id: uuid -> User; accountable person
Contract ~ contracts?|renewals?
  vendor_id: uuid -> Vendor
  starts_on: date
  renews_on: date; indexed: drives renewal warnings
  notice_days: integer
  annual_value_cents: bigint
Incident ~ incidents?
  channel_id: text; unique
  opened_at: timestamptz
  severity: text
  summary: text
Postmortem ~ postmortems?
  incident_id: uuid -> Incident
  draft_markdown: text
  status: text; draft → reviewed → published
Question ~ trivia|questions?
  prompt: text
  choices: json
  answer_index: integer
Game ~ games?|multiplayer|matches
  code: text; unique join code
  status: text
  started_at: timestamptz
Score ~ leaderboards?|scores?|players?
  game_id: uuid -> Game
  player_name: text
  points: integer; indexed descending for the leaderboard
Backup ~ backups?|restores?
  started_at: timestamptz
  finished_at: timestamptz
  location: text; object-store URI
  checksum: text
  status: text; running | succeeded | failed | verified
Prediction [append-only] ~ predictions?|churn
  subject_id: text; the customer scored
  score: numeric; 0 to 1
  model_version: text
  predicted_at: timestamptz
Model version ~ retraining|model registry|drift
  version: text; unique
  trained_at: timestamptz
  metrics: json; evaluation metrics on the hold-out set
  status: text; candidate → production → retired
Reading [append-only] ~ readings?|temperature
  device_id: text
  measured_at: timestamptz
  celsius: numeric
  battery_mv: integer
Bucket ~ token buckets?|rate limit\w*
  key: text; unique: who is limited
  capacity: integer
  refill_per_s: numeric
  tokens: numeric
Audit entry [append-only] ~ audit logging|audit logs?|audit trail|audit
  actor: text
  action: text
  target: text
  at: timestamptz
  details: json; secrets redacted
User [personal] ~ users?|accounts?|role-based|rbac|sign[- ]in|login|sso|single sign-on|staff
  email: text; unique, lower-cased
  display_name: text
  role: text; one of the roles in the authorisation matrix
  disabled_at: timestamptz; nullable; disabled users cannot sign in
"""


@dataclass(frozen=True, slots=True)
class Column:
    """One field of an entity; ``ref`` names the entity a foreign key points at."""

    name: str
    type: str
    note: str = ""
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Entity:
    """A piece of data the software keeps."""

    name: str
    columns: tuple[Column, ...]
    append_only: bool = False
    personal: bool = False
    origin: str = ""

    @property
    def table(self) -> str:
        """The plural snake-case table name (``Click event`` → ``click_events``)."""
        return "_".join(plural(self.name).lower().split())

    @property
    def path(self) -> str:
        """The plural kebab-case path segment (``Click event`` → ``click-events``)."""
        return self.table.replace("_", "-")

    def refs(self) -> list[str]:
        """Entities this one points at, in column order."""
        return [c.ref for c in self.columns if c.ref]


@dataclass(frozen=True, slots=True)
class Hint:
    """A known entity and the goal words that bring it in."""

    entity: Entity
    pattern: re.Pattern[str]


def _parse(spec: str) -> tuple[Hint, ...]:
    hints: list[Hint] = []
    header: tuple[str, str, set[str]] | None = None
    columns: list[Column] = []

    def flush() -> None:
        if header is not None:
            name, pattern, flags = header
            entity = Entity(name, tuple(columns), "append-only" in flags, "personal" in flags)
            compiled = re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.I)
            hints.append(Hint(entity, compiled))

    for line in spec.strip().splitlines():
        if not line.startswith(" "):
            flush()
            head, _, pattern = line.partition(" ~ ")
            flags = set(re.findall(r"\[([a-z-]+)\]", head))
            header, columns = (re.sub(r"\s*\[[a-z-]+\]", "", head).strip(), pattern, flags), []
            continue
        name, _, rest = line.strip().partition(": ")
        typed, _, note = rest.partition("; ")
        type_, _, ref = typed.partition(" -> ")
        columns.append(Column(name, type_.strip(), note.strip(), ref.strip() or None))
    flush()
    return tuple(hints)


HINTS: tuple[Hint, ...] = _parse(_SPEC)
_USER = next(h.entity for h in HINTS if h.entity.name == "User")

_IRREGULAR = {
    "aliases": "alias",
    "statuses": "status",
    "analyses": "analysis",
    "people": "person",
    "children": "child",
    "indices": "index",
    "data": "data",
    "media": "media",
    "news": "news",
    "series": "series",
}
_MASS_NOUNS = ("revenue", "data", "information")
_NOT_ENTITIES = frozenset(
    {
        "access",
        "analytics",
        "support",
        "backing",
        "validation",
        "rotation",
        "logging",
        "search",
        "versioning",
        "caching",
        "monitoring",
        "inference",
        "progress",
        "downtime",
        "security",
        "performance",
        "scale",
        "reliability",
        "retraining",
        "integration",
        "deployment",
        "ui",
        "api",
        "views",
        "view",
        "metrics",
        "trends",
        "insights",
        "limits",
        "bars",
        "tooling",
        "production",
        "staging",
        "storage",
    }
)
_TECHNOLOGIES = frozenset(
    {
        "oidc",
        "saml",
        "oauth",
        "websocket",
        "ble",
        "redis",
        "postgresql",
        "kafka",
        "graphql",
        "grpc",
        "http",
        "json",
        "aws",
        "gcp",
        "azure",
        "markdown",
        "parquet",
        "docker",
        "kubernetes",
    }
)
_STARTS_WITH_PREPOSITION = re.compile(r"^(?:into|to|from|over|on|in|for|of|by|with|under)\s", re.I)
_PREPOSITION = re.compile(r"\s+(?:into|to|from|over|on|in|for|of|by|with|across|per)\s+.*$", re.I)
_LEADING = re.compile(r"^(?:a|an|the|its|their|our|all|every|each|new|live|daily|basic)\s+", re.I)


def singular(word: str) -> str:
    """A noun's singular form, good enough for entity names (``aliases`` → ``alias``)."""
    lower = word.lower()
    if lower in _IRREGULAR:
        found = _IRREGULAR[lower]
        return found.capitalize() if word[:1].isupper() else found
    if lower.endswith("ies") and len(lower) > 4:
        return word[:-3] + "y"
    if lower.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return word[:-2]
    if lower.endswith("s") and not lower.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def plural(name: str) -> str:
    """A name's plural (``Alias`` → ``Aliases``); mass nouns stay as they are."""
    words = name.split()
    last = words[-1]
    lower = last.lower()
    if lower in _MASS_NOUNS:
        return name
    if lower.endswith(("s", "x", "ch", "sh", "z")):
        last += "es"
    elif lower.endswith("y") and lower[-2:-1] not in "aeiou":
        last = last[:-1] + "ies"
    else:
        last += "s"
    return " ".join([*words[:-1], last])


def _generic_entity(phrase: str) -> Entity | None:
    """An entity named after a noun phrase's last two words (``retention cohorts``)."""
    phrase = _PREPOSITION.sub("", phrase.strip())
    while (stripped := _LEADING.sub("", phrase)) != phrase:
        phrase = stripped
    if _STARTS_WITH_PREPOSITION.match(phrase):
        return None
    words = re.findall(r"[A-Za-z][A-Za-z0-9-]*", phrase)[-2:]
    if not words or len(words[-1]) < 3 or words[-1].lower() in _NOT_ENTITIES:
        return None
    if singular(words[-1]).lower() in _TECHNOLOGIES:
        return None
    words = [w if w.isupper() else w.lower() for w in [*words[:-1], singular(words[-1])]]
    name = " ".join(words)
    columns = (
        Column("name", "text", "what people call it"),
        Column("status", "text", "its lifecycle state"),
        Column("updated_at", "timestamptz"),
    )
    return Entity(name[:1].upper() + name[1:], columns, origin=phrase)


def _complete(entity: Entity, present: set[str]) -> Entity:
    """Add ``id``/``created_at`` and drop foreign keys to entities the model does not have."""
    kept = tuple(c for c in entity.columns if c.ref is None or c.ref in present)
    columns = (Column("id", "uuid", "primary key"), *kept, Column("created_at", "timestamptz"))
    return Entity(entity.name, columns, entity.append_only, entity.personal, entity.origin)


def infer_entities(
    goal: str, phrases: tuple[str, ...], traits: frozenset[str], *, limit: int = 10
) -> tuple[Entity, ...]:
    """The entities a goal implies: known nouns first, then one per other noun phrase.

    ``phrases`` are the goal's feature noun phrases (objects of action features included).
    ``User`` is added for software with sign-in, roles or people's data.
    """
    found: dict[str, Entity] = {}
    matched: list[Hint] = []
    for hint in HINTS:
        match = hint.pattern.search(goal)
        if match and hint.entity.name not in found:
            e = hint.entity
            found[e.name] = Entity(e.name, e.columns, e.append_only, e.personal, match.group(0))
            matched.append(hint)
    for phrase in phrases:
        if any(h.pattern.search(phrase) for h in matched):
            continue
        entity = _generic_entity(phrase)
        if entity is not None and entity.name not in found:
            found[entity.name] = entity
    wants_user = bool(traits & {"auth", "pii"}) or any(
        c.ref == "User" for e in found.values() for c in e.columns
    )
    if wants_user and "User" not in found and traits & {"web", "api", "mobile", "auth", "bot"}:
        found["User"] = Entity("User", _USER.columns, personal=True, origin="sign-in")
    entities = list(found.values())[:limit]
    present = {e.name for e in entities}
    return tuple(_complete(e, present) for e in entities)
