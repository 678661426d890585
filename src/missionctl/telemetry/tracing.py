"""The process's tracer provider: set up when an OTLP endpoint is configured, else nothing.

One provider per process, kept here rather than installed as OpenTelemetry's global one, so
that it can be started and stopped again (a test, a CLI command) and so that nothing else in
the process exports through it by accident. Spans leave through a ``BatchSpanProcessor``: a
background thread posts them in batches, so a slow or unreachable collector never delays a
step; :func:`stop_tracing` flushes what is queued, waiting at most :data:`FLUSH_TIMEOUT_S`.
"""

import contextvars
import logging
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.util.types import AttributeValue

from missionctl import __version__
from missionctl.telemetry.ids import run_span_id, run_trace_hex, run_trace_id

log = logging.getLogger(__name__)

FLUSH_TIMEOUT_S = 5.0
"""The longest a process waits, when it stops, for its last spans to reach the collector."""

DEFAULT_SERVICE_NAME = "missionctl"

# The ids the next span must take (the run span's); None: random ones.
_FORCED_IDS: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar(
    "missionctl_forced_span_ids", default=None
)


class _RunAwareIds(IdGenerator):
    """Random ids, except for a run's root span, whose ids come from the run id."""

    def __init__(self) -> None:
        self._random = RandomIdGenerator()

    def generate_span_id(self) -> int:
        forced = _FORCED_IDS.get()
        return self._random.generate_span_id() if forced is None else forced[1]

    def generate_trace_id(self) -> int:
        forced = _FORCED_IDS.get()
        return self._random.generate_trace_id() if forced is None else forced[0]


@dataclass(frozen=True, slots=True)
class _Active:
    provider: TracerProvider
    endpoint: str


_active: _Active | None = None
_lock = threading.Lock()


def tracing_enabled() -> bool:
    """Whether spans are exported (an endpoint was configured and :func:`start_tracing` ran)."""
    return _active is not None


def tracer(scope: str) -> trace.Tracer | None:
    """The tracer for instrumentation ``scope``, or ``None`` while tracing is off."""
    active = _active
    if active is None:
        return None
    return active.provider.get_tracer(scope, __version__)


def run_trace_fields(run_id: uuid.UUID) -> dict[str, str]:
    """What ``run.started`` says of the run's trace: its ``trace_id`` while tracing is on."""
    return {"trace_id": run_trace_hex(run_id)} if _active is not None else {}


def _resource() -> Resource:
    """``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES``, with missionctl's defaults."""
    detected = Resource.create()  # reads both variables
    defaults: dict[str, AttributeValue] = {SERVICE_VERSION: __version__}
    name = detected.attributes.get(SERVICE_NAME)
    if not isinstance(name, str) or name.startswith("unknown_service"):
        defaults[SERVICE_NAME] = DEFAULT_SERVICE_NAME
    return Resource(defaults).merge(detected).merge(Resource(defaults))


def start_tracing(endpoint: str, *, exporter: SpanExporter | None = None) -> bool:
    """Export this process's spans to the OTLP/HTTP collector at ``endpoint``.

    Args:
        endpoint: the full address spans are POSTed to (``.../v1/traces``).
        exporter: where spans go instead of OTLP/HTTP (tests).

    Returns:
        True if tracing started now; False if it was already on (nothing changes).
    """
    global _active
    with _lock:
        if _active is not None:
            return False
        provider = TracerProvider(resource=_resource(), id_generator=_RunAwareIds())
        provider.add_span_processor(
            BatchSpanProcessor(exporter or OTLPSpanExporter(endpoint=endpoint))
        )
        _active = _Active(provider=provider, endpoint=endpoint)
    log.info("tracing: spans are exported to %s", _shown(endpoint))
    return True


def stop_tracing(timeout_s: float | None = None) -> None:
    """Flush the queued spans and stop exporting. Idempotent.

    Waits at most ``timeout_s`` (default :data:`FLUSH_TIMEOUT_S`); spans a collector did not
    take by then are dropped. Blocking: an async caller runs it in a thread.
    """
    global _active
    timeout_s = FLUSH_TIMEOUT_S if timeout_s is None else timeout_s
    with _lock:
        active, _active = _active, None
    if active is None:
        return
    # The SDK's shutdown may wait 30 s for an unreachable collector: it runs in a thread of
    # its own, which a stopping process does not wait for past ``timeout_s``.
    flusher = threading.Thread(
        target=active.provider.shutdown, name="missionctl-trace-flush", daemon=True
    )
    flusher.start()
    flusher.join(timeout_s)
    if flusher.is_alive():
        log.warning(
            "tracing: the collector at %s did not take the last spans within %g s; "
            "they are dropped",
            _shown(active.endpoint),
            timeout_s,
        )


def emit_run_span(
    run_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    attributes: Mapping[str, AttributeValue],
    failed: bool,
) -> None:
    """Export the root span of run ``run_id``, with the ids derived from the run id.

    Its step spans, exported by any process, already name it as their parent
    (:func:`~missionctl.telemetry.ids.run_parent`). Nothing happens while tracing is off.
    """
    run_tracer = tracer("missionctl.engine")
    if run_tracer is None:
        return
    token = _FORCED_IDS.set((run_trace_id(run_id), run_span_id(run_id)))
    try:
        # An empty context: the run span is a root, whatever span is current here.
        span = run_tracer.start_span(
            "run", context=Context(), attributes=attributes, start_time=_ns(start)
        )
    finally:
        _FORCED_IDS.reset(token)
    if failed:
        span.set_status(trace.StatusCode.ERROR)
    span.end(end_time=max(_ns(end), _ns(start)))


def _ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000_000)


def _shown(endpoint: str) -> str:
    """``endpoint`` without what may be a credential (user and password)."""
    return endpoint.rsplit("@", 1)[-1] if "@" in endpoint else endpoint
