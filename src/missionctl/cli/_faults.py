"""One line for a fault of the command's surroundings: its database, disk, files or network.

A command whose database is down, whose data directory is read-only or full, or whose
settings name a file that is not there has found nothing wrong with the program: the person
running it has something to fix, and a traceback of hundreds of lines hides the one sentence
they need. ``fault_line`` gives that sentence (what is wrong, where, what to do, a password
never shown); ``missionctl.cli.main`` prints it and exits ``EXIT_UNAVAILABLE``. A fault of
any other kind is a bug and keeps its traceback, as does every fault under ``--debug`` or
``MISSIONCTL_LOG_LEVEL=DEBUG``.
"""

import errno
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # sqlalchemy loads only when a fault is worded
    from sqlalchemy import URL

__all__ = ["debug_wanted", "fault_line"]

# The operating system's refusals that the environment causes, and what to do about each.
_OS_FIXES: dict[int, str] = {
    errno.ENOSPC: "no space left on its device: free some space and run the command again",
    errno.EDQUOT: "the disk quota is exhausted: free some space and run the command again",
    errno.EROFS: "it is on a read-only filesystem: make the volume writable, or point "
    "MISSIONCTL_HOME at one that is",
    errno.EACCES: "permission denied: give this user access to it, or point MISSIONCTL_HOME "
    "at a directory it may write",
    errno.EPERM: "the operation is not permitted: give this user access to it, or point "
    "MISSIONCTL_HOME at a directory it may write",
    errno.ENOENT: "it does not exist; create it, or correct the setting that names it",
    errno.ENOTDIR: "a file stands where a directory should be: move it, or correct the "
    "setting that names the path",
    errno.EEXIST: "a file stands where a directory should be: move it, or correct the "
    "setting that names the path",
    errno.EISDIR: "it is a directory where a file should be: correct the setting that names it",
    errno.EIO: "the device reported an input/output error: check the disk",
    errno.ECONNREFUSED: "the connection was refused: is the service running at that address?",
    errno.EHOSTUNREACH: "the host cannot be reached: check the address and the network",
    errno.ENETUNREACH: "the network cannot be reached: check the address and the network",
    errno.ETIMEDOUT: "the connection timed out: check the address and the network",
}
_MISSING_FIX = "create it, or correct the setting that names the path"
# How far down a chain of causes (and groups of errors) the cause is looked for.
_MAX_DEPTH = 12


def debug_wanted(flag: bool) -> bool:
    """Whether a fault should keep its traceback: ``--debug`` or a DEBUG log level is set."""
    import os

    return flag or os.environ.get("MISSIONCTL_LOG_LEVEL", "").strip().upper() == "DEBUG"


def fault_line(error: BaseException) -> str | None:
    """The one line saying what is wrong around the command, or ``None`` for a bug.

    ``error`` and the errors that caused it (``__cause__``, ``__context__``, the members of an
    exception group) are searched, the outermost first: a database fault is worded with the
    database it concerns, an operating-system refusal with the path or address it concerns.
    """
    for found in _causes(error):
        line = _database_line(found) or _os_line(found)
        if line is not None:
            return line
    return None


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what lies under it, breadth first, each once, at most ``_MAX_DEPTH`` deep."""
    seen: set[int] = set()
    level = [error]
    for _ in range(_MAX_DEPTH):
        below: list[BaseException] = []
        for found in level:
            if id(found) in seen:
                continue
            seen.add(id(found))
            yield found
            if isinstance(found, BaseExceptionGroup):
                below.extend(found.exceptions)
            below.extend(e for e in (found.__cause__, found.__context__) if e is not None)
        if not below:
            return
        level = below


def _database_line(error: BaseException) -> str | None:
    """A database fault (``db.faults``) worded for the database the settings name."""
    from missionctl.db.faults import database_fault

    fault = database_fault(error)
    if fault is None:
        return None
    url = _database_url()
    if url is None:  # the settings themselves may be what is wrong: say what is known
        return fault.message
    if url.get_backend_name() == "sqlite" and url.database:
        sqlite = _sqlite_line(Path(url.database), fault.cause)
        if sqlite is not None:
            return sqlite
    return f"{fault.message} (database: {url.render_as_string(hide_password=True)})"


def _sqlite_line(path: Path, cause: str) -> str | None:
    """Why the SQLite file ``path`` cannot be opened, when its directory tells."""
    if cause != "unreachable":
        return None  # disk full, read-only, damaged: the fault's own words say it
    where = f"cannot open the SQLite database {path}"
    if not path.parent.is_dir():
        return (
            f"{where}: its directory {path.parent} does not exist; create it, or correct "
            "MISSIONCTL_DATABASE_URL (or MISSIONCTL_HOME)"
        )
    return (
        f"{where}: this user cannot create or open it there; check the directory's "
        "permissions, or correct MISSIONCTL_DATABASE_URL (or MISSIONCTL_HOME)"
    )


def _database_url() -> "URL | None":
    """The database URL the settings give, or ``None`` when the settings do not load."""
    try:
        from sqlalchemy import make_url

        from missionctl.settings import Settings

        return make_url(Settings().database_url)
    except Exception:
        return None


def _os_line(error: BaseException) -> str | None:
    """An operating-system refusal the environment causes, naming its path or address."""
    if not isinstance(error, OSError) or error.errno not in _OS_FIXES:
        return None
    what = _os_subject(error)
    if error.errno == errno.ENOENT and error.filename is not None:
        parent = Path(str(error.filename)).parent
        if not parent.is_dir():
            return f"{what}: its directory {parent} does not exist; {_MISSING_FIX}"
    return f"{what}: {_OS_FIXES[error.errno]}"


def _os_subject(error: OSError) -> str:
    """What was refused: ``cannot write /path`` when a path is known, else the system's words."""
    if error.filename is not None:
        target = f"{error.filename} -> {error.filename2}" if error.filename2 else error.filename
        return f"cannot use {target}"
    return f"the system refused ({error.strerror or type(error).__name__})"
