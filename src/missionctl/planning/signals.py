"""What the local planner reads in a mission besides its kind: technologies and traits.

- :data:`TECHNOLOGIES`: named technologies by slot (``database``, ``cache``, …), with an
  optional version ("PostgreSQL 16"). A named technology fills its slot in the kind's
  templates and turns the matching decision into a recorded given.
- :data:`TRAITS`: constraints that change a plan whatever its kind ("no downtime",
  "offline", "HIPAA/PII", a deadline, a budget, …): each adds a requirement and may add a
  risk, a decision, a next step or a task.
- :data:`THIRD_PERSON_VERBS`: verbs that start a feature clause ("converts CSV to Parquet"),
  mapped to their imperative ("convert").

All tables are data; matching is in :mod:`missionctl.planning.local`.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from missionctl.planning.kinds import DecisionTemplate, RiskTemplate, TaskTemplate
from missionctl.schemas.plans import Priority, SpecialistRole

__all__ = [
    "FEATURE_ROLE_HINTS",
    "ROLE_FEATURE_TITLES",
    "TECHNOLOGIES",
    "THIRD_PERSON_VERBS",
    "TRAITS",
    "Technology",
    "Trait",
]


@dataclass(frozen=True, slots=True)
class Technology:
    """A technology the planner recognises by name.

    Attributes:
        name: Canonical spelling ("PostgreSQL").
        slot: The template slot it fills (see ``kinds.SLOT_DEFAULTS``), or ``"other"``.
        pattern: Regex matched case-insensitively on word boundaries.
        versioned: Whether a version number right after the name is kept ("PostgreSQL 16").
        implies: Other slots it settles unless the mission names them too, e.g. Next.js
            implies TypeScript and Next.js route handlers as the web framework.
    """

    name: str
    slot: str
    pattern: str
    versioned: bool = False
    implies: tuple[tuple[str, str], ...] = ()


def _tech(
    name: str,
    slot: str,
    pattern: str,
    *,
    versioned: bool = False,
    implies: tuple[tuple[str, str], ...] = (),
) -> Technology:
    return Technology(name, slot, pattern, versioned, implies)


TECHNOLOGIES: tuple[Technology, ...] = (
    # Languages
    _tech("Python", "language", r"python", versioned=True),
    _tech("TypeScript", "language", r"typescript"),
    _tech("JavaScript", "language", r"javascript"),
    # "go" is a verb too: the language is "Golang", "in Go", or "Go" before a kind of program.
    _tech(
        "Go",
        "language",
        r"golang|written in go|in go(?![-\w])|(?-i:Go)(?= (?:micro-?)?services?\b| (?:api|server|"
        r"backend|cli|command-line|tool|library|module|package|sdk|client|app|application|"
        r"program|binary|worker|daemon|operator|web|project|codebase|monolith|gateway|proxy|bot)"
        r"s?\b)",
    ),
    _tech("Rust", "language", r"rust"),
    _tech("Java", "language", r"java(?!script)", versioned=True),
    _tech("Kotlin", "language", r"kotlin"),
    _tech("Swift", "language", r"swift(?!ui)"),
    _tech("C++", "language", r"c\+\+"),
    _tech("C#", "language", r"c#"),
    _tech("Ruby", "language", r"ruby(?! on rails)"),
    _tech("Elixir", "language", r"elixir"),
    _tech("PHP", "language", r"php", versioned=True),
    _tech("Dart", "language", r"dart"),
    # "C" alone is a letter: only "embedded C", "written in C" and the like name the language.
    _tech("C", "language", r"(?:embedded|ansi|iso|written in|in) c"),
    # Web frameworks and runtimes
    _tech(
        "Django",
        "web_framework",
        r"django",
        versioned=True,
        implies=(("language", "Python"), ("frontend", "Django templates")),
    ),
    _tech("FastAPI", "web_framework", r"fastapi", implies=(("language", "Python"),)),
    _tech("Flask", "web_framework", r"flask", implies=(("language", "Python"),)),
    _tech(
        "Ruby on Rails",
        "web_framework",
        r"ruby on rails|rails",
        versioned=True,
        implies=(("language", "Ruby"), ("frontend", "Rails views")),
    ),
    _tech(
        "Node.js",
        "web_framework",
        r"node\.?js",
        versioned=True,
        implies=(("language", "TypeScript"),),
    ),
    _tech(
        "Express",
        "web_framework",
        r"express\.?js|express (?:app|server|api)",
        implies=(("language", "JavaScript"),),
    ),
    _tech("NestJS", "web_framework", r"nest\.?js", implies=(("language", "TypeScript"),)),
    _tech(
        "Spring Boot",
        "web_framework",
        r"spring boot|spring",
        versioned=True,
        implies=(("language", "Java"),),
    ),
    _tech("Laravel", "web_framework", r"laravel", implies=(("language", "PHP"),)),
    _tech("Phoenix", "web_framework", r"phoenix", implies=(("language", "Elixir"),)),
    _tech("ASP.NET", "web_framework", r"asp\.net|\.net core", implies=(("language", "C#"),)),
    # Front-end
    _tech(
        "Next.js",
        "frontend",
        r"next\.?js",
        versioned=True,
        implies=(("web_framework", "Next.js route handlers"), ("language", "TypeScript")),
    ),
    _tech("React", "frontend", r"react(?! native)", versioned=True),
    _tech("Vue", "frontend", r"vue(?:\.js)?", versioned=True),
    _tech("Svelte", "frontend", r"svelte(?:kit)?"),
    _tech("Angular", "frontend", r"angular", versioned=True),
    _tech("htmx", "frontend", r"htmx"),
    # Mobile
    _tech("React Native", "mobile", r"react native", implies=(("language", "TypeScript"),)),
    _tech("Flutter", "mobile", r"flutter", implies=(("language", "Dart"),)),
    _tech("SwiftUI", "mobile", r"swiftui", implies=(("language", "Swift"),)),
    _tech("Jetpack Compose", "mobile", r"jetpack compose", implies=(("language", "Kotlin"),)),
    _tech("Expo", "mobile", r"expo", implies=(("language", "TypeScript"),)),
    # Databases and warehouses
    _tech("PostgreSQL", "database", r"postgres(?:ql)?", versioned=True),
    _tech("MySQL", "database", r"mysql|mariadb", versioned=True),
    _tech("SQLite", "database", r"sqlite"),
    _tech("MongoDB", "database", r"mongo(?:db)?", versioned=True),
    _tech("DynamoDB", "database", r"dynamodb"),
    _tech("SQL Server", "database", r"sql server|mssql"),
    _tech("Oracle", "database", r"oracle(?: database)?"),
    _tech("Cassandra", "database", r"cassandra"),
    _tech("Snowflake", "warehouse", r"snowflake"),
    _tech("BigQuery", "warehouse", r"bigquery"),
    _tech("Redshift", "warehouse", r"redshift"),
    _tech("ClickHouse", "warehouse", r"clickhouse"),
    _tech("DuckDB", "warehouse", r"duckdb"),
    _tech("Databricks", "warehouse", r"databricks"),
    # Cache and queues
    _tech("Redis", "cache", r"redis|valkey", versioned=True),
    _tech("Memcached", "cache", r"memcached?"),
    _tech("Kafka", "queue", r"kafka"),
    _tech("RabbitMQ", "queue", r"rabbitmq"),
    _tech("SQS", "queue", r"sqs"),
    _tech("Celery", "queue", r"celery"),
    # Cloud and infrastructure
    _tech("AWS", "cloud", r"aws|amazon web services"),
    _tech("GCP", "cloud", r"gcp|google cloud"),
    _tech("Azure", "cloud", r"azure(?! ad)"),
    _tech("Cloudflare", "cloud", r"cloudflare"),
    _tech("Vercel", "cloud", r"vercel"),
    _tech("Terraform", "iac", r"terraform|opentofu", versioned=True),
    _tech("Pulumi", "iac", r"pulumi"),
    _tech("CloudFormation", "iac", r"cloudformation|aws cdk"),
    _tech("Ansible", "iac", r"ansible"),
    _tech("Kubernetes", "other", r"kubernetes|k8s", versioned=True),
    _tech("Helm", "other", r"helm"),
    _tech("Docker", "other", r"docker"),
    # Data tooling
    _tech("Airflow", "orchestrator", r"airflow"),
    _tech("Dagster", "orchestrator", r"dagster"),
    _tech("Prefect", "orchestrator", r"prefect"),
    _tech("dbt", "other", r"dbt"),
    _tech("Spark", "other", r"spark|pyspark"),
    _tech("Parquet", "other", r"parquet"),
    _tech("CSV", "other", r"csv"),
    _tech("Markdown", "other", r"markdown"),
    # Protocols
    _tech("OIDC", "other", r"oidc|openid connect"),
    _tech("SAML", "other", r"saml"),
    _tech("GraphQL", "other", r"graphql"),
    _tech("gRPC", "other", r"grpc"),
    _tech("WebSockets", "other", r"websockets?"),
    _tech("BLE", "other", r"ble|bluetooth(?: low energy)?"),
    _tech("MQTT", "other", r"mqtt"),
    # Chat platforms and SaaS
    _tech("Slack", "chat", r"slack"),
    _tech("Microsoft Teams", "chat", r"microsoft teams|ms teams"),
    _tech("Discord", "chat", r"discord"),
    _tech("Telegram", "chat", r"telegram"),
    _tech("Shopify", "saas", r"shopify"),
    _tech("Stripe", "saas", r"stripe"),
    _tech("Salesforce", "saas", r"salesforce"),
    _tech("HubSpot", "saas", r"hubspot"),
    _tech("Jira", "saas", r"jira"),
    _tech("Zendesk", "saas", r"zendesk"),
    # Identity providers
    _tech("Okta", "idp", r"okta"),
    _tech("Auth0", "idp", r"auth0"),
    _tech("Keycloak", "idp", r"keycloak"),
    _tech("Microsoft Entra ID", "idp", r"entra(?: id)?|azure ad"),
    _tech("Google Workspace", "idp", r"google workspace"),
    # Microcontrollers and RTOS
    _tech("ESP32", "mcu", r"esp32"),
    _tech("nRF52", "mcu", r"nrf5\d\w*"),
    _tech("STM32", "mcu", r"stm32\w*"),
    _tech("Arduino", "mcu", r"arduino"),
    _tech("Raspberry Pi", "mcu", r"raspberry pi"),
    # ML
    _tech("scikit-learn", "ml_framework", r"scikit-learn|sklearn"),
    _tech("PyTorch", "ml_framework", r"pytorch"),
    _tech("TensorFlow", "ml_framework", r"tensorflow"),
    _tech("XGBoost", "ml_framework", r"xgboost"),
    _tech("LightGBM", "ml_framework", r"lightgbm"),
    _tech("OpenAI", "llm", r"openai"),
    _tech("Anthropic Claude", "llm", r"anthropic|claude"),
    _tech("Ollama", "llm", r"ollama"),
    # Browsers
    _tech("Chrome", "browser", r"chrome|chromium"),
    _tech("Firefox", "browser", r"firefox"),
    _tech("Safari", "browser", r"safari"),
)
"""Named technologies, in the order they are looked for."""


@dataclass(frozen=True, slots=True)
class Trait:
    """A constraint that changes any plan.

    Templates may use ``{match}`` (the text that matched) plus every placeholder of the kind
    templates.

    Attributes:
        key: Stable identifier.
        pattern: Regex matched case-insensitively on word boundaries over the goal,
            constraints and repository context.
        value_pattern: Regex for the value quoted as ``{match}`` (e.g. the amount of a
            budget); when it does not match, the text ``pattern`` matched is used.
        requirement: Requirement text added to the plan.
        priority: Priority of that requirement.
        risk: A risk added to the plan, if any.
        decision: A decision added to the plan, if any.
        next_step: A next step added to the plan, if any.
        task: A task added to the plan, unless the kind already has a task with the same
            role and ``skip_if_role`` is set. Its role is the first of ``task_roles`` the plan
            already uses; it depends on the kind's design task, and the kind's verification
            task depends on it.
        task_roles: Role preferences for ``task``.
        skip_if_role: Skip ``task`` when the kind already has a task with its role.
    """

    key: str
    pattern: str
    requirement: str
    priority: Priority = "must"
    value_pattern: str | None = None
    risk: RiskTemplate | None = None
    decision: DecisionTemplate | None = None
    next_step: str | None = None
    task: TaskTemplate | None = None
    task_roles: tuple[SpecialistRole, ...] = ()
    skip_if_role: bool = False


_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)

_DEADLINE_VALUE = (
    r"(?:by|before) (?:end of |the end of )?(?:q[1-4](?: \d{4})?|(?:"
    + _MONTHS
    + r")(?: \d{1,2}(?:st|nd|rd|th)?)?(?:,? \d{4})?|next (?:week|month|sprint)|"
    r"\d{4}-\d{2}-\d{2})|within \d+ (?:days|weeks|months)|in \d+ (?:days|weeks)"
)

TRAITS: tuple[Trait, ...] = (
    Trait(
        key="downtime",
        pattern=(
            r"(?:without|no|zero|with no|minimal)[- ](?:any )?downtime"
            r"|(?:under|less than|within|below|at most|max(?:imum)?(?: of)?)\s+[\w\s.-]{1,30}?"
            r"\s+(?:of\s+)?downtime|downtime"
        ),
        requirement=(
            "Downtime budget: {downtime}. Users keep working during the rollout; the budget is "
            "measured in a rehearsal, not assumed."
        ),
        risk=RiskTemplate(
            "Downtime budget exceeded",
            "Switching the {subject} over takes longer than the budget ({downtime}).",
            "high",
            "medium",
            "Rehearse the rollout or cutover end to end, time it, keep a go/no-go checkpoint "
            "and a rollback path.",
        ),
        next_step="Agree the downtime budget ({downtime}) and the change window with users.",
    ),
    Trait(
        key="offline",
        pattern=r"offline|poor connectivity|no network|intermittent (?:network|connectivity)",
        requirement=(
            "Works offline: reads from local data, queues changes, and syncs them when the "
            "network returns, with predictable conflict resolution."
        ),
        risk=RiskTemplate(
            "Sync conflicts after offline use",
            "Changes made offline conflict with changes made elsewhere in the meantime.",
            "high",
            "medium",
            "Per-entity conflict rules, server timestamps, and tests that toggle the network.",
        ),
        decision=DecisionTemplate(
            "Offline conflict resolution",
            "Local store with a queue of pending changes; last-writer-wins per field with "
            "server timestamps, surfacing conflicts on shared records.",
            ("Simple to reason about", "Covers the common single-user case"),
            ("Rare concurrent edits can overwrite each other",),
            ("CRDTs", "Online-only"),
        ),
        task=TaskTemplate(
            key="offline-sync",
            role="mobile",
            title="Local storage and offline sync",
            description=(
                "Store the data the {subject} needs offline, queue changes made offline, and "
                "sync them with retries and conflict rules when the network returns."
            ),
            artifacts=("sync-design.md", "sync module"),
            acceptance=(
                "The {subject} works in airplane mode and syncs on reconnect",
                "Conflicting edits are resolved by the documented rule",
            ),
            risk_tier="write",
            estimate_tokens=35_000,
        ),
        task_roles=("mobile", "frontend", "backend"),
    ),
    Trait(
        key="regulated-data",
        pattern=(
            r"hipaa|phi|pii|gdpr|ccpa|personal data|personally identifiable|medical|"
            r"patients?|health records?|pci(?:[- ]dss)?|soc ?2"
        ),
        requirement=(
            "Regulated or personal data ({match}) is classified, minimised, encrypted in "
            "transit and at rest, and every access is audit-logged."
        ),
        risk=RiskTemplate(
            "Exposure of regulated data",
            "Personal or regulated data ({match}) leaks through logs, exports or access gaps.",
            "critical",
            "medium",
            "Data classification, field-level access control, redacted logs, access audits.",
        ),
        next_step="Confirm which regulations apply ({match}) and who signs off compliance.",
        task=TaskTemplate(
            key="privacy-review",
            role="security",
            title="Privacy and compliance review",
            description=(
                "Classify the data the {subject} handles, check minimisation, encryption, "
                "retention and access logging against the applicable rules."
            ),
            artifacts=("data-classification.md", "privacy-review.md"),
            acceptance=("Every stored field of the {subject} is classified with a retention rule",),
            estimate_tokens=12_000,
        ),
        task_roles=("security",),
        skip_if_role=True,
    ),
    Trait(
        key="scale",
        pattern=(
            r"\d+(?:[.,]\d+)?\s*(?:tb|gb|pb|terabytes?|gigabytes?|petabytes?)"
            r"|\d+(?:[.,]\d+)?\s*(?:k|m|million|billion)\s+(?:users|requests|events|rows|"
            r"records|messages|devices)|millions of \w+|high[- ]traffic|at scale"
        ),
        requirement=(
            "Handles the stated scale ({scale}) with headroom; capacity is measured before launch."
        ),
        risk=RiskTemplate(
            "Capacity at the stated scale",
            "Operations that are fast in development are slow at {scale}.",
            "medium",
            "medium",
            "Test with production-sized data early and budget time for the slow steps.",
        ),
    ),
    Trait(
        key="deadline",
        pattern=_DEADLINE_VALUE + r"|deadline|hackathon",
        value_pattern=_DEADLINE_VALUE,
        requirement=(
            "Delivered by the deadline ({match}): must-have requirements first, the rest "
            "only if time allows."
        ),
        priority="must",
        risk=RiskTemplate(
            "Deadline pressure",
            "The deadline ({match}) leaves no slack for surprises.",
            "high",
            "medium",
            "Cut scope to the must-haves, demo a thin slice early, and track progress daily.",
        ),
        decision=DecisionTemplate(
            "Scope under the deadline",
            "Ship the must-have requirements as a thin end-to-end slice first; should and "
            "could items follow only if time allows.",
            ("A working result exists early", "Scope cuts are explicit, not accidental"),
            ("Some features arrive after the deadline",),
            ("Build everything in parallel and integrate at the end",),
        ),
    ),
    Trait(
        key="budget",
        pattern=r"\$\s?\d[\d,.]*\s*[km]?|\d[\d,.]*\s?(?:usd|eur|€)|budget|low[- ]cost|free tier",
        value_pattern=r"\$\s?\d[\d,.]*\s*[km]?|\d[\d,.]*\s?(?:usd|eur|€)",
        requirement=(
            "Stays within the stated budget ({match}); running costs are estimated per "
            "month before launch."
        ),
        risk=RiskTemplate(
            "Cost overrun",
            "Infrastructure or model usage costs exceed the budget ({match}).",
            "medium",
            "medium",
            "Cost estimate before build, budget alerts, and cheaper defaults where possible.",
        ),
    ),
    Trait(
        key="accessibility",
        pattern=r"accessib\w*|wcag|a11y|screen readers?",
        requirement="Meets WCAG 2.1 AA on every user-facing screen, checked by tests and an audit.",
    ),
    Trait(
        key="i18n",
        pattern=r"i18n|internationali[sz]\w*|locali[sz]\w*|multi-?lingual|translations?",
        requirement=(
            "Every user-facing text is translatable; dates, numbers and currencies follow "
            "the locale."
        ),
        priority="should",
    ),
    Trait(
        key="multi-tenant",
        pattern=r"multi[- ]?tenan\w*|tenants?",
        requirement="Tenants are isolated: every query is scoped to a tenant and tested for leaks.",
        risk=RiskTemplate(
            "Cross-tenant data leak",
            "A missing tenant filter shows one customer's data to another.",
            "critical",
            "low",
            "Tenant scoping in the data layer, not in handlers; tests that try cross-tenant "
            "access.",
        ),
    ),
    Trait(
        key="high-availability",
        pattern=r"high[- ]availability|99\.9+\s?%?|failover|\bsla\b|\bslo\b",
        requirement="Availability target ({match}) met with redundancy and tested failover.",
    ),
    Trait(
        key="real-e2e",
        pattern=r"avoid mock\w*|no mocks?|real end[- ]to[- ]end|mock demos?",
        requirement="Works end to end against real services; no mocked paths in what is shown.",
    ),
    Trait(
        key="lean",
        pattern=r"avoid overbuilding|mvp|keep it simple|minimal(?:ist)?|lean|prototype",
        requirement="Lean scope ({match}): the smallest design that meets the must-haves.",
        priority="should",
        decision=DecisionTemplate(
            "Lean scope",
            "Build the smallest thing that meets the must-have requirements; defer "
            "infrastructure that only pays off at larger scale.",
            ("Faster feedback", "Less to maintain"),
            ("Some rework if the product grows fast",),
            ("Design for the final scale from day one",),
        ),
    ),
)
"""Traits, in the order their requirements appear in a plan."""

_BASE_VERBS = (
    "accept",
    "add",
    "aggregate",
    "alert",
    "allow",
    "analyse",
    "analyze",
    "answer",
    "archive",
    "back",
    "block",
    "build",
    "calculate",
    "capture",
    "check",
    "clean",
    "collect",
    "combine",
    "compare",
    "compute",
    "convert",
    "create",
    "deliver",
    "deploy",
    "detect",
    "display",
    "download",
    "draft",
    "email",
    "enable",
    "enforce",
    "enrich",
    "estimate",
    "export",
    "extract",
    "federate",
    "fetch",
    "file",
    "find",
    "flag",
    "forecast",
    "generate",
    "give",
    "handle",
    "highlight",
    "import",
    "index",
    "ingest",
    "keep",
    "let",
    "list",
    "load",
    "log",
    "make",
    "manage",
    "map",
    "match",
    "measure",
    "merge",
    "monitor",
    "notify",
    "orchestrate",
    "parse",
    "plan",
    "post",
    "predict",
    "process",
    "produce",
    "provide",
    "publish",
    "push",
    "rank",
    "read",
    "recommend",
    "record",
    "remind",
    "render",
    "replicate",
    "report",
    "restore",
    "return",
    "route",
    "run",
    "save",
    "scan",
    "schedule",
    "score",
    "search",
    "send",
    "serve",
    "show",
    "store",
    "stream",
    "suggest",
    "summarise",
    "summarize",
    "support",
    "sync",
    "take",
    "track",
    "transform",
    "translate",
    "turn",
    "update",
    "upload",
    "use",
    "validate",
    "verify",
    "warn",
    "watch",
    "write",
)


def _third_person(verb: str) -> str:
    """``"sync"`` → ``"syncs"``, ``"search"`` → ``"searches"``, ``"notify"`` → ``"notifies"``."""
    if verb.endswith(("s", "sh", "ch", "x", "z")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in ("a", "e", "i", "o", "u"):
        return verb[:-1] + "ies"
    return verb + "s"


THIRD_PERSON_VERBS: Mapping[str, str] = {
    **{_third_person(verb): verb for verb in _BASE_VERBS},
    "has": "have",
    "does": "do",
    "goes": "go",
}
"""Third-person verb forms ("converts") mapped to the imperative ("convert")."""

FEATURE_ROLE_HINTS: tuple[tuple[SpecialistRole, str], ...] = (
    (
        "security",
        r"auth\w*|log ?ins?|sign[- ]?on|sso|oidc|saml|oauth|role[- ]based|rbac|permissions?|"
        r"access control|encrypt\w*|secrets?(?: rotation)?|audit log\w*|rate[- ]limit\w*|"
        r"input validation|mfa|2fa|compliance|hipaa|gdpr|pii",
    ),
    (
        "ml",
        r"models?|predict\w*|drift|retrain\w*|classif\w*|recommend\w*|embeddings?|"
        r"ai[- ]generated|llm|summari[sz]\w*|forecast\w*|anomaly detection",
    ),
    (
        "data",
        r"analytics|metrics?|reports?|reporting|revenue|warehouse|ingest\w*|etl|cohorts?|"
        r"funnels?|retention|aggregat\w*|tables?|parquet|csv|schema inference|exports?|"
        r"imports?|kpis?|insights?|anomal\w*",
    ),
    ("docs", r"docs|documentation|tutorials?|guides?|runbooks?"),
    (
        "devops",
        r"deploy\w*|backups?|back(?:s)? up|restor\w*|staging|production|environments?|ci|"
        r"monitoring|observability|cron",
    ),
    (
        "frontend",
        r"ui|pages?|screens?|dashboards?|views?|charts?|themes?|forms?|search",
    ),
    (
        "backend",
        r"api|endpoints?|webhooks?|queues?|notifications?|emails?|reminders?|cach\w*|sync\w*|"
        r"websockets?",
    ),
)
"""Which role a feature task takes, from the feature's words (first match wins)."""

ROLE_FEATURE_TITLES: Mapping[SpecialistRole, str] = {
    "product": "Define {feature}",
    "architect": "Design {feature}",
    "backend": "Implement {feature}",
    "frontend": "Build {the_feature} UI",
    "mobile": "Build {the_feature} flow",
    "data": "Build {feature}",
    "ml": "Build {feature}",
    "devops": "Set up {feature}",
    "security": "Enforce {feature}",
    "qa": "Test {feature}",
    "docs": "Write {feature}",
    "release": "Release {feature}",
}
"""Title of a feature task whose role is not the kind's default role."""
