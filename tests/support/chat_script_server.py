"""A scripted Chat Completions model for real coding CLIs: a script sees each conversation.

:class:`ScriptedOpenAIServer` replays queued replies; a coding CLI such as aider holds a
conversation whose next turn depends on what the CLI sent back (a file's content, the output of
the tests it ran). Here a *script* answers every ``POST /v1/chat/completions``: it gets the
request's JSON body (``messages`` is the whole conversation so far) and returns the reply, a
string or any :data:`~tests.support.openai_server.Reply` (an ``HTTPError`` plays a failing
endpoint). An exception raised by the script (say, an assertion about what the CLI sent) is
kept in :attr:`ChatScriptServer.errors` and answered with a 400, which CLIs do not retry, so
the test can show it at once.

Every request is recorded, whatever its path: ``GET /v1/models`` is answered as the base server
does; any other path is recorded and answered 404, so that a test sees what else a CLI asked
the endpoint for.

Usage::

    def script(body: dict[str, Any]) -> str:
        return "Done." if len(body["messages"]) > 2 else "Editing."

    with ChatScriptServer(script) as server:
        ...  # point the CLI at server.base_url
    assert server.errors == []
"""

import traceback
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.openai_server import HTTPError, Reply, ScriptedOpenAIServer

Script = Callable[[dict[str, Any]], "Reply | str"]


class ChatScriptServer(ScriptedOpenAIServer):
    """:class:`ScriptedOpenAIServer` whose every chat reply comes from ``script``."""

    thread_name = "chat-script"

    def __init__(self, script: Script, *, model: str = "scripted-model") -> None:
        """``script``: the request body (the conversation in ``messages``) → the next reply."""
        super().__init__(model=model)
        self.script = script
        self.errors: list[str] = []  # what the script raised, as tracebacks
        self.default_handler = self._answer

    @property
    def other_requests(self) -> list[str]:
        """``METHOD path`` of every request that was not a chat completion."""
        return [
            f"{r.method} {r.path}"
            for r in self.requests
            if not r.path.endswith("/chat/completions")
        ]

    def _answer(self, body: dict[str, Any]) -> "Reply | str":
        try:
            return self.script(body)
        except Exception:  # kept for the test to show, answered as a failure
            self.errors.append(traceback.format_exc())
            message = "the scripted model's script raised; see server.errors"
            return HTTPError(400, message, error_type="invalid_request_error")

    def _app(self) -> Starlette:
        app = super()._app()
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        app.router.routes.append(Route("/{path:path}", self._unknown, methods=methods))
        return app

    async def _unknown(self, request: Request) -> Response:
        body = await request.body()
        self._record(request, {"raw": body.decode("utf-8", "replace")} if body else None)
        return JSONResponse({"error": {"message": "not scripted"}}, status_code=404)
