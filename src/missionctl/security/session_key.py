"""The session key of a running server, which follows its file when the file is replaced.

``missionctl keys rotate-session-key`` replaces ``MISSIONCTL_HOME/secret_key`` in one rename
(ADR 0075). A server asks ``SessionKeySource`` for the key at each use; at most once a second
it compares the file's identity (inode, modification time, size) with what it read, and reads
it again when one changed. So every session signed with the old key stops verifying within a
second, without a restart. A key given by ``MISSIONCTL_SERVER_SECRET_KEY`` never changes.

A replacement that cannot be used (missing, empty, too short, readable by other users) is
refused with a warning and the key in use stays: a broken file must not sign everyone out,
nor make a key that others can read the one that signs.
"""

import logging
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

from missionctl.bounded_reads import TooLarge
from missionctl.llm.redaction import register_secret
from missionctl.security.sessions import load_secret_key
from missionctl.services.usecases.keys import read_session_key, session_key_path
from missionctl.settings import Settings

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0
"""How often, at most, the key file's identity is compared with what was read."""

MIN_KEY_CHARS = 32
"""A replacement shorter than this is no key ``rotate-session-key`` wrote; it is refused."""

_Stamp = tuple[int, int, int]


class SessionKeySource:
    """The session-signing key, read again when its file is replaced (call it for the key)."""

    def __init__(
        self,
        settings: Settings,
        *,
        check_s: float = CHECK_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Load the key (made on first use, as ``load_secret_key`` does) and its file's stamp."""
        self._path: Path | None = None
        if settings.server.secret_key is None:
            self._path = session_key_path(settings)
        self._key = load_secret_key(settings)
        self._stamp = _stamp_of(self._path) if self._path is not None else None
        self._check_s = check_s
        self._clock = clock
        self._checked = clock()

    def __call__(self) -> str:
        """The key to sign and check sessions with now."""
        if self._path is not None and self._clock() - self._checked >= self._check_s:
            self._checked = self._clock()
            self._follow(self._path)
        return self._key

    def _follow(self, path: Path) -> None:
        stamp = _stamp_of(path)
        if stamp is None or stamp == self._stamp:
            return
        self._stamp = stamp  # a refused replacement is reported once, not every second
        try:
            mode = path.stat().st_mode
            key = read_session_key(path)
        except (OSError, UnicodeError, TooLarge) as exc:
            log.warning("kept the session key: %s could not be read (%s)", path, exc)
            return
        if stat.S_IMODE(mode) & 0o077:
            log.warning(
                "kept the session key: %s may be read by other users (mode %o); "
                "run `missionctl keys rotate-session-key` to write a private one",
                path,
                stat.S_IMODE(mode),
            )
            return
        if len(key) < MIN_KEY_CHARS:
            log.warning("kept the session key: %s holds no usable key", path)
            return
        register_secret(key)  # before first use: no log line may carry it
        self._key = key
        log.info("the session key changed (%s): sessions signed with the old key end", path)


def _stamp_of(path: Path) -> _Stamp | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_ino, found.st_mtime_ns, found.st_size)
