"""The ``http`` agent: a step done by an external agent over HTTP (docs/http-agent.md, ADR 0061).

Inputs: ``url`` (``http://`` or ``https://``, no credentials in it), optional ``secret`` (the name
of a step secret, see ``missionctl.agents.secrets``: the request is then signed with it,
``Missionctl-Signature``, ``missionctl.domain.signing``), optional ``request_timeout_s`` (how
long the POST itself may take; default: the step's timeout), and anything else, which is sent.

The agent POSTs JSON ``{run_id, step_id, attempt, idempotency_key, mission_id, inputs,
callback_url}`` (``inputs`` without ``url``, ``secret`` and ``request_timeout_s``) with the
headers ``Idempotency-Key`` and, when a secret is named, ``Missionctl-Signature``. The key is
the step's, the same for every attempt (``StepContext.idempotency_key``, ADR 0093), and
``attempt`` says which try this is: a receiver recognises a re-run. The external agent answers:

- ``200`` with an ``AgentAnswer`` (``schemas.http_agent``): the step's result, now;
- ``202``: it will POST the same ``AgentAnswer`` to ``callback_url`` (single-use, expiring with
  the step's timeout); this agent polls the callback's row every ``poll_s`` until the answer
  is there or the engine's timeout cancels the attempt;
- ``5xx``, ``408``, ``429``, a connection error or a timeout: the attempt failed and may be
  retried (the step's ``retry`` policy decides); any other status: failed for good.

Where a URL may point: its host's every address must be public, or inside one of the networks
the configuration allows (``MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS``), so a workflow cannot
make the server call its own database, a cloud metadata service or the private network unless
an admin said so. Redirects are not followed (they could lead anywhere).

Secrets never reach a record: the signing secret, every registered ``MISSIONCTL_SECRET_*`` and
credential-looking tokens are replaced by ``[REDACTED]`` in the outputs, log lines, error
messages and artifacts the step returns.
"""

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2
from pydantic import ValidationError

from missionctl.agents.addresses import Network, Resolver, checked_addresses, resolve_host
from missionctl.agents.base import (
    AgentError,
    AgentResult,
    ArtifactOutput,
    Callback,
    StepContext,
)
from missionctl.agents.secrets import resolve_secrets
from missionctl.domain.signing import SIGNATURE_HEADER, sign
from missionctl.llm.redaction import Redactor
from missionctl.schemas.http_agent import AgentAnswer

HTTP_AGENT = "http"
CALLBACK_PATH = "/api/v1/callbacks/"
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
_OWN_INPUTS = frozenset({"url", "secret", "request_timeout_s"})
_RETRYABLE_STATUSES = frozenset({408, 425, 429})
_MEDIA = {
    "markdown": "text/markdown",
    "json": "application/json",
    "diff": "text/x-diff",
    "file": "application/octet-stream",
    "log": "text/plain",
    "report": "text/markdown",
}


@dataclass(frozen=True, slots=True)
class HttpAgentConfig:
    """What the settings say about HTTP agents (``MISSIONCTL_HTTP_AGENT_*``).

    ``callback_base_url``: the server's public address (callback URLs start with it); ``None``:
    no callbacks offered, only synchronous answers. ``allowed_networks``: private networks a URL
    may reach (``127.0.0.1/32`` for an agent on the same machine). ``poll_s``: how often a
    waiting attempt reads its callback.
    """

    callback_base_url: str | None = None
    allowed_networks: tuple[Network, ...] = ()
    poll_s: float = 0.5
    resolve: Resolver = field(default=resolve_host)


async def check_address(url: str, config: HttpAgentConfig, *, field: str = "inputs.url") -> None:
    """Refuse ``url`` unless every address its host resolves to may be reached.

    An address may be reached when it is public, or inside one of ``config.allowed_networks``
    (``MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS``). ``field`` names the input in the messages.

    Raises:
        AgentError: the host does not resolve (retryable), or resolves to an address that may
            not be reached (not retryable).
    """
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    await checked_addresses(
        parts.hostname or "",
        port,
        allowed=config.allowed_networks,
        resolve=config.resolve,
        field=field,
    )


class HttpAgent:
    """Calls the external agent at ``inputs.url``; see the module docstring for the contract."""

    def __init__(self, config: HttpAgentConfig | None = None) -> None:
        """Bind the configuration (shared by every step; it holds no per-step state)."""
        self.config = config or HttpAgentConfig()

    async def run(self, step: StepContext) -> AgentResult:
        """POST the step's inputs; return the answer, now or from its callback."""
        url, secret_name, request_timeout = _read_inputs(step.inputs, step.timeout_s)
        await check_address(url, self.config)
        secret = resolve_secrets(
            {"signing": secret_name} if secret_name else None, field="secret"
        ).get("signing")
        redactor = Redactor([secret] if secret else [])
        callback = await self._open_callback(step)
        body = _request_body(step, self._callback_url(callback))
        headers = {"Content-Type": "application/json", "Idempotency-Key": step.idempotency_key}
        if secret is not None:
            headers[SIGNATURE_HEADER] = sign(secret, body)
        status, payload = await _post(url, body, headers, request_timeout, redactor)
        if status == 202:
            if callback is None:
                raise AgentError(
                    f"{url} answered 202 but no callback was offered: set "
                    "MISSIONCTL_SERVER_PUBLIC_URL so that agents can answer later",
                    retryable=False,
                )
            step.log("the agent accepted the work; waiting for its callback")
            return _result(step, await self._wait(step, callback), redactor, url)
        if status != 200:
            raise _status_error(url, status, payload, redactor)
        return _result(step, _parse_answer(payload, url, redactor), redactor, url)

    async def _open_callback(self, step: StepContext) -> Callback | None:
        if step.callbacks is None or self.config.callback_base_url is None:
            return None
        # The step gives up when its timeout passes; the token must not outlive it by much.
        return await step.callbacks.open(expires_in_s=(step.timeout_s or 600.0) + 5.0)

    def _callback_url(self, callback: Callback | None) -> str | None:
        if callback is None or self.config.callback_base_url is None:
            return None
        return self.config.callback_base_url.rstrip("/") + CALLBACK_PATH + callback.token

    async def _wait(self, step: StepContext, callback: Callback) -> AgentAnswer:
        """Poll the callback's row until its answer is there (the engine's timeout ends it)."""
        assert step.callbacks is not None
        while True:
            stored = await step.callbacks.answer(callback.id)
            if stored is not None:
                # Validated by the route already; validated again as it is typed here.
                return AgentAnswer.model_validate(stored)
            await asyncio.sleep(self.config.poll_s)


def _read_inputs(inputs: Mapping[str, Any], step_timeout: float | None) -> tuple[str, str, float]:
    url = inputs.get("url")
    if not isinstance(url, str) or len(url) > 2000:
        raise AgentError("inputs.url must be an http:// or https:// URL", retryable=False)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AgentError(
            f"inputs.url must be an http:// or https:// URL with a host, not {url!r}",
            retryable=False,
        )
    if parts.username or parts.password:
        raise AgentError(
            "inputs.url must not carry credentials; name a secret in inputs.secret instead",
            retryable=False,
        )
    secret = inputs.get("secret", "")
    if not isinstance(secret, str):
        raise AgentError("inputs.secret must be the name of a step secret", retryable=False)
    timeout = inputs.get("request_timeout_s", step_timeout or 600.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise AgentError("inputs.request_timeout_s must be a positive number", retryable=False)
    return url, secret, float(timeout)


def _request_body(step: StepContext, callback_url: str | None) -> bytes:
    sent = {key: value for key, value in step.inputs.items() if key not in _OWN_INPUTS}
    document = {
        "run_id": str(step.run_id),
        "step_id": step.step_id,
        "attempt": step.attempt,
        "idempotency_key": step.idempotency_key,
        "mission_id": None if step.mission_id is None else str(step.mission_id),
        "inputs": sent,
        "callback_url": callback_url,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


async def _post(
    url: str, body: bytes, headers: dict[str, str], limit_s: float, redactor: Redactor
) -> tuple[int, bytes]:
    """POST ``body``; the status and at most ``MAX_RESPONSE_BYTES`` of the answer."""
    try:
        async with (
            httpx2.AsyncClient(timeout=limit_s, follow_redirects=False, trust_env=False) as client,
            client.stream("POST", url, content=body, headers=headers) as response,
        ):
            received = bytearray()
            async for chunk in response.aiter_bytes():
                received += chunk
                if len(received) > MAX_RESPONSE_BYTES:
                    raise AgentError(
                        f"{url} answered more than {MAX_RESPONSE_BYTES} bytes; send large "
                        "results as artifacts through the callback or keep them smaller",
                        retryable=False,
                    )
            return response.status_code, bytes(received)
    except httpx2.TimeoutException as exc:
        raise AgentError(
            f"POST {url}: no answer within {limit_s:g} s (inputs.request_timeout_s)"
        ) from exc
    except httpx2.HTTPError as exc:
        detail = redactor.redact(str(exc) or type(exc).__name__)
        raise AgentError(f"POST {url}: {detail}") from exc


def _status_error(url: str, status: int, payload: bytes, redactor: Redactor) -> AgentError:
    """The failure a status other than 200/202 means; 5xx, 408, 425, 429 may be retried."""
    excerpt = redactor.redact(payload[:500].decode("utf-8", "replace"))
    return AgentError(f"{url} answered {status}: {excerpt}", retryable=retryable_status(status))


def retryable_status(status: int) -> bool:
    """Whether an HTTP error status may go away on another attempt: 5xx, 408, 425, 429."""
    return status >= 500 or status in _RETRYABLE_STATUSES


def _parse_answer(payload: bytes, url: str, redactor: Redactor) -> AgentAnswer:
    try:
        return AgentAnswer.model_validate_json(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors()[:5]
        )
        raise AgentError(
            f"{url} answered 200 with a body that breaks the contract (docs/http-agent.md): "
            + redactor.redact(problems),
            retryable=False,
        ) from exc


def _result(step: StepContext, answer: AgentAnswer, redactor: Redactor, url: str) -> AgentResult:
    """The step's result from ``answer``, every text redacted; an ``error`` fails the step."""
    for line in answer.logs:
        step.log(redactor.redact(line))
    outputs: dict[str, Any] = redactor.redact(answer.outputs)
    if answer.error is not None:
        raise AgentError(
            f"{url} reported an error: {redactor.redact(answer.error)}",
            retryable=answer.retryable,
            outputs=outputs,
        )
    artifacts = [
        ArtifactOutput(
            name=redactor.redact(item.name),
            kind=item.kind,
            media_type=_MEDIA[item.kind],
            content=redactor.redact(item.content.encode(), patterns=False),
        )
        for item in answer.artifacts
    ]
    return AgentResult(outputs=outputs, summary=f"{url} answered", artifacts=artifacts)
