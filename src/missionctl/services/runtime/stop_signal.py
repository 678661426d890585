"""The emergency stop where it can always be set: in memory and in a file written in place.

The emergency stop is a row of the database, and engaging it writes events. When the
database cannot be written (its disk is full, its volume read-only, its server down), the
stop must still take effect: an operator presses it precisely when things go wrong. So the
stop is also kept here:

- in this process's memory, which the engines of this process read before every tick;
- in ``emergency-stop``, a file of ``SIZE`` bytes in the data directory, made (filled, not
  sparse) when a process opens the home and later only overwritten in place, so writing it
  needs no new block on a full disk. Every engine that shares the data directory reads it
  before every tick (a ``stat``, and a read of a few bytes when it changed).

A stop held here is *pending*: the engines stop what they run and dispatch nothing, and
the first engine that can write the database records it there (``emergency.stopped``, the
runs aborted) and clears the signal (``controls.record_pending_stop``).
"""

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["FILE_NAME", "SIZE", "PendingStop", "StopSignal"]

FILE_NAME = "emergency-stop"
SIZE = 4096  # one page: written in place by a single write
_CLEAR: dict[str, object] = {"engaged": False}
# How much of a reason the file keeps (the rest would not fit in one page with the actor).
MAX_REASON_CHARS = 500

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PendingStop:
    """A stop engaged while the database could not record it: who, why and when."""

    actor: str
    reason: str | None
    at: datetime


class StopSignal:
    """This home's emergency-stop signal: ``raise_`` sets it, ``pending`` reads it, ``clear``.

    The stop is held in memory only when the file cannot take it.

    Reads and writes never raise: a signal that cannot be read is taken as clear (the
    database's flag still holds a recorded stop), one that cannot be written is still held
    in memory, and ``raise_`` says which.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._held: PendingStop | None = None  # raised in this process
        self._fd: int | None = None  # the file, open for reading once it exists
        self._page = b""  # the file's content when last read, and what it said
        self._read: PendingStop | None = None

    def prepare(self) -> None:
        """Make the file, filled to ``SIZE`` with a clear signal, unless it is there already."""
        try:
            if self.path.stat().st_size >= SIZE:
                return
        except FileNotFoundError:
            pass
        except OSError:
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError as exc:
            log.debug("cannot make the emergency-stop signal %s: %s", self.path, exc)
            return
        try:
            os.pwrite(fd, _page(_CLEAR), 0)
            os.fsync(fd)
        except OSError as exc:
            log.debug("cannot fill the emergency-stop signal %s: %s", self.path, exc)
        finally:
            os.close(fd)

    def raise_(self, actor: str, reason: str | None) -> bool:
        """Hold the stop in memory and write it to the file; whether the file took it."""
        stop = PendingStop(actor=actor, reason=reason, at=datetime.now(UTC))
        record = {
            "engaged": True,
            "actor": actor,
            "reason": None if reason is None else reason[:MAX_REASON_CHARS],
            "at": stop.at.isoformat(),
        }
        written = self._write(record)
        # Once in the file, the file is the truth: another engine may record and clear it.
        self._held = None if written else stop
        return written

    def clear(self) -> None:
        """Forget the stop here and in the file (the database now holds it, or it was released)."""
        self._held = None
        self._write(_CLEAR)

    def pending(self) -> PendingStop | None:
        """The stop raised here or in the file and not yet recorded, else ``None``.

        The file is read every time (one page, from the page cache: microseconds): its
        modification time is too coarse to tell two writes in quick succession apart.
        """
        if self._held is not None:
            return self._held
        page = self._read_page()
        if page != self._page:
            self._page, self._read = page, _parse(page, self.path)
        return self._read

    def _read_page(self) -> bytes:
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDONLY)
            return os.pread(self._fd, SIZE, 0)
        except OSError:
            return b""

    def close(self) -> None:
        """Let go of the file (the process is done with this home)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _write(self, record: dict[str, object]) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY)  # never O_CREAT: made by prepare, when it can
        except OSError as exc:
            log.debug("cannot open the emergency-stop signal %s: %s", self.path, exc)
            return False
        try:
            os.pwrite(fd, _page(record), 0)  # in place: the file's blocks are already there
            os.fsync(fd)
            return True
        except OSError as exc:
            log.debug("cannot write the emergency-stop signal %s: %s", self.path, exc)
            return False
        finally:
            os.close(fd)


def _page(record: dict[str, object]) -> bytes:
    """``record`` as JSON, padded with spaces to exactly ``SIZE`` bytes (a long reason cut)."""
    text = json.dumps(record, ensure_ascii=False).encode()
    if len(text) > SIZE:
        text = json.dumps({**record, "reason": "(too long to keep here)"}).encode()
    return text.ljust(SIZE, b" ")


def _parse(page: bytes, path: Path) -> PendingStop | None:
    """The pending stop a page of the file holds; a clear, empty or unreadable page is none."""
    try:
        record = json.loads(page.rstrip(b" \0\n") or b"{}")
        if not record.get("engaged"):
            return None
        return PendingStop(
            actor=str(record["actor"]),
            reason=record.get("reason"),
            at=datetime.fromisoformat(record["at"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("the emergency-stop signal %s cannot be read: %s", path, exc)
        return None
