"""Runtime settings, read from ``MISSIONCTL_*`` environment variables.

Settings are grouped by area; each area is its own ``BaseSettings`` with its own prefix, so the
variable names stay flat and readable (``MISSIONCTL_LLM_API_KEY``, not ``MISSIONCTL_LLM__API_KEY``).
Secrets are ``SecretStr``: they print as ``**********`` and must be unwrapped on purpose.
Nothing reads the environment at import time: call :func:`get_settings` (tests build ``Settings``
directly and hand it to the app factory).
"""

import ipaddress
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from missionctl.domain.numbers import ascii_int
from missionctl.domain.sampling import MAX_SEED, MAX_TEMPERATURE, MIN_TEMPERATURE

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
# The data directory's name when MISSIONCTL_HOME does not say where it is.
HOME_DIR_NAME = ".missionctl"


# The database URLs' schemes the product runs on, by what people may write.
_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}
_URL_FORMS = "use sqlite+aiosqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"


class DatabaseSettings(BaseSettings):
    """Where the system of record lives."""

    model_config = SettingsConfigDict(env_prefix="MISSIONCTL_DATABASE_", extra="forbid")

    url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db. "
        "Empty: SQLite file missionctl.db under the home directory.",
    )
    busy_timeout_ms: int = Field(
        default=5000,
        ge=0,
        description="SQLite only: how long a writer waits for the write lock before failing.",
    )
    pool_size: int = Field(default=5, ge=1, description="PostgreSQL connection pool size.")

    @field_validator("url")
    @classmethod
    def _supported_url(cls, value: SecretStr | None) -> SecretStr | None:
        """A URL of a database and driver the product runs on; a bare scheme gets its driver.

        ``postgresql://`` and ``postgres://`` (as hosting providers write them) mean
        ``postgresql+psycopg://``, ``sqlite://`` means ``sqlite+aiosqlite://``. The error
        never repeats the URL: it may hold a password.
        """
        if value is None or not value.get_secret_value().strip():
            return None  # an empty variable means unset
        try:
            url = make_url(value.get_secret_value().strip())
        except Exception:
            raise ValueError(f"not a database URL; {_URL_FORMS}") from None
        driver = _DRIVERS.get(url.drivername, url.drivername)
        if driver not in _DRIVERS.values():
            raise ValueError(f"the driver {url.drivername!r} is not supported; {_URL_FORMS}")
        return SecretStr(url.set(drivername=driver).render_as_string(hide_password=False))


class ServerSettings(BaseSettings):
    """Where ``missionctl serve`` listens."""

    model_config = SettingsConfigDict(env_prefix="MISSIONCTL_SERVER_", extra="forbid")

    host: str = Field(default="127.0.0.1", description="Interface to bind.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port to bind.")
    public_url: str | None = Field(
        default=None,
        description="The address people reach the server at, e.g. https://mc.example.com behind "
        "a reverse proxy; sign-in links and run addresses use it. Unset: http://HOST:PORT.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Key that signs session cookies; unset means a random key kept in"
            " MISSIONCTL_HOME/secret_key (created on first use)."
        ),
    )
    session_max_age_s: int = Field(
        default=43_200, ge=60, le=2_592_000, description="How long a browser session lasts."
    )
    sign_in_attempts: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Failed sign-ins allowed per account (and 5x that per address) per window.",
    )
    sign_in_window_s: int = Field(
        default=300, ge=1, le=86_400, description="The sign-in rate-limit window in seconds."
    )
    api_requests_per_minute: int = Field(
        default=1200, ge=1, le=1_000_000, description="API requests allowed per token per minute."
    )
    rate_limits: Literal["auto", "process", "database"] = Field(
        default="auto",
        description="Where the rate limits count: 'database' shares them between every server "
        "process of the database (several servers behind a load balancer, or serve --workers); "
        "'process' keeps them in each process's memory; 'auto' is 'database' on PostgreSQL and "
        "with several workers, else 'process'.",
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Server processes `missionctl serve` starts on one port (each runs the "
        "app; the rate limits are then shared through the database).",
    )
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="Largest request body accepted, in bytes; larger ones are refused with 413 "
        "before they are read. The default fits the largest workflow definition (1,000,000 "
        "bytes) sent from the editor's form, where URL encoding can triple it.",
    )

    def shown(self) -> dict[str, str]:
        """Where it listens and how, as printable text (the secret key is not shown)."""
        return {
            "MISSIONCTL_SERVER_HOST": self.host,
            "MISSIONCTL_SERVER_PORT": str(self.port),
            "MISSIONCTL_SERVER_PUBLIC_URL": self.public_url or "",
            "MISSIONCTL_SERVER_WORKERS": str(self.workers),
            "MISSIONCTL_SERVER_RATE_LIMITS": self.rate_limits,
        }

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # an empty variable means unset
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL, e.g. https://mc.example.com")
        if parts.query or parts.fragment:
            raise ValueError("must be a base address without ?query or #fragment")
        return value.strip().rstrip("/")


class LLMSettings(BaseSettings):
    """The OpenAI-compatible model the planner and LLM agents use; unset means local engine."""

    model_config = SettingsConfigDict(env_prefix="MISSIONCTL_LLM_", extra="forbid")

    base_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible API (e.g. http://127.0.0.1:11434/v1).",
    )
    api_key: SecretStr | None = Field(default=None, description="API key for that endpoint.")
    model: str | None = Field(
        default=None, description="Model name; unset means the local planner."
    )
    timeout_s: float = Field(default=60.0, gt=0, description="Per-request timeout in seconds.")
    temperature: float | None = Field(
        default=None,
        ge=MIN_TEMPERATURE,
        le=MAX_TEMPERATURE,
        allow_inf_nan=False,
        description="Sampling temperature sent with every model call, 0 to 2. Unset: not sent "
        "(the model's own default). An llm: step's inputs.temperature overrides it.",
    )
    seed: int | None = Field(
        default=None,
        ge=0,
        le=MAX_SEED,
        description="Seed sent with every model call, 0 to 2**63-1, so that a server that "
        "supports it samples the same way each time. Unset: not sent. An llm: step's "
        "inputs.seed overrides it.",
    )

    stream_plans: bool = Field(
        default=True,
        description="Ask for the planner's replies streamed, so that the mission page and the "
        "CLI show the plan's phases and tasks as the model writes them (a server that refuses "
        "streaming is asked for whole replies). False: whole replies, no draft shown.",
    )

    @field_validator("temperature", "seed", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty variable means unset, as for the other optional settings."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def configured(self) -> bool:
        """Whether a model is set, i.e. whether planning and agents use an LLM."""
        return bool(self.model)


class DocumentsSettings(BaseSettings):
    """How the document studio asks the model (docs/documents.md, ADR 0053)."""

    model_config = SettingsConfigDict(env_prefix="MISSIONCTL_DOCUMENTS_", extra="forbid")

    model_timeout_s: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="How long the model may take to write one document, repairs included; "
        "past it the local writer writes the version and a note says why.",
    )


class InsightsSettings(BaseSettings):
    """How the analytics insights ask the model (docs/analytics.md, ADR 0070)."""

    model_config = SettingsConfigDict(env_prefix="MISSIONCTL_INSIGHTS_", extra="forbid")

    # The prompt (instructions, the reply's JSON schema and the facts) takes about 1,100
    # tokens; 2,000 leaves room for a reply of the four sections written out.
    max_tokens: int = Field(
        default=2000,
        ge=256,
        le=100_000,
        description="Tokens one insights answer may use, prompt, reply and repairs counted; "
        "past it the deterministic writer answers and `fallback_reason` says why.",
    )
    timeout_s: float = Field(
        default=20.0,
        gt=0,
        le=600,
        description="How long the model may take to write the insights, repairs included; "
        "past it the deterministic writer answers and `fallback_reason` says why.",
    )

    def shown(self) -> dict[str, str]:
        """These settings as printable text (none is secret)."""
        return {
            "MISSIONCTL_INSIGHTS_MAX_TOKENS": str(self.max_tokens),
            "MISSIONCTL_INSIGHTS_TIMEOUT_S": str(self.timeout_s),
        }


_MAX_STEPS_AT_ONCE = 1000
"""The most steps one engine may run at once (``domain.workers.MAX_CONCURRENCY``)."""


class EngineSettings(BaseSettings):
    """How the execution engine works (in ``serve`` and in ``missionctl worker``)."""

    model_config = SettingsConfigDict(env_prefix="MISSIONCTL_ENGINE_", extra="forbid")

    embedded: bool = Field(
        default=True, description="Whether `missionctl serve` runs an engine in-process."
    )
    concurrency: int = Field(
        default=32, ge=1, le=_MAX_STEPS_AT_ONCE, description="Steps one engine runs at once."
    )
    lease_s: float = Field(default=30.0, gt=0, description="How long a claimed step is leased.")
    heartbeat_s: float = Field(default=5.0, gt=0, description="How often leases are renewed.")
    poll_s: float = Field(default=1.0, gt=0, description="Idle wait before looking for work.")
    schedules_every_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="How often an engine's scheduler looks for due schedules (ADR 0059).",
    )
    autoscale: str | None = Field(
        default=None,
        description="MIN-MAX, e.g. 1-16: the engine sizes itself from the queue within that "
        "range from its start (ADR 0115), as `missionctl workers autoscale` would ask. Unset: "
        "it runs MISSIONCTL_ENGINE_CONCURRENCY steps at once.",
    )

    @field_validator("autoscale", mode="before")
    @classmethod
    def _autoscale_range(cls, value: object) -> object:
        """``MIN-MAX`` with ``1 <= MIN <= MAX <= 1000``; empty means unset."""
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        low, _, high = value.strip().partition("-")
        minimum, maximum = ascii_int(low.strip()) or 0, ascii_int(high.strip()) or 0
        if not 1 <= minimum <= maximum <= _MAX_STEPS_AT_ONCE:
            raise ValueError(
                f"must be MIN-MAX with 1 <= MIN <= MAX <= {_MAX_STEPS_AT_ONCE}, e.g. 1-16, "
                f"not {value[:40]!r}"
            )
        return f"{minimum}-{maximum}"

    @property
    def autoscale_range(self) -> tuple[int, int] | None:
        """``autoscale`` as ``(minimum, maximum)``, or ``None`` when unset."""
        if self.autoscale is None:
            return None
        low, _, high = self.autoscale.partition("-")
        return int(low), int(high)


_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class BlobSettings(BaseSettings):
    """Where artifacts and reports are kept: the data directory, or an S3-compatible bucket.

    ADR 0114; docs/deploy.md. Unset ``url``: ``MISSIONCTL_HOME/blobs``.
    """

    model_config = SettingsConfigDict(env_prefix="MISSIONCTL_BLOBS_", extra="forbid")

    url: str | None = Field(
        default=None,
        description="s3://BUCKET/PREFIX: keep the blob store in that bucket, under that prefix. "
        "Unset: the blobs directory of MISSIONCTL_HOME.",
    )
    endpoint: str | None = Field(
        default=None,
        description="An S3-compatible server's address, e.g. https://s3.example.com or "
        "http://minio.internal:9000 (plain HTTP is allowed for an http:// address). Unset: AWS.",
    )
    region: str = Field(default="us-east-1", max_length=64, description="The bucket's region.")
    access_key_id: str | None = Field(
        default=None, max_length=256, description="Access key id (unset: the environment's)."
    )
    secret_access_key: SecretStr | None = Field(
        default=None, description="Secret access key (never logged or shown)."
    )

    @field_validator("url")
    @classmethod
    def _bucket_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # an empty variable means unset
        parts = urlsplit(value.strip())
        if parts.scheme != "s3" or not _BUCKET_NAME.match(parts.netloc or ""):
            raise ValueError(
                "must be s3://BUCKET or s3://BUCKET/PREFIX, the bucket 3 to 63 lower-case "
                "letters, digits, dots or hyphens, e.g. s3://mission-control/blobs"
            )
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("must be s3://BUCKET/PREFIX without credentials, ?query or #fragment")
        return value.strip().rstrip("/")

    @field_validator("endpoint")
    @classmethod
    def _endpoint_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// address, e.g. https://s3.example.com")
        if parts.username or parts.password:
            raise ValueError("must not hold credentials: use MISSIONCTL_BLOBS_ACCESS_KEY_ID")
        return value.strip().rstrip("/")

    def shown(self, directory: Path) -> dict[str, str]:
        """These settings as printable text, the secret key masked; ``directory``: the default."""
        secret = self.secret_access_key
        return {
            "MISSIONCTL_BLOBS_URL": self.url or f"(the directory {directory})",
            "MISSIONCTL_BLOBS_ENDPOINT": self.endpoint or "",
            "MISSIONCTL_BLOBS_REGION": self.region,
            "MISSIONCTL_BLOBS_ACCESS_KEY_ID": self.access_key_id or "",
            "MISSIONCTL_BLOBS_SECRET_ACCESS_KEY": "**********" if secret else "",
        }

    @property
    def bucket(self) -> str | None:
        """The bucket's name, or ``None`` when the blobs stay in the data directory."""
        return urlsplit(self.url).netloc if self.url else None

    @property
    def prefix(self) -> str:
        """The key prefix inside the bucket (may be empty)."""
        return urlsplit(self.url).path.strip("/") if self.url else ""


class WebhookSettings(BaseSettings):
    """How outbound webhooks are delivered (docs/webhooks.md, ADR 0060)."""

    model_config = SettingsConfigDict(env_prefix="MISSIONCTL_WEBHOOKS_", extra="forbid")

    deliver: bool = Field(
        default=True,
        description="Whether `missionctl serve` follows the log and sends webhook deliveries "
        "(`missionctl worker` never does). Off: deliveries wait in the outbox.",
    )
    max_attempts: int = Field(
        default=6, ge=1, le=20, description="Attempts per delivery before it is marked failed."
    )
    backoff_s: tuple[Annotated[float, Field(gt=0, le=86_400)], ...] = Field(
        default=(10.0, 60.0, 300.0, 1800.0, 7200.0),
        min_length=1,
        max_length=20,
        description="Waits between attempts, in seconds; the last repeats. E.g. [10, 60, 300].",
    )
    timeout_s: float = Field(
        default=5.0, gt=0, le=60, description="How long one request may take, in seconds."
    )
    concurrency: int = Field(
        default=4, ge=1, le=64, description="Deliveries one process sends at once."
    )
    poll_s: float = Field(
        default=1.0, gt=0, le=60, description="How often the outbox is filled and emptied."
    )

    def shown(self) -> dict[str, str]:
        """These settings as printable text, by variable (none is secret)."""
        delays = ",".join(f"{s:g}" for s in self.backoff_s)
        return {
            "MISSIONCTL_WEBHOOKS_DELIVER": str(self.deliver).lower(),
            "MISSIONCTL_WEBHOOKS_MAX_ATTEMPTS": str(self.max_attempts),
            "MISSIONCTL_WEBHOOKS_BACKOFF_S": f"[{delays}]",
            "MISSIONCTL_WEBHOOKS_TIMEOUT_S": str(self.timeout_s),
            "MISSIONCTL_WEBHOOKS_CONCURRENCY": str(self.concurrency),
            "MISSIONCTL_WEBHOOKS_POLL_S": str(self.poll_s),
        }


class SandboxSettings(BaseSettings):
    """How the programs of ``command`` steps are confined (see ``agents/sandbox.py``)."""

    model_config = SettingsConfigDict(env_prefix="MISSIONCTL_SANDBOX_", extra="forbid")

    mode: Literal["bubblewrap", "off"] = Field(
        default="bubblewrap",
        description="bubblewrap confines every program a step runs; off runs them unconfined "
        "as the server's user (an admin's explicit choice; the dashboard then warns).",
    )
    bwrap_path: str = Field(default="bwrap", description="The bubblewrap executable.")
    read_only_paths: list[str] = Field(
        default_factory=list,
        description="Extra absolute paths a sandboxed program may read (e.g. a toolchain "
        "under /opt), as a JSON list.",
    )
    cpu_s: int = Field(default=3600, ge=1, description="CPU seconds a program may use.")
    memory_mb: int = Field(default=4096, ge=16, description="Data memory a process may use (MiB).")
    file_size_mb: int = Field(default=1024, ge=1, description="Largest file a program may write.")
    open_files: int = Field(default=1024, ge=16, description="Files a process may hold open.")
    tmp_mb: int = Field(default=512, ge=1, description="Size of a sandbox's private /tmp (MiB).")
    artifact_max_mb: int = Field(
        default=100,
        ge=1,
        le=1_048_576,
        description="Largest file a step's program may leave under artifacts/ to be kept (MiB); "
        "a larger one is left out with a warning in the step log.",
    )
    artifacts_max_mb: int = Field(
        default=500,
        ge=1,
        le=1_048_576,
        description="Most a step may keep as artifacts, all its files together (MiB); files "
        "past it are left out with a warning in the step log.",
    )

    @field_validator("read_only_paths")
    @classmethod
    def _absolute(cls, paths: list[str]) -> list[str]:
        relative = [p for p in paths if not p.startswith("/")]
        if relative:
            raise ValueError(f"paths must be absolute; not: {', '.join(relative)}")
        return paths


class HttpAgentSettings(BaseSettings):
    """What ``http`` steps may reach and how they wait for callbacks (docs/http-agent.md)."""

    model_config = SettingsConfigDict(env_prefix="MISSIONCTL_HTTP_AGENT_", extra="forbid")

    allowed_networks: list[str] = Field(
        default_factory=list,
        description="Private networks an http step's URL (or an mcp step's server URL, or a "
        "webhook's address) may reach, as a JSON list of CIDRs "
        '(e.g. ["127.0.0.1/32", "10.1.0.0/16"]). Public addresses are always allowed; '
        "loopback, private, link-local and reserved ones only inside these.",
    )
    poll_s: float = Field(
        default=0.5,
        gt=0,
        le=60,
        description="How often a step waiting for its agent's callback reads it, in seconds.",
    )

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        bad = []
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                bad.append(value)
        if bad:
            raise ValueError(f"must be networks like 127.0.0.1/32; not: {', '.join(bad)}")
        return values

    def networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """``allowed_networks`` as network objects, for every check that reaches out.

        The one reading of the setting: ``http`` and ``mcp`` steps, clone URLs and webhooks.
        """
        return tuple(ipaddress.ip_network(net, strict=False) for net in self.allowed_networks)


class CodingSettings(BaseSettings):
    """Coding steps: the CLIs they may run (docs/coding-agents.md)."""

    model_config = SettingsConfigDict(env_prefix="MISSIONCTL_CODING_", extra="forbid")

    presets_file: Path | None = Field(
        default=None,
        description="A YAML file of more coding CLIs (`coding:<name>`), in the shape of the "
        "shipped coding_presets.yaml; a name it shares with a shipped preset replaces it.",
    )


class AuditSettings(BaseSettings):
    """How the event log is anchored outside the database: signed checkpoints (ADR 0023)."""

    model_config = SettingsConfigDict(env_prefix="MISSIONCTL_AUDIT_", extra="forbid")

    checkpoint_every_events: int = Field(
        default=1000,
        ge=1,
        le=100_000_000,
        description="Sign a checkpoint of the chain head once this many events were appended.",
    )
    checkpoint_every_s: float = Field(
        default=300.0,
        ge=1,
        le=86_400,
        description="Sign one at least this often (seconds) while events are appended.",
    )
    checkpoint_dir: Path | None = Field(
        default=None,
        description="Where checkpoints and the public keys that verify them are written; unset "
        "means MISSIONCTL_HOME/checkpoints. Best on another volume or machine than the database.",
    )
    checkpoint_url: SecretStr | None = Field(
        default=None,
        description="If set, each checkpoint is also POSTed as JSON to this URL (e.g. a "
        "write-once store run by someone else).",
    )
    key_path: Path | None = Field(
        default=None,
        description="The Ed25519 private key that signs checkpoints (PEM, created with mode 0600 "
        "on first use); unset means MISSIONCTL_HOME/audit_signing_key.pem.",
    )


class TracingSettings(BaseSettings):
    """Where traces of runs, steps and model calls go (OpenTelemetry over OTLP/HTTP, ADR 0045).

    The OTLP endpoints are the standard ``OTEL_EXPORTER_OTLP_*`` variables; with neither set,
    tracing stays off and nothing of OpenTelemetry's SDK is set up. ``OTEL_SERVICE_NAME``,
    ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_EXPORTER_OTLP_HEADERS`` and ``OTEL_EXPORTER_OTLP_TIMEOUT``
    are read by the SDK itself.
    """

    model_config = SettingsConfigDict(
        env_prefix="MISSIONCTL_TRACE_", extra="forbid", populate_by_name=True
    )

    url: str | None = Field(
        default=None,
        description="Address of a trace in your tracing tool, with {trace_id} where the "
        "trace id goes, e.g. http://127.0.0.1:16686/trace/{trace_id}; the run page then links "
        "to its trace.",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT"),
        description="OTEL_EXPORTER_OTLP_ENDPOINT: base address of an OTLP/HTTP collector, e.g. "
        "http://127.0.0.1:4318 (traces go to /v1/traces under it). Unset: no tracing.",
    )
    otlp_traces_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        description="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the full address traces are POSTed "
        "to; it wins over OTEL_EXPORTER_OTLP_ENDPOINT.",
    )
    sdk_disabled: bool = Field(
        default=False,
        validation_alias=AliasChoices("OTEL_SDK_DISABLED"),
        description="OTEL_SDK_DISABLED=true: no tracing, whatever the endpoints say.",
    )

    @field_validator("otlp_endpoint", "otlp_traces_endpoint")
    @classmethod
    def _collector_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # an empty variable means unset
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "must be an http:// or https:// URL of an OTLP/HTTP collector, e.g. "
                "http://127.0.0.1:4318"
            )
        return value.strip()

    @field_validator("url")
    @classmethod
    def _trace_link(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL, e.g. https://tracing/{trace_id}")
        if "{trace_id}" not in value or value.count("{") != 1 or value.count("}") != 1:
            raise ValueError(
                "must hold {trace_id} once, where the trace id goes, and no other braces, e.g. "
                "https://tracing.example.com/trace/{trace_id}"
            )
        return value.strip()

    @property
    def traces_endpoint(self) -> str | None:
        """Where spans are POSTed, or ``None`` when tracing is off."""
        if self.sdk_disabled:
            return None
        if self.otlp_traces_endpoint:
            return self.otlp_traces_endpoint
        if self.otlp_endpoint:
            return self.otlp_endpoint.rstrip("/") + "/v1/traces"
        return None

    def trace_link(self, trace_id: str) -> str | None:
        """The address of trace ``trace_id`` in the tracing tool, or ``None`` when unset."""
        return None if self.url is None else self.url.replace("{trace_id}", trace_id)


class Settings(BaseSettings):
    """All settings of one Mission Control process."""

    model_config = SettingsConfigDict(env_prefix="MISSIONCTL_", extra="forbid")

    home: Path = Field(
        default=Path(HOME_DIR_NAME),
        description="Data directory: the SQLite database and the blob store live here. Unset: "
        "the nearest .missionctl directory in the current directory or its parents "
        "(get_settings, find_home).",
    )
    log_level: LogLevel = Field(default="INFO", description="Log level of the server and workers.")
    keep_workspaces: bool = Field(
        default=False,
        description="Keep each run's step workspaces (MISSIONCTL_HOME/workspaces/<run>) after "
        "the run ends, for debugging. They may hold secrets in clear: whatever a program wrote "
        "there, a step secret included, is kept as it was written (only artifacts are "
        "redacted). Off: they are removed when the run completes, fails, is canceled or is "
        "aborted.",
    )
    metrics_address: str | None = Field(
        default=None,
        description="host:port on which `missionctl serve` (and `missionctl worker`) also "
        "listens for Prometheus scrapers: that address answers only GET /metrics, to anyone. "
        "Unset: /metrics only on the main address, for an API token. E.g. 127.0.0.1:9464.",
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    documents: DocumentsSettings = Field(default_factory=DocumentsSettings)
    insights: InsightsSettings = Field(default_factory=InsightsSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    blobs: BlobSettings = Field(default_factory=BlobSettings)
    http_agent: HttpAgentSettings = Field(default_factory=HttpAgentSettings)
    coding: CodingSettings = Field(default_factory=CodingSettings)
    disk_free_min_mb: int = Field(
        default=500,
        ge=0,
        le=10_000_000,
        description="Free space (MB) under which /healthz reports the data directory's volume "
        "(and a SQLite database's) as low, its status degraded; under 1 MB it is full.",
    )
    spec_policy_file: Path | None = Field(
        default=None,
        description="A YAML file of rule sets saying which plan tasks need an approved "
        "mini-spec before their implementation starts (docs/specs.md). Unset: the packaged "
        "policy (migrations, security, cross-service interfaces, novel patterns).",
    )
    spec_max_age_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Days after its approval that a mini-spec still lets its task's "
        "implementation start; an older one is stale and holds the work like a missing one.",
    )
    risk_alert_at: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="The chance of failing (0 to 1), estimated from a step's history, at which "
        "an attempt is alerted as `step.at_risk` (docs/risks.md); only on an estimate backed "
        "by ten attempts of the step's own.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("metrics_address")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # an empty variable means unset
        split_address(value)
        return value.strip()

    @property
    def database_url(self) -> str:
        """The effective database URL (the embedded SQLite file when none is configured)."""
        if self.database.url is not None and self.database.url.get_secret_value():
            return self.database.url.get_secret_value()
        return f"sqlite+aiosqlite:///{(self.home / 'missionctl.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        """Directory of the content-addressed blob store."""
        return self.home / "blobs"

    @property
    def audit_checkpoint_dir(self) -> Path:
        """Directory of the event log's signed checkpoints."""
        return self.audit.checkpoint_dir or self.home / "checkpoints"

    @property
    def callback_base_url(self) -> str:
        """The address external agents post callbacks to: the public URL, else HOST:PORT."""
        return self.server.public_url or f"http://{self.server.host}:{self.server.port}"

    @property
    def audit_key_path(self) -> Path:
        """The private key file that signs the event log's checkpoints."""
        return self.audit.key_path or self.home / "audit_signing_key.pem"

    def _spec_shown(self) -> dict[str, str]:
        """The mini-spec settings as printable text (``masked``)."""
        policy = "(packaged)" if self.spec_policy_file is None else str(self.spec_policy_file)
        return {
            "MISSIONCTL_SPEC_POLICY_FILE": policy,
            "MISSIONCTL_SPEC_MAX_AGE_DAYS": str(self.spec_max_age_days),
            "MISSIONCTL_RISK_ALERT_AT": str(self.risk_alert_at),
        }

    def _writers_shown(self) -> dict[str, dict[str, str]]:
        """The document studio's and the insights' model settings as printable text."""
        return {
            "documents": {
                "MISSIONCTL_DOCUMENTS_MODEL_TIMEOUT_S": str(self.documents.model_timeout_s),
            },
            "insights": self.insights.shown(),
        }

    def _database_shown(self) -> dict[str, str]:
        """The database settings as printable text, the URL's password hidden."""
        return {
            "MISSIONCTL_DATABASE_URL": make_url(self.database_url).render_as_string(
                hide_password=True
            ),
            "MISSIONCTL_DATABASE_BUSY_TIMEOUT_MS": str(self.database.busy_timeout_ms),
            "MISSIONCTL_DATABASE_POOL_SIZE": str(self.database.pool_size),
        }

    def masked(self) -> dict[str, dict[str, str]]:
        """The effective settings as printable text, secrets masked, grouped by area.

        The database URL keeps its shape but hides its password.
        """

        def show(value: object) -> str:
            if isinstance(value, SecretStr):
                return "**********" if value.get_secret_value() else ""
            return "" if value is None else str(value)

        return {
            "general": {
                "MISSIONCTL_HOME": str(self.home),
                "MISSIONCTL_LOG_LEVEL": self.log_level,
                "MISSIONCTL_KEEP_WORKSPACES": str(self.keep_workspaces).lower(),
                "MISSIONCTL_METRICS_ADDRESS": show(self.metrics_address),
                "MISSIONCTL_DISK_FREE_MIN_MB": str(self.disk_free_min_mb),
            },
            "database": self._database_shown(),
            "server": self.server.shown(),
            "blobs": self.blobs.shown(self.blob_dir),
            "llm": {
                "MISSIONCTL_LLM_BASE_URL": show(self.llm.base_url),
                "MISSIONCTL_LLM_API_KEY": show(self.llm.api_key),
                "MISSIONCTL_LLM_MODEL": show(self.llm.model) or "(local planner)",
                "MISSIONCTL_LLM_TIMEOUT_S": str(self.llm.timeout_s),
                "MISSIONCTL_LLM_TEMPERATURE": show(self.llm.temperature) or "(model default)",
                "MISSIONCTL_LLM_SEED": show(self.llm.seed) or "(not sent)",
                "MISSIONCTL_LLM_STREAM_PLANS": str(self.llm.stream_plans).lower(),
            },
            **self._writers_shown(),
            "engine": {
                "MISSIONCTL_ENGINE_EMBEDDED": str(self.engine.embedded).lower(),
                "MISSIONCTL_ENGINE_CONCURRENCY": str(self.engine.concurrency),
                "MISSIONCTL_ENGINE_LEASE_S": str(self.engine.lease_s),
                "MISSIONCTL_ENGINE_HEARTBEAT_S": str(self.engine.heartbeat_s),
                "MISSIONCTL_ENGINE_POLL_S": str(self.engine.poll_s),
                "MISSIONCTL_ENGINE_SCHEDULES_EVERY_S": str(self.engine.schedules_every_s),
            },
            "sandbox": {
                "MISSIONCTL_SANDBOX_MODE": self.sandbox.mode,
                "MISSIONCTL_SANDBOX_BWRAP_PATH": self.sandbox.bwrap_path,
                "MISSIONCTL_SANDBOX_READ_ONLY_PATHS": ", ".join(self.sandbox.read_only_paths),
                "MISSIONCTL_SANDBOX_CPU_S": str(self.sandbox.cpu_s),
                "MISSIONCTL_SANDBOX_MEMORY_MB": str(self.sandbox.memory_mb),
                "MISSIONCTL_SANDBOX_FILE_SIZE_MB": str(self.sandbox.file_size_mb),
                "MISSIONCTL_SANDBOX_OPEN_FILES": str(self.sandbox.open_files),
                "MISSIONCTL_SANDBOX_TMP_MB": str(self.sandbox.tmp_mb),
                "MISSIONCTL_SANDBOX_ARTIFACT_MAX_MB": str(self.sandbox.artifact_max_mb),
                "MISSIONCTL_SANDBOX_ARTIFACTS_MAX_MB": str(self.sandbox.artifacts_max_mb),
            },
            "audit": {
                "MISSIONCTL_AUDIT_CHECKPOINT_EVERY_EVENTS": str(self.audit.checkpoint_every_events),
                "MISSIONCTL_AUDIT_CHECKPOINT_EVERY_S": str(self.audit.checkpoint_every_s),
                "MISSIONCTL_AUDIT_CHECKPOINT_DIR": str(self.audit_checkpoint_dir),
                "MISSIONCTL_AUDIT_CHECKPOINT_URL": show(self.audit.checkpoint_url),
                "MISSIONCTL_AUDIT_KEY_PATH": str(self.audit_key_path),
            },
            "webhooks": self.webhooks.shown(),
            "http_agent": {
                "MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS": ", ".join(
                    self.http_agent.allowed_networks
                ),
                "MISSIONCTL_HTTP_AGENT_POLL_S": str(self.http_agent.poll_s),
            },
            "specs": self._spec_shown(),
            "tracing": {
                "MISSIONCTL_TRACE_URL": show(self.tracing.url),
                # Only where spans go: a collector's address may carry a password.
                "OTEL_EXPORTER_OTLP_ENDPOINT": _without_password(self.tracing.otlp_endpoint),
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": _without_password(
                    self.tracing.otlp_traces_endpoint
                ),
            },
        }


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for IPv6) as its host and port.

    Raises:
        ValueError: not ``host:port`` with a port from 1 to 65535.
    """
    host, sep, port = address.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    number = ascii_int(port)
    if not sep or not host or number is None or not 1 <= number <= 65535:
        raise ValueError("must be host:port with a port from 1 to 65535, e.g. 127.0.0.1:9464")
    return host, number


def _without_password(url: str | None) -> str:
    """``url`` with any password in it masked; empty for ``None``."""
    if url is None:
        return ""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":**********@", 1)
    return parts._replace(netloc=netloc).geturl()


def _device(path: Path) -> int:
    return path.stat().st_dev


def find_home(start: Path, *, device_of: Callable[[Path], int] = _device) -> Path | None:
    """The nearest directory named ``.missionctl`` in ``start`` or one of its parents, or None.

    The search goes up the way git looks for ``.git``: from ``start`` towards the filesystem
    root, and, as git does by default, it stops at the edge of ``start``'s filesystem (a mount
    point is searched, its parent is not). A data directory on another filesystem, or anywhere
    else, is named with ``MISSIONCTL_HOME``. A parent that cannot be read ends the search too.
    Only a directory counts (a file of that name is passed over). Nothing is created.

    Args:
        start: where to begin (made absolute against the current directory).
        device_of: the filesystem a path is on (``st_dev``); injectable for tests.
    """
    start = Path(os.path.abspath(start))
    try:
        device = device_of(start)
        for directory in (start, *start.parents):
            if device_of(directory) != device:
                return None
            candidate = directory / HOME_DIR_NAME
            if candidate.is_dir():
                return candidate
    except OSError:
        return None
    return None


def locate_home(settings: Settings, cwd: Path) -> Path | None:
    """``MISSIONCTL_HOME`` when it is set, else :func:`find_home` from ``cwd``; None: neither."""
    if "home" in settings.model_fields_set:
        return settings.home
    return find_home(cwd)


def setting_variable(model_title: str, loc: tuple[int | str, ...]) -> str:
    """The environment variable a validation problem at ``loc`` of ``model_title`` is about.

    A group of settings (``DatabaseSettings``…) is validated on its own, so its problems
    name the group's class and the field within it; the person must be told the variable.
    """
    groups = [Settings] + [
        info.annotation
        for info in Settings.model_fields.values()
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseSettings)
    ]
    prefix = next(
        (g.model_config.get("env_prefix", "") for g in groups if g.__name__ == model_title),
        "MISSIONCTL_",
    )
    return f"{prefix}{'_'.join(str(p) for p in loc)}".upper()


def get_settings() -> Settings:
    """Read the settings from the environment now (no caching: callers keep what they need).

    The home is ``MISSIONCTL_HOME`` when set, else the nearest ``.missionctl`` directory in the
    current directory or its parents (:func:`find_home`), else ``./.missionctl`` (absolute;
    not created here: whatever opens the data directory creates it).
    """
    settings = Settings()
    cwd = Path.cwd()
    home = locate_home(settings, cwd) or cwd / HOME_DIR_NAME
    return settings.model_copy(update={"home": home})
