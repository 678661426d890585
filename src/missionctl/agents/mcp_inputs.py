"""What an ``mcp`` step's inputs must look like (docs/mcp-step.md).

One set of rules for both the agent, which refuses a step that breaks them, and a workflow's
save-time checks, which name the field at fault before anything runs.

``server`` is exactly one of:

- a stdio server, a program the step starts in its sandbox: ``{"command": [argv…], "env":
  {VAR: value}, "secret_env": {VAR: secret name}}`` (``env`` and ``secret_env`` optional);
- a streamable HTTP server: ``{"url": "https://…/mcp", "headers_secret": {Header: secret
  name}}`` (``headers_secret`` optional).

``tool`` names the tool, ``arguments`` (optional) is the object it is called with, and
``network`` (optional, a stdio server only) gives the program the network.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from missionctl.domain.workflows import holds_template

MAX_URL_CHARS = 2000
MAX_TOOL_CHARS = 128
MAX_ARGV = 1000
STDIO_KEYS = frozenset({"command", "env", "secret_env"})
HTTP_KEYS = frozenset({"url", "headers_secret"})
_HEADER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_SHAPE = (
    "must be a mapping with either command (a stdio server: a list of strings, the program "
    'and its arguments, e.g. ["python", "server.py"]) or url (a streamable HTTP server, '
    "e.g. https://tools.example.com/mcp)"
)


@dataclass(frozen=True, slots=True)
class StdioServer:
    """A server the step runs as a program: its argv, variables and secret variables."""

    argv: list[str]
    env: dict[str, str]
    secret_env: dict[str, str] | None


@dataclass(frozen=True, slots=True)
class HttpServer:
    """A server the step reaches over streamable HTTP, with headers taken from secrets."""

    url: str
    headers_secret: dict[str, str] | None


def input_problems(inputs: Mapping[str, Any], *, rendered: bool) -> list[tuple[str, str]]:
    """``(field, message)`` for each way ``inputs`` break the contract; empty when none.

    ``field`` is relative to the step's inputs (``server.url``, ``tool``). With ``rendered``
    false (a workflow being saved), a value still holding a ``{{ … }}`` template is known only
    when the step runs and is not judged. Secret names are judged by the caller.
    """
    problems = _server_problems(inputs.get("server"), rendered=rendered)
    tool = inputs.get("tool")
    if _later(tool, rendered):
        pass
    elif not isinstance(tool, str) or not tool.strip() or len(tool) > MAX_TOOL_CHARS:
        message = f"must name the tool to call: a non-empty string of at most {MAX_TOOL_CHARS}"
        problems.append(("tool", message + " characters"))
    arguments = inputs.get("arguments")
    if not (arguments is None or isinstance(arguments, Mapping) or _later(arguments, rendered)):
        problems.append(("arguments", "must be an object: the tool's arguments by name"))
    network = inputs.get("network", False)
    if not isinstance(network, bool) and not _later(network, rendered):
        problems.append(("network", "must be true or false"))
    elif (
        network is True and isinstance(inputs.get("server"), Mapping) and "url" in inputs["server"]
    ):
        problems.append(("network", "applies to a stdio server only; leave it out"))
    return problems


def _later(value: Any, rendered: bool) -> bool:
    """Whether ``value`` is a template string known only when the step runs (not judged)."""
    return not rendered and isinstance(value, str) and holds_template(value)


def _server_problems(server: Any, *, rendered: bool) -> list[tuple[str, str]]:
    if _later(server, rendered):
        return []
    if not isinstance(server, Mapping):
        return [("server", _SHAPE)]
    stdio, http = "command" in server, "url" in server
    if stdio == http:
        said = "holds both command and url" if stdio else "holds neither command nor url"
        return [("server", f"{said}; it {_SHAPE}")]
    allowed = STDIO_KEYS if stdio else HTTP_KEYS
    unknown = sorted(str(key) for key in server if key not in allowed)
    if unknown:
        kind = (
            "a stdio server takes command, env, secret_env"
            if stdio
            else ("an HTTP server takes url, headers_secret")
        )
        return [("server", f"unknown key {unknown[0]!r}: {kind}")]
    if stdio:
        return _stdio_problems(server, rendered=rendered)
    return _http_problems(server, rendered=rendered)


def _stdio_problems(server: Mapping[str, Any], *, rendered: bool) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    argv = server["command"]
    if not _later(argv, rendered) and not (
        isinstance(argv, list)
        and 0 < len(argv) <= MAX_ARGV
        and all(isinstance(a, str) for a in argv)
        and argv[0]
    ):
        problems.append(
            (
                "server.command",
                "must be a non-empty list of strings: the program and its arguments "
                '(e.g. ["python", "server.py"])',
            )
        )
    env = server.get("env")
    if not (
        env is None
        or _later(env, rendered)
        or (
            isinstance(env, Mapping)
            and all(isinstance(k, str) and _VARIABLE.match(k) for k in env)
            and all(isinstance(v, str) for v in env.values())
        )
    ):
        problems.append(("server.env", "must map variable names (letters, digits, _) to strings"))
    return problems


def _http_problems(server: Mapping[str, Any], *, rendered: bool) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    url = server["url"]
    if not _later(url, rendered):
        problem = url_problem(url)
        if problem:
            problems.append(("server.url", problem))
    headers = server.get("headers_secret")
    if isinstance(headers, Mapping) and not all(
        isinstance(name, str) and _HEADER.match(name) for name in headers
    ):
        problems.append(
            (
                "server.headers_secret",
                "must map header names (letters, digits, -) to secret names, "
                'e.g. {"Authorization": "TOOLS_TOKEN"}',
            )
        )
    return problems


def url_problem(url: Any) -> str | None:
    """Why ``url`` cannot be a streamable HTTP server's address, or ``None`` when it can."""
    if not isinstance(url, str) or len(url) > MAX_URL_CHARS:
        return f"must be an http:// or https:// address of at most {MAX_URL_CHARS} characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a port out of range raises here)
    except ValueError:
        return f"is not a valid address: {url[:200]!r}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// address with a host (e.g. https://tools.example.com/mcp)"
    if parts.username or parts.password:
        return "must not carry credentials; name a secret in server.headers_secret instead"
    return None


def read_server(server: Mapping[str, Any]) -> StdioServer | HttpServer:
    """The server of inputs that :func:`input_problems` found nothing wrong with."""
    if "command" in server:
        return StdioServer(
            argv=list(server["command"]),
            env=dict(server.get("env") or {}),
            secret_env=server.get("secret_env"),
        )
    return HttpServer(url=str(server["url"]), headers_secret=server.get("headers_secret"))
