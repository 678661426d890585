"""Operations: each thing Mission Control does, declared once for every face that offers it.

An ``Operation`` names what it is (``name``, ``doc``), what it takes and gives (``body``,
``output``), who may do it (``permission``), the use case that does it (``service``), and
where it is offered: its HTTP method and path under ``/api/v1``, its command
(``cli="schedule pause"``) and whether MCP offers it as a tool. From it:

- ``api.declared.add_route`` makes the REST route: the permission declared, the path's
  parameters and the body parsed, the use case called as the caller's identity;
- the CLI's ``MissionControl.call`` sends the request and parses the answer, whether
  Mission Control is a server away or in the command's own process (ADR 0089);
- ``mcp.declared.add_tool`` makes the MCP tool, under the same permission.

So the three faces cannot disagree on a path, a model or a permission: there is one place to
say it. ``tests/operations/test_declared.py`` checks every declaration is reachable on each
face it names, as the least role that holds its permission and not as the role below.

The use case is named by ``"module:function"`` and found when a face is built, so that a
command talking to a server imports no use case; the test resolves every one.
"""

import functools
import importlib
import inspect
import operator
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from missionctl.domain.access import Permission
from missionctl.domain.files import FileAnswer

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
UseCase = Callable[..., Awaitable[Any]]

_PATH_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")
"""A path's parameter: ``{name}``, or ``{name:convertor}`` (``{model:path}`` takes ``/``)."""
Out = TypeVar("Out")


@dataclass(frozen=True, slots=True)
class OtherStatus:
    """A success status an answer carries instead of the operation's ``status_code``.

    Attributes:
        status_code: the status.
        when: asked of the use case's answer: the status is this one when it is true (the
            first of an operation's that is true).
        description: when it is answered, for the route's documentation (with the answer's
            model, as the usual status's).
        model: the answer's model under this status, when it is another than the operation's
            ``output`` (the planner's questions instead of a plan): the route documents it and
            sends the answer as it, and a command parses either (``Operation.outputs``).
    """

    status_code: int
    when: Callable[[Any], bool]
    description: str
    model: Any = None


@dataclass(frozen=True, slots=True)
class Operation(Generic[Out]):
    """One operation, as every face offers it; ``Out`` is what it answers (``output``).

    Attributes:
        name: unique, snake_case; the route's name and the MCP tool's.
        doc: what it does, for a person (the route's description, the tool's).
        method: the HTTP method.
        path: the path under ``/api/v1``; ``{name}`` segments are the use case's arguments
            of that name. ``{name:convertor}`` matches the segment with a Starlette convertor
            (``path`` takes text holding ``/``; the agents' routes register ``agent``).
        permission: what the caller must hold, on every face.
        service: the use case, ``"package.module:function"``; it takes the service context
            first, then keywords: the path's parameters, each field of ``query`` (or the
            query whole, ``query_as``), ``body_as`` for the body (or each of its fields,
            ``body_fields``), each of ``arguments``, ``actor`` (the caller's, when it takes
            one), each of ``needs`` and each of ``grants``.
        output: the answer's model (or ``list[Model]``); ``None`` answers 204 with no body;
            ``FileAnswer`` answers a file (a download: a ``GET`` of ``file_types``).
        file_types: with ``output=FileAnswer``, the media types the file may have (for the
            route's documentation); a command receives the file's bytes.
        body: the request body's model, if it takes one.
        query: the model of its query parameters, if it takes any; a ``list[...]`` field is
            its parameter repeated (``?type=a&type=b``), read so by the route and sent so by a
            command.
        query_as: the use case takes the query's model whole, as this keyword, instead of
            each of its fields as a keyword of its name (a use case that reads the model as
            one, or that the pages call with one as well).
        body_as: the use case's keyword for the body.
        body_fields: the use case takes the body's fields, each as a keyword of its name
            (as the query's), instead of the body under ``body_as``.
        body_optional: the body may be left out: the use case is then given the body's model
            made with no fields (each must have a default), as if ``{}`` had been sent.
        body_nullable: with ``body_optional``, the body may also be JSON ``null``, read as if
            it had been left out; the route documents the model or ``null``.
        path_types: a path parameter's type where the use case's is wider: a pydantic
            ``Annotated`` type with its limits, validators and description (a value outside
            them is a 422 before the use case runs).
        arguments: keywords the use case is always called with, whatever the request: what
            the path says by itself (``/workers/{worker_id}/drain`` gives ``command``).
        status_code: the success status.
        other_statuses: success statuses an answer may carry instead, each when its ``when``
            is true of it (``202`` for a stop held while the database cannot record it), with a
            model of its own if the answer is another (``202`` with the planner's questions).
            MCP, which has no statuses, answers the same.
        errors: the failure statuses worth documenting beyond the usual (404, 422...): ``409``,
            ``500`` for what vouches for stored bytes, and ``502`` and ``503`` for what waits
            for the configured model.
        refusals: the rules, field → rule, by which it refuses with 422 a request its
            schemas allow, those a JSON Schema cannot state (``api.refusals``).
        needs: what the server fills in by name (``"planner"``, ``"llm"``, ``"sign"``;
            ``"user"``: the person who acts, ``None`` for the system; ``"identity"``: the
            caller's identity whole, for a use case whose answer each of its permissions
            limits; ``"trigger"``: what a run it starts says started it, ``cli`` for a command
            on this machine, else ``api``; ``"health_cache"``: the app's cache of the health
            figures, shared with the pages).
        grants: keyword → a permission beyond ``permission``: the use case is told, as that
            keyword, whether the caller holds it, and refuses what needs it (starting a run
            from a template needs ``runs:control`` too). Every face tells it the same.
        cli: the command that performs it, as typed (``"schedule pause"``).
        mcp: whether MCP offers it as a tool. An MCP tool takes the use case's own types
            and the body whole: an operation offered there declares no ``body_fields``,
            ``path_types``, ``arguments``, ``body_optional`` (nor ``body_nullable``) or
            ``query_as`` (a ``ValueError`` when it is made).
    """

    name: str
    doc: str
    method: Method
    path: str
    permission: Permission
    service: str
    output: Any = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    query_as: str | None = None
    body_as: str = "data"
    body_fields: bool = False
    body_optional: bool = False
    body_nullable: bool = False
    path_types: Mapping[str, Any] = field(default_factory=dict, hash=False)
    arguments: Mapping[str, Any] = field(default_factory=dict, hash=False)
    status_code: int = 200
    other_statuses: tuple[OtherStatus, ...] = ()
    errors: tuple[int, ...] = ()
    refusals: Mapping[str, str] = field(default_factory=dict, hash=False)
    needs: tuple[str, ...] = ()
    grants: Mapping[str, Permission] = field(default_factory=dict, hash=False)
    cli: str | None = None
    mcp: bool = False
    file_types: tuple[str, ...] = ()
    path_parameters: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        """Read the path's parameters once.

        Raises:
            ValueError: a type for a parameter the path does not have, an optional body that
                is not there or cannot be made with no fields, a body that may be ``null``
                but not left out, ``query_as`` with no query,
                other statuses for an answer with no body, a file that is not a ``GET``'s
                or has no ``file_types``, or an MCP tool asked of a declaration only the
                route can serve (see ``mcp``).
        """
        object.__setattr__(self, "path_parameters", tuple(_PATH_PARAMETER.findall(self.path)))
        if unknown := set(self.path_types) - set(self.path_parameters):
            raise ValueError(f"operation {self.name}: the path has no {sorted(unknown)}")
        if self.body_optional and (
            self.body is None or any(f.is_required() for f in self.body.model_fields.values())
        ):
            raise ValueError(f"operation {self.name}: an optional body needs a default per field")
        if self.body_nullable and not self.body_optional:
            raise ValueError(f"operation {self.name}: a body that may be null is optional")
        if self.query_as is not None and self.query is None:
            raise ValueError(f"operation {self.name}: query_as names no query")
        if self.other_statuses and self.output is None:
            raise ValueError(f"operation {self.name}: an answer with no body has one status")
        if (self.output is FileAnswer) != bool(self.file_types) or (
            self.file_types and (self.method != "GET" or self.mcp or self.other_statuses)
        ):
            raise ValueError(
                f"operation {self.name}: a file is a GET's answer with file_types, no MCP tool"
            )
        if self.mcp and (
            self.body_fields
            or self.path_types
            or self.arguments
            or self.body_optional
            or self.query_as
        ):
            raise ValueError(
                f"operation {self.name}: an MCP tool takes no body_fields, path_types, "
                "arguments, optional body or query_as"
            )

    @property
    def outputs(self) -> Any:
        """What it may answer: ``output``, or the model of one of ``other_statuses``."""
        models = [other.model for other in self.other_statuses if other.model is not None]
        return functools.reduce(operator.or_, models, self.output)

    @property
    def summary(self) -> str:
        """The first line of ``doc``."""
        return self.doc.split("\n", 1)[0]

    def url(self, **values: str) -> str:
        """The path under ``/api/v1`` with each parameter's ``values`` (escaped by the caller).

        Raises:
            KeyError: a parameter of the path is not in ``values``.
        """
        return "/api/v1" + _PATH_PARAMETER.sub(lambda found: values[found.group(1)], self.path)


def use_case(op: Operation[Any], *, provided: Collection[str]) -> UseCase:
    """The coroutine function ``op.service`` names, for a face that fills ``provided`` needs.

    Raises:
        LookupError: the module or the function does not exist, it is not a coroutine
            function taking every keyword the declaration fills, or the face cannot fill one
            of ``op.needs``.
    """
    module_name, _, function_name = op.service.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        raise LookupError(f"operation {op.name}: no use case {op.service}") from exc
    if not inspect.iscoroutinefunction(function):
        raise LookupError(f"operation {op.name}: {op.service} is not a coroutine function")
    fields = list(op.query.model_fields) if op.query else []
    if op.query_as is not None:
        fields = [op.query_as]
    if op.body is not None:
        fields += list(op.body.model_fields) if op.body_fields else [op.body_as]
    needed = {*op.path_parameters, *fields, *op.needs, *op.arguments, *op.grants}
    if missing := needed - set(inspect.signature(function).parameters):
        raise LookupError(f"operation {op.name}: {op.service} takes no {sorted(missing)}")
    if unknown := set(op.needs) - set(provided):
        raise LookupError(f"operation {op.name}: nothing provides {sorted(unknown)}")
    found: UseCase = function
    return found
