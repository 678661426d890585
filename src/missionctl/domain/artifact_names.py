"""Artifact names are unique within a run: the rule that picks a free one (ADR 29).

A run's artifacts are listed, linked and downloaded by name, so two of them called
``test-plan.md`` cannot be told apart. The first artifact of a run to take a name keeps it; a
later one whose name is taken gets its step's id in front of the file's stem (in the same
folder, with the same extension, so its media type and kind stay): ``perf-tests-test-plan.md``,
``deep/build-out.txt``. Only if that is taken too (or there is no step, as for a run's report)
does a counter follow: ``report-2.md``. The rule is deterministic: the same names in the same
order always come out the same.
"""

from collections.abc import Container

NAME_MAX_CHARS = 300  # the column's width
_MAX_EXTENSION_CHARS = 8


def distinct_name(name: str, taken: Container[str], *, owner: str | None = None) -> str:
    """``name``, or the first of its variants that is not ``taken`` (see the module docstring).

    Args:
        name: the name the producer chose (a file path such as ``deep/out.txt`` is fine).
        taken: the names already used in the run.
        owner: the id of the step that produced it, if a step did.
    """
    if name not in taken:
        return name
    folder, stem, extension = _parts(name)
    prefix = f"{owner}-" if owner else ""
    if prefix:
        candidate = _fit(folder, prefix, stem, "", extension)
        if candidate not in taken:
            return candidate
    counter = 2
    while (candidate := _fit(folder, prefix, stem, f"-{counter}", extension)) in taken:
        counter += 1
    return candidate


def _parts(name: str) -> tuple[str, str, str]:
    """``("deep/", "out", ".txt")`` for ``deep/out.txt``; a dot-file has no extension."""
    folder, slash, base = name.rpartition("/")
    stem, dot, extension = base.rpartition(".")
    if not dot or not stem or not extension.isalnum() or len(extension) > _MAX_EXTENSION_CHARS:
        stem, extension = base, ""
    else:
        extension = "." + extension
    return folder + slash, stem, extension


def _fit(folder: str, prefix: str, stem: str, suffix: str, extension: str) -> str:
    """``folder + prefix + stem + suffix + extension``, the stem cut to fit the column.

    The prefix and suffix are never cut, so two candidates always differ; a folder path so
    long that nothing else fits is dropped.
    """
    room = NAME_MAX_CHARS - len(folder) - len(prefix) - len(suffix) - len(extension)
    if room < 1:
        folder, room = "", room + len(folder)
    return folder + prefix + stem[: max(room, 0)] + suffix + extension


__all__ = ["NAME_MAX_CHARS", "distinct_name"]
