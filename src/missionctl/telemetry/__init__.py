"""Traces of runs, steps and model calls, exported over OTLP/HTTP when configured (ADR 0045).

Off unless an OTLP endpoint is set (``OTEL_EXPORTER_OTLP_ENDPOINT``): then :func:`tracer`
answers ``None`` and callers skip their spans, so the engine's hot path pays one check. A run's
trace id is derived from its id (:func:`run_trace_id`), so every process that runs one of its
steps puts its spans in the same trace without passing any context around.
"""

from missionctl.telemetry.ids import (
    run_parent,
    run_span_id,
    run_trace_hex,
    run_trace_id,
)
from missionctl.telemetry.tracing import (
    FLUSH_TIMEOUT_S,
    emit_run_span,
    run_trace_fields,
    start_tracing,
    stop_tracing,
    tracer,
    tracing_enabled,
)

__all__ = [
    "FLUSH_TIMEOUT_S",
    "emit_run_span",
    "run_parent",
    "run_span_id",
    "run_trace_fields",
    "run_trace_hex",
    "run_trace_id",
    "start_tracing",
    "stop_tracing",
    "tracer",
    "tracing_enabled",
]
