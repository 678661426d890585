"""Ids on the command line: whole, or their first digits when those name one record.

Every argument and option that takes an id is made by ``id_argument`` or ``id_option``: a
whole id is taken as it is, without a request; the start of one (at least four hexadecimal
digits, dashes optional) is sent to ``/api/v1/ids/<kind>/…``, on the server or in this
process, and stands for the one id it starts. A text that is neither is a usage error (exit
2); no such id exits 1 and several exit 2 naming a few, as every command's failures do.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from missionctl.cli._backend import MissionControl

__all__ = ["ID_CHARS", "IdParser", "id_argument", "id_by_name_or_digits", "id_option"]

ID_CHARS = 36
"""An id's width, printed whole: a table column that holds one is at least this wide."""


@dataclass(frozen=True, slots=True)
class IdParser:
    """Parses an id of ``kind`` (``schemas.ids.IdKind``'s value), whole or by a prefix."""

    kind: str

    def __call__(self, text: str) -> uuid.UUID:
        """The id ``text`` is or starts.

        Raises:
            PydanticCustomError: ``text`` is neither (Typer reports it as a usage error, in
                these words: a ``ValueError`` would be prefixed "Value error,").
        """
        from pydantic_core import PydanticCustomError

        from missionctl.domain.id_prefixes import id_or_prefix

        try:
            found = id_or_prefix(text)
        except ValueError as exc:
            raise PydanticCustomError("invalid_id", str(exc)) from None
        if isinstance(found, uuid.UUID):
            return found
        from missionctl.cli._backend import open_backend

        with open_backend() as api:
            return api.resolve_id(self.kind, text)


def id_argument(kind: str, metavar: str, help: str) -> Any:
    """A required argument taking an id of ``kind``, whole or by its first digits."""
    import typer

    return typer.Argument(
        metavar=metavar,
        parser=IdParser(kind),
        help=f"{help} (or its first digits)",
        show_default=False,
    )


def id_option(kind: str, *names: str, help: str) -> Any:
    """An option taking an id of ``kind``, whole or by its first digits."""
    import typer

    return typer.Option(*names, parser=IdParser(kind), help=f"{help} (or its first digits)")


def id_by_name_or_digits(
    api: "MissionControl", kind: str, ref: str, named: Callable[[str], uuid.UUID | None]
) -> uuid.UUID | None:
    """The id ``ref`` is, or names (through ``named``), or starts.

    A whole id is taken as it is; else a name ``named`` finds; else the one id of ``kind``
    that ``ref`` starts (a failure to find that one is reported and exits).

    ``None`` when ``ref`` is neither an id, a name nor the start of an id: the caller says so.
    """
    from missionctl.domain.id_prefixes import id_or_prefix

    try:
        found = id_or_prefix(ref)
    except ValueError:
        return named(ref)
    if isinstance(found, uuid.UUID):
        return found
    return named(ref) or api.resolve_id(kind, ref)
