"""The kinds of document the studio writes, read from ``kinds.yaml`` (ADR 0032's pattern).

Each kind has a key (the API's and the CLI's name), a title, what it is for, and its sections
in order. A broken file fails the first read with the file and the field at fault.
"""

import functools
from collections.abc import Mapping
from importlib.resources import files

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from missionctl.schemas.datafiles import data_file_error, read_data_file
from missionctl.schemas.documents import DOCUMENT_KINDS, DocumentKind


class KindSpec(BaseModel):
    """One kind of document as the catalog describes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: DocumentKind
    title: str = Field(min_length=1, max_length=100)
    purpose: str = Field(min_length=1, max_length=400)
    sections: tuple[str, ...] = Field(min_length=1, max_length=20)


_CATALOG = TypeAdapter(list[KindSpec])


@functools.cache
def catalog() -> Mapping[DocumentKind, KindSpec]:
    """Every kind, in the catalog's order (which is the studio's).

    Raises:
        DataFileError: the file is broken, names a kind twice or leaves one out.
    """
    file = files("missionctl.documents").joinpath("kinds.yaml")
    specs = read_data_file(file, _CATALOG)
    keys = [spec.key for spec in specs]
    if sorted(keys) != sorted(DOCUMENT_KINDS):
        missing = sorted(set(DOCUMENT_KINDS) - set(keys)) or "none"
        raise data_file_error(
            file, [f"key: each kind once (missing: {missing}; listed: {', '.join(keys)})"]
        )
    return {spec.key: spec for spec in specs}


def kind_spec(kind: DocumentKind) -> KindSpec:
    """The catalog's entry for ``kind``."""
    return catalog()[kind]
