"""How the specialists store the reading's entities: each row with an id and a creation time.

Which entities a mission implies, and their attributes and relations, is the mission's reading
(:mod:`missionctl.reading`); storing them is a design choice of the documents written here.
"""

from missionctl.reading import Attribute, Entity

__all__ = ["stored"]

_ID = Attribute(name="id", type="uuid", note="primary key")
_CREATED_AT = Attribute(name="created_at", type="timestamptz")


def stored(entity: Entity) -> Entity:
    """``entity`` as a table: its attributes between an ``id`` and a ``created_at``."""
    return entity.model_copy(update={"attributes": (_ID, *entity.attributes, _CREATED_AT)})
