"""The ``mcp`` agent: a step calls one tool on an MCP server (docs/mcp-step.md, ADR 0064).

Inputs (``missionctl.agents.mcp_inputs``): ``server``, a stdio server ``{command, env,
secret_env}`` or a streamable HTTP server ``{url, headers_secret}``; ``tool``; ``arguments``
(an object, its templates rendered by admission before the step runs); ``network`` (a stdio
server only). The step connects with the ``mcp`` SDK's client, initializes the session, calls
the tool once and returns:

- ``content``: the text parts of the result, joined by newlines (other parts are counted in
  ``skipped_parts``); ``structured``: its ``structuredContent`` (or ``None``); ``is_error``;
  ``truncated``: whether something was cut to the bounds below;
- a result with ``isError`` fails the step for good, naming the tool and its message (and,
  when the server has no such tool, the tools it has);
- every ``tools/call`` request carries the step's attempt number and idempotency key in its
  ``_meta`` (:func:`request_meta`: ``missionctl/attempt``, ``missionctl/idempotency_key``, the
  key the same for every attempt of the step, ADR 0093), so a server that changes something can
  recognise a re-run; a stdio server also has them in its environment (``MISSIONCTL_ATTEMPT``,
  ``MISSIONCTL_IDEMPOTENCY_KEY``);
- a connection that fails or closes, or no answer within the call's time limit (the step's
  timeout, less the few seconds the SDK takes to stop a server), fails the attempt, which the
  step's ``retry`` policy may repeat; an HTTP error status fails it as for ``http`` steps
  (5xx, 408, 425, 429 may be retried; others, 401 among them, are final); a server writing
  something that is not an MCP message on stdout fails it for good.

A stdio server is an untrusted program and runs as a ``command`` step's does: in the step's
sandbox (``agents.sandbox``), in its workspace, with the scrubbed environment of
:func:`missionctl.agents.command.program_environment` plus its ``env`` and ``secret_env``,
without the network unless ``network`` is true (admission judges its program by the command
agent's allow-list, ``domain.governance.mcp_gate``). Its stderr goes to the step log. Nothing
the server leaves in its workspace is read or kept (no artifacts): the step's result is what
the server answered, so a link it plants there reaches nothing. An HTTP
server's address obeys the ``http`` agent's rule (``agents.http.check_address``: public, or in
``MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS``); redirects leave no origin and the environment's
proxies are not used.

Bounds: ``content`` at most :data:`MAX_CONTENT_CHARS` characters, ``structured`` at most
:data:`MAX_STRUCTURED_CHARS` characters of JSON and :data:`MAX_DEPTH` levels (dropped
otherwise), stderr at most :data:`MAX_STDERR_BYTES` logged. Secrets (``secret_env``,
``headers_secret``, every registered one) are replaced by ``[REDACTED]`` in the outputs, log
lines and error messages, as the ``http`` agent does.
"""

import asyncio
import contextlib
import json
import os
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, TextIO, cast

import anyio
import httpx2
import mcp.types as mcp_types
from mcp.client.session import ClientSession, IncomingMessage
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from missionctl.agents.base import AgentError, AgentResult, StepContext
from missionctl.agents.command import make_workspace, program_environment
from missionctl.agents.http import HttpAgentConfig, check_address, retryable_status
from missionctl.agents.mcp_inputs import HttpServer, StdioServer, input_problems, read_server
from missionctl.agents.sandbox import Sandbox
from missionctl.agents.secrets import resolve_secrets
from missionctl.llm.redaction import Redactor

MCP_AGENT = "mcp"
MAX_CONTENT_CHARS = 256 * 1024
MAX_STRUCTURED_CHARS = 256 * 1024
MAX_DEPTH = 32
MAX_STDERR_BYTES = 256 * 1024
MAX_ERROR_CHARS = 2000
# What the SDK may spend stopping a stdio server (flush, close stdin and wait, SIGTERM, SIGKILL):
# the call gives up this long before the engine's timeout, so it ends with its own message.
SHUTDOWN_GRACE_S = 7.0
_STDERR_TAIL = 10
_LINE_CHARS = 4096
_CLIENT = mcp_types.Implementation(name="missionctl", version="1")
# The ``_meta`` keys of a tool call: prefixed, as MCP asks of keys that are not its own.
ATTEMPT_META_KEY = "missionctl/attempt"
IDEMPOTENCY_KEY_META_KEY = "missionctl/idempotency_key"
# Variables the SDK copies from the server's own environment unless the step's replace them.
_SDK_INHERITED = {"LOGNAME": "nobody", "USER": "nobody", "SHELL": "/bin/sh", "TERM": "dumb"}
# What the SDK answers a request whose POST got an HTTP error status, in place of the status.
_STAND_INS = frozenset({"Server returned an error response", "Not Found", "Session terminated"})
_REFUSED_CODES = frozenset(
    {mcp_types.INVALID_PARAMS, mcp_types.METHOD_NOT_FOUND, mcp_types.INVALID_REQUEST}
)


class McpToolAgent:
    """Calls ``inputs.tool`` on ``inputs.server``; see the module docstring for the contract."""

    def __init__(
        self,
        *,
        sandbox: Sandbox | None = None,
        network: HttpAgentConfig | None = None,
        base_env: dict[str, str] | None = None,
    ) -> None:
        """``sandbox`` confines stdio servers; ``network`` is the ``http`` agent's address rule.

        ``base_env`` overrides the scrubbed defaults of a stdio server's environment (tests).
        """
        self.sandbox = sandbox or Sandbox()
        self.network = network or HttpAgentConfig()
        self._base_env = base_env

    async def run(self, step: StepContext) -> AgentResult:
        """Call the tool once; its result is the step's outputs."""
        problems = input_problems(step.inputs, rendered=True)
        if problems:
            field, message = problems[0]
            raise AgentError(f"inputs.{field} {message}", retryable=False)
        server = read_server(step.inputs["server"])
        tool = str(step.inputs["tool"])
        arguments = dict(step.inputs.get("arguments") or {})
        limit = _call_limit(step.timeout_s)
        meta = request_meta(step)
        if isinstance(server, StdioServer):
            secrets = resolve_secrets(server.secret_env, field="server.secret_env")
            redactor = Redactor(secrets.values())
            stderr = _StderrLog(step, redactor)
            async with stderr as errlog:
                transport = await self._stdio(step, server, secrets, errlog)
                call = _Call(tool, arguments, meta, limit, redactor, server.argv[0], stderr.tail)
                result = await call.run(transport)
        else:
            await check_address(server.url, self.network, field="inputs.server.url")
            secrets = resolve_secrets(server.headers_secret, field="server.headers_secret")
            redactor = Redactor(secrets.values())
            call = _Call(tool, arguments, meta, limit, redactor, server.url, None)
            result = await call.run(_http(server, secrets, limit, call))
        return _result(step, tool, result, redactor, call)

    async def _stdio(
        self, step: StepContext, server: StdioServer, secrets: dict[str, str], errlog: TextIO
    ) -> AbstractAsyncContextManager[Any]:
        network = step.inputs.get("network", False) is True
        make_workspace(step)
        env = _SDK_INHERITED | program_environment(
            step, server.env, self._base_env, field="server.env"
        )
        env.update(secrets)
        await self.sandbox.check()
        confined = self.sandbox.wrap(
            server.argv,
            workspace=step.workspace,
            network=network,
            read_only=list(step.upstream_workspaces.values()),
        )
        params = StdioServerParameters(
            command=confined[0], args=confined[1:], env=env, cwd=step.workspace
        )
        return stdio_client(params, errlog=errlog)


def request_meta(step: StepContext) -> mcp_types.RequestParamsMeta:
    """The ``_meta`` of the step's ``tools/call``: its attempt and its idempotency key.

    The key is the same for every attempt of the step (``StepContext.idempotency_key``); the
    attempt says which try this is. The SDK adds its own reserved keys beside these.
    """
    meta = {ATTEMPT_META_KEY: step.attempt, IDEMPOTENCY_KEY_META_KEY: step.idempotency_key}
    # An open map (PEP 728 ``extra_items``), which mypy cannot read yet: keys of our own go in.
    return cast(mcp_types.RequestParamsMeta, meta)


def _http(
    server: HttpServer, headers: dict[str, str], limit: float, call: "_Call"
) -> AbstractAsyncContextManager[Any]:
    # No proxies from the environment (they could reach what the address rule refuses), no
    # redirects (the SDK follows those within the origin only).
    client = httpx2.AsyncClient(
        headers=headers,
        timeout=httpx2.Timeout(min(limit, 30.0), read=limit),
        follow_redirects=False,
        trust_env=False,
        event_hooks={"response": [call.saw_response]},
    )
    return _owned(client, streamable_http_client(server.url, http_client=client))


@contextlib.asynccontextmanager
async def _owned(
    client: httpx2.AsyncClient, transport: AbstractAsyncContextManager[Any]
) -> AsyncIterator[Any]:
    async with client, transport as streams:
        yield streams


def _call_limit(step_timeout: float | None) -> float:
    """How long the call may take: the step's timeout less the SDK's shutdown time."""
    timeout = step_timeout or 600.0
    return max(0.5, timeout - min(SHUTDOWN_GRACE_S, timeout / 2))


class _Call:
    """One session: connect, initialize, call the tool; failures become ``AgentError``."""

    def __init__(
        self,
        tool: str,
        arguments: dict[str, Any],
        meta: mcp_types.RequestParamsMeta,
        limit: float,
        redactor: Redactor,
        where: str,
        stderr_tail: deque[str] | None,
    ) -> None:
        """One call of ``tool``; ``meta`` is its ``_meta`` (:func:`request_meta`).

        ``stderr_tail``: a stdio server's last stderr lines (``None``: an HTTP server).
        """
        self.tool, self.arguments, self.meta, self.limit = tool, arguments, meta, limit
        self.redactor, self.where, self.stderr_tail = redactor, where, stderr_tail
        self.stdio = stderr_tail is not None
        self.fault: Exception | None = None
        self.tools: list[str] | None = None  # the server's tools, listed after an error
        # The last HTTP error status: the SDK turns it into "Server returned an error response".
        self.status: int | None = None

    async def saw_response(self, response: httpx2.Response) -> None:
        """Keep the error status of a message's POST (an ``httpx2`` response hook)."""
        if response.status_code >= 400 and response.request.method == "POST":
            self.status = response.status_code

    async def run(self, transport: AbstractAsyncContextManager[Any]) -> mcp_types.CallToolResult:
        """The tool's result (``isError`` included)."""
        result: mcp_types.CallToolResult | None = None
        try:
            with anyio.move_on_after(self.limit) as deadline, anyio.CancelScope() as scope:
                result = await self._session(transport, scope)
        except AgentError:
            raise
        except Exception as exc:  # what the SDK or the network raised, however grouped
            raise self._translate(_leaf(exc)) from exc
        if self.fault is not None:
            raise self._fault_error(self.fault)
        if deadline.cancelled_caught or result is None:
            raise self._error(
                f"no answer within {self.limit:g} s (the step's timeout_s, less "
                f"{SHUTDOWN_GRACE_S:g} s to stop the server)"
            )
        return result

    async def _session(
        self, transport: AbstractAsyncContextManager[Any], scope: anyio.CancelScope
    ) -> mcp_types.CallToolResult | None:
        async def on_message(message: IncomingMessage) -> None:
            # The SDK hands over what it could not read and keeps waiting; the step stops.
            if isinstance(message, Exception) and self.fault is None:
                self.fault = message
                scope.cancel()

        async with (
            transport as (read, write),
            ClientSession(read, write, message_handler=on_message, client_info=_CLIENT) as session,
        ):
            await session.initialize()
            result = await session.call_tool(self.tool, self.arguments, meta=self.meta)
            if not isinstance(result, mcp_types.CallToolResult):
                raise self._error(
                    "the server asked for more input, which a step cannot give", retryable=False
                )
            if result.is_error:
                with contextlib.suppress(MCPError):
                    listing = await session.list_tools()
                    self.tools = sorted(tool.name for tool in listing.tools)
            return result

    def _translate(self, exc: BaseException) -> AgentError:
        """The step's failure for what the connection raised; only a refusal is final."""
        if isinstance(exc, AgentError):
            return exc
        if isinstance(exc, MCPError) and exc.message in _STAND_INS and self.status is not None:
            return self._error(f"answered {self.status}", retryable=retryable_status(self.status))
        if isinstance(exc, MCPError):
            return self._error(exc.message, retryable=exc.code not in _REFUSED_CODES)
        detail = str(exc).splitlines()[0] if str(exc) else ""
        return self._error(f"{type(exc).__name__}: {detail[:300]}".rstrip(": "))

    def _error(self, detail: str, *, retryable: bool = True) -> AgentError:
        message = f"MCP server {self.where}: {detail}"
        if self.stderr_tail:  # an empty or absent tail adds nothing
            message += "\n--- stderr (last lines) ---\n" + "\n".join(self.stderr_tail)
        # Redacted before it is cut: a cut could leave a piece of a secret the redaction misses.
        return AgentError(self.redactor.redact(message)[:MAX_ERROR_CHARS], retryable=retryable)

    def _fault_error(self, fault: Exception) -> AgentError:
        detail = _what_arrived(fault)
        if self.stdio:
            # A program that prints on stdout what is not JSON-RPC is broken: retrying repeats it.
            return self._error(
                "wrote something on stdout that is not an MCP message (a stdio server must "
                f"write only JSON-RPC there, and log on stderr): {detail}",
                retryable=False,
            )
        return self._error(f"the connection failed: {detail}")


def _what_arrived(fault: Exception) -> str:
    """What the transport could not read, in a few words (the text itself when it has it)."""
    if isinstance(fault, ValidationError) and fault.errors():
        received = fault.errors()[0].get("input")
        if isinstance(received, str | bytes):
            return repr(received[:200])
    text = str(fault)
    return text.splitlines()[0][:300] if text else type(fault).__name__


def _leaf(exc: BaseException) -> BaseException:
    """The first exception inside ``exc``, through any task groups' exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _result(
    step: StepContext,
    tool: str,
    result: mcp_types.CallToolResult,
    redactor: Redactor,
    call: _Call,
) -> AgentResult:
    texts = [part.text for part in result.content if isinstance(part, mcp_types.TextContent)]
    content = "\n".join(texts)
    truncated = len(content) > MAX_CONTENT_CHARS
    if truncated:
        content = content[:MAX_CONTENT_CHARS]
        step.log(f"content cut to {MAX_CONTENT_CHARS} characters", level="warning")
    structured: Any = result.structured_content
    problem = None if structured is None else _structure_problem(structured)
    if problem is not None:
        step.log(f"structured content dropped: {problem}", level="warning")
        structured, truncated = None, True
    outputs: dict[str, Any] = redactor.redact(
        {
            "content": content,
            "structured": structured,
            "is_error": result.is_error,
            "truncated": truncated,
            "skipped_parts": len(result.content) - len(texts),
        }
    )
    if result.is_error:
        said = outputs["content"][:MAX_ERROR_CHARS] or "(no message)"
        message = f"tool {tool!r} reported an error: {said}"
        if call.tools is not None and tool not in call.tools:
            offered = ", ".join(call.tools[:50]) or "none"
            message = f"the server has no tool {tool!r} (it has: {offered}); it said: {said}"
        raise AgentError(redactor.redact(message), retryable=False, outputs=outputs)
    return AgentResult(outputs=outputs, summary=f"{tool} answered")


def _structure_problem(value: Any) -> str | None:
    """Why ``value`` is too deep or too large to keep, or ``None`` when it may be kept."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, Mapping):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    size = len(json.dumps(value, ensure_ascii=False, default=str))
    if size > MAX_STRUCTURED_CHARS:
        return f"{size} characters of JSON, more than {MAX_STRUCTURED_CHARS}"
    return None


class _StderrLog:
    """A pipe for a stdio server's stderr: its lines go to the step log, redacted and bounded.

    The last lines are kept (``tail``) for the error message of a failed call.
    """

    def __init__(self, step: StepContext, redactor: Redactor) -> None:
        self.step, self.redactor = step, redactor
        self.tail: deque[str] = deque(maxlen=_STDERR_TAIL)
        self._left = MAX_STDERR_BYTES
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TextIO:
        read_fd, write_fd = os.pipe()
        self._writer = os.fdopen(write_fd, "w")
        self._reader = asyncio.create_task(self._pump(read_fd))
        return self._writer

    async def __aexit__(self, *exc: object) -> None:
        self._writer.close()  # the server's copy closed when it ended: the pump sees the end
        assert self._reader is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._reader), 2.0)
        except TimeoutError:  # a descendant still holds the pipe: stop reading it
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def _pump(self, read_fd: int) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        with os.fdopen(read_fd, "rb") as pipe:
            transport, _ = await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), pipe
            )
            try:
                pending = b""
                while chunk := await reader.read(65536):
                    *lines, pending = (pending + chunk).split(b"\n")
                    if len(pending) > _LINE_CHARS:
                        lines, pending = [*lines, pending], b""
                    for line in lines:
                        self._line(line)
                if pending:
                    self._line(pending)
            finally:
                transport.close()

    def _line(self, raw: bytes) -> None:
        text = self.redactor.redact(raw.decode("utf-8", "replace").rstrip("\r"))[:_LINE_CHARS]
        self.tail.append(text)
        if self._left <= 0:
            return
        self._left -= len(raw) + 1
        if self._left <= 0:
            self.step.log("stderr truncated: more than the step logs", level="warning")
            return
        self.step.log(text)
