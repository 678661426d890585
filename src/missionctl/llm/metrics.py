"""The model client's Prometheus instruments: request latency and failures, by model.

One observation per HTTP request (each retry and each repair is a request of its own).
"""

import openai
from prometheus_client import Counter, Histogram

LLM_REQUEST_SECONDS = Histogram(
    "missionctl_llm_request_duration_seconds",
    "Time of one HTTP request to the model, answered or not.",
    ["model"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300),
)
LLM_REQUEST_ERRORS = Counter(
    "missionctl_llm_request_errors",
    "Requests to the model that failed, by kind: http_<status>, timeout, connection, api_error.",
    ["model", "kind"],
)


def error_kind(exc: BaseException) -> str:
    """The label a failed request is counted under (a status, or how the transport failed)."""
    if isinstance(exc, openai.APIStatusError):
        return f"http_{exc.status_code}"
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    return "api_error"


def observe_request(model: str, seconds: float, failure: BaseException | None) -> None:
    """Count one request to ``model`` that took ``seconds`` (and failed with ``failure``)."""
    LLM_REQUEST_SECONDS.labels(model=model).observe(seconds)
    if failure is not None:
        LLM_REQUEST_ERRORS.labels(model=model, kind=error_kind(failure)).inc()
