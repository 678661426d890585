"""The kinds of software the local planner recognises, as data.

Each :class:`Kind` says how to recognise a goal (weighted keyword patterns) and what a good
plan for it contains: the specialist tasks and their dependencies, the non-functional
requirements, risks, decisions, next steps, phases, architecture and project shape. The local
planner (:mod:`missionctl.planning.local`) fills the templates with what it reads in the
mission: the subject, the goal's own features, the named technologies and the constraints.

To add a kind, append a :class:`Kind` to :data:`KINDS` (more specific kinds first: ties go to the
earlier kind) and run ``tests/planning``: they check every template renders and validates.

Template placeholders (``str.format`` fields) available everywhere:

- ``{subject}``: what is being built ("URL shortener"); ``{features}``: the goal's features;
- ``{a_subject}`` / ``{A_subject}``: the subject after its indefinite article ("an internal
  tool", "An internal tool"); write these, never "a {subject}", so the article fits the word;
- ``{the_feature}`` (feature templates and titles only): the feature after "the", unless it
  has its own article ("the core of the …");
- ``{stack}``: the technologies named in the mission, or the kind's default stack;
- ``{host}``, ``{cadence}``, ``{source}``, ``{target}``, ``{downtime}``, ``{scale}``;
- one field per technology slot (see :data:`SLOT_DEFAULTS`), e.g. ``{database}``: the
  technology of that category named in the mission, or the kind's default, or the global one.

In a task's ``depends_on`` and in a phase's ``task_keys``, :data:`FEATURES` stands for the
feature tasks (one per feature of the goal). In ``traces``, ``"features"`` stands for every
feature requirement and ``"constraints"`` for the requirements derived from the constraints;
any other tag names one of the kind's own requirements.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from missionctl.schemas.plans import Likelihood, Priority, RiskTier, Severity, SpecialistRole

__all__ = [
    "FEATURES",
    "GENERIC",
    "KINDS",
    "SLOT_DEFAULTS",
    "DecisionTemplate",
    "Kind",
    "PhaseTemplate",
    "RequirementTemplate",
    "RiskTemplate",
    "TaskTemplate",
    "kind_by_key",
]

FEATURES = "@features"
"""Placeholder for the feature tasks in ``depends_on`` and ``task_keys``."""

SLOT_DEFAULTS: Mapping[str, str] = {
    "language": "Python",
    "web_framework": "FastAPI",
    "frontend": "server-rendered HTML with htmx",
    "mobile": "React Native",
    "database": "PostgreSQL",
    "warehouse": "a columnar warehouse (BigQuery or Snowflake)",
    "cache": "Redis",
    "queue": "a durable job queue",
    "cloud": "the chosen cloud provider",
    "iac": "Terraform",
    "orchestrator": "a workflow orchestrator (Airflow, Dagster or Prefect)",
    "chat": "Slack",
    "idp": "the organisation's identity provider",
    "mcu": "an nRF52-class BLE microcontroller",
    "ml_framework": "gradient-boosted trees (LightGBM)",
    "browser": "Chrome and Firefox",
    "llm": "the configured LLM",
    "saas": "the source system's API",
}
"""Technology slots and their global defaults, used when neither the mission nor the kind
names one."""


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    """A task every plan of a kind contains."""

    key: str
    role: SpecialistRole
    title: str
    description: str
    depends_on: tuple[str, ...] = ()
    artifacts: tuple[str, ...] = ()
    acceptance: tuple[str, ...] = ()
    risk_tier: RiskTier = "read"
    estimate_tokens: int = 20_000
    traces: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RequirementTemplate:
    """A non-functional requirement every plan of a kind carries; ``tag`` names it in traces."""

    tag: str
    text: str
    priority: Priority = "must"


@dataclass(frozen=True, slots=True)
class RiskTemplate:
    """A risk typical of a kind."""

    title: str
    description: str
    severity: Severity
    likelihood: Likelihood
    mitigation: str


@dataclass(frozen=True, slots=True)
class DecisionTemplate:
    """A decision typical of a kind.

    When ``slot`` names a technology slot and the mission names a technology of that slot, the
    planner records that the mission made the choice and drops it from the alternatives.
    """

    title: str
    choice: str
    reasons: tuple[str, ...]
    trade_offs: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    slot: str | None = None


@dataclass(frozen=True, slots=True)
class PhaseTemplate:
    """A phase: a named group of task keys (:data:`FEATURES` allowed)."""

    key: str
    name: str
    goal: str
    task_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of software and the shape of a good plan for it.

    Attributes:
        key: Stable identifier (``"web_app"``).
        label: Human name used in summaries ("web application").
        keywords: ``(regex, weight)`` pairs matched case-insensitively on word boundaries.
        approach: One or two sentences on how this kind of work is best delivered.
        feature_role: Default role of a feature task.
        feature_roles: Roles a feature task may take when its words suggest one.
        feature_title: Title of a feature task whose feature is a noun phrase.
        feature_description: Description of a feature task.
        feature_requirement: Text of a feature requirement.
        feature_acceptance: Acceptance criteria of a feature task.
        feature_artifacts: Expected artifacts of a feature task.
        feature_tokens: Token estimate of a feature task.
        feature_deps: Tasks every feature task depends on.
        tasks: The kind's own tasks, in plan order.
        requirements: The kind's non-functional requirements.
        risks: Typical risks.
        decisions: Typical decisions.
        next_steps: Typical next steps.
        phases: Phases covering every task once.
        architecture: Components of the architecture, one line each.
        project_shape: Suggested files and folders.
        design_key: Task that traces the constraint requirements.
        verify_key: Task that traces every requirement no other task traces.
        surveys_existing: Whether the tasks already study an existing system (no extra
            survey task is added for brownfield missions).
        needs_feature_task: Whether a goal without features still gets one feature task
            (for the core of the subject); kinds whose own tasks cover the work say no.
        defaults: Technology slot defaults for this kind.
        cadence: Default cadence of scheduled work.
    """

    key: str
    label: str
    keywords: tuple[tuple[str, int], ...]
    approach: str
    feature_role: SpecialistRole
    feature_roles: tuple[SpecialistRole, ...]
    feature_title: str
    feature_description: str
    feature_requirement: str
    feature_acceptance: tuple[str, ...]
    feature_artifacts: tuple[str, ...]
    tasks: tuple[TaskTemplate, ...]
    requirements: tuple[RequirementTemplate, ...]
    risks: tuple[RiskTemplate, ...]
    decisions: tuple[DecisionTemplate, ...]
    next_steps: tuple[str, ...]
    phases: tuple[PhaseTemplate, ...]
    architecture: tuple[str, ...]
    project_shape: tuple[str, ...]
    design_key: str
    verify_key: str
    feature_deps: tuple[str, ...] = ()
    feature_tokens: int = 45_000
    surveys_existing: bool = False
    needs_feature_task: bool = True
    defaults: Mapping[str, str] = field(default_factory=dict)
    cadence: str = "daily"


def _t(
    key: str,
    role: SpecialistRole,
    title: str,
    description: str,
    *,
    deps: tuple[str, ...] = (),
    artifacts: tuple[str, ...] = (),
    acceptance: tuple[str, ...] = (),
    tier: RiskTier = "read",
    tokens: int = 20_000,
    traces: tuple[str, ...] = (),
) -> TaskTemplate:
    return TaskTemplate(
        key=key,
        role=role,
        title=title,
        description=description,
        depends_on=deps,
        artifacts=artifacts,
        acceptance=acceptance,
        risk_tier=tier,
        estimate_tokens=tokens,
        traces=traces,
    )


def _r(tag: str, text: str, priority: Priority = "must") -> RequirementTemplate:
    return RequirementTemplate(tag=tag, text=text, priority=priority)


def _risk(
    title: str, description: str, severity: Severity, likelihood: Likelihood, mitigation: str
) -> RiskTemplate:
    return RiskTemplate(title, description, severity, likelihood, mitigation)


def _d(
    title: str,
    choice: str,
    reasons: tuple[str, ...],
    trade_offs: tuple[str, ...] = (),
    alternatives: tuple[str, ...] = (),
    slot: str | None = None,
) -> DecisionTemplate:
    return DecisionTemplate(title, choice, reasons, trade_offs, alternatives, slot)


def _p(key: str, name: str, goal: str, *task_keys: str) -> PhaseTemplate:
    return PhaseTemplate(key, name, goal, task_keys)


F = FEATURES

WEB_APP = Kind(
    key="web_app",
    label="web application",
    keywords=(
        (r"web ?app", 4),
        (r"web application", 3),
        (r"website", 3),
        (r"url shortener|link shortener|shortener", 5),
        (r"saas", 3),
        (r"portal", 3),
        (r"marketplace", 3),
        (r"e-?commerce|online store|storefront", 3),
        (r"landing page", 3),
        (r"dashboard", 2),
        (r"next\.?js", 2),
        (r"full[- ]stack", 3),
        (r"frontend|front-end", 2),
        (r"react", 1),
        (r"django|rails|laravel", 1),
        (r"booking", 1),
        (r"users? can", 1),
    ),
    approach=(
        "Agree the user journeys first, then build thin vertical slices (storage, API, UI and "
        "tests per feature) on a small, boring foundation, and ship behind health checks with "
        "a rollback."
    ),
    feature_role="backend",
    feature_roles=("backend", "frontend", "data", "security", "ml", "devops"),
    feature_title="Build {feature} end to end",
    feature_description=(
        "Deliver “{feature}” in the {subject} as a vertical slice: schema change, service "
        "logic, API endpoint from the contract, UI and tests. Keep it behind the contract "
        "agreed in the API task and add its acceptance test to the end-to-end suite."
    ),
    feature_requirement=(
        "{feature_title}: available end to end in the {subject} (UI, API and storage) and "
        "covered by acceptance tests."
    ),
    feature_acceptance=(
        "“{feature}” works end to end in the {subject}, shown by an automated acceptance test",
        "Invalid input for “{feature}” gets a clear error naming the field",
    ),
    feature_artifacts=("pull request: {slug}", "tests/e2e/test_{slug_}.py"),
    tasks=(
        _t(
            "scope",
            "product",
            "Define the {subject} scope, user journeys and acceptance criteria",
            "Write the one-page PRD for the {subject}: target users, the journeys for "
            "{features}, what is explicitly out of scope, and measurable acceptance criteria "
            "that the end-to-end tests will check.",
            artifacts=("prd.md", "user-journeys.md"),
            acceptance=(
                "Every feature of the {subject} has a user story with acceptance criteria",
                "Out-of-scope list agreed with the mission owner",
            ),
            tokens=15_000,
            traces=("features",),
        ),
        _t(
            "architecture",
            "architect",
            "Design the {subject} architecture and data model",
            "Choose the stack ({stack}), draw the components (browser, app server, "
            "{database}, background worker) and model the entities behind {features}, with "
            "indexes for the hot read paths.",
            deps=("scope",),
            artifacts=("architecture.md", "data-model.md", "adr-0001-stack.md"),
            acceptance=(
                "The data model covers every feature of the {subject}",
                "The stack decision is recorded with alternatives and trade-offs",
            ),
            tokens=30_000,
            traces=("features", "perf", "constraints"),
        ),
        _t(
            "ux-design",
            "frontend",
            "Design the {subject} screens and states",
            "Sketch every screen of the user journeys with its empty, loading and error "
            "states, the navigation, and the copy for errors; check contrast and keyboard use.",
            deps=("scope",),
            artifacts=("ui-flows.md", "wireframes.md"),
            acceptance=(
                "Each screen of the {subject} has empty, loading and error states",
                "Core journeys are usable with the keyboard only",
            ),
            tokens=20_000,
            traces=("features", "a11y"),
        ),
        _t(
            "api-contract",
            "backend",
            "Write the {subject} HTTP API contract",
            "Specify every endpoint the journeys need as OpenAPI: request and response "
            "schemas, pagination, error format and status codes, authentication, and rate "
            "limits for public endpoints.",
            deps=("architecture",),
            artifacts=("api-contract.md", "openapi.yaml"),
            acceptance=(
                "Every user journey of the {subject} maps to documented endpoints",
                "Errors use one documented format with the field at fault",
            ),
            tokens=20_000,
            traces=("features", "security"),
        ),
        _t(
            "foundation",
            "backend",
            "Scaffold the {subject} app, persistence and CI",
            "Create the repository skeleton on {web_framework}: configuration from the "
            "environment, {database} migrations, health endpoint, structured logging, and a CI "
            "pipeline running lint, type checks and tests.",
            deps=("architecture",),
            artifacts=("repository skeleton", "migrations/0001_initial.sql", "ci.yml"),
            acceptance=(
                "CI of the {subject} runs lint, type checks and tests on every push",
                "Migrations apply cleanly on an empty database",
            ),
            tier="write",
            tokens=35_000,
            traces=("perf", "observability"),
        ),
        _t(
            "ui",
            "frontend",
            "Build the {subject} UI shell and shared components",
            "Implement layout, navigation, forms and the shared empty/loading/error "
            "components from the designs, wired to the API contract.",
            deps=("ux-design", "api-contract"),
            artifacts=("ui components", "style guide page"),
            acceptance=(
                "Every screen of the {subject} renders its three states from real API data",
                "Lighthouse accessibility score of 90 or more on the main pages",
            ),
            tier="write",
            tokens=45_000,
            traces=("a11y",),
        ),
        _t(
            "security-review",
            "security",
            "Review authentication, input validation and abuse limits",
            "Threat-model the public surface of the {subject}: authentication and sessions, "
            "authorisation per endpoint, input validation, abuse (spam, enumeration, "
            "scraping) and secrets handling.",
            deps=("api-contract",),
            artifacts=("threat-model.md",),
            acceptance=(
                "OWASP Top 10 checks reviewed for every public endpoint",
                "Public endpoints of the {subject} are rate limited",
            ),
            tokens=18_000,
            traces=("security", "constraints"),
        ),
        _t(
            "e2e-tests",
            "qa",
            "Write the test plan and end-to-end suite",
            "Turn the acceptance criteria into an end-to-end suite that drives a real "
            "browser against a real database, plus a smoke test for production.",
            deps=(F, "ui"),
            artifacts=("test-plan.md", "tests/e2e/"),
            acceptance=(
                "Each requirement of the {subject} has at least one passing end-to-end test",
                "The suite runs in CI in under ten minutes",
            ),
            tier="write",
            tokens=35_000,
            traces=("features",),
        ),
        _t(
            "release",
            "release",
            "Deploy the {subject} to production",
            "Provision production, deploy with health checks, verify the smoke test, and "
            "document rollback and on-call in a runbook.",
            deps=("e2e-tests", "security-review", "foundation"),
            artifacts=("runbook.md", "release-notes.md"),
            acceptance=(
                "The {subject} runs in production with health checks green",
                "Rollback rehearsed once before launch",
            ),
            tier="irreversible",
            tokens=15_000,
            traces=("observability",),
        ),
    ),
    requirements=(
        _r(
            "perf",
            "Pages of the {subject} render in under 1 s and API reads answer in under 300 ms "
            "at p95 under the expected load.",
        ),
        _r(
            "security",
            "Every endpoint authenticates and authorises its caller and validates its input; "
            "secrets stay server-side.",
        ),
        _r("a11y", "Core journeys meet WCAG 2.1 AA.", "should"),
        _r(
            "observability",
            "Structured logs, request metrics and error tracking from the first deploy.",
            "should",
        ),
    ),
    risks=(
        _risk(
            "Scope creep",
            "Features beyond {features} creep in and delay the first release of the {subject}.",
            "medium",
            "high",
            "Keep an explicit out-of-scope list; new ideas go to the backlog, not the sprint.",
        ),
        _risk(
            "Abuse of public endpoints",
            "Spam, enumeration or scraping of the {subject} once it is public.",
            "high",
            "medium",
            "Rate limits, bot protection on writes, unguessable identifiers, abuse alerts.",
        ),
        _risk(
            "Hot read path slows down as data grows",
            "The most frequent reads of the {subject} degrade when tables grow.",
            "medium",
            "medium",
            "Index the hot queries, cache reads, and load-test with production-like volumes.",
        ),
    ),
    decisions=(
        _d(
            "Storage",
            "Use {database} as the system of record, with migrations in the repository.",
            (
                "Relational integrity for the entities of the {subject}",
                "Mature tooling for backups and migrations",
            ),
            ("Needs schema migrations for every model change",),
            ("SQLite for a single-node MVP", "A document store"),
            slot="database",
        ),
        _d(
            "Rendering model",
            "{frontend} for the UI, talking to the documented HTTP API.",
            (
                "Fewer moving parts than a separate single-page app",
                "The API stays usable by other clients",
            ),
            ("Rich client-side interactions need more care",),
            ("A single-page app (React/Vue)", "Server pages without an API"),
            slot="frontend",
        ),
        _d(
            "Sync vs async work",
            "Serve requests synchronously; move slow or bursty work (emails, aggregation, "
            "exports) to {queue} processed by a worker.",
            ("Keeps request latency low and predictable", "Retries without user-visible errors"),
            ("A worker process to deploy and monitor",),
            ("Do everything inside the request", "Cron scripts"),
            slot="queue",
        ),
    ),
    next_steps=(
        "Confirm the scope and acceptance criteria of the {subject} with the mission owner.",
        "Create the repository and CI so the foundation task can start immediately.",
        "Book a short usability check of the UI flows before the build phase.",
    ),
    phases=(
        _p(
            "foundations",
            "Foundations",
            "Scope, design and the skeleton every feature builds on.",
            "scope",
            "architecture",
            "ux-design",
            "api-contract",
            "foundation",
        ),
        _p(
            "build",
            "Build",
            "Deliver the features of the {subject} as vertical slices.",
            F,
            "ui",
            "security-review",
        ),
        _p("launch", "Launch", "Prove it end to end and ship.", "e2e-tests", "release"),
    ),
    architecture=(
        "Browser UI: {frontend}",
        "App server and HTTP API: {web_framework}",
        "System of record: {database}",
        "Background worker on {queue} for slow work",
        "Observability: structured logs, metrics, error tracking",
    ),
    project_shape=(
        "app/api/",
        "app/services/",
        "app/web/templates/",
        "migrations/",
        "tests/e2e/",
        "docs/adr/",
    ),
    design_key="architecture",
    verify_key="e2e-tests",
    feature_deps=("api-contract", "foundation"),
)

API_SERVICE = Kind(
    key="api_service",
    label="API / backend service",
    keywords=(
        (r"rest(?:ful)? api", 5),
        (r"api", 2),
        (r"backend", 3),
        (r"micro-?services?", 4),
        (r"web service", 3),
        (r"endpoints?", 2),
        (r"grpc", 3),
        (r"openapi|swagger", 3),
        (r"crud", 2),
        (r"services?", 1),
        (r"server", 1),
    ),
    approach=(
        "Contract first: agree the resources, the authorisation matrix and the OpenAPI "
        "document, then implement each resource against contract tests, and deploy with "
        "observability and automatic rollback."
    ),
    feature_role="backend",
    feature_roles=("backend", "security", "data", "ml", "devops"),
    feature_title="Implement {the_feature} resource",
    feature_description=(
        "Implement “{feature}” in the {subject}: tables and migrations, service rules, "
        "endpoints exactly as in the OpenAPI contract, authorisation checks from the matrix, "
        "and contract tests for success and failure cases."
    ),
    feature_requirement=(
        "{feature_title}: exposed by the {subject} with validated input, documented errors "
        "and persistence, covered by contract tests."
    ),
    feature_acceptance=(
        "The {subject} serves “{feature}” exactly as the OpenAPI contract says",
        "Unauthorised access to “{feature}” is refused with 403 and logged",
    ),
    feature_artifacts=("endpoints + migrations: {slug}", "tests/contract/test_{slug_}.py"),
    tasks=(
        _t(
            "domain-analysis",
            "product",
            "Map the {subject} domain, actors and use cases",
            "List the actors, the resources ({features}) and their lifecycles, who may do "
            "what, and the business rules (e.g. double booking, state changes, totals).",
            artifacts=("domain-glossary.md", "use-cases.md"),
            acceptance=(
                "Each resource of the {subject} has its lifecycle and allowed actors",
                "Business rules are written as testable statements",
            ),
            tokens=15_000,
            traces=("features",),
        ),
        _t(
            "data-model",
            "architect",
            "Design the {subject} data model",
            "Model entities, relations, constraints and indexes in {database}, including "
            "soft deletion, audit columns and retention rules for personal data.",
            deps=("domain-analysis",),
            artifacts=("data-model.md", "erd.md"),
            acceptance=(
                "Every resource of the {subject} has a table with keys, constraints and indexes",
                "Retention and deletion rules stated for personal data",
            ),
            tokens=25_000,
            traces=("features", "integrity", "constraints"),
        ),
        _t(
            "api-contract",
            "backend",
            "Write the {subject} OpenAPI contract",
            "Specify every endpoint: schemas, pagination, filtering, error format, "
            "idempotency keys for writes, and the versioning policy.",
            deps=("domain-analysis",),
            artifacts=("api-contract.md", "openapi.yaml"),
            acceptance=(
                "The OpenAPI document covers every use case of the {subject}",
                "Versioning and idempotency rules are stated",
            ),
            tokens=22_000,
            traces=("features", "compat"),
        ),
        _t(
            "authz-design",
            "security",
            "Design authentication and the authorisation matrix",
            "Choose the token scheme, define roles and a role-by-action matrix for every "
            "endpoint, and plan audit logging of changes.",
            deps=("domain-analysis",),
            artifacts=("authz-matrix.md",),
            acceptance=(
                "Every endpoint of the {subject} appears in the role-by-action matrix",
                "Tokens expire and can be revoked",
            ),
            tokens=15_000,
            traces=("security",),
        ),
        _t(
            "service-skeleton",
            "backend",
            "Scaffold the service, migrations and CI",
            "Create the {web_framework} service: settings, {database} migrations, health and "
            "readiness endpoints, error handler producing the contract's error format, CI.",
            deps=("data-model", "api-contract"),
            artifacts=("service skeleton", "migrations/0001_initial.sql", "ci.yml"),
            acceptance=(
                "Health and readiness endpoints of the {subject} respond",
                "Migrations apply and roll back cleanly in CI",
            ),
            tier="write",
            tokens=35_000,
            traces=("integrity",),
        ),
        _t(
            "observability",
            "devops",
            "Add logs, metrics, traces and alerts",
            "Instrument the {subject}: request logs with correlation ids, RED metrics per "
            "endpoint, traces to the database, and alerts on error rate and latency.",
            deps=("service-skeleton",),
            artifacts=("dashboards.json", "alerts.md"),
            acceptance=(
                "p95 latency and error rate of the {subject} visible per endpoint",
                "An alert fires in staging when the error rate passes the threshold",
            ),
            tier="write",
            tokens=20_000,
            traces=("perf",),
        ),
        _t(
            "contract-tests",
            "qa",
            "Contract, authorisation and load tests",
            "Test every endpoint against the OpenAPI document, enforce the authorisation "
            "matrix in tests, and run a short load test at the expected peak.",
            deps=(F, "observability"),
            artifacts=("test-plan.md", "tests/contract/", "load-test-report.md"),
            acceptance=(
                "Every endpoint of the {subject} has positive and negative tests",
                "The authorisation matrix is enforced by tests",
            ),
            tier="write",
            tokens=35_000,
            traces=("features", "security", "perf"),
        ),
        _t(
            "deploy",
            "release",
            "Deploy the {subject} with automatic rollback",
            "Deploy to staging then production with rolling or blue/green deploys, run "
            "migrations safely, and write the runbook.",
            deps=("contract-tests",),
            artifacts=("runbook.md", "release-notes.md"),
            acceptance=(
                "A failed health check rolls the {subject} deploy back automatically",
                "Runbook covers restore from backup",
            ),
            tier="irreversible",
            tokens=15_000,
            traces=("compat",),
        ),
    ),
    requirements=(
        _r(
            "perf",
            "Reads answer in under 200 ms and writes in under 400 ms at p95; 99.9% "
            "monthly availability.",
        ),
        _r(
            "security",
            "Every request is authenticated and authorised by role; changes to records are "
            "audit-logged.",
        ),
        _r("integrity", "Database constraints enforce the business rules; no orphan records."),
        _r(
            "compat",
            "The API is versioned; changes are backward compatible within a version.",
            "should",
        ),
    ),
    risks=(
        _risk(
            "Broken object-level authorisation",
            "A caller reads or edits another party's records of the {subject} by changing an id.",
            "critical",
            "medium",
            "Authorisation checks in the service layer for every object, tested from the matrix.",
        ),
        _risk(
            "Breaking changes for clients",
            "A contract change breaks existing clients of the {subject}.",
            "high",
            "medium",
            "Contract tests in CI, additive changes only within a version, deprecation notice.",
        ),
        _risk(
            "Slow queries as data grows",
            "N+1 queries and missing indexes make list endpoints slow.",
            "medium",
            "medium",
            "Query budgets in tests, indexes from the data model, pagination everywhere.",
        ),
    ),
    decisions=(
        _d(
            "API style",
            "Resource-oriented REST with an OpenAPI contract.",
            ("Widest client support and tooling", "The contract doubles as documentation"),
            ("Several round trips for nested views",),
            ("GraphQL", "gRPC"),
        ),
        _d(
            "Framework",
            "Build the service on {web_framework}.",
            ("Typed request validation and generated OpenAPI", "Well known to the team"),
            ("Framework conventions to follow",),
            ("FastAPI", "Django REST Framework", "Express/NestJS", "Spring Boot"),
            slot="web_framework",
        ),
        _d(
            "Storage",
            "{database} with migrations in the repository.",
            ("Transactions and constraints for the business rules",),
            ("Schema changes need migrations and care with locks",),
            ("PostgreSQL", "MySQL", "MongoDB"),
            slot="database",
        ),
        _d(
            "Pagination",
            "Cursor-based pagination on every list endpoint.",
            ("Stable under concurrent inserts", "Constant cost per page"),
            ("No random access to page N",),
            ("Offset/limit pagination",),
        ),
    ),
    next_steps=(
        "Review the role-by-action matrix of the {subject} with the people who will use it.",
        "Share the draft OpenAPI contract with the first client team for feedback.",
        "Provision staging with a production-like dataset for the load test.",
    ),
    phases=(
        _p(
            "design",
            "Design",
            "Agree the domain, the contract and who may do what.",
            "domain-analysis",
            "data-model",
            "api-contract",
            "authz-design",
        ),
        _p(
            "build",
            "Build",
            "Implement the resources of the {subject} against the contract.",
            "service-skeleton",
            F,
            "observability",
        ),
        _p("ship", "Verify and ship", "Prove the contract and deploy.", "contract-tests", "deploy"),
    ),
    architecture=(
        "HTTP API: {web_framework}, OpenAPI contract",
        "Service layer with the business rules and authorisation",
        "System of record: {database}",
        "Observability: logs, metrics, traces, alerts",
    ),
    project_shape=(
        "service/api/routes/",
        "service/domain/",
        "service/repositories/",
        "migrations/",
        "openapi.yaml",
        "tests/contract/",
    ),
    design_key="data-model",
    verify_key="contract-tests",
    feature_deps=("service-skeleton", "authz-design"),
)

CLI_TOOL = Kind(
    key="cli_tool",
    label="command-line tool",
    keywords=(
        (r"command[- ]line", 5),
        (r"cli", 5),
        (r"terminal", 3),
        (r"shell", 2),
        (r"console (?:app|tool)", 3),
        (r"flags?", 1),
        (r"scripts?", 1),
    ),
    approach=(
        "Design the command surface and its exit codes first, keep the logic in a library "
        "the CLI only wraps, stream data so memory stays flat, and release installable "
        "packages for every platform."
    ),
    feature_role="backend",
    feature_roles=("backend", "data", "security", "frontend"),
    feature_title="Implement {feature}",
    feature_description=(
        "Implement “{feature}” in the core library of the {subject}, expose it through the "
        "command surface in the CLI spec, and test it on the edge-case corpus."
    ),
    feature_requirement=(
        "{feature_title}: available from the {subject} with --help text, documented exit "
        "codes and tests."
    ),
    feature_acceptance=(
        "“{feature}” works from the {subject} on the fixture corpus",
        "--help documents “{feature}” with an example",
    ),
    feature_artifacts=("module: {slug}", "tests/test_{slug_}.py"),
    tasks=(
        _t(
            "cli-spec",
            "product",
            "Specify commands, flags, output and exit codes",
            "Write the command surface of the {subject}: commands and flags, defaults, "
            "human and --json output, exit codes, and examples for {features}.",
            artifacts=("cli-spec.md",),
            acceptance=(
                "Every command of the {subject} has usage text, examples and exit codes",
                "Machine-readable --json output is defined",
            ),
            tokens=12_000,
            traces=("features", "scripting"),
        ),
        _t(
            "architecture",
            "architect",
            "Design the core library and the thin CLI layer",
            "Separate the core (pure, streaming, testable) from the CLI adapter; define how "
            "large inputs are streamed in chunks and how progress is reported.",
            deps=("cli-spec",),
            artifacts=("design.md",),
            acceptance=(
                "The core of the {subject} is usable without the CLI",
                "Memory use is bounded by chunk size, not input size",
            ),
            tokens=20_000,
            traces=("memory", "constraints"),
        ),
        _t(
            "test-corpus",
            "qa",
            "Build a corpus of edge-case inputs",
            "Collect and generate inputs: empty, huge, malformed, mixed encodings, unusual "
            "types and locales, with the expected outputs.",
            deps=("cli-spec",),
            artifacts=("tests/fixtures/", "test-plan.md"),
            acceptance=(
                "The corpus covers empty, huge, malformed and non-UTF-8 inputs for the {subject}",
                "Each fixture has its expected output",
            ),
            tier="write",
            tokens=18_000,
            traces=("features",),
        ),
        _t(
            "scaffold",
            "backend",
            "Scaffold the package, entry point and CI",
            "Create the {language} package with the console entry point, --help and "
            "--version, typing, and a CI matrix over Linux, macOS and Windows.",
            deps=("architecture",),
            artifacts=("package skeleton", "ci.yml"),
            acceptance=(
                "`--help` and `--version` of the {subject} work from a fresh install",
                "CI runs on Linux, macOS and Windows",
            ),
            tier="write",
            tokens=20_000,
            traces=("portability",),
        ),
        _t(
            "errors-ux",
            "backend",
            "Error messages, exit codes and interruption",
            "Map every failure to a message that names the input and the fix, and to a "
            "documented exit code; make Ctrl-C leave no partial output files.",
            deps=("scaffold",),
            artifacts=("errors.md",),
            acceptance=(
                "Errors of the {subject} name the input and the fix",
                "Interrupting leaves no partial output file",
            ),
            tier="write",
            tokens=15_000,
            traces=("scripting",),
        ),
        _t(
            "perf-tests",
            "qa",
            "Test and benchmark on large inputs",
            "Run the corpus in CI and benchmark throughput and peak memory on a large "
            "input; record the figures in the README.",
            deps=(F, "test-corpus"),
            artifacts=("bench/results.json",),
            acceptance=(
                "Throughput and peak memory of the {subject} measured on a 1 GB input",
                "All corpus cases pass on every CI platform",
            ),
            tier="write",
            tokens=25_000,
            traces=("memory", "features"),
        ),
        _t(
            "docs",
            "docs",
            "Write the README, examples and man page",
            "Quick start, one example per command, the exit code table and a "
            "troubleshooting section.",
            deps=(F, "errors-ux"),
            artifacts=("README.md", "docs/cli.md"),
            acceptance=("The README quick start of the {subject} works copy-paste",),
            tokens=12_000,
            traces=("scripting",),
        ),
        _t(
            "release",
            "release",
            "Package and publish the first release",
            "Build wheels or binaries for each platform, sign them, publish to the package "
            "registry, and tag the release with a changelog.",
            deps=("perf-tests", "docs"),
            artifacts=("CHANGELOG.md", "release artifacts"),
            acceptance=(
                "The {subject} installs with one command on Linux, macOS and Windows",
                "The published version is tagged and reproducible",
            ),
            tier="irreversible",
            tokens=12_000,
            traces=("portability",),
        ),
    ),
    requirements=(
        _r("memory", "Streams its input: peak memory stays bounded whatever the file size."),
        _r("portability", "Works on Linux, macOS and Windows with the same behaviour."),
        _r(
            "scripting",
            "Stable exit codes and a --json output so scripts can rely on the {subject}.",
        ),
    ),
    risks=(
        _risk(
            "Memory blow-up on large inputs",
            "Loading whole files makes the {subject} crash on inputs larger than RAM.",
            "high",
            "medium",
            "Chunked streaming from the start; a large-file benchmark in CI.",
        ),
        _risk(
            "Platform differences",
            "Paths, encodings and line endings differ on Windows.",
            "medium",
            "high",
            "CI matrix on all three platforms; pathlib and explicit encodings everywhere.",
        ),
        _risk(
            "Breaking scripts that use the tool",
            "Renamed flags or changed output break users' automation.",
            "medium",
            "medium",
            "Treat flags and --json output as a versioned interface; deprecate before removal.",
        ),
        _risk(
            "Heavy dependencies",
            "Large native dependencies make installation slow or impossible on some platforms.",
            "low",
            "medium",
            "Check wheels exist for every platform; keep optional features in extras.",
        ),
    ),
    decisions=(
        _d(
            "Language and runtime",
            "Write the {subject} in {language}.",
            ("Mature libraries for the file formats involved", "Easy to contribute to"),
            ("Needs a runtime or a bundled binary",),
            ("Python", "Go", "Rust"),
            slot="language",
        ),
        _d(
            "Output",
            "Human-readable output with progress on stderr by default; --json for machines.",
            ("Pipes stay clean", "Scripts get a stable format"),
            ("Two output formats to keep in sync",),
            ("Human output only", "JSON only"),
        ),
        _d(
            "Processing model",
            "Stream the input in fixed-size batches with a bounded buffer.",
            ("Flat memory", "Progress can be reported per batch"),
            ("Some inferences need a sampling pass first",),
            ("Load the whole file", "Memory-map the file"),
        ),
    ),
    next_steps=(
        "Collect three real input files from future users for the test corpus.",
        "Reserve the package name on the registry.",
        "Decide the minimum supported {language} version.",
    ),
    phases=(
        _p(
            "design",
            "Design",
            "Command surface, architecture and test corpus.",
            "cli-spec",
            "architecture",
            "test-corpus",
        ),
        _p(
            "build",
            "Build",
            "Implement the features of the {subject} in the core library.",
            "scaffold",
            F,
            "errors-ux",
        ),
        _p(
            "release",
            "Release",
            "Prove it on large inputs and publish.",
            "perf-tests",
            "docs",
            "release",
        ),
    ),
    architecture=(
        "CLI adapter: argument parsing, progress, exit codes",
        "Core library: streaming readers, transforms and writers",
        "Fixture corpus and benchmarks",
    ),
    project_shape=(
        "src/<package>/cli.py",
        "src/<package>/core/",
        "tests/fixtures/",
        "bench/",
        "README.md",
    ),
    design_key="architecture",
    verify_key="perf-tests",
    feature_deps=("scaffold",),
    defaults={"language": "Python"},
)

DATA_PIPELINE = Kind(
    key="data_pipeline",
    label="data pipeline",
    keywords=(
        (r"data pipeline", 5),
        (r"pipelines?", 3),
        (r"etl", 5),
        (r"elt", 4),
        (r"ingest\w*", 3),
        (r"warehouse", 3),
        (r"data lake\w*", 3),
        (r"nightly", 2),
        (r"batch", 2),
        (r"airflow|dagster|dbt", 3),
        (r"kafka|cdc|change data capture", 2),
        (r"streaming", 2),
    ),
    approach=(
        "Start from data contracts with the sources, load incrementally and idempotently into "
        "a staging layer, model the outputs in tested SQL, and treat data quality checks and "
        "reconciliation as release gates."
    ),
    feature_role="data",
    feature_roles=("data", "backend", "devops", "ml", "security"),
    feature_title="Build {feature}",
    feature_description=(
        "Implement “{feature}” in the {subject}: incremental logic keyed on stable ids, "
        "merge instead of append, a data quality check, and documentation of grain and "
        "columns."
    ),
    feature_requirement=(
        "{feature_title}: produced by the {subject} incrementally and idempotently, with "
        "data quality checks."
    ),
    feature_acceptance=(
        "Re-running “{feature}” for the same day gives the same rows",
        "“{feature}” has a data quality check that fails the run on violation",
    ),
    feature_artifacts=("models/{slug_}.sql", "tests: {slug}"),
    tasks=(
        _t(
            "source-analysis",
            "data",
            "Profile the sources and agree data contracts",
            "Profile each source of the {subject} ({saas} and others): volumes, keys, update "
            "and delete semantics, late-arriving records, API limits; write a data contract "
            "per source.",
            artifacts=("source-profile.md", "data-contract.md"),
            acceptance=(
                "Keys, updates and late arrivals documented for every source of the {subject}",
                "API quotas and pagination limits known",
            ),
            tokens=18_000,
            traces=("features", "freshness"),
        ),
        _t(
            "target-model",
            "architect",
            "Model the warehouse layers and tables",
            "Design staging, core and mart layers in {warehouse}: the grain, keys, "
            "partitioning and slowly-changing-dimension strategy of every table the "
            "{subject} builds.",
            deps=("source-analysis",),
            artifacts=("data-model.md",),
            acceptance=(
                "Grain and keys stated for every table of the {subject}",
                "Partitioning and retention chosen for the largest tables",
            ),
            tokens=22_000,
            traces=("features", "constraints"),
        ),
        _t(
            "orchestration",
            "devops",
            "Set up orchestration, schedules and environments",
            "Schedule the {subject} {cadence} on {orchestrator} with retries, timeouts, "
            "alerting, secrets management and backfill by date range; separate dev and prod.",
            deps=("source-analysis",),
            artifacts=("dags/", "environments.md"),
            acceptance=(
                "Runs {cadence} with retries and alerting on failure",
                "A date range can be backfilled with one command",
            ),
            tier="write",
            tokens=20_000,
            traces=("freshness", "operability"),
        ),
        _t(
            "ingestion",
            "data",
            "Build incremental, idempotent ingestion",
            "Extract with a watermark and overlap window, land raw data unchanged, and merge "
            "into staging on source keys so re-runs and late records never duplicate rows.",
            deps=("source-analysis", "orchestration"),
            artifacts=("ingestion code", "staging tables"),
            acceptance=(
                "Re-running a day of the {subject} produces no duplicates",
                "Rate limits and pagination of the source are respected",
            ),
            tier="write",
            tokens=40_000,
            traces=("idempotency",),
        ),
        _t(
            "data-quality",
            "qa",
            "Data quality checks and reconciliation",
            "Add tests for uniqueness, nulls, accepted values and freshness, and reconcile "
            "row counts and totals with the source for a sample of days.",
            deps=(F, "target-model"),
            artifacts=("dq-checks.yml", "reconciliation-report.md"),
            acceptance=(
                "Totals of the {subject} reconcile with the source within 0.1%",
                "Schema drift at the source fails the run loudly",
            ),
            tier="write",
            tokens=25_000,
            traces=("features", "idempotency"),
        ),
        _t(
            "backfill",
            "data",
            "Backfill history and switch consumers",
            "Backfill the history in bounded batches, compare with any existing reports, "
            "then switch dashboards and consumers to the new tables.",
            deps=("data-quality",),
            artifacts=("backfill-log.md",),
            acceptance=(
                "History backfilled and reconciled",
                "Consumers read from the {subject} outputs",
            ),
            tier="irreversible",
            tokens=15_000,
            traces=("freshness",),
        ),
        _t(
            "runbook",
            "docs",
            "Runbook, lineage and SLAs",
            "Document the schedule, SLAs, lineage from source to mart, and how to rerun or "
            "backfill a failed day.",
            deps=("data-quality", "orchestration"),
            artifacts=("runbook.md", "lineage.md"),
            acceptance=("On-call can rerun a failed day of the {subject} from the runbook alone",),
            tokens=10_000,
            traces=("operability",),
        ),
    ),
    requirements=(
        _r(
            "freshness",
            "Data for day D is available by 06:00 UTC on D+1 ({cadence} schedule) and "
            "freshness is monitored.",
        ),
        _r("idempotency", "Every run is idempotent: re-runs and late data never duplicate rows."),
        _r(
            "operability",
            "Failures alert a named owner; any day can be backfilled with one command.",
        ),
    ),
    risks=(
        _risk(
            "Late and duplicate records",
            "Sources deliver records late or twice, so daily totals drift.",
            "high",
            "high",
            "Overlap window on the watermark, merge on source keys, reconciliation checks.",
        ),
        _risk(
            "Schema drift at the source",
            "A source adds, renames or retypes fields without notice.",
            "high",
            "medium",
            "Data contracts, schema checks that fail loudly, raw landing of the original data.",
        ),
        _risk(
            "Source API limits",
            "Rate limits or quotas make the {cadence} load miss its window.",
            "medium",
            "medium",
            "Incremental extraction, backoff, and a measured runtime budget per run.",
        ),
        _risk(
            "Backfill cost and duration",
            "Backfilling years of history costs more and takes longer than expected.",
            "medium",
            "medium",
            "Estimate from a sample month; backfill in bounded batches off-peak.",
        ),
    ),
    decisions=(
        _d(
            "ELT over ETL",
            "Land raw data unchanged, then transform inside {warehouse} with versioned SQL.",
            ("Raw data allows re-modelling without re-extracting", "SQL models are testable"),
            ("Raw storage costs",),
            ("Transform before loading (ETL)",),
            slot="warehouse",
        ),
        _d(
            "Orchestrator",
            "Schedule with {orchestrator}.",
            ("Retries, backfills and alerting built in",),
            ("One more service to operate",),
            ("Airflow", "Dagster", "Prefect", "cron + scripts"),
            slot="orchestrator",
        ),
        _d(
            "Incremental strategy",
            "Watermark on the source's updated-at with an overlap window, merged on source keys.",
            ("Catches late updates", "Idempotent re-runs"),
            ("Deletes at the source need a separate sweep",),
            ("Full reload every run", "Change data capture"),
        ),
    ),
    next_steps=(
        "Get read credentials for every source and a sandbox account for {saas}.",
        "Agree the freshness SLA and the owner who gets paged.",
        "Pick three historical days to reconcile by hand as the reference.",
    ),
    phases=(
        _p(
            "contracts",
            "Contracts and design",
            "Know the sources and the target model.",
            "source-analysis",
            "target-model",
            "orchestration",
        ),
        _p("build", "Build", "Load and model the data of the {subject}.", "ingestion", F),
        _p(
            "operate",
            "Prove and operate",
            "Reconcile, backfill and hand over.",
            "data-quality",
            "backfill",
            "runbook",
        ),
    ),
    architecture=(
        "Sources: {saas} and others, read through their APIs",
        "Orchestrator: {orchestrator}, {cadence}",
        "Raw landing zone and staging layer",
        "Modelled core and mart tables in {warehouse}",
        "Data quality checks and freshness monitoring",
    ),
    project_shape=(
        "dags/",
        "ingestion/",
        "models/staging/",
        "models/marts/",
        "tests/data/",
        "runbook.md",
    ),
    design_key="target-model",
    verify_key="data-quality",
    feature_deps=("target-model", "ingestion"),
    cadence="nightly",
)

ANALYTICS = Kind(
    key="analytics",
    label="analytics dashboard",
    keywords=(
        (r"analytics", 3),
        (r"cockpit", 4),
        (r"funnels?", 3),
        (r"cohorts?", 3),
        (r"retention", 2),
        (r"kpis?", 3),
        (r"metrics", 2),
        (r"reporting", 3),
        (r"bi|business intelligence", 3),
        (r"insights?", 2),
        (r"anomal\w*", 2),
        (r"dashboards?", 1),
    ),
    approach=(
        "Agree metric definitions before any chart, instrument events against a tracking plan, "
        "pre-aggregate for fast queries, and validate every number against hand-computed "
        "fixtures before anyone makes decisions on it."
    ),
    feature_role="data",
    feature_roles=("data", "frontend", "ml", "backend"),
    feature_title="Build {feature}",
    feature_description=(
        "Build “{feature}” for the {subject}: the query or model behind it, its API "
        "response shape, the chart or panel, and a fixture with hand-computed expected values."
    ),
    feature_requirement=(
        "{feature_title}: shown in the {subject} with a written definition, and numbers that "
        "reconcile with hand-computed fixtures."
    ),
    feature_acceptance=(
        "“{feature}” matches a hand-computed fixture",
        "“{feature}” has a definition tooltip in the {subject}",
    ),
    feature_artifacts=("query/model: {slug}", "fixture: {slug}.json"),
    tasks=(
        _t(
            "metric-definitions",
            "product",
            "Define the metrics, funnel steps and cohort rules",
            "Write the definition of every metric of the {subject} ({features}): numerator, "
            "denominator, time window, timezone, exclusions (bots, test users) and owner.",
            artifacts=("metrics-spec.md",),
            acceptance=(
                "Every metric of the {subject} has a definition, window and owner",
                "Edge cases (timezones, repeated events, test users) are decided",
            ),
            tokens=15_000,
            traces=("features", "correctness"),
        ),
        _t(
            "tracking-plan",
            "data",
            "Design the event schema and tracking plan",
            "Define the events and properties every metric needs, identity rules across "
            "devices, and how missing or late events are handled.",
            deps=("metric-definitions",),
            artifacts=("tracking-plan.md", "event-schema.json"),
            acceptance=(
                "Every metric of the {subject} is computable from tracked events",
                "No personal data beyond a pseudonymous user id",
            ),
            tokens=15_000,
            traces=("privacy",),
        ),
        _t(
            "data-model",
            "architect",
            "Model storage and pre-aggregations",
            "Design the event store and daily rollups in {database} so every panel of the "
            "{subject} is one cheap query; plan for backfills when definitions change.",
            deps=("tracking-plan",),
            artifacts=("data-model.md",),
            acceptance=(
                "Each panel of the {subject} is served by one indexed query or rollup",
                "A definition change can be backfilled",
            ),
            tokens=22_000,
            traces=("latency", "constraints"),
        ),
        _t(
            "seed-data",
            "data",
            "Generate a realistic seed dataset with known anomalies",
            "Write a deterministic generator of events with seasonality and injected "
            "anomalies, so charts and alerts can be checked against known answers.",
            deps=("tracking-plan",),
            artifacts=("seed script", "seed-data.md"),
            acceptance=("The same seed always produces the same charts",),
            tier="write",
            tokens=15_000,
            traces=("correctness",),
        ),
        _t(
            "metrics-api",
            "backend",
            "Build the aggregation API",
            "Expose chart-friendly endpoints (series, funnel steps, cohort matrix) with "
            "date range and segment filters validated on the server.",
            deps=("data-model",),
            artifacts=("api-contract.md",),
            acceptance=(
                "Stable response shapes with metadata (range, timezone, generated at)",
                "Every endpoint answers in under 1 s on 90 days of data",
            ),
            tier="write",
            tokens=35_000,
            traces=("latency",),
        ),
        _t(
            "dashboard-ui",
            "frontend",
            "Build the {subject} layout, filters and states",
            "Lay out the cockpit (summary first), a shared filter bar, and loading, empty and "
            "error states for every panel; definitions as tooltips.",
            deps=("metrics-api",),
            artifacts=("dashboard components",),
            acceptance=(
                "Each panel of the {subject} has loading, empty and error states",
                "Filters apply to every panel consistently",
            ),
            tier="write",
            tokens=35_000,
            traces=("features",),
        ),
        _t(
            "metric-validation",
            "qa",
            "Validate every number against fixtures",
            "Check each metric against hand-computed fixtures from the seed data and against "
            "one real week of production data.",
            deps=(F, "dashboard-ui", "seed-data"),
            artifacts=("test-plan.md", "validation-report.md"),
            acceptance=("Every metric of the {subject} matches its fixture exactly",),
            tier="write",
            tokens=25_000,
            traces=("correctness", "features"),
        ),
        _t(
            "glossary",
            "docs",
            "Publish the metric glossary and reading guide",
            "Publish definitions, known caveats and how to read each panel, for the people "
            "who will make decisions from the {subject}.",
            deps=("metric-validation",),
            artifacts=("metric-glossary.md",),
            acceptance=("Every panel of the {subject} links to its definition",),
            tokens=8_000,
            traces=("correctness",),
        ),
    ),
    requirements=(
        _r("correctness", "Every number matches its written definition and a tested fixture."),
        _r("latency", "Every panel loads in under 1 s for a 90-day range."),
        _r("privacy", "Dashboards show aggregates only; no personal data is displayed."),
    ),
    risks=(
        _risk(
            "Disputed metric definitions",
            "Stakeholders read the same metric differently and stop trusting the {subject}.",
            "high",
            "high",
            "Written definitions signed off before building; tooltips in the UI.",
        ),
        _risk(
            "Slow distinct counts and cohorts",
            "Cohort and distinct-user queries get slow as events grow.",
            "medium",
            "medium",
            "Daily rollups, capped date ranges, and query timing in CI.",
        ),
        _risk(
            "Alert fatigue",
            "Anomaly alerts fire on noise and get ignored.",
            "medium",
            "high",
            "Baselines with seasonality, minimum effect sizes, and a weekly review of alerts.",
        ),
        _risk(
            "Instrumentation gaps",
            "Events are missing or inconsistent, so metrics are wrong at the source.",
            "high",
            "medium",
            "Tracking plan validation in CI and a volume monitor per event.",
        ),
    ),
    decisions=(
        _d(
            "Pre-aggregate vs query-time",
            "Keep raw events and build daily rollups; panels query rollups.",
            ("Fast panels", "Raw events allow backfills when definitions change"),
            ("Rollups must be rebuilt when definitions change",),
            ("Query raw events at view time", "A hosted product analytics tool"),
        ),
        _d(
            "Storage",
            "{database} for events and rollups.",
            ("Enough for the expected volume", "One system to operate"),
            ("A columnar store scales better past billions of events",),
            ("PostgreSQL", "ClickHouse", "DuckDB", "BigQuery"),
            slot="database",
        ),
        _d(
            "Anomaly detection method",
            "Compare with a seasonal baseline (same weekday, trailing median) with minimum "
            "effect sizes; explain each alert in plain words.",
            ("Transparent and explainable", "Few false positives with sensible thresholds"),
            ("Misses subtle multivariate anomalies",),
            ("Statistical models (Prophet, STL)", "Fixed thresholds"),
        ),
    ),
    next_steps=(
        "Hold a 30-minute session to sign off the metric definitions of the {subject}.",
        "Audit the current tracking for the events the funnel needs.",
        "Choose the one decision the cockpit must support first and design around it.",
    ),
    phases=(
        _p(
            "definitions",
            "Definitions and data",
            "Agree what is measured and how it is stored.",
            "metric-definitions",
            "tracking-plan",
            "data-model",
            "seed-data",
        ),
        _p("build", "Build", "Compute and show the metrics.", "metrics-api", F, "dashboard-ui"),
        _p("trust", "Trust", "Prove every number.", "metric-validation", "glossary"),
    ),
    architecture=(
        "Event ingestion into {database}",
        "Daily rollup jobs",
        "Aggregation API with chart-friendly shapes",
        "Cockpit UI with shared filters",
        "Anomaly checks and alert delivery",
    ),
    project_shape=(
        "analytics/definitions.yml",
        "analytics/rollups/",
        "api/metrics.py",
        "web/dashboard/",
        "tests/fixtures/metrics/",
    ),
    design_key="data-model",
    verify_key="metric-validation",
    feature_deps=("metrics-api", "seed-data"),
)

MOBILE_APP = Kind(
    key="mobile_app",
    label="mobile app",
    keywords=(
        (r"mobile apps?", 5),
        (r"mobile", 3),
        (r"ios", 3),
        (r"android", 3),
        (r"react native", 5),
        (r"flutter", 5),
        (r"swiftui|jetpack compose|kotlin multiplatform", 4),
        (r"app store|play store", 3),
        (r"push notifications?|push", 2),
        (r"expo", 2),
        (r"smartphones?|phones?", 2),
    ),
    approach=(
        "Design journeys per platform, build an app shell with a design system and a versioned "
        "backend API, deliver features as flows, and release through beta and staged rollouts "
        "gated on crash rates, because a shipped binary cannot be recalled."
    ),
    feature_role="mobile",
    feature_roles=("mobile", "backend", "security", "data", "ml"),
    feature_title="Build {the_feature} flow",
    feature_description=(
        "Build “{feature}” in the {subject}: screens from the design system, state and local "
        "storage, calls to the versioned API, behaviour on a slow or absent network, and UI "
        "tests on both platforms."
    ),
    feature_requirement=(
        "{feature_title}: works in the {subject} on iOS and Android, including on a slow or "
        "lost network."
    ),
    feature_acceptance=(
        "“{feature}” works on the oldest supported iOS and Android versions",
        "“{feature}” shows a clear state when the network is lost",
    ),
    feature_artifacts=("screens + state: {slug}", "UI tests: {slug}"),
    tasks=(
        _t(
            "product-flows",
            "product",
            "Define the user journeys and screens",
            "Map the journeys of the {subject} ({features}) to screens, notification moments "
            "and platform conventions on iOS and Android.",
            artifacts=("user-journeys.md", "screen-map.md"),
            acceptance=(
                "Every screen of the {subject} is mapped to a journey",
                "Platform differences (iOS/Android) are decided",
            ),
            tokens=15_000,
            traces=("features",),
        ),
        _t(
            "architecture",
            "architect",
            "Design the app architecture, state and local storage",
            "Choose {mobile}, the state management, the on-device storage, the API client and "
            "how the app behaves without network; plan a forced-update path.",
            deps=("product-flows",),
            artifacts=("architecture.md", "data-model.md"),
            acceptance=(
                "Local data, sync and conflict rules of the {subject} are written down",
                "A minimum-version / forced-update mechanism is designed",
            ),
            tokens=25_000,
            traces=("startup", "constraints"),
        ),
        _t(
            "backend-api",
            "backend",
            "Build the versioned mobile backend API",
            "Provide the endpoints the flows need, versioned so that old app versions keep "
            "working, with push notification registration.",
            deps=("architecture",),
            artifacts=("api-contract.md",),
            acceptance=("App versions N-1 and N-2 keep working against the API",),
            tier="write",
            tokens=35_000,
            traces=("compat",),
        ),
        _t(
            "app-shell",
            "mobile",
            "Scaffold the app shell, navigation and design system",
            "Create the {mobile} project with navigation, theming, accessibility defaults, "
            "sign-in, and CI builds for both platforms.",
            deps=("architecture",),
            artifacts=("app skeleton", "ci.yml"),
            acceptance=(
                "CI builds signed iOS and Android artifacts",
                "Dynamic type and screen readers work on the shell",
            ),
            tier="write",
            tokens=35_000,
            traces=("a11y",),
        ),
        _t(
            "telemetry",
            "mobile",
            "Crash reporting, analytics and feature flags",
            "Add crash reporting, privacy-respecting analytics and remote feature flags so "
            "features of the {subject} can be turned off without a release.",
            deps=("app-shell",),
            artifacts=("telemetry.md",),
            acceptance=("Crash-free sessions are reported per release",),
            tier="write",
            tokens=15_000,
            traces=("startup",),
        ),
        _t(
            "privacy-review",
            "security",
            "Privacy, permissions and store data declarations",
            "Review permissions and purpose strings, personal data flows, the privacy manifest "
            "and the store data-safety forms.",
            deps=("architecture",),
            artifacts=("privacy-review.md",),
            acceptance=(
                "Only the permissions the {subject} needs are requested, with purpose strings",
                "Store privacy declarations match what the app does",
            ),
            tokens=12_000,
            traces=("compat",),
        ),
        _t(
            "device-testing",
            "qa",
            "Test on a device matrix and bad networks",
            "Run UI tests and manual passes on a device matrix (small/large screens, oldest "
            "supported OS), with airplane mode and slow network profiles.",
            deps=(F, "telemetry", "backend-api"),
            artifacts=("test-plan.md", "device-matrix.md"),
            acceptance=(
                "Core journeys of the {subject} pass on the oldest supported OS versions",
                "No crash or data loss when the network drops mid-action",
            ),
            tier="write",
            tokens=30_000,
            traces=("features", "startup"),
        ),
        _t(
            "store-release",
            "release",
            "Beta, store review and staged rollout",
            "Ship to TestFlight and a Play testing track, pass store review, then roll out in "
            "stages gated on the crash-free rate.",
            deps=("device-testing", "privacy-review"),
            artifacts=("store-listing.md", "release-checklist.md"),
            acceptance=(
                "The {subject} is approved by App Store and Google Play review",
                "Staged rollout halts automatically if crash-free sessions drop below 99.5%",
            ),
            tier="irreversible",
            tokens=12_000,
            traces=("compat",),
        ),
    ),
    requirements=(
        _r("startup", "Cold start under 2 s on a mid-range device; crash-free sessions ≥ 99.5%."),
        _r(
            "compat",
            "Supports the last three iOS versions and Android 10+; old app versions keep working.",
        ),
        _r(
            "a11y",
            "Dynamic type, screen readers and sufficient contrast on every screen.",
            "should",
        ),
    ),
    risks=(
        _risk(
            "Offline sync conflicts",
            "Edits made offline on two devices, or against changed server data, conflict.",
            "high",
            "medium",
            "Explicit conflict rules per entity, server timestamps, and tests with airplane mode.",
        ),
        _risk(
            "Store review rejection or delay",
            "App Store or Play review rejects the {subject} or takes days, delaying launch.",
            "medium",
            "medium",
            "Follow the review guidelines, submit a beta early, keep a buffer before launch dates.",
        ),
        _risk(
            "Push notifications not delivered",
            "Users deny permission or the OS throttles notifications, so reminders never arrive.",
            "medium",
            "high",
            "Ask for permission in context, show reminders in-app too, monitor delivery.",
        ),
        _risk(
            "A bad release cannot be recalled",
            "A shipped binary stays on devices; fixes wait for review and updates.",
            "high",
            "low",
            "Staged rollouts, remote feature flags, and a forced-update mechanism.",
        ),
    ),
    decisions=(
        _d(
            "Cross-platform framework",
            "Build the {subject} with {mobile}.",
            ("One codebase for iOS and Android", "Fast iteration"),
            ("Native modules needed for some platform features",),
            ("React Native", "Flutter", "Native Swift + Kotlin"),
            slot="mobile",
        ),
        _d(
            "On-device storage",
            "SQLite on the device with a queue of pending changes synced to the API.",
            ("Works offline", "Queryable local data"),
            ("Sync and migrations on the device to maintain",),
            ("Key-value storage only", "Online-only app"),
        ),
        _d(
            "Push delivery",
            "APNs and FCM through one provider abstraction, scheduled by the backend.",
            ("Reminders survive app restarts", "One place to audit what was sent"),
            ("Backend owns notification timing and time zones",),
            ("Local notifications only", "A third-party engagement platform"),
        ),
    ),
    next_steps=(
        "Enrol in the Apple Developer and Google Play Console programs if not done.",
        "Choose the device matrix and the oldest supported OS versions.",
        "Write the notification copy and timing rules with the product owner.",
    ),
    phases=(
        _p(
            "design",
            "Design",
            "Journeys, architecture and privacy.",
            "product-flows",
            "architecture",
            "privacy-review",
        ),
        _p(
            "build",
            "Build",
            "App shell, API and the flows of the {subject}.",
            "backend-api",
            "app-shell",
            F,
            "telemetry",
        ),
        _p(
            "ship",
            "Ship",
            "Test on devices and release in stages.",
            "device-testing",
            "store-release",
        ),
    ),
    architecture=(
        "Mobile app: {mobile}, local SQLite store and sync queue",
        "Versioned backend API with push registration",
        "Push delivery via APNs and FCM",
        "Crash reporting, analytics and remote feature flags",
    ),
    project_shape=("app/screens/", "app/state/", "app/storage/", "api/", "e2e/", "store/"),
    design_key="architecture",
    verify_key="device-testing",
    feature_deps=("app-shell", "backend-api"),
)

LIBRARY = Kind(
    key="library",
    label="library / SDK",
    keywords=(
        (r"library", 5),
        (r"sdk", 5),
        (r"client library", 3),
        (r"pypi|npm package|crates?\.io|crate|ruby gem", 3),
        (r"package", 2),
        (r"bindings", 3),
        (r"api wrapper", 3),
    ),
    approach=(
        "Design the public API and its guarantees before code, keep the core dependency-free "
        "with optional backends, prove invariants with property and concurrency tests, and "
        "publish with semantic versioning."
    ),
    feature_role="backend",
    feature_roles=("backend", "security", "data", "ml"),
    feature_title="Implement {feature}",
    feature_description=(
        "Implement “{feature}” in the {subject} behind the public API from the design: typed, "
        "documented with a runnable example, and covered by unit and property tests."
    ),
    feature_requirement=(
        "{feature_title}: part of the public API of the {subject}, typed, documented with an "
        "example, and tested."
    ),
    feature_acceptance=(
        "“{feature}” has a runnable example in the docs",
        "Property tests cover the invariants of “{feature}”",
    ),
    feature_artifacts=("module: {slug}", "tests/test_{slug_}.py"),
    tasks=(
        _t(
            "prior-art",
            "product",
            "Survey prior art and fix the scope",
            "Compare existing libraries for the problem of the {subject}; decide what this one "
            "does differently and what it will never do.",
            artifacts=("prior-art.md",),
            acceptance=("Differences from at least two existing libraries are stated",),
            tokens=12_000,
            traces=("features",),
        ),
        _t(
            "api-design",
            "architect",
            "Design the public API and its guarantees",
            "Write the public API of the {subject} ({features}): signatures, errors, "
            "thread-safety and async semantics, extension points and the versioning policy.",
            deps=("prior-art",),
            artifacts=("api-design.md", "examples/"),
            acceptance=(
                "Every public function of the {subject} has its signature, errors and concurrency "
                "semantics documented",
                "The semantic versioning and deprecation policy is stated",
            ),
            tokens=25_000,
            traces=("features", "semver", "constraints"),
        ),
        _t(
            "scaffold",
            "backend",
            "Scaffold the package, typing and CI matrix",
            "Create the {language} package with type information shipped, linting, and a CI "
            "matrix over supported runtime versions and operating systems.",
            deps=("api-design",),
            artifacts=("package skeleton", "ci.yml"),
            acceptance=(
                "CI tests every supported {language} version",
                "Type information ships with the package",
            ),
            tier="write",
            tokens=15_000,
            traces=("deps",),
        ),
        _t(
            "property-tests",
            "qa",
            "Property-based and concurrency tests",
            "Check the invariants of the {subject} with generated inputs and run concurrent "
            "callers to catch races.",
            deps=(F,),
            artifacts=("tests/properties/", "test-plan.md"),
            acceptance=(
                "Invariants of the {subject} hold for generated inputs",
                "No race under concurrent callers in a stress test",
            ),
            tier="write",
            tokens=30_000,
            traces=("features", "concurrency"),
        ),
        _t(
            "benchmarks",
            "qa",
            "Benchmarks and an overhead budget",
            "Measure the per-call overhead and throughput of the {subject} and fail CI on "
            "regressions beyond a budget.",
            deps=(F,),
            artifacts=("bench/", "bench-results.json"),
            acceptance=("Per-call overhead of the {subject} measured and published",),
            tier="write",
            tokens=15_000,
            traces=("concurrency",),
        ),
        _t(
            "docs",
            "docs",
            "Documentation, examples and changelog",
            "Quick start, a guide per feature with runnable examples tested in CI, API "
            "reference, and a changelog.",
            deps=(F,),
            artifacts=("docs/", "CHANGELOG.md"),
            acceptance=("Every public API of the {subject} has a runnable, tested example",),
            tokens=15_000,
            traces=("features",),
        ),
        _t(
            "release",
            "release",
            "Publish the first release",
            "Publish version 0.1.0 to the package registry with provenance, a signed tag and "
            "release notes.",
            deps=("property-tests", "benchmarks", "docs"),
            artifacts=("release notes",),
            acceptance=("The {subject} installs from the registry and its examples run",),
            tier="irreversible",
            tokens=8_000,
            traces=("semver",),
        ),
    ),
    requirements=(
        _r("deps", "Minimal runtime dependencies; integrations are optional extras."),
        _r(
            "concurrency",
            "Safe under concurrent use (threads and async tasks), documented as such.",
        ),
        _r(
            "semver",
            "Semantic versioning; deprecations warn for at least one minor release.",
            "should",
        ),
    ),
    risks=(
        _risk(
            "API churn breaks users",
            "Early API changes of the {subject} break code that depends on it.",
            "high",
            "medium",
            "Design review of the public API before 0.1; mark experimental parts explicitly.",
        ),
        _risk(
            "Concurrency bugs",
            "Races under concurrent or distributed use give wrong results.",
            "high",
            "medium",
            "Atomic operations in backends, stress tests, and property tests.",
        ),
        _risk(
            "Dependency conflicts",
            "Pinned or heavy dependencies conflict with users' environments.",
            "medium",
            "medium",
            "Wide version ranges, optional extras, and a minimal-versions CI job.",
        ),
    ),
    decisions=(
        _d(
            "Sync and async API",
            "One core with both a synchronous and an asynchronous front-end sharing the logic.",
            ("Serves both kinds of callers", "No duplicated algorithms"),
            ("Twice the public surface to test",),
            ("Async only", "Separate packages"),
        ),
        _d(
            "Pluggable backends",
            "Storage backends behind a small protocol: in-memory by default, {cache} as an "
            "optional extra.",
            ("Zero-dependency default", "Distributed use when needed"),
            ("Backend semantics must match exactly",),
            ("Hard dependency on one backend",),
            slot="cache",
        ),
        _d(
            "Language",
            "Write the {subject} in {language}.",
            ("Where its users are",),
            (),
            ("Python", "TypeScript", "Go", "Rust"),
            slot="language",
        ),
    ),
    next_steps=(
        "Reserve the package name on the registry.",
        "Ask two future users to review the public API sketch.",
        "Choose the minimum supported {language} version.",
    ),
    phases=(
        _p("design", "Design", "Scope and public API.", "prior-art", "api-design"),
        _p("build", "Build", "Implement the {subject}.", "scaffold", F),
        _p(
            "publish",
            "Harden and publish",
            "Prove, document and release.",
            "property-tests",
            "benchmarks",
            "docs",
            "release",
        ),
    ),
    architecture=(
        "Public API module (sync and async front-ends)",
        "Core algorithms, pure and deterministic",
        "Backend protocol with in-memory and {cache} implementations",
    ),
    project_shape=(
        "src/<package>/__init__.py",
        "src/<package>/core.py",
        "src/<package>/backends/",
        "tests/",
        "docs/",
        "bench/",
    ),
    design_key="api-design",
    verify_key="property-tests",
    feature_deps=("scaffold",),
    defaults={"language": "Python"},
)

ML_MODEL = Kind(
    key="ml_model",
    label="machine-learning model",
    keywords=(
        (r"machine learning", 5),
        (r"ml", 4),
        (r"models?", 1),
        (r"train\w*", 3),
        (r"predict\w*", 3),
        (r"classif\w*", 3),
        (r"churn", 2),
        (r"drift", 3),
        (r"retrain\w*", 4),
        (r"recommend\w*", 3),
        (r"forecast\w*", 3),
        (r"fine[- ]tun\w*", 4),
        (r"inference", 3),
        (r"mlops|feature store", 4),
    ),
    approach=(
        "Frame the decision the model drives, audit data for leakage, beat a simple baseline "
        "on a time-based split, serve with the same feature code as training, and promote "
        "only after a shadow run — then monitor drift and retrain on a schedule."
    ),
    feature_role="ml",
    feature_roles=("ml", "data", "backend", "devops", "security"),
    feature_title="Build {feature}",
    feature_description=(
        "Build “{feature}” for the {subject}: code, configuration, tests and monitoring, "
        "reproducible from a recorded data snapshot and model version."
    ),
    feature_requirement="{feature_title}: in place for the {subject}, reproducible and monitored.",
    feature_acceptance=(
        "“{feature}” runs end to end on a recorded data snapshot",
        "“{feature}” reports its outcome to monitoring",
    ),
    feature_artifacts=("pipeline/{slug}", "tests: {slug}"),
    tasks=(
        _t(
            "problem-framing",
            "product",
            "Frame the prediction problem and the success metric",
            "Define what the {subject} predicts, for whom, how far ahead, which decision it "
            "drives, and the business metric and model metric that define success.",
            artifacts=("problem-statement.md",),
            acceptance=(
                "Label, prediction horizon and decision are defined for the {subject}",
                "Success is a number agreed with the decision owner",
            ),
            tokens=12_000,
            traces=("features", "explainability"),
        ),
        _t(
            "data-audit",
            "data",
            "Audit data sources, labels and leakage",
            "Inventory the sources, check label quality and class balance, and define "
            "point-in-time correct features so nothing leaks from the future.",
            deps=("problem-framing",),
            artifacts=("data-audit.md",),
            acceptance=(
                "Every feature of the {subject} is computable as of prediction time (no leakage)",
                "Label definition and class balance documented",
            ),
            tokens=20_000,
            traces=("reproducibility", "constraints"),
        ),
        _t(
            "feature-pipeline",
            "data",
            "Build the feature pipeline",
            "Compute features with one code path for training and serving, with snapshots for "
            "reproducible training sets.",
            deps=("data-audit",),
            artifacts=("features/", "feature-definitions.md"),
            acceptance=("Training and serving use the same feature code",),
            tier="write",
            tokens=35_000,
            traces=("reproducibility",),
        ),
        _t(
            "baseline",
            "ml",
            "Train a baseline and the evaluation harness",
            "Train a simple baseline ({ml_framework}) on a time-based split, with an "
            "evaluation report per segment and a model card.",
            deps=("feature-pipeline",),
            artifacts=("eval-report.md", "model-card.md"),
            acceptance=(
                "The {subject} beats a naive heuristic on a held-out time split",
                "Evaluation reproducible from a recorded snapshot and seed",
            ),
            tier="write",
            tokens=40_000,
            traces=("reproducibility", "explainability"),
        ),
        _t(
            "fairness-review",
            "security",
            "Bias, privacy and explainability review",
            "Compare performance across key segments, check personal data use and retention, "
            "and make per-prediction explanations available to decision makers.",
            deps=("baseline",),
            artifacts=("fairness-review.md",),
            acceptance=("Performance gaps across segments are measured and accepted by the owner",),
            tokens=12_000,
            traces=("explainability",),
        ),
        _t(
            "serving",
            "backend",
            "Serve predictions",
            "Serve the {subject} as a batch job or an API: model registry, versioned model in "
            "every prediction, input validation and latency budget.",
            deps=("baseline",),
            artifacts=("api-contract.md", "serving code"),
            acceptance=(
                "Every prediction of the {subject} records the model version",
                "Invalid inputs are rejected, not scored",
            ),
            tier="write",
            tokens=30_000,
            traces=("monitoring",),
        ),
        _t(
            "model-validation",
            "qa",
            "Shadow run and promotion gate",
            "Run the {subject} in shadow next to the current process, compare with outcomes, "
            "and define the promotion and rollback gates.",
            deps=(F, "serving"),
            artifacts=("shadow-report.md", "test-plan.md"),
            acceptance=(
                "Shadow predictions of the {subject} compared with real outcomes before rollout",
            ),
            tier="write",
            tokens=20_000,
            traces=("features", "monitoring"),
        ),
        _t(
            "rollout",
            "release",
            "Promote the model with a rollback path",
            "Promote through a canary, watch the business metric, and keep the previous "
            "model one switch away.",
            deps=("model-validation", "fairness-review"),
            artifacts=("rollout-runbook.md",),
            acceptance=("Rollback to the previous {subject} takes one command",),
            tier="irreversible",
            tokens=10_000,
            traces=("monitoring",),
        ),
    ),
    requirements=(
        _r(
            "reproducibility",
            "Every model is reproducible from a recorded data snapshot, code version and seed.",
        ),
        _r(
            "monitoring",
            "Input drift, prediction drift and model quality are monitored with alerts.",
        ),
        _r("explainability", "Decision makers can see why a prediction was made.", "should"),
    ),
    risks=(
        _risk(
            "Label leakage",
            "Features that encode the future make offline results look far better than reality.",
            "critical",
            "medium",
            "Point-in-time joins, time-based splits, and a leakage review of top features.",
        ),
        _risk(
            "Data and concept drift",
            "Behaviour changes so the {subject} degrades silently after launch.",
            "high",
            "high",
            "Drift monitors on inputs and outputs, scheduled retraining, champion/challenger.",
        ),
        _risk(
            "Training/serving skew",
            "Features computed differently online than in training.",
            "high",
            "medium",
            "One feature code path; compare online and offline features in the shadow run.",
        ),
        _risk(
            "Feedback loops",
            "Actions taken on predictions change the labels the next model learns from.",
            "medium",
            "medium",
            "Keep a holdout group and log which predictions triggered actions.",
        ),
    ),
    decisions=(
        _d(
            "Model family",
            "Start with {ml_framework} on tabular features.",
            ("Strong baseline on tabular data", "Fast to train and explain"),
            ("May under-use unstructured signals",),
            ("Logistic regression", "Deep learning"),
            slot="ml_framework",
        ),
        _d(
            "Batch vs online scoring",
            "Score in batch on the {cadence} schedule; add an online endpoint only if a "
            "decision needs fresh scores.",
            ("Simpler and cheaper to operate", "Easy to audit"),
            ("Scores are up to one period old",),
            ("Online scoring API for every request",),
        ),
        _d(
            "Retraining policy",
            "Retrain on a schedule and promote only when the challenger beats the champion on "
            "the same holdout.",
            ("Keeps up with drift", "No silent regressions"),
            ("Compute cost of regular retraining",),
            ("Manual retraining", "Continuous online learning"),
        ),
    ),
    next_steps=(
        "Get access to the historical data and agree the label with the decision owner.",
        "Pick the holdout period and freeze it.",
        "Decide who acts on the predictions of the {subject} and how.",
    ),
    phases=(
        _p(
            "frame",
            "Frame and data",
            "Know the problem and the data.",
            "problem-framing",
            "data-audit",
            "feature-pipeline",
        ),
        _p("model", "Model", "Train, evaluate and review.", "baseline", F, "fairness-review"),
        _p(
            "serve",
            "Serve",
            "Validate in shadow and promote.",
            "serving",
            "model-validation",
            "rollout",
        ),
    ),
    architecture=(
        "Feature pipeline shared by training and serving",
        "Training job with experiment tracking and model registry",
        "Scoring: batch job or API, model version on every prediction",
        "Monitoring: drift, quality and business metric",
    ),
    project_shape=(
        "features/",
        "training/",
        "serving/",
        "monitoring/",
        "notebooks/exploration/",
        "tests/",
    ),
    design_key="data-audit",
    verify_key="model-validation",
    feature_deps=("baseline",),
    cadence="weekly",
)

INFRASTRUCTURE = Kind(
    key="infrastructure",
    label="infrastructure as code",
    keywords=(
        (r"terraform|opentofu", 5),
        (r"infrastructure", 4),
        (r"iac", 5),
        (r"pulumi|cloudformation|cdk", 5),
        (r"ansible", 4),
        (r"aws|gcp|azure", 2),
        (r"vpc|subnets?", 3),
        (r"ci/cd", 3),
        (r"landing zone", 4),
        (r"modules", 1),
        (r"provision\w*", 3),
        (r"kubernetes|k8s|helm", 2),
    ),
    approach=(
        "Everything from code through reviewed plans: remote locked state, small composable "
        "modules with examples and tests, isolated environments, policy checks in CI, and "
        "production applied only from an approved plan."
    ),
    feature_role="devops",
    feature_roles=("devops", "security", "data", "backend"),
    feature_title="Set up {feature}",
    feature_description=(
        "Provision “{feature}” for the {subject} from the modules: variables per "
        "environment, outputs documented, plan reviewed in CI, no manual console steps."
    ),
    feature_requirement=(
        "{feature_title}: provisioned by the {subject} from code through a reviewed plan, "
        "with no manual steps."
    ),
    feature_acceptance=(
        "“{feature}” is created from an empty account by one reviewed apply",
        "A second plan for “{feature}” shows no changes",
    ),
    feature_artifacts=("environments/{slug}/", "plan output: {slug}"),
    tasks=(
        _t(
            "requirements",
            "architect",
            "Capture environments, workloads and constraints",
            "Agree the environments, regions, tiers, sizing, availability targets (RPO/RTO), "
            "compliance needs and budget of the {subject}.",
            artifacts=("infra-requirements.md",),
            acceptance=("Environments, regions, sizing and RPO/RTO of the {subject} agreed",),
            tokens=12_000,
            traces=("features", "constraints"),
        ),
        _t(
            "network-design",
            "architect",
            "Design network, accounts and IAM boundaries",
            "Design accounts or projects per environment, network layout per tier, "
            "ingress/egress, and least-privilege IAM roles on {cloud}.",
            deps=("requirements",),
            artifacts=("network-design.md", "iam-matrix.md"),
            acceptance=(
                "Each tier of the {subject} has its own subnet and security boundary",
                "IAM roles are least-privilege and listed",
            ),
            tokens=22_000,
            traces=("security", "isolation"),
        ),
        _t(
            "state-backend",
            "devops",
            "Remote state, locking and CI plans",
            "Configure encrypted remote state with locking per environment and a CI pipeline "
            "that formats, validates, lints and plans on every pull request.",
            deps=("requirements",),
            artifacts=("backend configuration", "ci.yml"),
            acceptance=(
                "Plans run in CI on every pull request",
                "State is encrypted and locked",
            ),
            tier="write",
            tokens=15_000,
            traces=("reproducible",),
        ),
        _t(
            "modules-core",
            "devops",
            "Write the core modules (network, compute, data)",
            "Write reusable {iac} modules for the network, compute and data tiers with "
            "inputs validated, outputs documented and an example per module.",
            deps=("network-design", "state-backend"),
            artifacts=("modules/network/", "modules/compute/", "modules/data/"),
            acceptance=(
                "The {subject} validate, lint and have a working example",
                "Stateful resources are protected from accidental destroy",
            ),
            tier="write",
            tokens=45_000,
            traces=("reproducible",),
        ),
        _t(
            "security-baseline",
            "security",
            "Security baseline and policy checks",
            "Encryption at rest and in transit, audit logging, guardrails, and policy-as-code "
            "checks (tfsec/checkov) in CI.",
            deps=("network-design",),
            artifacts=("security-baseline.md", "policy checks"),
            acceptance=("Policy checks pass in CI with no critical findings",),
            tier="write",
            tokens=18_000,
            traces=("security",),
        ),
        _t(
            "cost-estimate",
            "devops",
            "Cost estimate and budget alerts",
            "Estimate the monthly cost per environment of the {subject} and add budget alerts.",
            deps=("modules-core",),
            artifacts=("cost-estimate.md",),
            acceptance=("Monthly cost per environment estimated; budget alerts configured",),
            tokens=8_000,
            traces=("cost", "constraints"),
        ),
        _t(
            "module-tests",
            "qa",
            "Test modules in ephemeral environments",
            "Create and destroy an ephemeral environment in CI with terratest or plan "
            "assertions, and check connectivity between tiers.",
            deps=(F, "security-baseline"),
            artifacts=("tests/", "test-plan.md"),
            acceptance=(
                "An ephemeral environment of the {subject} is created, checked and destroyed in CI",
            ),
            tier="write",
            tokens=25_000,
            traces=("features", "reproducible"),
        ),
        _t(
            "apply-production",
            "release",
            "Apply to production from an approved plan",
            "Apply production only from CI with a reviewed plan, then schedule drift detection.",
            deps=("module-tests", "cost-estimate"),
            artifacts=("apply log", "runbook.md"),
            acceptance=(
                "Production changed only by an approved CI apply of the {subject}",
                "Drift detection runs daily",
            ),
            tier="irreversible",
            tokens=10_000,
            traces=("isolation",),
        ),
    ),
    requirements=(
        _r("reproducible", "Everything is reproducible from code; no console changes."),
        _r("security", "Least-privilege IAM, encryption at rest and in transit, audit logs on."),
        _r("isolation", "Environments isolated by account/project and state."),
        _r("cost", "Monthly cost per environment estimated, with budget alerts.", "should"),
    ),
    risks=(
        _risk(
            "Accidental destroy of stateful resources",
            "A plan replaces a database or bucket and deletes data.",
            "critical",
            "low",
            "prevent_destroy on stateful resources, plan review, backups before apply.",
        ),
        _risk(
            "State conflicts or corruption",
            "Concurrent applies or manual edits corrupt the state.",
            "high",
            "low",
            "Remote state with locking, applies only from CI, state backups.",
        ),
        _risk(
            "Drift from manual changes",
            "Console changes diverge from code and get reverted by the next apply.",
            "medium",
            "medium",
            "Read-only console access in production, scheduled drift detection.",
        ),
        _risk(
            "Cost overrun",
            "Oversized instances or forgotten environments exceed the budget.",
            "medium",
            "medium",
            "Cost estimate in CI, budgets and alerts, auto-shutdown of ephemeral environments.",
        ),
    ),
    decisions=(
        _d(
            "IaC tool",
            "Use {iac}.",
            ("Declarative plans reviewed before apply", "Large module ecosystem"),
            ("State to manage",),
            ("Terraform/OpenTofu", "Pulumi", "CloudFormation/CDK"),
            slot="iac",
        ),
        _d(
            "Environment layout",
            "One account/project and one state per environment, sharing the same modules.",
            ("Blast radius limited to one environment", "Same code everywhere"),
            ("More accounts to manage",),
            ("Workspaces in one account", "Copy-pasted directories"),
        ),
        _d(
            "Cloud",
            "Target {cloud}.",
            ("Where the team and workloads are",),
            (),
            ("AWS", "GCP", "Azure"),
            slot="cloud",
        ),
    ),
    next_steps=(
        "Create the accounts/projects and the CI identity that will run plans.",
        "Agree the naming and tagging convention.",
        "Decide who approves production plans.",
    ),
    phases=(
        _p(
            "design",
            "Design",
            "Requirements, network and state.",
            "requirements",
            "network-design",
            "state-backend",
        ),
        _p(
            "modules",
            "Modules and environments",
            "Build the modules and the environments of the {subject}.",
            "modules-core",
            F,
            "security-baseline",
            "cost-estimate",
        ),
        _p(
            "rollout",
            "Rollout",
            "Test and apply to production.",
            "module-tests",
            "apply-production",
        ),
    ),
    architecture=(
        "Edge: DNS, CDN/WAF, load balancer",
        "Web/app tier in private subnets with autoscaling",
        "Data tier: managed database with backups",
        "Remote state with locking; CI runs plan and apply",
    ),
    project_shape=(
        "modules/network/",
        "modules/compute/",
        "modules/data/",
        "environments/staging/",
        "environments/production/",
        "tests/",
    ),
    design_key="requirements",
    verify_key="module-tests",
    feature_deps=("modules-core",),
    defaults={"cloud": "AWS"},
)

K8S_OPERATOR = Kind(
    key="k8s_operator",
    label="Kubernetes operator",
    keywords=(
        (r"kubernetes operator|k8s operator", 6),
        (r"operator", 4),
        (r"controllers?", 2),
        (r"crds?|custom resources?", 5),
        (r"reconcil\w*", 4),
        (r"kubebuilder|operator sdk|controller-runtime|kopf", 5),
    ),
    approach=(
        "Design the custom resources and their status first, write an idempotent reconcile "
        "loop that survives restarts, and prove every operation — especially restores — on "
        "throwaway clusters before anyone relies on it."
    ),
    feature_role="backend",
    feature_roles=("backend", "security"),
    feature_title="Implement {feature}",
    feature_description=(
        "Implement “{feature}” in the {subject} as reconcile logic driven by the custom "
        "resources: idempotent steps, status conditions, events, and an end-to-end test."
    ),
    feature_requirement=(
        "{feature_title}: handled declaratively by the {subject} through its custom "
        "resources, idempotently."
    ),
    feature_acceptance=(
        "“{feature}” is driven by a custom resource and reported in its status",
        "Killing the controller during “{feature}” does not corrupt anything",
    ),
    feature_artifacts=("controllers/{slug_}.go", "e2e test: {slug}"),
    tasks=(
        _t(
            "crd-design",
            "architect",
            "Design the custom resources and status conditions",
            "Define the spec and status of the {subject} resources, conditions, events, "
            "finalizers and the API versioning plan.",
            artifacts=("crd-design.md",),
            acceptance=(
                "Spec, status and versioning of every CRD of the {subject} are documented",
            ),
            tokens=20_000,
            traces=("features", "constraints"),
        ),
        _t(
            "failure-modes",
            "architect",
            "Map failure modes and recovery semantics",
            "List what can fail (node loss, partial uploads, storage outages, controller "
            "restarts) and the guarantees the {subject} gives for each.",
            artifacts=("failure-modes.md",),
            acceptance=(
                "Each failure mode of the {subject} has a defined outcome and a test idea",
            ),
            tokens=15_000,
            traces=("idempotent",),
        ),
        _t(
            "scaffold",
            "backend",
            "Scaffold the operator, CRDs and RBAC",
            "Generate the project, CRD manifests and least-privilege RBAC; wire leader "
            "election and metrics.",
            deps=("crd-design",),
            artifacts=("operator skeleton", "config/crd/", "config/rbac/"),
            acceptance=(
                "The {subject} CRDs install and the controller starts with least-privilege RBAC",
            ),
            tier="write",
            tokens=20_000,
            traces=("operable",),
        ),
        _t(
            "reconcile-loop",
            "backend",
            "Implement the idempotent reconcile loop and status",
            "Reconcile desired and actual state step by step, record progress in status, use "
            "finalizers for cleanup, and requeue with backoff.",
            deps=("scaffold", "failure-modes"),
            artifacts=("controllers/",),
            acceptance=(
                "Reconciling {a_subject} resource twice changes nothing the second time",
                "The controller resumes correctly after a restart mid-operation",
            ),
            tier="write",
            tokens=40_000,
            traces=("idempotent",),
        ),
        _t(
            "security-review",
            "security",
            "RBAC, credentials and data access review",
            "Check RBAC scope, that storage credentials come from Secrets and never reach "
            "logs or status, and encryption of data in transit and at rest.",
            deps=("scaffold",),
            artifacts=("security-review.md",),
            acceptance=("No credential appears in logs, events or status",),
            tokens=12_000,
            traces=("operable",),
        ),
        _t(
            "e2e-tests",
            "qa",
            "End-to-end tests on throwaway clusters",
            "Run the {subject} on kind clusters in CI: create, update, delete, controller "
            "crashes, storage outages, and a full restore drill compared with the original.",
            deps=(F, "reconcile-loop"),
            artifacts=("test/e2e/", "test-plan.md"),
            acceptance=(
                "Every scenario of the {subject} failure-mode map passes on a throwaway cluster",
                "A restore drill reproduces the original data exactly",
            ),
            tier="write",
            tokens=35_000,
            traces=("features", "idempotent"),
        ),
        _t(
            "packaging",
            "devops",
            "Helm chart, upgrade path and release",
            "Package the {subject} as a Helm chart/OLM bundle, test upgrades from the "
            "previous version, and publish images with signatures.",
            deps=("e2e-tests", "security-review"),
            artifacts=("charts/", "release notes"),
            acceptance=(
                "Upgrading the {subject} from the previous version keeps resources working",
            ),
            tier="irreversible",
            tokens=15_000,
            traces=("operable",),
        ),
        _t(
            "runbook",
            "docs",
            "User guide and recovery runbook",
            "Document installation, every resource field, and the step-by-step recovery "
            "runbook, tested by someone who did not write it.",
            deps=("e2e-tests",),
            artifacts=("docs/user-guide.md", "docs/runbook.md"),
            acceptance=("A colleague operates and recovers the {subject} from the runbook alone",),
            tokens=10_000,
            traces=("operable",),
        ),
    ),
    requirements=(
        _r("idempotent", "Reconciliation is idempotent and safe to resume after any crash."),
        _r(
            "operable",
            "Status conditions, events and metrics make every operation observable; RBAC is "
            "least-privilege.",
        ),
    ),
    risks=(
        _risk(
            "Restore overwrites live data",
            "A restore aimed at the wrong target or snapshot destroys current data.",
            "critical",
            "low",
            "Restores into a new volume by default, explicit confirmation field, dry-run status.",
        ),
        _risk(
            "Backups that cannot be restored",
            "Backups succeed but are incomplete or inconsistent.",
            "critical",
            "medium",
            "Application-consistent hooks, checksums, and scheduled automatic restore drills.",
        ),
        _risk(
            "Kubernetes version skew",
            "API changes across Kubernetes versions break the controller.",
            "medium",
            "medium",
            "Test against the oldest and newest supported versions in CI.",
        ),
        _risk(
            "Hot reconcile loops",
            "Errors requeue too fast and overload the API server.",
            "medium",
            "medium",
            "Exponential backoff, rate-limited queues, and watching only what is needed.",
        ),
    ),
    decisions=(
        _d(
            "Operator framework",
            "controller-runtime via kubebuilder, in Go.",
            ("The reference implementation of controllers", "Generated CRDs and RBAC"),
            ("Go expertise needed",),
            ("kopf (Python)", "Operator SDK with Ansible/Helm"),
        ),
        _d(
            "Backup storage",
            "S3-compatible object storage with retention policies and checksums.",
            ("Portable across clouds", "Cheap and durable"),
            ("Restores bounded by download speed",),
            ("Volume snapshots only", "Another cluster"),
        ),
        _d(
            "Consistency of backups",
            "Application-consistent backups via the database's own dump or snapshot hooks.",
            ("Restorable without crash recovery",),
            ("Per-database integration code",),
            ("Crash-consistent volume snapshots",),
        ),
    ),
    next_steps=(
        "List the database versions and storage classes the {subject} must support.",
        "Create a throwaway cluster setup for CI (kind) and a bucket for test backups.",
        "Decide the retention policy defaults with the platform team.",
    ),
    phases=(
        _p("design", "Design", "Resources and failure semantics.", "crd-design", "failure-modes"),
        _p(
            "controller",
            "Controller",
            "Build the {subject}.",
            "scaffold",
            "reconcile-loop",
            F,
            "security-review",
        ),
        _p(
            "ship",
            "Prove and ship",
            "Drills, packaging and docs.",
            "e2e-tests",
            "packaging",
            "runbook",
        ),
    ),
    architecture=(
        "Custom resources with spec and status conditions",
        "Controller with leader election and rate-limited work queues",
        "Jobs that run backups and restores next to the database",
        "Object storage for backups; Secrets for credentials",
    ),
    project_shape=(
        "api/v1alpha1/",
        "controllers/",
        "config/crd/",
        "config/rbac/",
        "charts/",
        "test/e2e/",
    ),
    design_key="crd-design",
    verify_key="e2e-tests",
    feature_deps=("reconcile-loop",),
)

MIGRATION = Kind(
    key="migration",
    label="migration",
    keywords=(
        (r"migrat\w*", 5),
        (r"upgrade\w*", 3),
        (r"cut[- ]?over", 4),
        (r"re-?platform\w*", 4),
        (r"move (?:from|off|to)", 3),
        (r"legacy", 2),
        (r"downtime", 1),
    ),
    approach=(
        "Inventory everything, rehearse on a production-sized copy until the cutover fits the "
        "downtime budget, validate data with counts and checksums, cut over with a rollback "
        "path kept open until sign-off, and only then decommission."
    ),
    feature_role="data",
    feature_roles=("data", "backend", "devops", "security"),
    feature_title="Handle {feature}",
    feature_description=(
        "Make sure “{feature}” holds for the {subject}: plan it, include it in the rehearsal, "
        "and verify it in the validation checklist."
    ),
    feature_requirement="{feature_title}: holds for the {subject}, verified in the rehearsal.",
    feature_acceptance=("“{feature}” verified in the full rehearsal",),
    feature_artifacts=("rehearsal notes: {slug}",),
    feature_tokens=20_000,
    tasks=(
        _t(
            "inventory",
            "architect",
            "Inventory {source}: objects, size and dependants",
            "List every schema, extension, job, user and client of the {subject} on "
            "{source} (size: {scale}), with owners.",
            artifacts=("inventory.md",),
            acceptance=("Every object, extension and client of {source} is listed with an owner",),
            tokens=15_000,
            traces=("no-data-loss",),
        ),
        _t(
            "compatibility",
            "data",
            "Check compatibility with {target}",
            "Review release notes between {source} and {target}, test extensions, SQL and "
            "drivers, and list required changes.",
            deps=("inventory",),
            artifacts=("compatibility-report.md",),
            acceptance=("Every breaking change between {source} and {target} has a fix",),
            tokens=20_000,
            traces=("parity",),
        ),
        _t(
            "strategy",
            "architect",
            "Choose the migration strategy and rollback plan",
            "Pick the method (replication, dump/restore, in-place) that fits {downtime} for "
            "{scale}, define the cutover sequence, freeze rules and the rollback plan.",
            deps=("inventory",),
            artifacts=("migration-plan.md", "rollback-plan.md"),
            acceptance=(
                "The strategy fits the downtime budget ({downtime}) on paper",
                "A written rollback plan to {source} exists for every cutover step",
            ),
            tokens=20_000,
            traces=("downtime", "rollback", "constraints"),
        ),
        _t(
            "target-setup",
            "devops",
            "Provision {target} and replication",
            "Provision {target} sized for {scale}, configure parameters, monitoring, backups "
            "and replication from {source}.",
            deps=("strategy",),
            artifacts=("target configuration", "monitoring dashboards"),
            acceptance=("Replication lag to {target} is monitored and stays under one minute",),
            tier="write",
            tokens=20_000,
            traces=("parity",),
        ),
        _t(
            "app-readiness",
            "backend",
            "Make the applications ready for {target}",
            "Update drivers, queries and configuration; run every client's test suite against "
            "{target}; add connection switching by configuration.",
            deps=("compatibility",),
            artifacts=("pull requests per client",),
            acceptance=("Every client's tests pass against {target}",),
            tier="write",
            tokens=30_000,
            traces=("parity",),
        ),
        _t(
            "rehearsal",
            "qa",
            "Rehearse the full migration on a production-sized copy",
            "Run the whole cutover of the {subject} on a copy of production, time every "
            "step, and repeat until it fits {downtime} with margin.",
            deps=("target-setup", "app-readiness", F),
            artifacts=("rehearsal-report.md",),
            acceptance=(
                "Measured cutover time fits the downtime budget ({downtime}) with 30% margin",
                "Rollback rehearsed once",
            ),
            tier="write",
            tokens=25_000,
            traces=("downtime", "rollback"),
        ),
        _t(
            "validation",
            "qa",
            "Data validation checklist",
            "Compare row counts and checksums per table, sample queries and application "
            "smoke tests between {source} and {target}.",
            deps=("rehearsal",),
            artifacts=("validation-checklist.md",),
            acceptance=(
                "Row counts and checksums match between {source} and {target} for every table",
            ),
            tier="write",
            tokens=15_000,
            traces=("no-data-loss",),
        ),
        _t(
            "cutover",
            "release",
            "Cut over to {target}",
            "Announce, freeze writes, wait for replication to drain, switch clients, validate, "
            "and keep the rollback path open until sign-off.",
            deps=("validation",),
            artifacts=("cutover-runbook.md", "cutover log"),
            acceptance=(
                "Cutover to {target} completed within the downtime budget ({downtime})",
                "Validation checklist green on production",
            ),
            tier="irreversible",
            tokens=12_000,
            traces=("downtime", "no-data-loss"),
        ),
        _t(
            "decommission",
            "devops",
            "Decommission {source} after the soak period",
            "After the agreed soak period, take a final archived backup of {source}, then "
            "remove it and its credentials.",
            deps=("cutover",),
            artifacts=("decommission-checklist.md",),
            acceptance=("A final backup of {source} is archived and restorable before deletion",),
            tier="irreversible",
            tokens=6_000,
            traces=("rollback",),
        ),
    ),
    requirements=(
        _r("no-data-loss", "No data loss: every table verified by counts and checksums."),
        _r("downtime", "Downtime within the budget: {downtime}."),
        _r("rollback", "Rollback possible at every step until sign-off."),
        _r("parity", "Query performance on {target} no worse than on {source}.", "should"),
    ),
    risks=(
        _risk(
            "Data loss or corruption",
            "Rows are lost or altered during copy or cutover.",
            "critical",
            "low",
            "Counts and checksums per table, final backup of {source}, rollback path.",
        ),
        _risk(
            "Downtime window overrun",
            "The cutover takes longer than {downtime} (replication drain, index builds, "
            "client reconnects).",
            "high",
            "medium",
            "Rehearse until it fits with margin; pre-build indexes; go/no-go checkpoints.",
        ),
        _risk(
            "Incompatibilities discovered late",
            "Extensions, SQL behaviour or drivers behave differently on {target}.",
            "high",
            "medium",
            "Compatibility review and every client's tests against {target} before rehearsal.",
        ),
        _risk(
            "Performance regressions after cutover",
            "Different planner statistics or settings slow down key queries.",
            "medium",
            "medium",
            "Analyse statistics after load, compare top queries in the rehearsal.",
        ),
        _risk(
            "Replication lag on large data",
            "Initial sync and lag for {scale} take longer than planned.",
            "medium",
            "medium",
            "Start replication early, monitor lag, throttle during peak hours.",
        ),
    ),
    decisions=(
        _d(
            "Migration method",
            "Online replication from {source} to {target} with a short, rehearsed cutover.",
            ("Downtime limited to the final switch", "The source stays intact for rollback"),
            ("Replication setup and monitoring effort",),
            ("Offline dump and restore", "In-place upgrade"),
        ),
        _d(
            "Rollback path",
            "Keep {source} intact (and reverse replication where possible) until sign-off.",
            ("A bad cutover can be undone",),
            ("Two systems to run during the soak period",),
            ("Restore from backup if needed",),
        ),
        _d(
            "Change freeze",
            "Freeze schema changes from the first rehearsal until sign-off.",
            ("Rehearsals stay representative",),
            ("Feature work touching the schema waits",),
            ("Migrate schema changes continuously",),
        ),
    ),
    next_steps=(
        "Agree the downtime budget ({downtime}) and the cutover date with stakeholders.",
        "Provision a production-sized copy for rehearsals.",
        "Name the go/no-go decision maker for the cutover.",
    ),
    phases=(
        _p(
            "assess", "Assess", "Know what moves and how.", "inventory", "compatibility", "strategy"
        ),
        _p(
            "rehearse",
            "Prepare and rehearse",
            "Make the target and the clients ready and rehearse.",
            "target-setup",
            "app-readiness",
            F,
            "rehearsal",
            "validation",
        ),
        _p("cutover", "Cut over", "Switch and clean up.", "cutover", "decommission"),
    ),
    architecture=(
        "Source: {source}",
        "Target: {target}",
        "Replication from source to target, monitored for lag",
        "Clients switched by configuration",
    ),
    project_shape=(
        "migration/inventory.md",
        "migration/scripts/",
        "migration/validation/",
        "migration/runbook.md",
    ),
    design_key="strategy",
    verify_key="validation",
    feature_deps=("strategy", "compatibility"),
    surveys_existing=True,
    needs_feature_task=False,
)

CHAT_BOT = Kind(
    key="chat_bot",
    label="chat bot / workspace integration",
    keywords=(
        (r"(?:slack|discord|teams|telegram) bot", 6),
        (r"bots?", 4),
        (r"chat ?bot", 5),
        (r"slack|discord|microsoft teams|telegram", 3),
        (r"slash commands?", 3),
        (r"assistant", 2),
    ),
    approach=(
        "Design the conversation before the code, acknowledge events fast and work "
        "asynchronously, ask for the fewest scopes, and pilot in one workspace with replayed "
        "real events before rolling out."
    ),
    feature_role="backend",
    feature_roles=("backend", "ml", "data", "security"),
    feature_title="Implement {feature}",
    feature_description=(
        "Implement “{feature}” in the {subject}: the trigger, the work done asynchronously, "
        "the message posted back, and the failure message; replay tests from recorded events."
    ),
    feature_requirement=(
        "{feature_title}: available from the {subject} in {chat}, with a clear message when "
        "it cannot be done."
    ),
    feature_acceptance=(
        "“{feature}” works from a recorded real event in a replay test",
        "When “{feature}” fails, the user sees why and what to do",
    ),
    feature_artifacts=("handler: {slug}", "replay test: {slug}"),
    tasks=(
        _t(
            "conversation-design",
            "product",
            "Design commands, triggers and messages",
            "Write every interaction of the {subject} ({features}): what triggers it, what it "
            "posts, in which channel, and the failure messages.",
            artifacts=("conversation-design.md",),
            acceptance=(
                "Every interaction of the {subject} has a trigger, a response and an error message",
            ),
            tokens=12_000,
            traces=("features",),
        ),
        _t(
            "platform-setup",
            "devops",
            "Register the app, scopes and event subscriptions",
            "Create the {chat} app with the minimal scopes, event subscriptions and a secret "
            "store for tokens; separate dev and prod apps.",
            artifacts=("app-manifest.yml",),
            acceptance=("Only the scopes the {subject} needs are requested",),
            tier="write",
            tokens=8_000,
            traces=("privacy",),
        ),
        _t(
            "architecture",
            "architect",
            "Design event handling, queueing and storage",
            "Acknowledge events within 3 seconds, process on {queue}, deduplicate retried "
            "deliveries, and store state in {database}.",
            deps=("conversation-design",),
            artifacts=("architecture.md",),
            acceptance=("Duplicate event deliveries are processed once",),
            tokens=15_000,
            traces=("responsiveness", "constraints"),
        ),
        _t(
            "event-handler",
            "backend",
            "Event endpoint with signature checks and dedup",
            "Verify request signatures, acknowledge fast, enqueue work, and record processed "
            "event ids.",
            deps=("architecture", "platform-setup"),
            artifacts=("events endpoint",),
            acceptance=(
                "Requests to the {subject} with a bad signature are rejected",
                "Events are acknowledged within 3 s under load",
            ),
            tier="write",
            tokens=25_000,
            traces=("responsiveness",),
        ),
        _t(
            "privacy-review",
            "security",
            "Permissions, retention and redaction review",
            "Check which conversations the {subject} reads, where content goes (including "
            "{llm}), retention, and redaction of secrets and personal data.",
            deps=("architecture",),
            artifacts=("privacy-review.md",),
            acceptance=(
                "Private channels are read only when the bot is invited",
                "Message content is not logged",
            ),
            tokens=10_000,
            traces=("privacy",),
        ),
        _t(
            "replay-tests",
            "qa",
            "Replay tests with recorded events and output review",
            "Record real event payloads (anonymised), replay them in CI, and review the bot's "
            "outputs against a checklist for accuracy.",
            deps=(F, "event-handler"),
            artifacts=("tests/replay/", "test-plan.md"),
            acceptance=("Every interaction of the {subject} has a replay test",),
            tier="write",
            tokens=20_000,
            traces=("features",),
        ),
        _t(
            "pilot",
            "release",
            "Pilot in one workspace, then roll out",
            "Install the {subject} for one team, collect feedback for two weeks, fix, then "
            "publish the install guide and roll out.",
            deps=("replay-tests", "privacy-review"),
            artifacts=("pilot-feedback.md", "install-guide.md"),
            acceptance=("The pilot team uses the {subject} for two weeks and would keep it",),
            tier="write",
            tokens=8_000,
            traces=("responsiveness",),
        ),
    ),
    requirements=(
        _r("responsiveness", "Acknowledges every event within 3 s; long work reports progress."),
        _r(
            "privacy",
            "Least-privilege scopes; message content is never logged and is retained only as "
            "long as needed.",
        ),
    ),
    risks=(
        _risk(
            "Leaking private content",
            "Content from private channels ends up in summaries posted elsewhere.",
            "high",
            "medium",
            "Post outputs only where the source was visible; explicit opt-in per channel.",
        ),
        _risk(
            "Inaccurate generated text",
            "Summaries or drafts state things that did not happen.",
            "high",
            "medium",
            "Cite source messages, mark drafts as drafts, human review before filing.",
        ),
        _risk(
            "Platform rate limits",
            "{chat} API limits throttle reads of long channels.",
            "medium",
            "medium",
            "Paginate with backoff, cache history, process asynchronously.",
        ),
        _risk(
            "App review and token revocation",
            "Workspace admins reject the scopes or revoke tokens.",
            "medium",
            "low",
            "Minimal scopes with explanations; handle revoked tokens gracefully.",
        ),
    ),
    decisions=(
        _d(
            "Event delivery",
            "HTTP Events API with signature verification in production; Socket Mode for "
            "local development.",
            ("Scales horizontally", "No inbound firewall rule in development"),
            ("A public HTTPS endpoint to run",),
            ("Socket Mode in production", "Polling"),
        ),
        _d(
            "Text generation",
            "Use {llm} with the source messages cited, falling back to an extractive summary "
            "when unavailable.",
            ("Readable summaries", "Works when the model is down"),
            ("Model cost per summary",),
            ("Extractive summaries only", "Manual write-ups"),
            slot="llm",
        ),
        _d(
            "Platform",
            "Target {chat} first.",
            ("Where the users already work",),
            ("Other chat platforms later",),
            ("Slack", "Microsoft Teams", "Discord"),
            slot="chat",
        ),
    ),
    next_steps=(
        "Pick the pilot team and channel for the {subject}.",
        "Ask a workspace admin to approve the scopes.",
        "Collect three real (anonymised) conversations as test fixtures.",
    ),
    phases=(
        _p(
            "design",
            "Design",
            "Conversations, platform and architecture.",
            "conversation-design",
            "platform-setup",
            "architecture",
        ),
        _p(
            "build",
            "Build",
            "Handle events and deliver the features.",
            "event-handler",
            F,
            "privacy-review",
        ),
        _p("pilot", "Pilot", "Prove it with real users.", "replay-tests", "pilot"),
    ),
    architecture=(
        "{chat} app with minimal scopes",
        "Events endpoint: verify, acknowledge, enqueue",
        "Workers on {queue} doing the slow work",
        "State in {database}",
    ),
    project_shape=(
        "bot/events.py",
        "bot/handlers/",
        "bot/messages/",
        "tests/replay/",
        "app-manifest.yml",
    ),
    design_key="architecture",
    verify_key="replay-tests",
    feature_deps=("event-handler",),
)

INTEGRATION = Kind(
    key="integration",
    label="integration / API gateway",
    keywords=(
        (r"gateway", 4),
        (r"federat\w*", 5),
        (r"integrat\w*", 3),
        (r"connectors?", 4),
        (r"middleware", 3),
        (r"existing (?:rest )?(?:services|apis)", 3),
        (r"backend for frontend|bff", 4),
        (r"proxy", 3),
        (r"graphql", 2),
        (r"webhooks?", 2),
        (r"sync\w* (?:between|with)", 3),
    ),
    approach=(
        "Audit the upstreams before designing the unified contract, isolate each upstream "
        "behind an adapter with timeouts and circuit breakers, make caching explicit per field, "
        "and switch clients only after shadow traffic matches."
    ),
    feature_role="backend",
    feature_roles=("backend", "security", "data", "devops"),
    feature_title="Implement {feature}",
    feature_description=(
        "Implement “{feature}” in the {subject}: adapter code, mapping to the unified "
        "contract, timeouts and error mapping, and contract tests against recorded upstream "
        "responses."
    ),
    feature_requirement=(
        "{feature_title}: served by the {subject} with upstream failures isolated and "
        "documented caching."
    ),
    feature_acceptance=(
        "“{feature}” passes contract tests against recorded upstream responses",
        "An upstream outage degrades “{feature}” gracefully",
    ),
    feature_artifacts=("adapter/resolver: {slug}", "contract tests: {slug}"),
    tasks=(
        _t(
            "upstream-audit",
            "architect",
            "Audit the upstream services and their contracts",
            "For each upstream of the {subject}: endpoints, authentication, rate limits, "
            "latency, error semantics, pagination and data ownership.",
            artifacts=("upstream-inventory.md",),
            acceptance=(
                "Each upstream of the {subject}: limits, latency and error semantics documented",
            ),
            tokens=15_000,
            traces=("resilience",),
        ),
        _t(
            "unified-contract",
            "architect",
            "Design the unified contract",
            "Design the schema the {subject} exposes, mapping every field to its upstream "
            "source, with caching rules per field.",
            deps=("upstream-audit",),
            artifacts=("schema.graphql or api-contract.md", "field-mapping.md"),
            acceptance=(
                "Every field of the {subject} is mapped to its upstream source",
                "Cache TTL and invalidation stated per field",
            ),
            tokens=20_000,
            traces=("features", "caching", "constraints"),
        ),
        _t(
            "auth-propagation",
            "security",
            "Design authentication propagation",
            "Pass the end user's identity to each upstream, scope tokens per upstream, and "
            "keep authorisation decisions where the data lives.",
            deps=("upstream-audit",),
            artifacts=("auth-design.md",),
            acceptance=("No shared super-token; each upstream sees the end user's identity",),
            tokens=12_000,
            traces=("resilience",),
        ),
        _t(
            "gateway-skeleton",
            "backend",
            "Scaffold the gateway with one adapter per upstream",
            "Create the {subject} with isolated adapters, request context, error mapping and "
            "health checks per upstream.",
            deps=("unified-contract",),
            artifacts=("gateway skeleton",),
            acceptance=("One upstream being down does not fail unrelated fields of the {subject}",),
            tier="write",
            tokens=30_000,
            traces=("resilience",),
        ),
        _t(
            "resilience",
            "backend",
            "Timeouts, retries, circuit breakers, batching and caching",
            "Budget timeouts per upstream, retry idempotent calls, open circuits on failure, "
            "batch N+1 lookups, and cache in {cache} with the agreed TTLs.",
            deps=("gateway-skeleton",),
            artifacts=("resilience.md",),
            acceptance=(
                "N+1 upstream calls are batched",
                "Cache hits and staleness are measurable per field",
            ),
            tier="write",
            tokens=30_000,
            traces=("caching", "latency"),
        ),
        _t(
            "observability",
            "devops",
            "Tracing across the gateway and upstreams",
            "Distributed tracing with one span per upstream call, metrics per upstream, and "
            "alerts on error rate and latency.",
            deps=("gateway-skeleton",),
            artifacts=("dashboards.json",),
            acceptance=("A trace shows every upstream call of {a_subject} request with timings",),
            tier="write",
            tokens=12_000,
            traces=("latency",),
        ),
        _t(
            "contract-tests",
            "qa",
            "Contract tests and shadow comparison",
            "Contract tests against recorded upstream responses, and a shadow comparison "
            "between direct upstream calls and the {subject}.",
            deps=(F, "resilience"),
            artifacts=("tests/contract/", "test-plan.md"),
            acceptance=("Upstream contract changes are detected in CI",),
            tier="write",
            tokens=25_000,
            traces=("features",),
        ),
        _t(
            "rollout",
            "release",
            "Shadow traffic, then switch clients",
            "Mirror production traffic, compare responses, then move clients one by one with "
            "a fallback to direct calls.",
            deps=("contract-tests", "observability", "auth-propagation"),
            artifacts=("rollout-plan.md",),
            acceptance=("Clients switched to the {subject} with no increase in error rate",),
            tier="irreversible",
            tokens=10_000,
            traces=("latency",),
        ),
    ),
    requirements=(
        _r("latency", "Adds at most 50 ms at p95 over the slowest upstream call."),
        _r("resilience", "A failing upstream degrades only the fields it owns."),
        _r("caching", "Caching is explicit per field, with bounded staleness.", "should"),
    ),
    risks=(
        _risk(
            "Stale data from caching",
            "Clients see outdated values after an upstream change.",
            "medium",
            "high",
            "Per-field TTLs, invalidation on known writes, staleness metrics.",
        ),
        _risk(
            "Cascading failures",
            "A slow upstream exhausts the gateway's workers and takes everything down.",
            "high",
            "medium",
            "Timeouts, bulkheads, circuit breakers per upstream.",
        ),
        _risk(
            "Upstream contract changes",
            "An upstream team changes a response and breaks the {subject}.",
            "high",
            "medium",
            "Consumer-driven contract tests shared with the upstream teams.",
        ),
        _risk(
            "N+1 fan-out",
            "Nested queries multiply upstream calls.",
            "medium",
            "high",
            "Batch loaders per request and query cost limits.",
        ),
    ),
    decisions=(
        _d(
            "Composition approach",
            "Hand-written resolvers over per-upstream adapters, rather than automatic schema "
            "stitching.",
            ("Full control over mapping and errors", "Upstreams are REST, not GraphQL"),
            ("More code to maintain",),
            ("Schema stitching", "Apollo Federation subgraphs in each service"),
        ),
        _d(
            "Cache",
            "{cache} for shared response caching, plus per-request batching.",
            ("Shared across gateway instances",),
            ("Another component to run",),
            ("In-process cache only", "CDN caching"),
            slot="cache",
        ),
        _d(
            "Upstream calls",
            "Asynchronous, concurrent upstream calls with a per-request deadline.",
            ("Latency close to the slowest call, not the sum",),
            ("Harder debugging without tracing",),
            ("Sequential calls",),
        ),
    ),
    next_steps=(
        "Meet each upstream team to confirm limits and change notification.",
        "Collect recorded responses from each upstream for contract tests.",
        "Pick the first client to move to the {subject}.",
    ),
    phases=(
        _p(
            "contracts",
            "Contracts",
            "Upstreams, unified contract and auth.",
            "upstream-audit",
            "unified-contract",
            "auth-propagation",
        ),
        _p(
            "build",
            "Build",
            "Gateway, features and resilience.",
            "gateway-skeleton",
            F,
            "resilience",
            "observability",
        ),
        _p("switch", "Verify and switch", "Prove and move clients.", "contract-tests", "rollout"),
    ),
    architecture=(
        "Gateway exposing the unified contract",
        "One adapter per upstream with timeouts and circuit breakers",
        "Shared cache in {cache}; per-request batching",
        "Tracing across gateway and upstreams",
    ),
    project_shape=(
        "gateway/schema/",
        "gateway/resolvers/",
        "gateway/adapters/",
        "tests/contract/",
        "docs/field-mapping.md",
    ),
    design_key="unified-contract",
    verify_key="contract-tests",
    feature_deps=("gateway-skeleton", "auth-propagation"),
    surveys_existing=True,
)

BROWSER_EXTENSION = Kind(
    key="browser_extension",
    label="browser extension",
    keywords=(
        (r"browser extensions?", 6),
        (r"(?:chrome|firefox|edge|safari) (?:extension|add-?on)s?", 6),
        (r"extensions?", 3),
        (r"add-?ons?", 2),
        (r"manifest v3|mv3", 5),
        (r"content scripts?", 5),
        (r"trackers?", 2),
    ),
    approach=(
        "Justify every permission up front, design for the Manifest V3 service-worker "
        "lifecycle, keep data on the device, test against popular sites, and plan for store "
        "review."
    ),
    feature_role="frontend",
    feature_roles=("frontend", "security", "data", "backend"),
    feature_title="Build {feature}",
    feature_description=(
        "Build “{feature}” in the {subject}: the content script or service-worker logic, "
        "storage, popup UI where needed, and automated tests on real pages."
    ),
    feature_requirement=(
        "{feature_title}: works in the {subject} on {browser} without breaking pages."
    ),
    feature_acceptance=(
        "“{feature}” works on the top sites test list",
        "“{feature}” keeps working after the service worker is suspended",
    ),
    feature_artifacts=("src/{slug}/", "tests: {slug}"),
    tasks=(
        _t(
            "scope-permissions",
            "product",
            "Define features and the minimal permission set",
            "List the features of the {subject} ({features}) and the smallest set of "
            "permissions and host permissions they need, each justified.",
            artifacts=("permissions.md",),
            acceptance=("Each permission of the {subject} is justified in one sentence",),
            tokens=10_000,
            traces=("features", "privacy"),
        ),
        _t(
            "architecture",
            "architect",
            "Design the Manifest V3 architecture",
            "Split work between the service worker, content scripts and popup; choose "
            "storage; design for the service worker being suspended at any time.",
            deps=("scope-permissions",),
            artifacts=("architecture.md",),
            acceptance=("State of the {subject} survives service-worker suspension",),
            tokens=15_000,
            traces=("performance", "constraints"),
        ),
        _t(
            "scaffold",
            "frontend",
            "Scaffold the extension with a cross-browser build",
            "Set up one codebase building for {browser}, with linting, tests and a "
            "reproducible packaged build.",
            deps=("architecture",),
            artifacts=("extension skeleton", "ci.yml"),
            acceptance=("CI builds installable packages for {browser}",),
            tier="write",
            tokens=15_000,
            traces=("performance",),
        ),
        _t(
            "popup-ui",
            "frontend",
            "Popup and options UI",
            "Build the popup and options pages: per-site status, toggles, and an explanation "
            "of what the {subject} does.",
            deps=("scaffold",),
            artifacts=("popup/", "options/"),
            acceptance=("The popup of the {subject} opens in under 100 ms",),
            tier="write",
            tokens=20_000,
            traces=("features",),
        ),
        _t(
            "privacy-review",
            "security",
            "Privacy and security review",
            "Check that no browsing data leaves the device without opt-in, there is no remote "
            "code, and content scripts cannot be abused by pages.",
            deps=("architecture",),
            artifacts=("privacy-policy.md", "security-review.md"),
            acceptance=("No browsing data leaves the device unless the user opts in",),
            tokens=10_000,
            traces=("privacy",),
        ),
        _t(
            "compat-tests",
            "qa",
            "Automated tests across browsers and popular sites",
            "Drive {browser} with the extension loaded over a list of popular sites, checking "
            "features and that pages are not broken.",
            deps=(F, "popup-ui"),
            artifacts=("tests/e2e/", "site-list.txt", "test-plan.md"),
            acceptance=("The top 50 sites load without breakage with the {subject} enabled",),
            tier="write",
            tokens=25_000,
            traces=("features", "performance"),
        ),
        _t(
            "store-submission",
            "release",
            "Submit to the browser stores",
            "Prepare listings, screenshots and privacy disclosures, and submit to the Chrome "
            "Web Store and Firefox Add-ons.",
            deps=("compat-tests", "privacy-review"),
            artifacts=("store-listing.md",),
            acceptance=("The {subject} is accepted by both stores",),
            tier="irreversible",
            tokens=8_000,
            traces=("privacy",),
        ),
    ),
    requirements=(
        _r("performance", "No measurable slowdown of page loads; popup opens in under 100 ms."),
        _r("privacy", "Minimal permissions, no remote code, browsing data stays on the device."),
    ),
    risks=(
        _risk(
            "Store rejection for broad permissions",
            "Reviewers reject or delay the {subject} because of host permissions.",
            "medium",
            "medium",
            "Optional host permissions requested at use time, clear justifications.",
        ),
        _risk(
            "Breaking websites",
            "Blocking or injected scripts break site functionality.",
            "high",
            "medium",
            "Allow-list per site, a one-click disable, and tests on popular sites.",
        ),
        _risk(
            "Manifest V3 limits",
            "Rule-count and API limits constrain what can be blocked or observed.",
            "medium",
            "high",
            "Design within declarativeNetRequest limits; prioritise rules by impact.",
        ),
    ),
    decisions=(
        _d(
            "Blocking mechanism",
            "declarativeNetRequest rule sets, updated with releases.",
            ("Required by Manifest V3 in Chrome", "Fast: evaluated by the browser"),
            ("Rule count limits; less dynamic",),
            ("webRequest blocking (Firefox only)",),
        ),
        _d(
            "Cross-browser build",
            "One codebase with the WebExtension API and a polyfill, built per browser.",
            ("One set of tests", "Firefox and Chrome from the same source"),
            ("Browser-specific gaps to handle",),
            ("Separate codebases per browser",),
        ),
        _d(
            "Data storage",
            "Local extension storage only; no server.",
            ("Privacy by design", "Nothing to operate"),
            ("No sync across devices",),
            ("A sync backend",),
        ),
    ),
    next_steps=(
        "Register developer accounts for the Chrome Web Store and Firefox Add-ons.",
        "Choose the test site list for the {subject}.",
        "Write the privacy policy text.",
    ),
    phases=(
        _p(
            "design",
            "Design",
            "Permissions, architecture, privacy.",
            "scope-permissions",
            "architecture",
            "privacy-review",
        ),
        _p("build", "Build", "Extension features and UI.", "scaffold", F, "popup-ui"),
        _p(
            "publish",
            "Publish",
            "Test on real sites and submit.",
            "compat-tests",
            "store-submission",
        ),
    ),
    architecture=(
        "Service worker: rules, state, messaging",
        "Content scripts: per-page logic",
        "Popup and options pages",
        "Local extension storage",
    ),
    project_shape=("manifest.json", "src/background/", "src/content/", "src/popup/", "tests/e2e/"),
    design_key="architecture",
    verify_key="compat-tests",
    feature_deps=("scaffold",),
    defaults={"browser": "Chrome and Firefox"},
)

REALTIME_GAME = Kind(
    key="realtime_game",
    label="real-time multiplayer game",
    keywords=(
        (r"games?", 5),
        (r"multiplayer", 5),
        (r"real[- ]?time", 3),
        (r"websockets?", 3),
        (r"leaderboards?", 3),
        (r"matchmaking|lobby|lobbies", 4),
        (r"trivia|quiz", 3),
        (r"collaborative editing|presence", 2),
    ),
    approach=(
        "Pin down the rules and timing, make the server authoritative with a versioned message "
        "protocol, design reconnects from day one, and load-test rooms before launch."
    ),
    feature_role="backend",
    feature_roles=("backend", "frontend", "data", "security"),
    feature_title="Build {feature}",
    feature_description=(
        "Build “{feature}” for the {subject}: server-side rules and state, messages in the "
        "protocol, client rendering, and tests with simulated players."
    ),
    feature_requirement=(
        "{feature_title}: part of the {subject}, consistent for every player in real time."
    ),
    feature_acceptance=(
        "“{feature}” behaves the same for all players in a simulated room",
        "“{feature}” survives a player reconnecting",
    ),
    feature_artifacts=("server + client: {slug}", "simulation test: {slug}"),
    tasks=(
        _t(
            "game-design",
            "product",
            "Write the rules, loop and session flow",
            "Specify the {subject}: rules, round timing, scoring and tie-breaks, lobby and "
            "session flow, and what happens when players leave or join late.",
            artifacts=("game-design.md",),
            acceptance=("Rules, timing, scoring and tie-breaks of the {subject} are unambiguous",),
            tokens=12_000,
            traces=("features", "fairness"),
        ),
        _t(
            "netcode-design",
            "architect",
            "Design the authoritative server and message protocol",
            "Server-authoritative state machine per room, versioned messages, clock sync, "
            "reconnect and resync, and how rooms are routed across instances.",
            deps=("game-design",),
            artifacts=("protocol.md", "room-state-machine.md"),
            acceptance=(
                "Every message of the {subject} protocol is versioned and validated",
                "Reconnect restores the player's state",
            ),
            tokens=22_000,
            traces=("latency", "scale", "constraints"),
        ),
        _t(
            "content-pipeline",
            "data",
            "Content and configuration pipeline",
            "Build the pipeline for game content (questions, levels or assets): import, "
            "validation, versioning and moderation.",
            deps=("game-design",),
            artifacts=("content schema", "content import"),
            acceptance=("Content is validated and versioned before it reaches a room",),
            tier="write",
            tokens=15_000,
            traces=("features",),
        ),
        _t(
            "realtime-server",
            "backend",
            "Build the realtime server: rooms, ticks and presence",
            "Implement rooms, the game loop, presence and broadcast over WebSockets, with "
            "room state in {cache} for failover.",
            deps=("netcode-design",),
            artifacts=("server code",),
            acceptance=("{A_subject} room survives a player reconnecting within 30 s",),
            tier="write",
            tokens=45_000,
            traces=("latency", "scale"),
        ),
        _t(
            "client",
            "frontend",
            "Build the browser client and game UI",
            "Render the {subject} in the browser: lobby, rounds, timers driven by server "
            "time, results, and smooth handling of lag.",
            deps=("netcode-design",),
            artifacts=("client code",),
            acceptance=("Timers stay within 100 ms of the server",),
            tier="write",
            tokens=40_000,
            traces=("latency",),
        ),
        _t(
            "anti-cheat",
            "security",
            "Anti-cheat and abuse controls",
            "Validate every action on the server, never send answers early, rate-limit "
            "connections, and moderate names and chat.",
            deps=("realtime-server",),
            artifacts=("anti-cheat.md",),
            acceptance=("Answers and scores of the {subject} are decided only on the server",),
            tokens=12_000,
            traces=("fairness",),
        ),
        _t(
            "load-test",
            "qa",
            "Load and latency tests with simulated players",
            "Simulate thousands of players across many rooms, with packet loss and "
            "reconnects, and measure message latency.",
            deps=(F, "client"),
            artifacts=("load-test-report.md", "test-plan.md"),
            acceptance=(
                "The {subject} keeps p95 message latency under 150 ms at the target concurrency",
            ),
            tier="write",
            tokens=20_000,
            traces=("latency", "scale", "features"),
        ),
        _t(
            "launch",
            "release",
            "Launch with autoscaling and monitoring",
            "Deploy with room-aware routing, autoscaling, dashboards for rooms and latency, "
            "and a graceful drain for deploys.",
            deps=("load-test", "anti-cheat"),
            artifacts=("runbook.md",),
            acceptance=("Deploys of the {subject} drain rooms without dropping games",),
            tier="irreversible",
            tokens=10_000,
            traces=("scale",),
        ),
    ),
    requirements=(
        _r("latency", "p95 message latency under 150 ms for players in the same region."),
        _r(
            "fairness",
            "The server is authoritative: clients cannot change scores or see answers early.",
        ),
        _r(
            "scale",
            "Rooms spread across instances; a deploy does not drop running games.",
            "should",
        ),
    ),
    risks=(
        _risk(
            "Desync and lag",
            "Players see different states or unfair timers.",
            "high",
            "medium",
            "Server time for all timers, state snapshots on reconnect, latency budget tests.",
        ),
        _risk(
            "Cheating",
            "Players inspect traffic to get answers or forge scores.",
            "high",
            "high",
            "Authoritative server, reveal answers only after the round, server-side checks.",
        ),
        _risk(
            "Scaling WebSockets across instances",
            "Connections for one room land on different instances.",
            "medium",
            "medium",
            "Room-aware routing or pub/sub between instances; load tests across instances.",
        ),
        _risk(
            "Reconnect storms",
            "A deploy or network blip makes every client reconnect at once.",
            "medium",
            "medium",
            "Jittered reconnect backoff and graceful drains.",
        ),
    ),
    decisions=(
        _d(
            "Transport",
            "WebSockets with a versioned JSON message protocol.",
            ("Bidirectional and supported by every browser",),
            ("Stateful connections complicate scaling",),
            ("WebRTC data channels", "Server-sent events + POST"),
        ),
        _d(
            "Room state and leaderboards",
            "Room state in memory with snapshots in {cache}; leaderboards as sorted sets.",
            ("Fast reads and writes", "Failover without losing the room"),
            ("Another component to run",),
            ("Database only", "In-memory only"),
            slot="cache",
        ),
        _d(
            "Authority",
            "Authoritative server; clients only send intents.",
            ("Cheating is much harder",),
            ("Every action waits for a round trip",),
            ("Client-side prediction with reconciliation",),
        ),
    ),
    next_steps=(
        "Play a paper prototype of the {subject} rules with five people.",
        "Decide the target concurrency for launch.",
        "Collect or license the initial content set.",
    ),
    phases=(
        _p(
            "design",
            "Design",
            "Rules, protocol and content.",
            "game-design",
            "netcode-design",
            "content-pipeline",
        ),
        _p(
            "build",
            "Build",
            "Server, client and game features.",
            "realtime-server",
            "client",
            F,
            "anti-cheat",
        ),
        _p("launch", "Launch", "Load-test and launch.", "load-test", "launch"),
    ),
    architecture=(
        "Browser client",
        "Realtime server: rooms, game loop, presence over WebSockets",
        "Room state and leaderboards in {cache}",
        "Content store and import pipeline",
    ),
    project_shape=("server/rooms/", "server/protocol/", "client/", "content/", "load-tests/"),
    design_key="netcode-design",
    verify_key="load-test",
    feature_deps=("realtime-server", "content-pipeline"),
)

FIRMWARE = Kind(
    key="firmware",
    label="firmware / embedded device",
    keywords=(
        (r"firmware", 6),
        (r"embedded", 5),
        (r"micro-?controllers?|mcu", 5),
        (r"ble|bluetooth(?: low energy)?", 4),
        (r"battery[- ]powered|battery", 3),
        (r"sensors?", 3),
        (r"rtos|zephyr|freertos", 5),
        (r"esp32|nrf5\d\w*|stm32|arduino", 5),
        (r"iot", 3),
        (r"devices?", 1),
    ),
    approach=(
        "Set the power budget and hardware constraints first, bring up the board early, "
        "make storage power-loss safe, verify on real hardware in the loop, and never ship "
        "without signed, rollback-safe updates."
    ),
    feature_role="backend",
    feature_roles=("backend", "security", "data"),
    feature_title="Implement {feature}",
    feature_description=(
        "Implement “{feature}” in the {subject} firmware: driver or protocol code, its power "
        "state handling, unit tests on the host and a hardware-in-the-loop test."
    ),
    feature_requirement=(
        "{feature_title}: implemented in the {subject} firmware within the power budget."
    ),
    feature_acceptance=(
        "“{feature}” passes its hardware-in-the-loop test",
        "Current draw during “{feature}” matches the power budget",
    ),
    feature_artifacts=("firmware module: {slug}", "HIL test: {slug}"),
    tasks=(
        _t(
            "hw-requirements",
            "architect",
            "Capture hardware, power budget and environment",
            "Agree the MCU ({mcu}), sensors, battery and target battery life, operating "
            "temperature range, storage size and sampling rate of the {subject}.",
            artifacts=("requirements.md", "power-budget.md"),
            acceptance=("Battery life target and power budget per state agreed for the {subject}",),
            tokens=12_000,
            traces=("battery", "constraints"),
        ),
        _t(
            "architecture",
            "architect",
            "Firmware architecture: tasks, power states, storage",
            "Design the RTOS tasks or main loop, power states and wake sources, the storage "
            "layout, time keeping, and the update mechanism.",
            deps=("hw-requirements",),
            artifacts=("architecture.md",),
            acceptance=("Power states and wake sources of the {subject} are defined",),
            tokens=20_000,
            traces=("battery", "integrity"),
        ),
        _t(
            "bsp-bringup",
            "backend",
            "Board bring-up and drivers",
            "Bring up the board: clocks, GPIO, sensor drivers, low-power modes, and a debug "
            "console; measure baseline current.",
            deps=("hw-requirements",),
            artifacts=("board support package", "bring-up-notes.md"),
            acceptance=("Sensors read correctly; sleep current measured",),
            tier="write",
            tokens=30_000,
            traces=("battery",),
        ),
        _t(
            "storage",
            "backend",
            "Power-loss-safe storage with wear levelling",
            "Store samples in a ring buffer in flash with CRCs and wear levelling; recover "
            "cleanly after a power cut at any moment.",
            deps=("architecture",),
            artifacts=("storage module",),
            acceptance=("The {subject} loses no data over 100 random power cuts",),
            tier="write",
            tokens=25_000,
            traces=("integrity",),
        ),
        _t(
            "security",
            "security",
            "Pairing, signed firmware and debug lock-down",
            "Review BLE pairing and bonding, sign firmware images, disable debug ports in "
            "production, and protect stored data.",
            deps=("architecture",),
            artifacts=("security-review.md",),
            acceptance=("Only signed images boot; production debug port is locked",),
            tokens=12_000,
            traces=("secure-updates",),
        ),
        _t(
            "hil-tests",
            "qa",
            "Hardware-in-the-loop and power tests",
            "Automate tests on real boards: features, power cuts, temperature extremes, and "
            "current measurement against the budget; test sync with several phones.",
            deps=(F, "storage", "bsp-bringup"),
            artifacts=("hil/", "test-plan.md", "power-report.md"),
            acceptance=(
                "Measured battery life of the {subject} meets the target",
                "Sync works with the listed iOS and Android phones",
            ),
            tier="write",
            tokens=25_000,
            traces=("battery", "features"),
        ),
        _t(
            "ota-release",
            "release",
            "Rollback-safe updates and production flashing",
            "Dual-bank DFU/OTA with automatic rollback, a production flashing and "
            "provisioning procedure, and release signing.",
            deps=("hil-tests", "security"),
            artifacts=("release-procedure.md", "signed images"),
            acceptance=("A failed update of the {subject} rolls back to the last good image",),
            tier="irreversible",
            tokens=15_000,
            traces=("secure-updates",),
        ),
    ),
    requirements=(
        _r("battery", "Meets the battery-life target under the agreed sampling and sync schedule."),
        _r("integrity", "No data loss or corruption across power loss, resets and full storage."),
        _r("secure-updates", "Only signed firmware runs; a failed update rolls back."),
    ),
    risks=(
        _risk(
            "Power budget missed",
            "Radio use or leaks drain the battery far faster than planned.",
            "high",
            "medium",
            "Measure current early and continuously; budget radio time per day.",
        ),
        _risk(
            "BLE interoperability",
            "Phones differ in BLE stacks, so sync fails on some models.",
            "medium",
            "high",
            "Test with a phone matrix; conservative connection parameters; resumable sync.",
        ),
        _risk(
            "Bricked devices",
            "A bad update leaves devices unable to boot.",
            "critical",
            "low",
            "Dual-bank updates with automatic rollback and staged update rollout.",
        ),
        _risk(
            "Clock drift in timestamps",
            "Samples get wrong timestamps after long periods offline.",
            "medium",
            "medium",
            "Sync time on each connection and correct drift on the phone side.",
        ),
    ),
    decisions=(
        _d(
            "Platform",
            "Build on {mcu} with an RTOS (e.g. Zephyr).",
            ("Mature BLE stack and low-power modes", "Vendor and community support"),
            ("RTOS learning curve",),
            ("Bare-metal super-loop", "ESP32 with ESP-IDF"),
            slot="mcu",
        ),
        _d(
            "Storage format",
            "A ring buffer of fixed-size records with CRCs in internal flash.",
            ("Simple, power-loss safe, predictable wear",),
            ("Fixed record size",),
            ("A flash filesystem (LittleFS)",),
        ),
        _d(
            "Sync protocol",
            "A custom GATT service with resumable transfers from a sequence number.",
            ("Resumes after disconnects", "Efficient for bulk history"),
            ("Custom service to document",),
            ("Standard Environmental Sensing Service only",),
        ),
    ),
    next_steps=(
        "Order development boards and a current measurement tool.",
        "Pick the phones for the BLE compatibility matrix.",
        "Agree the battery life target and sampling rate with the product owner.",
    ),
    phases=(
        _p(
            "bringup",
            "Bring-up",
            "Requirements, architecture and board.",
            "hw-requirements",
            "architecture",
            "bsp-bringup",
        ),
        _p("firmware", "Firmware", "Features, storage and security.", F, "storage", "security"),
        _p("ship", "Validate and ship", "Hardware tests and updates.", "hil-tests", "ota-release"),
    ),
    architecture=(
        "MCU: {mcu}",
        "Sensor drivers and sampling task",
        "Flash ring buffer with CRCs",
        "BLE GATT service for sync",
        "Dual-bank bootloader with signed images",
    ),
    project_shape=(
        "firmware/src/drivers/",
        "firmware/src/storage/",
        "firmware/src/ble/",
        "firmware/boards/",
        "hil/",
    ),
    design_key="architecture",
    verify_key="hil-tests",
    feature_deps=("architecture", "bsp-bringup"),
)

SECURITY_HARDENING = Kind(
    key="security_hardening",
    label="security hardening",
    keywords=(
        (r"harden\w*", 6),
        (r"security", 4),
        (r"vulnerabilit\w*|cves?", 4),
        (r"pen[- ]?test\w*", 5),
        (r"owasp", 5),
        (r"secrets? rotation|rotat\w* secrets?", 4),
        (r"audit log\w*", 3),
        (r"rate[- ]limit\w*", 2),
        (r"input validation", 3),
        (r"soc ?2|iso ?27001", 4),
        (r"threat model\w*", 4),
    ),
    approach=(
        "Threat-model and audit before changing anything, fix by risk, roll controls out in "
        "report-only mode before enforcing, and leave a regression test behind for every "
        "finding."
    ),
    feature_role="security",
    feature_roles=("security", "backend", "devops"),
    feature_title="Implement {feature}",
    feature_description=(
        "Implement “{feature}” across the {subject}: the control itself, a report-only mode "
        "first, metrics to see what it would block, and regression tests."
    ),
    feature_requirement=(
        "{feature_title}: enforced across the {subject} without breaking legitimate clients, "
        "with a regression test."
    ),
    feature_acceptance=(
        "“{feature}” runs in report-only mode before it is enforced",
        "“{feature}” has a regression test for the attack it prevents",
    ),
    feature_artifacts=("change: {slug}", "security test: {slug}"),
    tasks=(
        _t(
            "threat-model",
            "security",
            "Threat-model the {subject}",
            "List assets, entry points, trust boundaries and attacker goals; apply STRIDE per "
            "entry point and rank threats.",
            artifacts=("threat-model.md",),
            acceptance=("Every entry point of the {subject} has its threats ranked",),
            tokens=18_000,
            traces=("features", "constraints"),
        ),
        _t(
            "baseline-audit",
            "security",
            "Audit the current state",
            "Scan dependencies, configuration, headers, authentication and logging; list "
            "findings by severity.",
            artifacts=("audit-report.md",),
            acceptance=("Findings for the {subject} are listed with severity and evidence",),
            tokens=18_000,
            traces=("no-breakage",),
        ),
        _t(
            "remediation-plan",
            "architect",
            "Prioritise fixes by risk and effort",
            "Turn threats and findings into a remediation plan ordered by risk, with owners "
            "and the rollout mode of each control.",
            deps=("threat-model", "baseline-audit"),
            artifacts=("remediation-plan.md",),
            acceptance=("Every high and critical finding has an owner and a date",),
            tokens=10_000,
            traces=("features",),
        ),
        _t(
            "dependency-fixes",
            "backend",
            "Patch vulnerable dependencies and harden configuration",
            "Upgrade vulnerable dependencies, set security headers and TLS settings, and "
            "enable automated dependency updates.",
            deps=("baseline-audit",),
            artifacts=("pull requests",),
            acceptance=("No known critical or high vulnerabilities remain in the {subject}",),
            tier="write",
            tokens=25_000,
            traces=("no-breakage",),
        ),
        _t(
            "security-tests",
            "qa",
            "Security regression tests and scans in CI",
            "Add a regression test per finding and run dependency scanning and dynamic "
            "scanning in CI.",
            deps=(F, "dependency-fixes"),
            artifacts=("tests/security/", "test-plan.md"),
            acceptance=("Every finding in the {subject} has a regression test in CI",),
            tier="write",
            tokens=25_000,
            traces=("features", "no-breakage"),
        ),
        _t(
            "monitoring",
            "devops",
            "Security monitoring and alerts",
            "Alert on authentication failure spikes, rate-limit hits, validation failures and "
            "secret access anomalies.",
            deps=(F,),
            artifacts=("alerts.md", "dashboards.json"),
            acceptance=("Alerts reach the on-call channel in a drill",),
            tier="write",
            tokens=12_000,
            traces=("auditability",),
        ),
        _t(
            "enforce",
            "release",
            "Move controls from report-only to enforced",
            "Review report-only data, fix false positives, then enforce controls in stages "
            "and rotate any exposed secrets.",
            deps=("security-tests", "monitoring"),
            artifacts=("rollout-log.md",),
            acceptance=(
                "Controls enforced on the {subject} with no increase in legitimate client errors",
            ),
            tier="irreversible",
            tokens=10_000,
            traces=("no-breakage",),
        ),
    ),
    requirements=(
        _r(
            "no-breakage", "No legitimate client breaks: controls run report-only before enforcing."
        ),
        _r("auditability", "Security-relevant events are audit-logged and retained."),
    ),
    risks=(
        _risk(
            "Controls break legitimate clients",
            "Stricter validation or rate limits reject real traffic.",
            "high",
            "medium",
            "Report-only mode, per-client limits, staged enforcement with metrics.",
        ),
        _risk(
            "Secret rotation causes an outage",
            "A rotated secret is not picked up by every consumer.",
            "high",
            "medium",
            "Dual-secret overlap windows, inventory of consumers, rehearsed rotation.",
        ),
        _risk(
            "Audit logs leak sensitive data",
            "Logs capture tokens or personal data.",
            "medium",
            "medium",
            "Redaction at the logger, log schema review, access controls on logs.",
        ),
        _risk(
            "Incomplete coverage",
            "An entry point is missed and stays unprotected.",
            "medium",
            "medium",
            "Threat model from the route table; tests that every route has the controls.",
        ),
    ),
    decisions=(
        _d(
            "Where to rate limit",
            "Rate limit at the edge for volume and in the application per user and route, "
            "with counters in {cache}.",
            ("Edge absorbs floods", "App limits understand users and routes"),
            ("Two places to configure",),
            ("Edge only", "Application only"),
            slot="cache",
        ),
        _d(
            "Input validation",
            "Schema validation at every boundary with allow-lists, rejecting unknown fields.",
            ("Consistent and testable",),
            ("Clients sending extra fields get errors",),
            ("Ad-hoc checks in handlers", "Sanitising instead of rejecting"),
        ),
        _d(
            "Secrets management",
            "A secrets manager with automatic rotation and short-lived credentials.",
            ("No secrets in code or images", "Rotation without deploys"),
            ("Dependency on the secrets manager",),
            ("Environment variables from CI", "Encrypted files in the repository"),
        ),
    ),
    next_steps=(
        "Agree the severity scale and fix deadlines with the owners of the {subject}.",
        "Inventory every consumer of each secret before the first rotation.",
        "Schedule an external penetration test after enforcement.",
    ),
    phases=(
        _p(
            "assess",
            "Assess",
            "Know the threats and the current state.",
            "threat-model",
            "baseline-audit",
            "remediation-plan",
        ),
        _p("remediate", "Remediate", "Build the controls.", F, "dependency-fixes"),
        _p(
            "enforce",
            "Verify and enforce",
            "Test, monitor and enforce.",
            "security-tests",
            "monitoring",
            "enforce",
        ),
    ),
    architecture=(
        "Edge: WAF and coarse rate limits",
        "Application middleware: auth, validation, per-user limits",
        "Secrets manager with rotation",
        "Audit log pipeline with redaction",
    ),
    project_shape=(
        "security/threat-model.md",
        "middleware/",
        "tests/security/",
        "docs/runbooks/secret-rotation.md",
    ),
    design_key="remediation-plan",
    verify_key="security-tests",
    feature_deps=("remediation-plan",),
    surveys_existing=True,
)

IDENTITY_SSO = Kind(
    key="identity_sso",
    label="single sign-on / identity integration",
    keywords=(
        (r"single sign[- ]on|sso", 6),
        (r"oidc|openid connect", 5),
        (r"saml", 5),
        (r"oauth ?2?", 3),
        (r"log ?in|sign[- ]in", 2),
        (r"authentication", 3),
        (r"identity provider|idp", 4),
        (r"mfa|2fa|scim", 3),
        (r"okta|auth0|keycloak|entra|azure ad", 4),
    ),
    approach=(
        "Audit every existing login path, design the flow and account linking, ship behind a "
        "flag with a fallback login, and roll out group by group so nobody is locked out."
    ),
    feature_role="security",
    feature_roles=("security", "backend", "frontend", "devops"),
    feature_title="Implement {feature}",
    feature_description=(
        "Implement “{feature}” in the {subject} for {host}: configuration per environment, "
        "code behind the feature flag, and tests including failure paths."
    ),
    feature_requirement=(
        "{feature_title}: supported by the {subject} in {host} without locking anyone out."
    ),
    feature_acceptance=(
        "“{feature}” works in staging against the real identity provider",
        "Turning the flag off restores the previous login for “{feature}”",
    ),
    feature_artifacts=("change: {slug}", "auth tests: {slug}"),
    tasks=(
        _t(
            "auth-audit",
            "security",
            "Audit current authentication in {host}",
            "List every login path, session store, API token, permission check and service "
            "account in {host}.",
            artifacts=("auth-audit.md",),
            acceptance=("Every login path and session mechanism of {host} is listed",),
            tokens=15_000,
            traces=("no-lockout",),
        ),
        _t(
            "auth-design",
            "architect",
            "Design the flow, account linking and claims mapping",
            "Authorization code flow with PKCE against {idp}, linking of existing accounts, "
            "mapping of claims and groups to roles, logout and session lifetime.",
            deps=("auth-audit",),
            artifacts=("auth-design.md",),
            acceptance=(
                "Existing users of {host} map to identities without losing data or permissions",
                "Logout and session expiry are specified",
            ),
            tokens=20_000,
            traces=("features", "sessions", "constraints"),
        ),
        _t(
            "idp-setup",
            "devops",
            "Register the application with the identity provider",
            "Create a client per environment in {idp}, store secrets in the secret store, and "
            "configure redirect URIs and group claims.",
            artifacts=("idp-configuration.md",),
            acceptance=("Each environment has its own client; secrets are not in the repository",),
            tier="write",
            tokens=8_000,
            traces=("sessions",),
        ),
        _t(
            "login-flow",
            "backend",
            "Implement login, callback and sessions",
            "Implement the OIDC login and callback in {host}: state, nonce and PKCE checks, "
            "token validation, session creation, and logout.",
            deps=("auth-design", "idp-setup"),
            artifacts=("auth module",),
            acceptance=("The {subject} login validates state, nonce, PKCE and token signatures",),
            tier="write",
            tokens=35_000,
            traces=("sessions",),
        ),
        _t(
            "account-linking",
            "backend",
            "Link existing accounts to identities",
            "Link accounts by verified identifiers, with a migration for existing users and "
            "an admin tool for conflicts.",
            deps=("auth-design",),
            artifacts=("linking migration", "admin tool"),
            acceptance=("Existing users keep their data and permissions after first SSO login",),
            tier="write",
            tokens=25_000,
            traces=("no-lockout",),
        ),
        _t(
            "flag-and-fallback",
            "backend",
            "Feature flag and fallback login",
            "Put SSO behind a flag per group, keep a break-glass login for administrators, and "
            "make switching instant.",
            deps=("login-flow",),
            artifacts=("flag configuration", "break-glass procedure"),
            acceptance=("The {subject} can be switched off for everyone in under a minute",),
            tier="write",
            tokens=15_000,
            traces=("no-lockout",),
        ),
        _t(
            "auth-tests",
            "qa",
            "Authentication tests, including attacks",
            "Test login, logout, expiry, clock skew, CSRF on the callback, replayed codes and "
            "open redirects, in staging against the real identity provider.",
            deps=(F, "account-linking", "flag-and-fallback"),
            artifacts=("test-plan.md", "tests/auth/"),
            acceptance=(
                "Attack cases against the {subject} (CSRF, replay, open redirect) are rejected",
            ),
            tier="write",
            tokens=25_000,
            traces=("features", "sessions"),
        ),
        _t(
            "rollout",
            "release",
            "Progressive rollout without downtime",
            "Deploy with the flag off, enable for staff, then group by group, watching login "
            "success rates; keep the old login until every group is moved.",
            deps=("auth-tests",),
            artifacts=("rollout-plan.md", "runbook.md"),
            acceptance=("Every group moved to the {subject} with a login success rate above 99%",),
            tier="irreversible",
            tokens=10_000,
            traces=("no-lockout",),
        ),
    ),
    requirements=(
        _r(
            "no-lockout",
            "Nobody is locked out: fallback login and instant switch-off during rollout.",
        ),
        _r(
            "sessions",
            "Sessions are secure: validated tokens, server-side sessions, logout ends both "
            "local and provider sessions.",
        ),
    ),
    risks=(
        _risk(
            "Users locked out",
            "A misconfiguration or provider outage prevents everyone from logging in.",
            "critical",
            "medium",
            "Feature flag, break-glass accounts, staged rollout, monitoring of login success.",
        ),
        _risk(
            "Account takeover through linking",
            "Linking by unverified email lets an attacker take over an existing account.",
            "critical",
            "low",
            "Link only on verified identifiers; admin review of conflicts.",
        ),
        _risk(
            "Sessions dropped at deploy",
            "Changing the session backend logs everyone out.",
            "medium",
            "medium",
            "Keep existing sessions valid; migrate session storage separately.",
        ),
        _risk(
            "Clock skew rejects tokens",
            "Server clock drift makes valid tokens look expired.",
            "low",
            "medium",
            "NTP on servers and a small leeway in token validation.",
        ),
    ),
    decisions=(
        _d(
            "Protocol and flow",
            "OIDC authorization code flow with PKCE; tokens stay on the server.",
            ("Current best practice", "No tokens in browser JavaScript"),
            ("Server-side session state",),
            ("SAML 2.0", "Implicit flow"),
        ),
        _d(
            "Identity provider",
            "Integrate with {idp}.",
            ("Where the users' identities already live",),
            (),
            ("Okta", "Microsoft Entra ID", "Keycloak", "Google Workspace"),
            slot="idp",
        ),
        _d(
            "Rollout",
            "Feature flag per user group with a break-glass login.",
            ("Instant rollback", "Small blast radius"),
            ("Two login paths to maintain for a while",),
            ("Big-bang switch",),
        ),
    ),
    next_steps=(
        "Get test tenants or clients in {idp} for staging.",
        "Agree the rollout order of user groups.",
        "Name the break-glass account owners.",
    ),
    phases=(
        _p("design", "Design", "Audit and design.", "auth-audit", "auth-design", "idp-setup"),
        _p(
            "build",
            "Build",
            "Flow, linking and flags.",
            "login-flow",
            "account-linking",
            F,
            "flag-and-fallback",
        ),
        _p("rollout", "Roll out", "Test and roll out by group.", "auth-tests", "rollout"),
    ),
    architecture=(
        "Identity provider: {idp}",
        "OIDC client in {host}: login, callback, logout",
        "Server-side sessions",
        "Feature flag per group; break-glass login",
    ),
    project_shape=(
        "auth/oidc.py",
        "auth/linking.py",
        "auth/views.py",
        "tests/auth/",
        "docs/runbooks/sso.md",
    ),
    design_key="auth-design",
    verify_key="auth-tests",
    feature_deps=("login-flow",),
    surveys_existing=True,
)

DOCS_SITE = Kind(
    key="docs_site",
    label="documentation / static site",
    keywords=(
        (r"documentation", 4),
        (r"docs", 3),
        (r"static site", 5),
        (r"site generator", 5),
        (r"markdown", 3),
        (r"blog", 3),
        (r"knowledge base|handbook|wiki", 4),
        (r"docusaurus|mkdocs|hugo|jekyll|sphinx", 5),
    ),
    approach=(
        "Define the content model and navigation first, keep the build a pure function from "
        "Markdown to static files, make broken links fail the build, and publish from CI."
    ),
    feature_role="frontend",
    feature_roles=("frontend", "backend", "docs", "data"),
    feature_title="Build {feature}",
    feature_description=(
        "Build “{feature}” in the {subject}: build-time logic, templates, static output, and "
        "build tests on a sample site."
    ),
    feature_requirement=(
        "{feature_title}: produced by the {subject} as static output, tested in the build."
    ),
    feature_acceptance=(
        "“{feature}” works on the sample site with JavaScript disabled where possible",
        "Build tests cover “{feature}”",
    ),
    feature_artifacts=("module: {slug}", "build test: {slug}"),
    tasks=(
        _t(
            "content-model",
            "docs",
            "Define audiences, content model and navigation",
            "Define who reads the sites the {subject} produces, page types, front matter, "
            "navigation and URL scheme.",
            artifacts=("content-model.md",),
            acceptance=("Page types, front matter and URL scheme of the {subject} are defined",),
            tokens=10_000,
            traces=("features",),
        ),
        _t(
            "architecture",
            "architect",
            "Design the build pipeline",
            "Parse, render, index and emit as separate stages with incremental rebuilds; "
            "output is plain static files.",
            deps=("content-model",),
            artifacts=("architecture.md",),
            acceptance=("In the {subject}, rebuilding one page does not rebuild the whole site",),
            tokens=15_000,
            traces=("build-speed", "constraints"),
        ),
        _t(
            "markdown-pipeline",
            "backend",
            "Markdown parsing, front matter and templates",
            "CommonMark parsing with code highlighting, front matter validation, and "
            "templates for every page type.",
            deps=("architecture",),
            artifacts=("pipeline code",),
            acceptance=("The {subject} passes the CommonMark conformance tests",),
            tier="write",
            tokens=30_000,
            traces=("build-speed",),
        ),
        _t(
            "theme",
            "frontend",
            "Theme, layout and accessibility",
            "Responsive, accessible default theme with navigation, table of contents and "
            "dark mode; works without JavaScript.",
            deps=("content-model",),
            artifacts=("theme/",),
            acceptance=("The default theme of the {subject} meets WCAG 2.1 AA",),
            tier="write",
            tokens=25_000,
            traces=("a11y",),
        ),
        _t(
            "link-checks",
            "qa",
            "Link checking and build tests",
            "Fail the build on broken internal links and anchors; snapshot-test the output "
            "of a sample site.",
            deps=(F, "theme", "markdown-pipeline"),
            artifacts=("tests/", "test-plan.md"),
            acceptance=("A broken link fails the {subject} build",),
            tier="write",
            tokens=15_000,
            traces=("features",),
        ),
        _t(
            "guide",
            "docs",
            "Getting-started guide",
            "Write the guide for the {subject} itself: install, first site, configuration "
            "reference, deploy recipes.",
            deps=(F,),
            artifacts=("docs/getting-started.md",),
            acceptance=("A new user publishes a first site with the {subject} in ten minutes",),
            tokens=10_000,
            traces=("features",),
        ),
        _t(
            "publish",
            "release",
            "Release and hosting recipe",
            "Publish the first release and a CI recipe that deploys to static hosting.",
            deps=("link-checks", "guide"),
            artifacts=("release notes", "deploy recipe"),
            acceptance=("One command deploys a site to static hosting",),
            tier="irreversible",
            tokens=8_000,
            traces=("build-speed",),
        ),
    ),
    requirements=(
        _r("build-speed", "Builds 1,000 pages in under 10 s; incremental rebuilds under 1 s."),
        _r("a11y", "Generated sites meet WCAG 2.1 AA and work without a server.", "should"),
    ),
    risks=(
        _risk(
            "Search index bloat",
            "A large client-side index slows down page loads.",
            "medium",
            "medium",
            "Chunked index loaded on demand; measure index size in CI.",
        ),
        _risk(
            "Versioning multiplies build time",
            "Each version rebuilds the whole site.",
            "medium",
            "high",
            "Build old versions once and cache them; rebuild only the current version.",
        ),
        _risk(
            "Markdown dialect differences",
            "Authors' existing Markdown uses extensions the parser does not support.",
            "low",
            "medium",
            "CommonMark plus a documented, small set of extensions.",
        ),
    ),
    decisions=(
        _d(
            "Search",
            "A prebuilt client-side index split into chunks.",
            ("Works on any static hosting", "No third-party service"),
            ("Index size grows with content",),
            ("Hosted search (Algolia)", "Server-side search"),
        ),
        _d(
            "Versioning",
            "One output folder per version with a version switcher.",
            ("Old versions stay stable",),
            ("Storage grows with versions",),
            ("Branch-based deploys",),
        ),
        _d(
            "Implementation language",
            "Write the {subject} in {language}.",
            ("Rich Markdown and templating libraries",),
            (),
            ("Python", "Go", "JavaScript"),
            slot="language",
        ),
    ),
    next_steps=(
        "Collect a real Markdown corpus to use as the sample site.",
        "Decide the hosting targets to document.",
        "Pick the default theme's look with one designer review.",
    ),
    phases=(
        _p("design", "Design", "Content model and pipeline.", "content-model", "architecture"),
        _p("build", "Build", "Pipeline, theme and features.", "markdown-pipeline", "theme", F),
        _p("publish", "Publish", "Test, document and release.", "link-checks", "guide", "publish"),
    ),
    architecture=(
        "Markdown sources with front matter",
        "Build pipeline: parse, render, index, emit",
        "Templates and theme",
        "Static output deployed to any static host",
    ),
    project_shape=(
        "src/<package>/build/",
        "src/<package>/themes/default/",
        "examples/sample-site/",
        "tests/",
    ),
    design_key="architecture",
    verify_key="link-checks",
    feature_deps=("markdown-pipeline",),
)

INTERNAL_TOOL = Kind(
    key="internal_tool",
    label="internal tool",
    keywords=(
        (r"internal tools?", 6),
        (r"back[- ]office", 5),
        (r"admin (?:panel|tool|ui|console)", 5),
        (r"tracks?", 2),
        (r"inventory", 2),
        (r"approvals?", 2),
        (r"renewals?", 3),
        (r"contracts?", 2),
        (r"vendors?|suppliers?", 2),
        (r"spreadsheets?", 3),
        (r"employees|staff", 2),
        (r"warns?|remind\w*", 2),
    ),
    approach=(
        "Learn today's process from the people doing it, import their existing data, build on "
        "a boring stack with company SSO, and retire the spreadsheet only after real users "
        "complete their work in the tool."
    ),
    feature_role="backend",
    feature_roles=("backend", "frontend", "data", "security"),
    feature_title="Build {feature}",
    feature_description=(
        "Build “{feature}” in the {subject}: model changes, screens, permissions and any "
        "scheduled job, with tests and an entry in the audit trail."
    ),
    feature_requirement=(
        "{feature_title}: usable by staff in the {subject} without training, with an audit trail."
    ),
    feature_acceptance=(
        "A real user completes “{feature}” without help",
        "Changes made through “{feature}” appear in the audit trail",
    ),
    feature_artifacts=("change: {slug}", "tests: {slug}"),
    tasks=(
        _t(
            "process-mapping",
            "product",
            "Map today's process and its users",
            "Interview the people who do the work today; document the spreadsheet or email "
            "process, pain points, and what the {subject} must do first.",
            artifacts=("current-process.md",),
            acceptance=("Today's process and its pain points are documented with two users",),
            tokens=12_000,
            traces=("features", "adoption"),
        ),
        _t(
            "data-model",
            "architect",
            "Data model and import mapping",
            "Model the records of the {subject} and map every column of the existing "
            "spreadsheets to it.",
            deps=("process-mapping",),
            artifacts=("data-model.md", "import-mapping.md"),
            acceptance=(
                "Every existing column maps to a field of the {subject} or is consciously dropped",
            ),
            tokens=15_000,
            traces=("features", "constraints"),
        ),
        _t(
            "access-control",
            "security",
            "Company SSO and roles",
            "Sign-in through company SSO; roles for viewers, editors and admins; restrict "
            "sensitive fields.",
            deps=("process-mapping",),
            artifacts=("access-matrix.md",),
            acceptance=("Only authorised staff see sensitive fields in the {subject}",),
            tokens=10_000,
            traces=("security",),
        ),
        _t(
            "scaffold",
            "backend",
            "Scaffold the app with an admin-style UI",
            "Create the app on {web_framework} with {database}, list/detail/edit screens for "
            "the core records, search and filters.",
            deps=("data-model",),
            artifacts=("app skeleton", "ci.yml"),
            acceptance=("Core records can be listed, searched and edited",),
            tier="write",
            tokens=30_000,
            traces=("adoption",),
        ),
        _t(
            "data-import",
            "data",
            "Import the existing data",
            "Write a repeatable import of the existing records with a report of rejected rows "
            "for owners to fix.",
            deps=("scaffold",),
            artifacts=("import script", "import-report.md"),
            acceptance=(
                "The import into the {subject} is repeatable and reports every rejected row",
            ),
            tier="write",
            tokens=15_000,
            traces=("adoption",),
        ),
        _t(
            "audit-trail",
            "backend",
            "Change history and audit trail",
            "Record who changed what and when for every record; show history on each record.",
            deps=("scaffold",),
            artifacts=("audit trail",),
            acceptance=("Each record in the {subject} shows its full change history",),
            tier="write",
            tokens=12_000,
            traces=("security",),
        ),
        _t(
            "uat",
            "qa",
            "User acceptance testing with real users",
            "Two real users do a week of their work in the {subject} on imported data; fix "
            "what blocks them.",
            deps=(F, "data-import", "access-control"),
            artifacts=("uat-report.md", "test-plan.md"),
            acceptance=("Two users complete their weekly tasks in the {subject} without help",),
            tier="write",
            tokens=12_000,
            traces=("features", "adoption"),
        ),
        _t(
            "launch",
            "release",
            "Launch and retire the old process",
            "Deploy, train users in one session, freeze the old spreadsheet as read-only, and "
            "archive it.",
            deps=("uat", "audit-trail"),
            artifacts=("runbook.md", "user-guide.md"),
            acceptance=("The old spreadsheet is read-only and archived",),
            tier="irreversible",
            tokens=8_000,
            traces=("adoption",),
        ),
    ),
    requirements=(
        _r("security", "Company SSO and role-based access; sensitive fields restricted."),
        _r("adoption", "Replaces the current process: existing data imported, users trained."),
    ),
    risks=(
        _risk(
            "People keep the spreadsheet",
            "Users keep the old process and the {subject} goes stale.",
            "high",
            "medium",
            "Import all data, design with users, retire the spreadsheet on launch day.",
        ),
        _risk(
            "Dirty legacy data",
            "Inconsistent existing records fail to import or import wrongly.",
            "medium",
            "high",
            "Import report with rejected rows; owners fix the data before launch.",
        ),
        _risk(
            "Missed notifications",
            "A scheduled job fails silently and a deadline passes unnoticed.",
            "high",
            "low",
            "Job heartbeat monitoring and a daily digest that shows what is due.",
        ),
    ),
    decisions=(
        _d(
            "Build vs buy",
            "Build a small custom app on a framework with a generated admin UI.",
            ("Fits the exact process", "Data stays in-house"),
            ("Maintenance stays with the team",),
            ("Low-code tool (Retool, Airtable)", "A SaaS product for the domain"),
        ),
        _d(
            "Stack",
            "{web_framework} with {database}.",
            ("Admin screens and auth come for free", "Boring and easy to maintain"),
            ("Less flexible UI",),
            ("Django", "Rails", "Next.js + Prisma"),
            slot="web_framework",
        ),
        _d(
            "Notifications",
            "A daily scheduled job sends email digests of what is due, with heartbeat monitoring.",
            ("One predictable message a day", "Failures are visible"),
            ("Not instant",),
            ("Real-time notifications per event",),
        ),
    ),
    next_steps=(
        "Schedule two interviews with the people who do the work today.",
        "Get a copy of the current spreadsheet for the import mapping.",
        "Agree who owns the {subject} after launch.",
    ),
    phases=(
        _p(
            "discover",
            "Discover",
            "Process, data and access.",
            "process-mapping",
            "data-model",
            "access-control",
        ),
        _p(
            "build",
            "Build",
            "App, features, import and history.",
            "scaffold",
            F,
            "data-import",
            "audit-trail",
        ),
        _p("adopt", "Adopt", "Real users, then launch.", "uat", "launch"),
    ),
    architecture=(
        "Web app on {web_framework} with an admin-style UI",
        "{database} for records and history",
        "Scheduled job for reminders and digests",
        "Company SSO",
    ),
    project_shape=("app/models.py", "app/admin.py", "app/jobs/", "import/", "tests/"),
    design_key="data-model",
    verify_key="uat",
    feature_deps=("scaffold", "access-control"),
    defaults={"web_framework": "Django"},
)

GENERIC = Kind(
    key="generic",
    label="software project",
    keywords=(),
    approach=(
        "Clarify the goal and success criteria, design before building, deliver the features "
        "in parallel on a shared foundation, and ship only after verification."
    ),
    feature_role="backend",
    feature_roles=("backend", "frontend", "data", "ml", "security", "devops", "docs"),
    feature_title="Build {feature}",
    feature_description=(
        "Deliver “{feature}” for the {subject}: design note, implementation and tests, "
        "following the architecture."
    ),
    feature_requirement=(
        "{feature_title}: delivered in the {subject} and covered by acceptance tests."
    ),
    feature_acceptance=(
        "“{feature}” is demonstrated by an automated acceptance test",
        "“{feature}” is documented for its users",
    ),
    feature_artifacts=("change: {slug}", "tests: {slug}"),
    tasks=(
        _t(
            "discovery",
            "product",
            "Clarify the goal, users and success criteria",
            "Restate the goal of the {subject}, its users, what success looks like in numbers, "
            "and what is out of scope.",
            artifacts=("brief.md",),
            acceptance=("Success criteria of the {subject} are measurable and agreed",),
            tokens=12_000,
            traces=("features",),
        ),
        _t(
            "architecture",
            "architect",
            "Design the architecture",
            "Choose the stack ({stack}), components and data model for {features}; record "
            "decisions with alternatives.",
            deps=("discovery",),
            artifacts=("architecture.md", "adr-0001.md"),
            acceptance=("Each feature of the {subject} maps to a component",),
            tokens=20_000,
            traces=("features", "quality", "constraints"),
        ),
        _t(
            "test-plan",
            "qa",
            "Write the test plan",
            "Derive tests from the success criteria and requirements, including failure cases.",
            deps=("discovery",),
            artifacts=("test-plan.md",),
            acceptance=("Every requirement of the {subject} has at least one planned test",),
            tokens=10_000,
            traces=("quality",),
        ),
        _t(
            "foundation",
            "backend",
            "Set up the project foundation and CI",
            "Repository, build, configuration, CI with lint and tests.",
            deps=("architecture",),
            artifacts=("repository skeleton", "ci.yml"),
            acceptance=("CI runs on every change",),
            tier="write",
            tokens=20_000,
            traces=("quality",),
        ),
        _t(
            "security-review",
            "security",
            "Security and privacy review",
            "Review the design of the {subject} for data exposure, authentication and "
            "dependency risks.",
            deps=("architecture",),
            artifacts=("security-review.md",),
            acceptance=("No open high-severity finding in the {subject}",),
            tokens=10_000,
            traces=("quality",),
        ),
        _t(
            "verification",
            "qa",
            "Verify against the requirements",
            "Run the test plan end to end and report coverage of every requirement.",
            deps=(F, "test-plan"),
            artifacts=("verification-report.md",),
            acceptance=("Every requirement of the {subject} is verified",),
            tier="write",
            tokens=20_000,
            traces=("features",),
        ),
        _t(
            "docs",
            "docs",
            "User and operator documentation",
            "Document how to use, configure and operate the {subject}.",
            deps=(F,),
            artifacts=("README.md", "docs/"),
            acceptance=("A newcomer can run the {subject} from the docs alone",),
            tokens=10_000,
            traces=("features",),
        ),
        _t(
            "release",
            "release",
            "Release",
            "Release the {subject} with notes and a rollback plan.",
            deps=("verification", "security-review", "docs"),
            artifacts=("release-notes.md", "runbook.md"),
            acceptance=("Released with a tested rollback",),
            tier="irreversible",
            tokens=8_000,
            traces=("quality",),
        ),
    ),
    requirements=(
        _r("quality", "Automated tests, reviewed changes, and a documented release process."),
    ),
    risks=(
        _risk(
            "Unclear goal",
            "The goal of the {subject} is read differently by different people.",
            "high",
            "medium",
            "Write the brief and success criteria first and get them signed off.",
        ),
        _risk(
            "Underestimated integration work",
            "Connecting the parts takes longer than building them.",
            "medium",
            "medium",
            "Build a thin end-to-end slice first.",
        ),
    ),
    decisions=(
        _d(
            "Delivery approach",
            "A thin end-to-end slice first, then features in parallel.",
            ("Integration risks show up early",),
            ("First demo has few features",),
            ("Build each component fully, then integrate",),
        ),
    ),
    next_steps=(
        "Confirm the success criteria of the {subject} with the mission owner.",
        "Configure a model for a richer, goal-specific plan.",
    ),
    phases=(
        _p(
            "shape",
            "Shape",
            "Goal, design and test plan.",
            "discovery",
            "architecture",
            "test-plan",
        ),
        _p("build", "Build", "Foundation and features.", "foundation", F, "security-review"),
        _p("ship", "Ship", "Verify, document, release.", "verification", "docs", "release"),
    ),
    architecture=("Components to be chosen in the architecture task",),
    project_shape=("src/", "tests/", "docs/"),
    design_key="architecture",
    verify_key="verification",
    feature_deps=("foundation",),
)

KINDS: tuple[Kind, ...] = (
    FIRMWARE,
    BROWSER_EXTENSION,
    K8S_OPERATOR,
    MIGRATION,
    IDENTITY_SSO,
    SECURITY_HARDENING,
    CHAT_BOT,
    REALTIME_GAME,
    ML_MODEL,
    DATA_PIPELINE,
    ANALYTICS,
    MOBILE_APP,
    CLI_TOOL,
    LIBRARY,
    INFRASTRUCTURE,
    INTEGRATION,
    DOCS_SITE,
    INTERNAL_TOOL,
    API_SERVICE,
    WEB_APP,
)
"""Recognised kinds, most specific first (a tie in score goes to the earlier kind)."""


def kind_by_key(key: str) -> Kind:
    """Return the kind with ``key`` (:data:`GENERIC` included).

    Raises:
        KeyError: No kind has that key.
    """
    for kind in (*KINDS, GENERIC):
        if kind.key == key:
            return kind
    raise KeyError(key)
