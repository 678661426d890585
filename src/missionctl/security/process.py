"""What every Mission Control process does first: private files, redacted logs, known secrets.

The data directory holds the database, the session-signing key, the blobs and the steps'
workspaces: nobody but the server's user may read them. The process's file-creation mask is set
to ``0o077`` at start (``create_app`` and the command line), so every directory is created
``0700`` and every file ``0600`` — by this code, by SQLite (its ``-wal`` and ``-shm`` files),
and by the programs that command steps run. The places that create them also ask for those
modes explicitly, since a process's mask is shared with everything that runs in it.
"""

import logging
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from missionctl.llm.redaction import install_log_redaction, register_secret

if TYPE_CHECKING:  # every command runs restrict_process first: it must not load SQLAlchemy
    from missionctl.settings import Settings

PRIVATE_UMASK = 0o077

log = logging.getLogger(__name__)


def restrict_process() -> None:
    """Make what this process creates private to its user, and its log records redacted.

    Sets the file-creation mask to ``0o077`` and installs the log-record redaction of
    ``missionctl.llm.redaction``. Calling it again changes nothing.
    """
    os.umask(PRIVATE_UMASK)
    install_log_redaction()


def register_server_secrets(settings: "Settings", *, session_key: str) -> None:
    """Register the server's own secrets and the steps' secrets with the redaction.

    They are the session-signing key, the model's API key, the blob bucket's secret key, the
    database password and every ``MISSIONCTL_SECRET_*`` variable of the process's environment
    (the values steps may ask for): none of them should appear in a record or a log line,
    whatever echoes them, even in a process that never runs the step that resolves it (the
    API's log records, another worker). As everywhere, a value shorter than 8 characters is not
    registered (``missionctl.llm.redaction.MIN_SECRET_CHARS``) and each line of a multi-line
    value is.
    """
    from sqlalchemy.engine import make_url

    from missionctl.agents.secrets import SECRET_ENV_PREFIX  # the server's start, not the CLI's

    values = [session_key]
    if settings.llm.api_key is not None:
        values.append(settings.llm.api_key.get_secret_value())
    if settings.blobs.secret_access_key is not None:
        values.append(settings.blobs.secret_access_key.get_secret_value())
    password = make_url(settings.database_url).password
    if isinstance(password, str):
        values.append(password)
    values += [v for k, v in os.environ.items() if k.startswith(SECRET_ENV_PREFIX)]
    for value in values:
        register_secret(value)


def warn_if_shared(home: Path) -> None:
    """Log a warning naming the fix when the data directory is open to group or others.

    A directory created before files were made private keeps its modes; nothing here changes
    them behind the operator's back.
    """
    try:
        mode = home.stat().st_mode
    except FileNotFoundError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "the data directory %s can be read by other users (mode %o); "
            "make it private with: chmod -R go= %s",
            home,
            stat.S_IMODE(mode),
            home,
        )
