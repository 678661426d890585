"""Where ``serve`` listens, for the commands that print links to its pages.

``serve --port 8791`` binds where the settings do not say, and a ``login-link`` typed in
another terminal knows only the settings. So while it runs, ``serve`` writes the base URL it
serves on to ``serving.json`` in its data directory, with its process id, and removes the file
when it stops; a command on the same data directory uses that address while that process lives.
A file left by a server that was killed names a process that is gone, and is ignored.
"""

import json
import os
from pathlib import Path

__all__ = ["SERVING_FILE", "announce", "listening_url", "served_url", "withdraw"]

SERVING_FILE = "serving.json"

_ANY_INTERFACE = {"0.0.0.0", "::", ""}


def listening_url(host: str, port: int) -> str:
    """The base URL a browser on this machine reaches a server bound to ``host:port`` at.

    A wildcard bind address is not somewhere a browser can go; the loopback address is.
    """
    host = "127.0.0.1" if host in _ANY_INTERFACE else host
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def announce(home: Path, url: str) -> None:
    """Record that this process serves ``url`` for the data directory ``home``.

    Written whole or not at all (a reader never sees half a file), readable by the owner only
    as everything in the data directory.
    """
    partial = home / f".{SERVING_FILE}.{os.getpid()}"
    partial.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
    partial.chmod(0o600)
    partial.replace(home / SERVING_FILE)


def withdraw(home: Path) -> None:
    """Remove the record if this process wrote it (another server may have replaced it)."""
    path = home / SERVING_FILE
    if _read(path).get("pid") == os.getpid():
        path.unlink(missing_ok=True)


def served_url(home: Path) -> str | None:
    """The base URL a live ``serve`` on ``home`` listens on, or ``None`` (no server, or gone)."""
    record = _read(home / SERVING_FILE)
    url, pid = record.get("url"), record.get("pid")
    if not isinstance(url, str) or not isinstance(pid, int) or not _alive(pid):
        return None
    return url


def _read(path: Path) -> dict[str, object]:
    """The record at ``path``, or ``{}`` when there is none or it is not one."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (it may be another user's: that counts too)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True
    except (OSError, OverflowError):
        return False
    return True
