"""Talk to a Mission Control server over its HTTP API, as an API token (``missionctl whoami``).

With ``MISSIONCTL_URL`` and ``MISSIONCTL_TOKEN`` set, every command that has an API counterpart
sends its requests to ``/api/v1`` through ``RemoteClient`` (``missionctl.cli._backend``) and
acts as ``token:NAME``; the others keep working on the local database. Failures are reported
the way local ones are: red messages on stderr, exit 1 when something is not found and exit 2
for everything else (invalid input, 401, 403, 429, an unreachable server).

The token is sent only in the ``Authorization`` header; it is never printed or logged.

Pydantic, the schemas and the HTTP client are imported where used, so that ``missionctl --help``
(which imports this module for ``whoami``) loads none of them; annotations naming them are
strings.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.markup import escape

from missionctl import __version__
from missionctl.cli._runtime import (
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    EXIT_UNAVAILABLE,
    console,
    err_console,
)

if TYPE_CHECKING:
    from typing import TypeAlias

    import httpx2  # imported where used: `missionctl --help` has no use for an HTTP client
    from pydantic import BaseModel, SecretStr

    from missionctl.cli._remote_settings import RemoteSettings
    from missionctl.cli._runtime import LocalSession
    from missionctl.domain.access import Identity

    # A request body: a model (sent as its JSON), a JSON-able mapping, or none.
    Body: TypeAlias = BaseModel | dict[str, Any] | None

M = TypeVar("M", bound="BaseModel")
T = TypeVar("T")

URL_VAR = "MISSIONCTL_URL"
TOKEN_VAR = "MISSIONCTL_TOKEN"

# What the client says of itself in every request.
_HEADERS = {"Accept": "application/json", "User-Agent": f"missionctl/{__version__}"}
# The base URL of the API in this process (ADR 0089): never resolved or dialled.
_IN_PROCESS_URL = "http://missionctl.invalid"
LOCAL_DATABASE = "the local database"
# Planning and reports can take a while on the server; connecting should not.
_TIMEOUT_S = 60.0
_CONNECT_TIMEOUT_S = 10.0
# How long a followed stream waits before it reconnects, after the 1st, 2nd… failure in a row.
RECONNECT_DELAYS_S = (0.5, 1.0, 2.0, 5.0, 10.0)


def load_remote_settings() -> "RemoteSettings":
    """The remote settings from the environment; an invalid one is named (exit 2)."""
    from pydantic import ValidationError

    from missionctl.cli._remote_settings import RemoteSettings

    try:
        return RemoteSettings()
    except ValidationError as exc:
        for problem in exc.errors():  # never ``input``: it would be the token
            name = f"MISSIONCTL_{'_'.join(str(p) for p in problem['loc']).upper()}"
            err_console.print(f"[red]setting {name}:[/red] {escape(problem['msg'])}")
        raise typer.Exit(EXIT_INVALID) from exc


def connect() -> "RemoteClient | None":
    """A client for ``MISSIONCTL_URL`` with ``MISSIONCTL_TOKEN``, or ``None`` to work locally.

    Exits 2 when only one of the two is set: silently falling back to the local database would
    act on the wrong data.
    """
    settings = load_remote_settings()
    if settings.url is None and settings.token is None:
        return None
    if settings.url is None:
        _exit_with(
            f"{TOKEN_VAR} is set but {URL_VAR} is not: set {URL_VAR} to the server's base URL "
            f"(e.g. http://127.0.0.1:8000), or unset {TOKEN_VAR} to use the local database"
        )
    if settings.token is None:
        _exit_with(
            f"{URL_VAR} is set but {TOKEN_VAR} is not: create a token on the server with "
            f"`missionctl token create NAME --user USER`, or unset {URL_VAR} to use the local "
            "database"
        )
    return RemoteClient(base_url=settings.url, token=settings.token)


def _query(params: dict[str, str | int | None] | None) -> dict[str, str | int]:
    """The query parameters without the ``None`` ones (an option not given)."""
    return {k: v for k, v in (params or {}).items() if v is not None}


def _json_body(body: "Body") -> object:
    from pydantic import BaseModel

    return body.model_dump(mode="json") if isinstance(body, BaseModel) else body


@dataclass(frozen=True, slots=True)
class _Failure:
    """How a command words a refusal: a hint for a 403, option names for a 422's fields."""

    refusal_hint: str | None = None
    options: dict[str, str] = field(default_factory=dict)


class _Dropped(Exception):
    """A followed stream's server answered an error after it had answered before."""


def _unreachable(display_url: str, exc: Exception) -> str:
    return (
        f"cannot reach the Mission Control server at {display_url} ({URL_VAR}): "
        f"{str(exc) or type(exc).__name__}. Is it running, and is {URL_VAR} right?"
    )


def _exit_with(message: str, code: int = EXIT_INVALID) -> NoReturn:
    err_console.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)


class RemoteClient:
    """The ``/api/v1`` of one server, as one API token; use it as a context manager.

    Every method returns the parsed response, or reports the failure in red and raises
    ``typer.Exit``: 1 for a 404, 2 for anything else (the server's message is printed as is; a
    422 prints each field at fault).

    Args:
        base_url: the server's base URL (a path prefix is kept).
        token: the API token.
    """

    def __init__(self, *, base_url: str, token: "SecretStr") -> None:
        import httpx2

        url = httpx2.URL(base_url)
        # For messages: credentials in the URL are not ours to print either.
        self.display_url = str(url.copy_with(username=None, password=None))
        self._http = httpx2.Client(
            base_url=url,
            headers={"Authorization": f"Bearer {token.get_secret_value()}", **_HEADERS},
            timeout=httpx2.Timeout(_TIMEOUT_S, connect=_CONNECT_TIMEOUT_S),
            # A redirect is reported, not followed: the token is for this server only.
            follow_redirects=False,
        )

    @classmethod
    def in_process(cls, session: "LocalSession", identity: "Identity") -> "RemoteClient":
        """A client of the API in this process, on ``session``'s database, as ``identity``.

        No timeout: the work is done in this thread, and a plan takes what it takes.
        """
        import httpx2

        from missionctl.cli._in_process import InProcessTransport

        client = cls.__new__(cls)
        client.display_url = LOCAL_DATABASE
        client._http = httpx2.Client(
            base_url=_IN_PROCESS_URL,
            headers=_HEADERS,
            transport=InProcessTransport(session, identity),
            timeout=None,
            follow_redirects=False,
        )
        return client

    def __enter__(self) -> "RemoteClient":
        """The client itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the connections."""
        self._http.close()

    def get(
        self, path: str, model: type[M], *, params: dict[str, str | int | None] | None = None
    ) -> M:
        """``GET path`` parsed as ``model`` (``None`` query values are left out)."""
        return self._parse(self._send("GET", path, params=_query(params)), model)

    def get_bytes(
        self, path: str, *, params: dict[str, str | int | None] | None = None
    ) -> tuple[bytes, str]:
        """``GET path``: the body's bytes and its media type (for downloads)."""
        response = self._send("GET", path, params=_query(params))
        return response.content, response.headers.get("content-type", "")

    def download(
        self, path: str, params: list[tuple[str, str]], write: Callable[[bytes], object]
    ) -> None:
        """``GET path`` and hand the body to ``write`` as it arrives (any size, flat memory)."""
        import httpx2

        try:
            with self._http.stream("GET", path, params=tuple(params)) as response:
                if not response.is_success:
                    response.read()
                    self._fail(response)
                for chunk in response.iter_bytes():
                    write(chunk)
        except httpx2.TransportError as exc:
            _exit_with(
                f"the download from the server at {self.display_url} ({URL_VAR}) failed: "
                f"{str(exc) or type(exc).__name__}",
                EXIT_UNAVAILABLE,
            )

    def follow_stream(
        self, path: str, params: list[tuple[str, str]], take: Callable[[str], int]
    ) -> NoReturn:
        """Follow the Server-Sent Events stream at ``GET path``, each message's data to ``take``.

        ``take`` returns the message's ``seq``; when the connection drops (or the server closes
        the stream, or answers 5xx, once it has answered before), the stream is reopened after a
        pause (``RECONNECT_DELAYS_S``) with ``Last-Event-ID`` set to the last one taken, so no
        event is lost or repeated. A first connection that fails, and any 4xx, exit 2 as other
        requests do. Returns only by an exception (``KeyboardInterrupt`` for Ctrl-C).
        """
        import httpx2

        from missionctl.cli._sse import read_messages

        last: int | None = None
        connected, failures = False, 0
        while True:
            headers = {"Accept": "text/event-stream"}
            if last is not None:
                headers["Last-Event-ID"] = str(last)
            problem = "the server closed the stream"
            try:
                with self._http.stream(
                    "GET", path, params=tuple(params), headers=headers
                ) as response:
                    if not response.is_success:
                        response.read()
                        if not connected or response.status_code < 500:
                            self._fail(response)
                        raise _Dropped(f"the server answered {response.status_code}")
                    connected = True
                    for message in read_messages(response.iter_lines()):
                        last, failures = take(message.data), 0
            except _Dropped as exc:
                problem = str(exc)
            except httpx2.TransportError as exc:
                if not connected:
                    _exit_with(_unreachable(self.display_url, exc), EXIT_UNAVAILABLE)
                problem = str(exc) or type(exc).__name__
            failures += 1
            delay = RECONNECT_DELAYS_S[min(failures, len(RECONNECT_DELAYS_S)) - 1]
            resume = "from the start" if last is None else f"after seq {last}"
            err_console.print(
                f"[dim]{escape(problem)}; reconnecting in {delay:g} s, resuming {resume}[/dim]"
            )
            time.sleep(delay)

    def read_stream(
        self,
        path: str,
        params: list[tuple[str, str]],
        take: Callable[[str], bool],
        *,
        opened: Callable[[], object],
    ) -> None:
        """Read the Server-Sent Events stream at ``GET path`` once, each message's data to ``take``.

        ``opened`` is called once the server answered (its stream's cursor is then set); reading
        stops when ``take`` returns ``False`` or the stream ends. Unlike :meth:`follow_stream`
        nothing is retried or printed: an answer that is not a success returns at once, and a
        transport error is raised as it is, for a caller to whom the stream is optional.
        """
        from missionctl.cli._sse import read_messages

        headers = {"Accept": "text/event-stream"}
        with self._http.stream("GET", path, params=tuple(params), headers=headers) as response:
            opened()
            if not response.is_success:
                return
            for message in read_messages(response.iter_lines()):
                if not take(message.data):
                    return

    def model_of(self, data: str, model: type[M]) -> M:
        """``data`` (a JSON document the server sent, e.g. in a stream) parsed as ``model``."""
        return self._validated(data.encode(), model.model_validate_json)

    def post(
        self,
        path: str,
        model: type[M],
        *,
        body: "Body" = None,
        refusal_hint: str | None = None,
        options: dict[str, str] | None = None,
    ) -> M:
        """``POST path`` with ``body`` as JSON (none when ``None``), parsed as ``model``.

        ``refusal_hint`` is added to the message of a 403 (what the user can do about it);
        ``options`` names the command option of each body field a 422 may name.
        """
        failure = _Failure(refusal_hint, options or {})
        response = self._send("POST", path, body=_json_body(body), failure=failure)
        return self._parse(response, model)

    def put(self, path: str, model: type[M], *, body: "Body") -> M:
        """``PUT path`` with ``body`` as JSON, the answer parsed as ``model``."""
        return self._parse(self._send("PUT", path, body=_json_body(body)), model)

    def patch(self, path: str, model: type[M], *, body: "Body") -> M:
        """``PATCH path`` with ``body`` as JSON, the answer parsed as ``model``."""
        return self._parse(self._send("PATCH", path, body=_json_body(body)), model)

    def send(
        self,
        method: str,
        path: str,
        output: Any,
        *,
        body: "Body" = None,
        params: dict[str, Any] | None = None,
        options: dict[str, str] | None = None,
        refusal_hint: str | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """``method path?params`` with ``body`` as JSON, the answer parsed as ``output``.

        ``output`` is a model, ``list[Model]``, or ``None`` for an answer with no body;
        ``options`` names the command option of each body field a 422 may name;
        ``refusal_hint`` is added to the message of a 403; ``missing_ok``: ``None`` when the
        server answers 404, nothing printed.
        """
        from pydantic import TypeAdapter

        failure = _Failure(refusal_hint, options or {})
        response = self._send(
            method,
            path,
            params=params,
            body=_json_body(body),
            missing_ok=missing_ok,
            failure=failure,
        )
        if output is None or response.status_code == 404:
            return None
        return self._decode(response, TypeAdapter(output).validate_json)

    def delete(self, path: str) -> None:
        """``DELETE path``; the answer's body, if any, is not read."""
        self._send("DELETE", path)

    def post_text(self, path: str, model: type[M], *, text: str, media_type: str) -> M:
        """``POST path`` with ``text`` as the body, sent as ``media_type`` (e.g. YAML)."""
        response = self._send("POST", path, content=text.encode(), media_type=media_type)
        return self._parse(response, model)

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str | int] | None = None,
        body: object = None,
        content: bytes | None = None,
        media_type: str | None = None,
        missing_ok: bool = False,
        failure: "_Failure | None" = None,
    ) -> "httpx2.Response":
        import httpx2

        headers = {"Content-Type": media_type} if media_type else None
        try:
            response = self._http.request(
                method, path, params=params, json=body, content=content, headers=headers
            )
        except (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.UnsupportedProtocol) as exc:
            _exit_with(_unreachable(self.display_url, exc), EXIT_UNAVAILABLE)
        except httpx2.TransportError as exc:  # the request may have arrived: say so
            _exit_with(
                f"the connection to the server at {self.display_url} ({URL_VAR}) failed during "
                f"{method} {path}: {str(exc) or type(exc).__name__}. It may or may not have "
                "been carried out; check before repeating it.",
                EXIT_UNAVAILABLE,
            )
        if response.is_success or (missing_ok and response.status_code == 404):
            return response
        self._fail(response, failure)

    def _parse(self, response: "httpx2.Response", model: type[M]) -> M:
        return self._decode(response, model.model_validate_json)

    def _decode(self, response: "httpx2.Response", validate: Callable[[bytes], T]) -> T:
        return self._validated(response.content, validate)

    def _validated(self, content: bytes, validate: Callable[[bytes], T]) -> T:
        from pydantic import ValidationError

        try:
            return validate(content)
        except ValidationError:
            _exit_with(
                f"the server at {self.display_url} ({URL_VAR}) did not answer like a Mission "
                "Control API; is it the right URL, and the same version as this CLI?"
            )

    def _fail(self, response: "httpx2.Response", failure: "_Failure | None" = None) -> NoReturn:
        from pydantic import ValidationError

        from missionctl.schemas.errors import ErrorBody

        status = response.status_code
        try:
            info = ErrorBody.model_validate_json(response.content).error
        except ValidationError:
            _exit_with(
                f"the server at {self.display_url} ({URL_VAR}) answered {status} "
                f"{response.reason_phrase}; is it a Mission Control server?"
            )
        failure = failure or _Failure()
        if status == 401:  # in the CLI's terms: the variable to fix and the command that fixes it
            _exit_with(
                f"the server at {self.display_url} refused {TOKEN_VAR}: the token is unknown, "
                "revoked or expired. Make a new one with `missionctl token create NAME --user "
                f"USER` where the server's data is (or on its {self.display_url.rstrip('/')}"
                f"/account page) and set {TOKEN_VAR} to it"
            )
        if status == 422 and info.details:  # every field at fault, as local validation prints
            for detail in info.details:
                field = failure.options.get(detail.field or "", detail.field)
                where = f"{field}: " if field else ""
                err_console.print(f"[red]error:[/red] {escape(where + detail.message)}")
        else:
            hint = failure.refusal_hint if status == 403 else None
            message = f"{info.message}; {hint}" if hint else info.message
            err_console.print(f"[red]error:[/red] {escape(message)}")
        if status == 404 and info.message == "Not Found":  # no such route, not no such thing
            err_console.print(
                f"[dim]{escape(self.display_url)} has no {escape(response.url.path)}; is "
                f"{URL_VAR} the server's base URL?[/dim]"
            )
        elif status == 429 and (retry := response.headers.get("retry-after")):
            err_console.print(f"[dim]retry in {escape(retry)} s.[/dim]")
        raise typer.Exit(_exit_code(status))


def _exit_code(status: int) -> int:
    """The exit code of an error answer: 1 not found, 3 the server cannot serve now, else 2."""
    if status == 404:
        return EXIT_NOT_FOUND
    return EXIT_UNAVAILABLE if status in (502, 503, 504) else EXIT_INVALID


def whoami(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Say who commands act as: the token's identity on MISSIONCTL_URL, or `system` locally."""
    remote = connect()
    if remote is None:
        if as_json:
            typer.echo(json.dumps({"actor": "system", "server": None}, indent=2))
        else:
            console.print(
                "[bold]system[/bold]  working on the local database directly "
                f"(set {URL_VAR} and {TOKEN_VAR} to act as a token on a server)"
            )
        return
    from missionctl.schemas.identity import MeRead

    with remote:
        me = remote.get("/api/v1/me", MeRead)
    if as_json:
        typer.echo(
            json.dumps({**me.model_dump(mode="json"), "server": remote.display_url}, indent=2)
        )
        return
    console.print(f"[bold]{escape(me.actor)}[/bold]  on {escape(remote.display_url)}")
    console.print(f"user     {escape(me.user_name)}")
    console.print(f"role     {me.role.value}")
    console.print(f"may      {', '.join(p.value for p in me.permissions)}")
