"""Secrets a workflow step uses by name; their values never enter a workflow or a record.

A step names a secret (``inputs.secret_env`` of a ``command`` step, ``inputs.secrets`` of an
``llm`` step); the value comes from the worker's environment variable
``MISSIONCTL_SECRET_<NAME>`` (name upper-cased) when the step runs. Only that prefix can be
read, so a workflow cannot ask for the server's own settings (``MISSIONCTL_LLM_API_KEY``, …).
Every value resolved is registered with the redactor: it is replaced by ``[REDACTED]`` in
whatever the step logs, returns or writes as an artifact, and in the LLM layer's logs.
"""

import os
import re
from collections.abc import Mapping
from typing import Any

from missionctl.agents.base import AgentError
from missionctl.llm.redaction import REDACTED, redact_registered, register_secret

SECRET_ENV_PREFIX = "MISSIONCTL_SECRET_"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def resolve_secrets(declared: Any, *, field: str) -> dict[str, str]:
    """Resolve ``{key: secret name}`` to ``{key: value}`` and register every value.

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


def redact_text(text: str) -> str:
    """``text`` without any registered secret."""
    return redact_registered(text)


def redact_bytes(content: bytes, secrets: Mapping[str, str]) -> bytes:
    """``content`` with every value of ``secrets`` replaced (byte-wise: artifacts may be binary)."""
    for value in sorted(secrets.values(), key=len, reverse=True):
        content = content.replace(value.encode("utf-8"), REDACTED.encode("utf-8"))
    return content


def redact_value(value: Any) -> Any:
    """A JSON-like value with every string in it redacted."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    return value
