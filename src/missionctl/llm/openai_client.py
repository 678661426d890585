"""The :class:`~missionctl.llm.protocol.LLMClient` for any OpenAI-compatible Chat Completions API.

One ``openai.AsyncOpenAI`` per instance. The SDK's own retries are switched off: this module owns
the retry policy (see :mod:`missionctl.llm.retries`) so it is the same for every server and can be
tested with an injected ``sleep``. Structured output asks for ``json_schema`` first and falls back
to ``json_object`` (then to a bare prompt) for servers that reject it, carrying the schema in the
system prompt instead; the server's verdict is remembered per base URL and model for the life of
the process (:data:`OUTPUT_MODES`), so no later client asks that server again for what it
refused.
"""

import asyncio
import copy
import json
import logging
import random
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypedDict

import openai
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionMessageParam
from openai.types.chat.completion_create_params import ResponseFormat

from missionctl.domain.sampling import seed_problem, temperature_problem
from missionctl.errors import LLMOutputInvalid, LLMUnavailable
from missionctl.llm.metrics import observe_request
from missionctl.llm.protocol import (
    MIN_REPLY_TOKENS,
    LLMUsage,
    OutputMode,
    ReplyListener,
    ReplyPreparer,
    Sampling,
    StructuredResult,
    T,
    TokenLimitReached,
    UsageSink,
    estimate_prompt_tokens,
)
from missionctl.llm.redaction import Redactor, register_secret
from missionctl.llm.retries import backoff_delay, is_retryable_status, parse_retry_after
from missionctl.llm.structured import (
    ReplyError,
    describe_problems,
    parse_prepared_reply,
    parse_reply,
    repair_prompt,
    schema_instructions,
)
from missionctl.llm.tracing import ChatCall, chat_span
from missionctl.settings import LLMSettings

__all__ = ["OUTPUT_MODES", "OpenAICompatibleClient", "OutputMode", "OutputModeMemory"]

logger = logging.getLogger("missionctl.llm")

Sleep = Callable[[float], Awaitable[None]]
UsageCallback = Callable[[LLMUsage], None]

# The SDK refuses to start without a key and would otherwise fall back to OPENAI_API_KEY from the
# environment, sending a real OpenAI key to whatever base_url is configured. For keyless local
# servers (Ollama, llama.cpp, vLLM) we give it this placeholder and omit the header per request.
_NO_KEY_PLACEHOLDER = "missionctl-no-api-key"


class OutputModeMemory:
    """The structured-output mode each server accepts, learnt from its refusals.

    A server is its base URL and model: one that refused ``json_schema`` for a model will
    refuse it again, so every client of that server starts from the weaker mode. Modes only
    move down (:class:`OutputMode`). Safe to share between threads.
    """

    def __init__(self) -> None:
        self._modes: dict[tuple[str, str], OutputMode] = {}
        self._lock = threading.Lock()

    def mode(self, base_url: str, model: str) -> OutputMode:
        """The mode to ask ``model`` at ``base_url`` for (``JSON_SCHEMA`` until one is refused)."""
        with self._lock:
            return self._modes.get((base_url, model), OutputMode.JSON_SCHEMA)

    def refused(self, base_url: str, model: str, mode: OutputMode) -> OutputMode:
        """Record that the server refused ``mode``; returns the mode to ask for from now on.

        Raises:
            ValueError: ``mode`` is already the weakest (there is nothing to fall back to).
        """
        weaker = OutputMode(mode + 1)
        with self._lock:
            now = max(self._modes.get((base_url, model), OutputMode.JSON_SCHEMA), weaker)
            self._modes[(base_url, model)] = now
        return now

    def forget(self) -> None:
        """Forget every verdict (a server that gained support is asked for the best again)."""
        with self._lock:
            self._modes.clear()


OUTPUT_MODES = OutputModeMemory()
"""The process's memory of what each server accepts; clients share it unless given another."""


# Words a 400/422 uses when the server does not understand the response_format we sent.
_FORMAT_WORDS = {
    OutputMode.JSON_SCHEMA: ("response_format", "json_schema"),
    OutputMode.JSON_OBJECT: ("response_format", "json_object"),
}


class OpenAICompatibleClient:
    """Structured generation against one model behind an OpenAI-compatible endpoint.

    Safe to share between concurrent tasks of one event loop. Close it with :meth:`aclose` (or
    use it as an async context manager) to release the HTTP connection pool.

    Args:
        base_url: API root, e.g. ``http://127.0.0.1:11434/v1``; None means the SDK's default
            (api.openai.com).
        api_key: Bearer key; None or empty sends no ``Authorization`` header at all (the
            ``OPENAI_API_KEY`` environment variable is deliberately never consulted).
        model: Model name sent with every request.
        timeout_s: Per-request timeout in seconds (connect, read, write and pool each).
        max_retries: Retries after the first attempt of a request that failed transiently
            (429, 408, 5xx, timeout, connection error). 0 disables retrying.
        backoff_base_s: Ceiling of the first retry's jittered wait; doubles per retry.
        backoff_max_s: Upper bound of any wait, including one asked for by ``Retry-After``.
        sleep: Awaitable used to wait between retries (tests inject a recorder).
        stream: Request server-sent events and assemble the reply from the chunks for every
            call (a call given ``on_text`` streams whatever this says). A server that refuses
            streaming (a 400 or 422 naming ``stream``) is asked without it from then on.
        on_usage: Called with the tokens of each HTTP request as soon as they are known (one
            call per attempt, repairs included), e.g. so the engine can book them per step.
        rng: Source of backoff jitter; a seeded ``random.Random`` makes waits reproducible.
        output_modes: Where the structured-output mode the server accepts is remembered;
            by default the process's :data:`OUTPUT_MODES`, shared by every client.
        sampling: The temperature and seed sent with a call that asks for none of its own;
            an unset knob is not sent at all (servers that refuse unknown keys never see it).

    Raises:
        ValueError: an argument is out of range (empty model, negative retries, timeout <= 0,
            a temperature outside 0-2, a seed outside 0 to 2**63-1).
    """

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str,
        timeout_s: float,
        max_retries: int = 3,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 8.0,
        sleep: Sleep = asyncio.sleep,
        stream: bool = False,
        on_usage: UsageCallback | None = None,
        rng: random.Random | None = None,
        output_modes: OutputModeMemory | None = None,
        sampling: Sampling | None = None,
    ) -> None:
        if not model:
            raise ValueError("model must be a non-empty model name")
        self._sampling = _checked(sampling or Sampling())
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        if max_retries < 0:
            raise ValueError("max_retries must be zero or more")
        if backoff_base_s < 0 or backoff_max_s < 0:
            raise ValueError("backoff delays must be zero or more")
        self._model = model
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._sleep = sleep
        self._stream = stream
        self._on_usage = on_usage
        self._rng = rng
        self._output_modes = OUTPUT_MODES if output_modes is None else output_modes
        # Whether the server wants a reply's limit as ``max_completion_tokens`` (reasoning
        # models refuse ``max_tokens``); learnt from its refusal, kept for the instance.
        self._completion_limit = False
        # Whether the server refused a streamed request; learnt from its refusal, kept for the
        # instance: every later request is sent whole.
        self._stream_refused = False
        # The clients asking other models of this endpoint (``with_model``), by model; a
        # sibling shares the dict, so any of them hands out the same sibling.
        self._siblings: dict[str, OpenAICompatibleClient] = {}
        self._redactor = Redactor([api_key] if api_key else [])
        if api_key:  # a reply that echoes the key is then redacted wherever it is recorded
            register_secret(api_key)
        self._extra_headers: dict[str, str | openai.Omit] = (
            {} if api_key else {"Authorization": openai.omit}
        )
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or _NO_KEY_PLACEHOLDER,
            timeout=timeout_s,
            max_retries=0,  # our loop below retries; the SDK must not retry underneath it
        )
        # The SDK's own spelling of the URL (default filled in, one trailing slash), so that
        # two spellings of one server share what it accepts.
        self._server = str(self._client.base_url)

    @classmethod
    def from_settings(
        cls,
        settings: LLMSettings,
        *,
        stream: bool = False,
        on_usage: UsageCallback | None = None,
    ) -> Self:
        """Build a client from ``MISSIONCTL_LLM_*`` settings with the default retry policy.

        Raises:
            ValueError: no model is configured (callers check ``settings.configured`` first and
                use the local planner instead).
        """
        if not settings.model:
            raise ValueError("no LLM model is configured (set MISSIONCTL_LLM_MODEL)")
        key = settings.api_key.get_secret_value() if settings.api_key is not None else None
        return cls(
            base_url=settings.base_url,
            api_key=key or None,
            model=settings.model,
            timeout_s=settings.timeout_s,
            stream=stream,
            on_usage=on_usage,
            sampling=Sampling(temperature=settings.temperature, seed=settings.seed),
        )

    @property
    def model(self) -> str:
        """The model name calls go to."""
        return self._model

    @property
    def sampling(self) -> Sampling:
        """The temperature and seed a call is sent with when it asks for none of its own."""
        return self._sampling

    def with_model(self, model: str) -> "OpenAICompatibleClient":
        """This client asking ``model`` instead: same endpoint, key, retries and connections.

        The sibling shares this client's connection pool, so closing this one closes both;
        the sibling itself needs no closing. Asking for the client's own model returns it.

        Raises:
            ValueError: ``model`` is empty.
        """
        if not model:
            raise ValueError("model must be a non-empty model name")
        if model == self._model:
            return self
        sibling = self._siblings.get(model)
        if sibling is None:  # one per model, so that what a server refuses is learnt once
            sibling = copy.copy(self)
            sibling._model = model
            self._siblings[model] = sibling
        return sibling

    async def list_models(self) -> list[str]:
        """The ids of the models the endpoint lists (``GET /models``), in its order.

        Raises:
            LLMUnavailable: the endpoint failed or refused (no retry: an admin asked, and is
                told at once).
        """
        try:
            return [
                model.id
                async for model in self._client.models.list(extra_headers=self._extra_headers)
            ]
        except openai.APIStatusError as exc:
            cause = f"HTTP {exc.status_code}: {_status_detail(exc)}"
        except openai.APIError as exc:
            cause = self._transport_cause(exc)
        message = self._redactor.redact(f"the endpoint's list of models failed: {cause}")
        self._log(logging.WARNING, "%s", message)
        raise LLMUnavailable(message)

    @property
    def output_mode(self) -> OutputMode:
        """How structured output is requested now (it only degrades, never upgrades)."""
        return self._output_modes.mode(self._server, self._model)

    async def aclose(self) -> None:
        """Close the HTTP connection pool; returns once it is closed. Idempotent."""
        await self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def generate_structured(
        self,
        *,
        system: str,
        user: str,
        output_model: type[T],
        schema_name: str,
        max_repairs: int = 2,
        on_usage: UsageSink | None = None,
        max_tokens: int | None = None,
        prepare: ReplyPreparer | None = None,
        sampling: Sampling | None = None,
        on_text: ReplyListener | None = None,
    ) -> StructuredResult[T]:
        """Ask for JSON matching ``output_model``; repair invalid replies up to ``max_repairs``.

        The contract of ``on_usage``, ``max_tokens``, ``prepare``, ``sampling`` and ``on_text``
        is :meth:`~missionctl.llm.protocol.LLMClient.generate_structured`'s. Each attempt is one
        request (itself retried on transient failures). A reply that is not JSON, or breaks the
        schema, is sent back with the validation errors and a request for corrected JSON; the
        conversation grows by two messages per repair. Replies wrapped in Markdown code fences,
        or with prose around the JSON object, are accepted. The result's notes are one per
        reply sent back, then ``prepare``'s notes on the accepted reply.

        Raises:
            LLMOutputInvalid: the reply still broke the schema after ``max_repairs`` repairs;
                the message lists the last attempt's errors and ``field`` names the first.
            LLMUnavailable: a request failed for good: a non-retryable status (400, 401, 404,
                ...), or a transient failure that outlived ``max_retries`` retries.
            TokenLimitReached: what is left of ``max_tokens`` cannot pay for the next request's
                prompt and ``MIN_REPLY_TOKENS`` of reply; that request is not sent.
            ValueError: ``max_repairs`` is negative, or ``sampling`` is out of range.

        On cancellation the in-flight request is abandoned and its connection closed.
        """
        if max_repairs < 0:
            raise ValueError("max_repairs must be zero or more")
        # Checked before anything is sent: a knob out of range is the caller's mistake.
        knobs = _checked(sampling or Sampling()).over(self._sampling)
        talk = _Exchange(
            system,
            [{"role": "user", "content": user}],
            on_usage,
            max_tokens,
            sampling=knobs,
            on_text=on_text,
        )
        attempts = max_repairs + 1
        for attempt in range(1, attempts + 1):
            content, mode = await self._attempt(talk, attempt, output_model, schema_name)
            try:
                value, notes = _parse(content, output_model, prepare)
            except ReplyError as err:
                self._send_back(talk, content, err, f"{attempt} of {attempts}", schema_name)
                continue
            return self._accepted(
                talk, value, (*talk.sent_back, *notes), attempt, mode, schema_name
            )
        raise self._invalid(talk, schema_name, attempts)

    def _accepted(
        self,
        talk: "_Exchange",
        value: T,
        notes: tuple[str, ...],
        attempt: int,
        mode: OutputMode,
        schema_name: str,
    ) -> StructuredResult[T]:
        """The result of a call whose reply ``attempt`` matched the schema (logged)."""
        total = talk.total
        self._log(
            logging.DEBUG,
            "model %s: valid %s after %d attempt(s) (%d in, %d out, %d cached tokens)",
            self._model,
            schema_name,
            attempt,
            total.input_tokens,
            total.output_tokens,
            total.cached_input_tokens,
        )
        return StructuredResult(
            value=value,
            usage=total,
            model=self._model,
            attempts=attempt,
            notes=notes,
            output_mode=mode,
            sampling=talk.sampling,
        )

    async def _attempt(
        self, talk: "_Exchange", attempt: int, output_model: type[T], schema_name: str
    ) -> tuple[str | None, OutputMode]:
        """Send the conversation once more; adds the reply's usage to ``talk.total``.

        Raises:
            TokenLimitReached: what is left of the call's limit cannot pay for this request
                (with the call's limit, its usage so far and the attempts already made).
            LLMUnavailable: as :meth:`_complete`.
        """
        if talk.on_usage is not None:
            texts = [talk.system, *(str(m.get("content") or "") for m in talk.conversation)]
            sent = LLMUsage(input_tokens=estimate_prompt_tokens(*texts))
            talk.on_usage(talk.total + sent, estimated=True)
        limit = talk.max_tokens
        try:
            content, usage, mode = await self._complete(
                system=talk.system,
                conversation=talk.conversation,
                output_model=output_model,
                schema_name=schema_name,
                tokens_left=None if limit is None else _tokens_left(limit, talk.total),
                sampling=talk.sampling,
                on_text=talk.on_text,
            )
        except TokenLimitReached as exc:
            assert limit is not None  # raised only under a limit
            raise TokenLimitReached(
                f"model {self._model!r} was not called: {exc.message} of its {limit}-token limit",
                limit=limit,
                usage=talk.total,
                attempts=attempt - 1,
            ) from None
        talk.total += usage
        if talk.on_usage is not None:
            talk.on_usage(talk.total, estimated=False)
        return content, mode

    def _send_back(
        self, talk: "_Exchange", content: str | None, err: ReplyError, which: str, schema: str
    ) -> None:
        """Note and log a reply that broke the schema, and ask the model to correct it."""
        talk.last_error = err
        talk.sent_back.append(_sent_back_note(err))
        self._log(
            logging.INFO,
            "model %s: reply %s did not match %s: %s",
            self._model,
            which,
            schema,
            err,
        )
        talk.conversation.append({"role": "assistant", "content": content or ""})
        talk.conversation.append({"role": "user", "content": repair_prompt(err)})

    def _invalid(self, talk: "_Exchange", schema_name: str, attempts: int) -> LLMOutputInvalid:
        """The error for a call whose every reply broke the schema (logged)."""
        assert talk.last_error is not None  # the loop runs at least once: it fell out on errors
        message = self._redactor.redact(
            f"Model {self._model!r} did not return a valid {schema_name} after {attempts} "
            f"attempt(s): {talk.last_error}"
        )
        self._log(logging.WARNING, "%s", message)
        return LLMOutputInvalid(message, field=talk.last_error.first_location)

    async def _complete(
        self,
        *,
        system: str,
        conversation: list[ChatCompletionMessageParam],
        output_model: type[T],
        schema_name: str,
        tokens_left: int | None = None,
        sampling: Sampling | None = None,
        on_text: ReplyListener | None = None,
    ) -> tuple[str | None, LLMUsage, OutputMode]:
        """One logical request: retried on transient failures, downgraded on format rejection.

        With ``tokens_left``, the reply is limited to what the prompt's estimate leaves of it,
        and the request is not sent when that is under ``MIN_REPLY_TOKENS``. ``sampling`` is
        sent as it is (``None``: the client's own). ``on_text`` is told a streamed reply's
        pieces (each request's first one ``fresh``).

        Returns:
            The reply text, its usage, and the output mode it was asked for in.

        Raises:
            LLMUnavailable: a non-retryable status, or a transient failure on the last retry.
            TokenLimitReached: ``tokens_left`` cannot pay for the request (nothing was sent).
        """
        knobs = self._sampling if sampling is None else sampling
        retry = 0
        while True:
            mode = self.output_mode
            system_prompt = self._system_prompt(system, mode, output_model, schema_name)
            messages: list[ChatCompletionMessageParam] = [
                {"role": "system", "content": system_prompt},
                *conversation,
            ]
            response_format = self._response_format(mode, output_model, schema_name)
            reply_tokens = (
                None if tokens_left is None else _reply_room(messages, response_format, tokens_left)
            )
            streamed = self._streaming(on_text)
            listener = on_text if streamed else None
            self._log_request(messages, mode, retry, knobs, streamed=streamed)
            retry_after: float | None = None
            try:
                content, usage = await self._measured_send(
                    messages, response_format, reply_tokens, knobs, listener
                )
                return content, usage, mode
            except openai.APIStatusError as exc:
                if self._adapted_to(exc, mode, limited=reply_tokens is not None, streamed=streamed):
                    continue
                cause = f"HTTP {exc.status_code}: {_status_detail(exc)}"
                if not is_retryable_status(exc.status_code):
                    raise self._unavailable(cause, tries=retry + 1) from None
                retry_after = parse_retry_after(exc.response.headers)
            except openai.APIError as exc:
                cause = self._transport_cause(exc)
            await self._back_off(cause, retry, retry_after)
            retry += 1

    def _streaming(self, on_text: ReplyListener | None) -> bool:
        """Whether a request of a call given ``on_text`` is streamed (the server allowing)."""
        return (self._stream or on_text is not None) and not self._stream_refused

    def _log_request(
        self,
        messages: list[ChatCompletionMessageParam],
        mode: OutputMode,
        retry: int,
        sampling: Sampling,
        *,
        streamed: bool,
    ) -> None:
        self._log(
            logging.DEBUG,
            "model %s: request (try %d of %d, %s, stream=%s, temperature=%s, seed=%s)",
            self._model,
            retry + 1,
            self._max_retries + 1,
            mode.name.lower(),
            streamed,
            sampling.temperature,
            sampling.seed,
        )
        if logger.isEnabledFor(logging.DEBUG):
            self._log(logging.DEBUG, "model %s: messages %s", self._model, json.dumps(messages))

    def _adapted_to(
        self, exc: openai.APIStatusError, mode: OutputMode, *, limited: bool, streamed: bool
    ) -> bool:
        """Whether ``exc`` refused a part of the request that can be asked for differently.

        A refused ``response_format`` moves this server to a weaker output mode (remembered in
        :data:`OUTPUT_MODES`); a refused ``max_tokens`` switches this client to
        ``max_completion_tokens``; a refused ``stream`` switches it to whole replies. Each way
        the request is sent again at once.
        """
        if self._rejects_format(exc, mode):
            weaker = self._output_modes.refused(self._server, self._model, mode)
            self._log(
                logging.INFO,
                "model %s: server rejected response_format %s (%s); using %s from now on",
                self._model,
                mode.name.lower(),
                exc.message,
                weaker.name.lower(),
            )
            return True
        if streamed and _names(exc, "stream"):
            self._stream_refused = True
            self._log(
                logging.INFO,
                "model %s: server refused a streamed request (%s); asking for whole replies",
                self._model,
                exc.message,
            )
            return True
        if limited and self._rejects_max_tokens(exc):
            self._completion_limit = True
            self._log(
                logging.INFO,
                "model %s: server refused max_tokens; using max_completion_tokens",
                self._model,
            )
            return True
        return False

    def _transport_cause(self, exc: openai.APIError) -> str:
        """What went wrong with a request that got no status back, in words for the log."""
        if isinstance(exc, openai.APITimeoutError):
            return f"request timed out after {self._timeout_s:g}s"
        if isinstance(exc, openai.APIConnectionError):
            return f"connection failed: {exc.__cause__ or exc.message}"
        return f"API error: {exc.message}"  # an error event in the middle of a stream

    async def _back_off(self, cause: str, retry: int, retry_after: float | None) -> None:
        """Wait before retry ``retry + 1`` of a transient failure.

        Raises:
            LLMUnavailable: the retries are used up.
        """
        if retry >= self._max_retries:
            raise self._unavailable(cause, tries=retry + 1) from None
        delay = backoff_delay(
            retry,
            base_s=self._backoff_base_s,
            max_s=self._backoff_max_s,
            retry_after_s=retry_after,
            rng=self._rng,
        )
        self._log(
            logging.WARNING,
            "model %s: %s; retry %d of %d in %.2fs",
            self._model,
            cause,
            retry + 1,
            self._max_retries,
            delay,
        )
        await self._sleep(delay)

    async def _measured_send(
        self,
        messages: list[ChatCompletionMessageParam],
        response_format: ResponseFormat | openai.Omit,
        reply_tokens: int | None,
        sampling: Sampling,
        on_text: ReplyListener | None = None,
    ) -> tuple[str | None, LLMUsage]:
        """``_send``, timed and counted in the Prometheus instruments of ``llm.metrics``.

        The instruments count by model only: a label per temperature or seed would make a
        series per value (the span and the step's record carry them instead).
        """
        started = time.monotonic()
        try:
            sent = await self._send(messages, response_format, reply_tokens, sampling, on_text)
        except openai.APIError as exc:
            observe_request(self._model, time.monotonic() - started, exc)
            raise
        observe_request(self._model, time.monotonic() - started, None)
        return sent

    async def _send(
        self,
        messages: list[ChatCompletionMessageParam],
        response_format: ResponseFormat | openai.Omit,
        reply_tokens: int | None = None,
        sampling: Sampling | None = None,
        on_text: ReplyListener | None = None,
    ) -> tuple[str | None, LLMUsage]:
        """One HTTP request, traced; returns the reply text (None if none came) and usage.

        ``reply_tokens`` is sent as ``max_tokens``, the limit every OpenAI-compatible server
        knows, or as ``max_completion_tokens`` to a server that refused it (``None``: neither).
        ``sampling``'s temperature and seed are sent when set, and only then (``None``: the
        client's own); the span records what was sent. With ``on_text`` (or the client's
        ``stream``) the reply is streamed, each piece told to ``on_text``.
        """
        knobs = self._sampling if sampling is None else sampling
        with chat_span(
            model=self._model, server=self._server, max_tokens=reply_tokens, sampling=knobs
        ) as call:
            payload = _Payload(
                messages, response_format, _Knobs.of(reply_tokens, knobs, self._completion_limit)
            )
            content, usage = await self._request(payload, call, on_text)
            call.usage = usage
        return content, usage

    async def _request(
        self, payload: "_Payload", call: ChatCall, on_text: ReplyListener | None = None
    ) -> tuple[str | None, LLMUsage]:
        """:meth:`_send`'s request; notes the answering model and finish reasons in ``call``."""
        content: str | None
        usage: CompletionUsage | None
        if on_text is not None or self._streaming(None):
            content, usage = await self._streamed(payload, call, on_text)
        else:
            content, usage = await self._whole(payload, call)
        if usage is None:
            return content, LLMUsage()
        spent = _to_llm_usage(usage)
        if self._on_usage is not None:
            self._on_usage(spent)
        return content, spent

    async def _streamed(
        self, payload: "_Payload", call: ChatCall, on_text: ReplyListener | None = None
    ) -> tuple[str, CompletionUsage | None]:
        """The reply assembled from server-sent events, and the usage of the last chunk.

        ``on_text`` is told each piece as it arrives, the first one ``fresh``.
        """
        usage: CompletionUsage | None = None
        stream = await self._client.chat.completions.create(
            **self._params(payload), stream=True, stream_options={"include_usage": True}
        )
        parts: list[str] = []
        async with stream:
            async for chunk in stream:
                call.response_model = chunk.model or call.response_model
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices:
                    call.finished(choice.finish_reason)
                    if choice.index == 0 and choice.delta.content:
                        if on_text is not None:
                            on_text(choice.delta.content, fresh=not parts)
                        parts.append(choice.delta.content)
        return "".join(parts), usage

    async def _whole(
        self, payload: "_Payload", call: ChatCall
    ) -> tuple[str | None, CompletionUsage | None]:
        """The reply of one non-streamed request (None if it had no choice), and its usage."""
        completion = await self._client.chat.completions.create(**self._params(payload))
        content = completion.choices[0].message.content if completion.choices else None
        call.response_model = completion.model
        for answer in completion.choices:
            call.finished(answer.finish_reason)
        return content, completion.usage

    def _params(self, payload: "_Payload") -> "_CreateParams":
        """The arguments of ``chat.completions.create`` that a request sends, streamed or not."""
        knobs = payload.knobs
        return {
            "model": self._model,
            "messages": payload.messages,
            "response_format": payload.response_format,
            "max_tokens": knobs.max_tokens,
            "max_completion_tokens": knobs.max_completion_tokens,
            "temperature": knobs.temperature,
            "seed": knobs.seed,
            "extra_headers": self._extra_headers,
        }

    @staticmethod
    def _system_prompt(
        system: str, mode: OutputMode, output_model: type[T], schema_name: str
    ) -> str:
        if mode is OutputMode.JSON_SCHEMA:
            return system
        return f"{system}\n\n{schema_instructions(output_model, schema_name)}"

    @staticmethod
    def _response_format(
        mode: OutputMode, output_model: type[T], schema_name: str
    ) -> ResponseFormat | openai.Omit:
        if mode is OutputMode.JSON_SCHEMA:
            return {
                "type": "json_schema",
                "json_schema": {
                    "name": schema_name,
                    "schema": output_model.model_json_schema(),
                    # Strict mode only accepts a subset of JSON Schema (every field required,
                    # no defaults); our own validation and repair loop enforce the rest.
                    "strict": False,
                },
            }
        if mode is OutputMode.JSON_OBJECT:
            return {"type": "json_object"}
        return openai.omit

    @staticmethod
    def _rejects_format(exc: openai.APIStatusError, mode: OutputMode) -> bool:
        """Whether ``exc`` says the server does not support the response_format of ``mode``."""
        words = _FORMAT_WORDS.get(mode)
        if words is None or exc.status_code not in (400, 422):
            return False
        text = f"{exc.message} {_body_text(exc.body)}".lower()
        return any(word in text for word in words)

    def _rejects_max_tokens(self, exc: openai.APIStatusError) -> bool:
        """Whether ``exc`` asks for ``max_completion_tokens`` instead of ``max_tokens``."""
        return not self._completion_limit and _names(exc, "max_completion_tokens")

    def _unavailable(self, cause: str, *, tries: int) -> LLMUnavailable:
        message = self._redactor.redact(
            f"Model {self._model!r} is unavailable after {tries} attempt(s): {cause}"
        )
        self._log(logging.WARNING, "%s", message)
        return LLMUnavailable(message)

    def _log(self, level: int, message: str, *args: Any) -> None:
        """Log through the redactor; formatting is skipped when the level is off."""
        if logger.isEnabledFor(level):
            logger.log(level, "%s", self._redactor.redact(message % args))


# A note on a reply sent back names this many of its problems (the log has them all).
_PROBLEMS_IN_NOTE = 3


def _sent_back_note(error: ReplyError) -> str:
    """The note that a reply was sent back, naming its first few problems."""
    shown = describe_problems(error.problems[:_PROBLEMS_IN_NOTE])
    more = len(error.problems) - _PROBLEMS_IN_NOTE
    tail = f"; and {more} more" if more > 0 else ""
    return f"A reply did not match the schema and was sent back ({shown}{tail})"


@dataclass
class _Exchange:
    """One structured call's conversation with the model, and what it has cost so far."""

    system: str
    conversation: list[ChatCompletionMessageParam]
    on_usage: UsageSink | None
    max_tokens: int | None
    # What every request of the call is sent with.
    sampling: Sampling = field(default_factory=Sampling)
    # Told each streamed reply's pieces as they arrive.
    on_text: ReplyListener | None = None
    total: LLMUsage = field(default_factory=LLMUsage)
    sent_back: list[str] = field(default_factory=list)
    last_error: ReplyError | None = None


@dataclass(frozen=True, slots=True)
class _Knobs:
    """The optional parameters of one request, each ``openai.omit`` when it is not sent.

    Omitted, not sent as null: some OpenAI-compatible servers refuse a key they do not know,
    or read null as a value.
    """

    max_tokens: int | openai.Omit
    max_completion_tokens: int | openai.Omit
    temperature: float | openai.Omit
    seed: int | openai.Omit

    @classmethod
    def of(cls, reply_tokens: int | None, sampling: Sampling, completion_limit: bool) -> Self:
        """The parameters for a reply limit and ``sampling``.

        ``reply_tokens`` (``None``: no limit) goes as ``max_completion_tokens`` when
        ``completion_limit``, else as ``max_tokens``.
        """
        wanted: int | openai.Omit = openai.omit if reply_tokens is None else reply_tokens
        return cls(
            max_tokens=openai.omit if completion_limit else wanted,
            max_completion_tokens=wanted if completion_limit else openai.omit,
            temperature=openai.omit if sampling.temperature is None else sampling.temperature,
            seed=openai.omit if sampling.seed is None else sampling.seed,
        )


@dataclass(frozen=True, slots=True)
class _Payload:
    """What one request asks the server: the conversation, the reply's format and the knobs."""

    messages: list[ChatCompletionMessageParam]
    response_format: ResponseFormat | openai.Omit
    knobs: _Knobs


class _CreateParams(TypedDict):
    """The keyword arguments of ``chat.completions.create`` common to every request."""

    model: str
    messages: list[ChatCompletionMessageParam]
    response_format: ResponseFormat | openai.Omit
    max_tokens: int | openai.Omit
    max_completion_tokens: int | openai.Omit
    temperature: float | openai.Omit
    seed: int | openai.Omit
    extra_headers: dict[str, str | openai.Omit]


def _checked(sampling: Sampling) -> Sampling:
    """``sampling`` if its knobs are in range.

    Raises:
        ValueError: the temperature is outside 0-2 or the seed outside 0 to 2**63-1.
    """
    problems = [
        f"{name} {problem}"
        for name, problem in (
            ("temperature", temperature_problem(sampling.temperature)),
            ("seed", seed_problem(sampling.seed)),
        )
        if problem is not None
    ]
    if problems:
        raise ValueError("; ".join(problems))
    return sampling


def _parse(
    content: str | None, output_model: type[T], prepare: ReplyPreparer | None
) -> tuple[T, tuple[str, ...]]:
    """The reply validated against ``output_model``, and what ``prepare`` mended in it.

    Raises:
        ReplyError: the reply is not JSON or breaks the schema.
    """
    if prepare is None:
        return parse_reply(content, output_model), ()
    return parse_prepared_reply(content, output_model, prepare)


def _reply_room(
    messages: list[ChatCompletionMessageParam],
    response_format: ResponseFormat | openai.Omit,
    tokens_left: int,
) -> int:
    """The reply tokens ``tokens_left`` pays for after a request's prompt.

    The prompt is estimated from every message and the schema sent with it.

    Raises:
        TokenLimitReached: less than ``MIN_REPLY_TOKENS`` would be left for the reply (the
            caller completes its limit and usage).
    """
    texts = [str(m.get("content") or "") for m in messages]
    if not isinstance(response_format, openai.Omit):
        texts.append(json.dumps(response_format))
    prompt = estimate_prompt_tokens(*texts)
    room = tokens_left - prompt
    if room >= MIN_REPLY_TOKENS:
        return room
    message = (
        f"the request needs about {prompt} prompt tokens and at least {MIN_REPLY_TOKENS} "
        f"for the reply, but {max(tokens_left, 0)} tokens are left"
    )
    raise TokenLimitReached(message, limit=0, usage=LLMUsage())


def _tokens_left(max_tokens: int, spent: LLMUsage) -> int:
    """What a call's token limit leaves after ``spent`` (cached input counts in full)."""
    return max_tokens - spent.input_tokens - spent.output_tokens


def _to_llm_usage(usage: CompletionUsage) -> LLMUsage:
    details = usage.prompt_tokens_details
    cached = details.cached_tokens if details is not None else None
    return LLMUsage(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        cached_input_tokens=cached or 0,
    )


def _status_detail(exc: openai.APIStatusError) -> str:
    """The server's own error message if its body had one, else the SDK's summary."""
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
        return str(body["message"])
    return exc.message


def _names(exc: openai.APIStatusError, word: str) -> bool:
    """Whether ``exc`` is a 400 or 422 whose message or body names ``word`` (a parameter)."""
    if exc.status_code not in (400, 422):
        return False
    # At a word's start: "upstream" in a gateway's message is no refusal of ``stream``.
    return re.search(rf"\b{word}", f"{exc.message} {_body_text(exc.body)}".lower()) is not None


def _body_text(body: object) -> str:
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    try:
        return json.dumps(body)
    except (TypeError, ValueError):
        return str(body)
