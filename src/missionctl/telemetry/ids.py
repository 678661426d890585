r"""A run's trace id and root span id, derived from the run id (ADR 0045).

Every process that executes one of a run's steps (an embedded engine, any number of
``missionctl worker`` processes) computes the same ids from the run id alone, so their step
spans join one trace under one root without any context stored or passed between them.

The ids are the first 24 bytes of ``sha256(b"missionctl.run\0" + run_id.bytes)``: bytes 0-15
are the trace id, bytes 16-23 the run span's id. A hash rather than the run id's own bits:
a UUIDv7 starts with a timestamp and has fixed version and variant bits, which would make
trace ids cluster and break samplers that read their low bits as random.
"""

import hashlib
import uuid

from opentelemetry import trace
from opentelemetry.context import Context

_NAMESPACE = b"missionctl.run\x00"


def _digest(run_id: uuid.UUID) -> bytes:
    return hashlib.sha256(_NAMESPACE + run_id.bytes).digest()


def run_trace_id(run_id: uuid.UUID) -> int:
    """The trace id of run ``run_id``: 128 bits, never 0 (an invalid id)."""
    return int.from_bytes(_digest(run_id)[:16], "big") or 1


def run_span_id(run_id: uuid.UUID) -> int:
    """The span id of run ``run_id``'s root span: 64 bits, never 0 (an invalid id)."""
    return int.from_bytes(_digest(run_id)[16:24], "big") or 1


def run_trace_hex(run_id: uuid.UUID) -> str:
    """The run's trace id as tracing tools show it: 32 lower-case hex digits."""
    return trace.format_trace_id(run_trace_id(run_id))


def run_parent(run_id: uuid.UUID) -> Context:
    """A context whose current span is the run's root span, as a remote parent.

    A step span started in it belongs to the run's trace, under the run span, in whichever
    process it runs; the run span itself is emitted once, when the run ends.
    """
    root = trace.SpanContext(
        trace_id=run_trace_id(run_id),
        span_id=run_span_id(run_id),
        is_remote=True,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(trace.NonRecordingSpan(root), Context())
