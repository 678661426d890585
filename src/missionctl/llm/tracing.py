"""A span per model call, after OpenTelemetry's semantic conventions for generative AI.

The span is named ``chat {model}`` and carries what the conventions ask of a client span:
``gen_ai.operation.name``, the provider (``gen_ai.provider.name``, and the older
``gen_ai.system``), the requested and answering models, the reply's token limit, the
temperature and seed sent (absent when not sent), the tokens used and the finish reasons, and
``error.type`` when the call failed. It carries no prompt, no reply and no error message (a
server's error may quote either), and the server's address without any credential. Nothing is
recorded while tracing is off.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.util.types import AttributeValue

from missionctl.llm.protocol import LLMUsage, Sampling
from missionctl.telemetry import tracer

# The API every client of this module speaks, whichever server answers it: the conventions
# name the provider after the instrumented client's flavour when the real one is unknown.
PROVIDER = "openai"


@dataclass(slots=True)
class ChatCall:
    """What the answer told about one call, filled in while it is read."""

    response_model: str | None = None
    finish_reasons: list[str] = field(default_factory=list)
    usage: LLMUsage | None = None

    def finished(self, reason: str | None) -> None:
        """Note a choice's finish reason (``None``: the choice has not finished)."""
        if reason is not None:
            self.finish_reasons.append(reason)


@contextmanager
def chat_span(
    *, model: str, server: str, max_tokens: int | None, sampling: Sampling | None = None
) -> Iterator[ChatCall]:
    """Trace the chat call made inside the block, as a child of the current span.

    Args:
        model: the model asked for.
        server: the API's base URL (only its host and port are recorded).
        max_tokens: the reply's token limit sent with the request, if any.
        sampling: the temperature and seed sent with the request (``None`` ones were not).

    Yields:
        The call's record: the block sets the answering model, finish reasons and usage.
    """
    call = ChatCall()
    llm_tracer = tracer("missionctl.llm")
    if llm_tracer is None:
        yield call
        return
    with llm_tracer.start_as_current_span(
        f"chat {model}",
        kind=trace.SpanKind.CLIENT,
        attributes=_request_attributes(model, server, max_tokens, sampling or Sampling()),
        record_exception=False,  # an exception's message may quote the prompt or the reply
        set_status_on_exception=False,
    ) as span:
        try:
            yield call
        except Exception as exc:
            span.set_attribute("error.type", _error_type(exc))
            span.set_status(trace.StatusCode.ERROR)
            raise
        finally:
            span.set_attributes(_response_attributes(call))


def _request_attributes(
    model: str, server: str, max_tokens: int | None, sampling: Sampling
) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": PROVIDER,
        "gen_ai.system": PROVIDER,
        "gen_ai.request.model": model,
    }
    if max_tokens is not None:
        attributes["gen_ai.request.max_tokens"] = max_tokens
    # A span attribute cannot be null: a knob that was not sent is left out.
    if sampling.temperature is not None:
        attributes["gen_ai.request.temperature"] = sampling.temperature
    if sampling.seed is not None:
        attributes["gen_ai.request.seed"] = sampling.seed
    address = urlsplit(server)
    if address.hostname:  # never the user or password a URL may carry
        attributes["server.address"] = address.hostname
        port = address.port or (443 if address.scheme == "https" else 80)
        attributes["server.port"] = port
    return attributes


def _response_attributes(call: ChatCall) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {}
    if call.response_model:
        attributes["gen_ai.response.model"] = call.response_model
    if call.finish_reasons:
        attributes["gen_ai.response.finish_reasons"] = call.finish_reasons
    if call.usage is not None:
        attributes["gen_ai.usage.input_tokens"] = call.usage.input_tokens
        attributes["gen_ai.usage.output_tokens"] = call.usage.output_tokens
    return attributes


def _error_type(exc: Exception) -> str:
    """The HTTP status a server refused with, else the exception's public class name.

    Low-cardinality, as the conventions ask, and free of the message's text.
    """
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return str(status)
    kind = type(exc)
    public = [part for part in kind.__module__.split(".") if not part.startswith("_")]
    return ".".join([*public, kind.__qualname__])
