"""Dependencies page routes declare through ``Annotated`` aliases.

Every page route declares the permission it needs: controls take an identity alias below
(``WriteMissions``, ``ControlRuns``), pages that only read list ``requires(P.X)`` in their
decorator's ``dependencies``.

The web layer is a sibling of ``api`` and must not import it, so the aliases it shares with the
JSON API are defined again here, reading the same application state.
"""

from typing import Annotated

from fastapi import Depends, Request

from missionctl.domain.access import Identity
from missionctl.domain.access import Permission as P
from missionctl.security.guard import public, requires
from missionctl.services import ServiceContext
from missionctl.services.runtime import Runtime


def get_context(request: Request) -> ServiceContext:
    """The service context the app's lifespan built."""
    ctx: ServiceContext = request.app.state.ctx
    return ctx


def get_runtime(request: Request) -> Runtime:
    """The planner and agents the settings chose (``runtime.llm`` is set when a model is)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def wants_fragment(request: Request) -> bool:
    """Whether htmx asked for part of a page rather than a whole document.

    htmx sends ``HX-Request: true`` on every request it makes. It also sends
    ``HX-Request-Type: full`` when it will swap the whole ``<body>`` (boosted links, and restoring
    a page from history, which also sets ``HX-History-Restore-Request``); those get the full page.
    """
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-request-type") != "full"
        and headers.get("hx-history-restore-request") != "true"
    )


Context = Annotated[ServiceContext, Depends(get_context)]
# The largest event seq a query may name (a BIGINT); larger is a 422, not a database error.
MAX_SEQ = 2**63 - 1

# The identities of the page controls (each route declares what it needs: ADR 0011).
WriteMissions = Annotated[Identity, requires(P.MISSIONS_WRITE)]
ControlRuns = Annotated[Identity, requires(P.RUNS_CONTROL)]
Fragment = Annotated[bool, Depends(wants_fragment)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

__all__ = [
    "MAX_SEQ",
    "Context",
    "ControlRuns",
    "Fragment",
    "Identity",
    "P",
    "RuntimeDep",
    "WriteMissions",
    "public",
    "requires",
]
