"""Free space where the product writes: the data directory and, for SQLite, the database's volume.

``/healthz`` reports it so that an operator hears of a filling disk before writes start to
fail: a volume is ``low`` under the threshold (``MISSIONCTL_DISK_FREE_MIN_MB``) and ``full``
when less than ``FULL_BYTES`` is left, too little for one more transaction. PostgreSQL's
volume is the database server's, out of reach here: its faults show in the database check.
"""

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FULL_BYTES", "DiskReport", "Volume", "read_disk"]

FULL_BYTES = 1024 * 1024
_ORDER = {"ok": 0, "low": 1, "full": 2, "unknown": 1}


@dataclass(frozen=True, slots=True)
class Volume:
    """One place written to: ``status`` ok, low, full or unknown (it could not be read)."""

    name: str
    status: str
    free_bytes: int | None
    total_bytes: int | None


@dataclass(frozen=True, slots=True)
class DiskReport:
    """The volumes, and the worst of their statuses."""

    status: str
    free_min_bytes: int
    volumes: tuple[Volume, ...]


def read_disk(places: dict[str, Path], *, free_min_bytes: int) -> DiskReport:
    """Free space of each named place (the nearest existing directory of its path)."""
    volumes = tuple(_volume(name, path, free_min_bytes) for name, path in places.items())
    worst = max((v.status for v in volumes), key=_ORDER.__getitem__, default="ok")
    return DiskReport(status=worst, free_min_bytes=free_min_bytes, volumes=volumes)


def _volume(name: str, path: Path, free_min_bytes: int) -> Volume:
    try:
        stats = os.statvfs(_existing(path))
    except OSError:
        return Volume(name=name, status="unknown", free_bytes=None, total_bytes=None)
    # What an unprivileged writer may still use: the root reserve is not the product's.
    free = stats.f_bavail * stats.f_frsize
    total = stats.f_blocks * stats.f_frsize
    status = "full" if free < FULL_BYTES else "low" if free < free_min_bytes else "ok"
    return Volume(name=name, status=status, free_bytes=free, total_bytes=total)


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent (a database file not made yet, say)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path
