"""Secrets a workflow step uses by name; their values never enter a workflow or a record.

A step names a secret (``inputs.secret_env`` of a ``command`` step, ``inputs.secrets`` of an
``llm`` step); the value comes from the worker's environment variable
``MISSIONCTL_SECRET_<NAME>`` (name upper-cased) when the step runs. Only that prefix can be
read, so a workflow cannot ask for the server's own settings (``MISSIONCTL_LLM_API_KEY``, …).
Every value resolved is registered with the process's one redaction
(``missionctl.llm.redaction.redact``), and so is every ``MISSIONCTL_SECRET_*`` variable when the
process starts (``missionctl.security.process.register_server_secrets``): it is replaced by
``[REDACTED]`` in whatever the step logs, returns, names or writes as an artifact, in every
event and row the engine records, and in every log record of the process; each of its lines of
at least 8 characters is too, wherever it appears alone. A value shorter than 8 characters is
not registered process-wide (it would hide a word from every record); the agents that resolve
it still hide it from their step's own log lines, outputs, artifact names and contents.
"""

import os
import re
from collections.abc import Mapping
from typing import Any

from missionctl.agents.base import AgentError
from missionctl.llm.redaction import register_secret

SECRET_ENV_PREFIX = "MISSIONCTL_SECRET_"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def resolve_secrets(declared: Any, *, field: str) -> dict[str, str]:
    """Resolve ``{key: secret name}`` to ``{key: value}`` and register every value.

    Values shorter than 8 characters are not registered (see the module docstring): the
    caller hides them from its own step's records by passing them to the redaction.

    Args:
        declared: the step's mapping (``None`` means no secrets).
        field: the input's name, for error messages.

    Raises:
        AgentError: (not retryable) the mapping is malformed or a secret is not set.
    """
    if declared is None:
        return {}
    if not isinstance(declared, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and _NAME.match(v) for k, v in declared.items()
    ):
        raise AgentError(
            f"inputs.{field} must map names to secret names (letters, digits, _)",
            retryable=False,
        )
    values: dict[str, str] = {}
    for key, name in declared.items():
        value = os.environ.get(SECRET_ENV_PREFIX + name.upper())
        if not value:
            raise AgentError(
                f"secret {name!r} is not set (environment variable "
                f"{SECRET_ENV_PREFIX}{name.upper()} of the worker)",
                retryable=False,
            )
        register_secret(value)
        values[key] = value
    return values
