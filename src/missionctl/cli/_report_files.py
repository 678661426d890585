"""The run report as named files under the data directory: ``reports/<slug>/report.md|json``.

``missionctl run`` copies the report it stored (two blobs, named by their hash) to files a
person can find again: one directory per mission under ``MISSIONCTL_HOME/reports``, named after
the mission's title. The name is built from safe characters only, so no title, however hostile
(``../../etc``, slashes, dots, control characters), can place a file outside ``reports/``.
"""

import json
import os
import uuid
from pathlib import Path

from missionctl.bounded_reads import read_file
from missionctl.domain.slugs import SLUG_MAX_CHARS, slug

REPORTS_DIR = "reports"
MARKDOWN_NAME = "report.md"
JSON_NAME = "report.json"
REPORT_MAX_BYTES = 64 * 1024 * 1024
"""Largest ``report.json`` read back to find its mission: far past any report written here."""
_REPORT_FIX = "a report this large was not written by missionctl"
_SHORT_ID_CHARS = 8  # from the id's end: the random bits (its start is a timestamp)
__all__ = ["SLUG_MAX_CHARS", "mission_report_dir", "report_slug", "write_report_files"]


def report_slug(title: str) -> str:
    """A directory name for ``title``: ``domain.slugs.slug`` (``[a-z0-9-]``, never empty)."""
    return slug(title)


def mission_report_dir(home: Path, *, title: str, mission_id: uuid.UUID) -> Path:
    """The mission's report directory under ``home/reports``, created (mode 0700) if new.

    ``reports/<slug>`` when it is new or already holds this mission's report; otherwise (two
    missions with the same slug) ``reports/<slug>-<last 8 hex digits of the mission id>``.

    Raises:
        OSError: the directory cannot be created, or resolves outside ``reports/`` (a link
            planted there).
    """
    root = home / REPORTS_DIR
    for directory in (home, root):
        directory.mkdir(mode=0o700, exist_ok=True)
    name = report_slug(title)
    plain = root / name
    try:
        plain.mkdir(mode=0o700)
        chosen = plain
    except FileExistsError:
        chosen = plain
        if _owner(plain) != mission_id:
            chosen = root / f"{name}-{mission_id.hex[-_SHORT_ID_CHARS:]}"
            chosen.mkdir(mode=0o700, exist_ok=True)
    if not chosen.resolve().is_relative_to(root.resolve()):
        raise OSError(f"{chosen} does not resolve inside {root}")
    return chosen


def write_report_files(
    home: Path, *, title: str, mission_id: uuid.UUID, markdown: bytes, json_bytes: bytes
) -> tuple[Path, Path]:
    """Write the report as ``report.md`` and ``report.json`` in the mission's report directory.

    Files are private (mode 0600) and replaced if they exist; a link in their place is not
    followed. Returns the two paths, Markdown first.
    """
    directory = mission_report_dir(home, title=title, mission_id=mission_id)
    paths = (directory / MARKDOWN_NAME, directory / JSON_NAME)
    for path, data in zip(paths, (markdown, json_bytes), strict=True):
        _write_private(path, data)
    return paths


def _owner(directory: Path) -> uuid.UUID | None:
    """The mission whose report ``directory`` holds, from its ``report.json``; None: unknown.

    At most :data:`REPORT_MAX_BYTES` are read: a file put in its place (a device, a huge file)
    makes the owner unknown, rather than the command run out of memory.
    """
    try:
        data = read_file(directory / JSON_NAME, limit=REPORT_MAX_BYTES, fix=_REPORT_FIX)
        report = json.loads(data)
        return uuid.UUID(str(report["mission"]["id"]))
    except (OSError, ValueError, KeyError, TypeError):  # TooLarge is a ValueError
        return None


def _write_private(path: Path, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    descriptor = os.open(path, flags, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
