"""Data files shipped with the package (YAML), read into Pydantic types.

Content such as the kinds of software the local planner knows lives in YAML files next to the
code that uses it, read once with :mod:`importlib.resources` and validated by a Pydantic type
whose fields use the same ``Literal`` types as the rest of the product. A broken file is a
:class:`DataFileError` whose message names the file, the field and the fix; nothing half-read
is ever used.

:class:`UniqueKeyLoader` is PyYAML's safe loader refusing a key written twice in one mapping
(PyYAML keeps the last one silently); workflow definitions are read with it too.
"""

from collections.abc import Sequence
from importlib.resources.abc import Traversable
from typing import Any, TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError

from missionctl.bounded_reads import TooLarge, read_file

try:  # libyaml's parser: ten times faster on a large file
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

__all__ = [
    "MAX_DATA_FILE_BYTES",
    "DataFileError",
    "DuplicateKeyError",
    "UniqueKeyLoader",
    "read_data_file",
    "read_data_text",
]

T = TypeVar("T")

MAX_DATA_FILE_BYTES = 1_000_000
"""Largest data file read, in bytes: ten times the largest one shipped (the common passwords,
80 KB), and room for an admin's presets or spec policy many times over."""
_DATA_FILE_FIX = "name a smaller YAML file (data files hold rules and words, not data sets)"
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"


class DuplicateKeyError(ValueError):
    """A mapping names the same key twice; the message gives its line, column and key."""


class DataFileError(ValueError):
    """A packaged data file that cannot be used; the message names the file, field and fix."""


class UniqueKeyLoader(_SafeLoader):
    """PyYAML's safe loader, refusing a key written twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build the mapping, or raise :class:`DuplicateKeyError` for a key written twice."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue  # `<<: *defaults` may be overridden by the keys next to it
            if key_node.tag == _STR and isinstance(key_node, yaml.ScalarNode):
                key: Any = key_node.value  # what the constructor would return, built for free
            else:
                key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = (type(key), key) in seen  # 1 and true are different keys here
            except TypeError:  # an unhashable key; the base class reports it
                break
            if duplicate:
                mark = key_node.start_mark
                raise DuplicateKeyError(
                    f"line {mark.line + 1}, column {mark.column + 1}: the key {key!r} appears "
                    "twice in this mapping; keep one"
                )
            seen.add((type(key), key))
        return super().construct_mapping(node, deep=deep)


def read_data_file(file: Traversable, adapter: TypeAdapter[T]) -> T:
    """Parse the YAML ``file`` and validate it with ``adapter``.

    At most :data:`MAX_DATA_FILE_BYTES` are read: an admin's file (``MISSIONCTL_*_FILE``) may
    name a device or a FIFO, which is refused once it passes the limit.

    Raises:
        DataFileError: larger than the limit, not YAML, a key written twice, or a value the
            type refuses; the message starts with the file and names every field at fault.
        OSError: the file cannot be read.
    """
    text = read_data_text(file)
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)
    except DuplicateKeyError as exc:
        raise DataFileError(f"{file}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise DataFileError(f"{file}: {where}{exc.problem or exc}") from None
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise data_file_error(file, [_problem(error) for error in exc.errors()]) from None


def read_data_text(file: Traversable) -> str:
    """The UTF-8 text of ``file``, of at most :data:`MAX_DATA_FILE_BYTES` (one more is read).

    Raises:
        DataFileError: the file is larger; the message names it, the limit and the fix.
        OSError: it cannot be read.
        UnicodeDecodeError: it is not UTF-8.
    """
    try:
        return read_file(file, limit=MAX_DATA_FILE_BYTES, fix=_DATA_FILE_FIX).decode("utf-8")
    except TooLarge as exc:
        raise DataFileError(exc.problems[0].message) from None


def data_file_error(file: Traversable, problems: Sequence[str]) -> DataFileError:
    """The error for ``problems`` (each ``"field: what is wrong and the fix"``) in ``file``."""
    return DataFileError(f"{file}: " + "; ".join(problems))


def _problem(error: Any) -> str:
    """One Pydantic error as ``field: message``, in words for the person editing the file."""
    field = ".".join(str(part) for part in error["loc"]) or "the file"
    kind, message = error["type"], error["msg"]
    if kind == "unexpected_keyword_argument":
        message = "is not a field here; check its spelling or remove it"
    elif kind == "missing" or kind == "missing_argument":
        message = "is required; add it"
    elif not isinstance(error.get("input"), dict | list):
        message = f"{message} (got {error.get('input')!r})"
    return f"{field}: {message}"
