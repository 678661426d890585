"""Every declared operation is offered on each face it names, under its one permission.

The faces are made from the declarations (``missionctl.operations``); these tests check that
what was made matches what was declared, so that a declaration cannot name a use case that is
missing, a command that does not exist, or a permission its route does not demand.
"""

import uuid
from pathlib import Path
from typing import Any

import pytest
import typer.main

from missionctl.api.declared import use_case
from missionctl.app import create_app
from missionctl.cli import app as cli_app
from missionctl.cli._runtime import LocalSession
from missionctl.cli.remote import RemoteClient
from missionctl.domain.access import ROLES, Identity, Permission, allows
from missionctl.operations import Operation
from missionctl.operations.catalogue import OPERATIONS
from missionctl.security.guard import route_table
from missionctl.settings import Settings

DECLARED = pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)


def _least_rank(permission: Permission) -> int:
    return next(rank for rank, role in enumerate(ROLES) if allows(role, permission))


def test_names_and_routes_are_unique() -> None:
    names = [op.name for op in OPERATIONS]
    routes = [(op.method, op.path) for op in OPERATIONS]
    assert len(set(names)) == len(names) and len(set(routes)) == len(routes)


@DECLARED
def test_the_use_case_exists_and_takes_what_the_declaration_fills(op: Operation[Any]) -> None:
    use_case(op)  # raises LookupError naming what is missing


@DECLARED
def test_the_route_is_served_with_the_declared_permission(
    op: Operation[Any], settings: Settings
) -> None:
    served = {
        (method, entry.path): entry.permission
        for entry in route_table(create_app(settings))
        for method in entry.methods
    }
    assert served[(op.method, f"/api/v1{op.path}")] == op.permission


@DECLARED
def test_the_command_exists(op: Operation[Any]) -> None:
    if op.cli is None:
        pytest.skip("offered on no command")
    command: Any = typer.main.get_command(cli_app)
    for word in op.cli.split():
        group = getattr(command, "commands", None)  # a group lists its commands
        assert group is not None, f"{op.cli!r}: {word!r} is under a command, not a group"
        assert word in group, f"{op.cli!r}: no command {word!r}"
        command = group[word]


def _status(op: Operation[Any], identity: Identity) -> int:
    """The status of ``op`` sent through the API in this process as ``identity``."""
    path = op.url(**{name: str(uuid.uuid4()) for name in op.path_parameters})
    body = {} if op.body is not None else None
    with LocalSession() as session, RemoteClient.in_process(session, identity) as client:
        return client._http.request(op.method, path, json=body).status_code


@DECLARED
def test_the_least_role_passes_and_the_role_below_is_refused(
    op: Operation[Any], database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", database_url)
    rank = _least_rank(op.permission)
    least = ROLES[rank]
    assert _status(op, Identity(f"user:{least}", least.value, least)) not in (401, 403)
    if rank:
        below = ROLES[rank - 1]
        assert _status(op, Identity(f"user:{below}", below.value, below)) == 403
