"""The rules of coding steps: repositories, branch names, approval modes, merge steps (ADR 0067).

A coding step (agent ``coding:<preset>``) runs a coding CLI in a git worktree of its mission's
repository, on a branch of its own; a ``git:merge`` step merges that branch back into the base
once an approver has seen the diff. Everything here is pure: names, patterns and the shape of
the steps a plan's code tasks compile to.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import urlsplit

CODING_KIND: Final = "coding"
MERGE_AGENT: Final = "git:merge"
ApprovalMode = Literal["read-only", "workspace-write", "full-access"]
APPROVAL_MODES: Final[tuple[ApprovalMode, ...]] = ("read-only", "workspace-write", "full-access")
DEFAULT_APPROVAL_MODE: Final[ApprovalMode] = "read-only"
FULL_ACCESS: Final[ApprovalMode] = "full-access"
CODE_ROLES: Final = frozenset(
    {"backend", "frontend", "mobile", "firmware", "data", "ml", "devops", "infrastructure"}
)
"""Plan roles whose tasks change code: with a repository and a coding agent, they become
coding steps; the other roles keep writing documents."""

# A branch name as we accept one from a user: git's rules made stricter (no leading dash, so
# it can never be read as an option; no "..", no trailing "." or "/").
_BRANCH: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}")
# A URL's user or host never starts with "-": ssh would read it as an option.
_URL: Final = re.compile(
    r"(?:https?|ssh|git|file)://(?!-)(?![^/]*@-)[^\s]+"
    r"|[A-Za-z0-9._][A-Za-z0-9._-]*@[A-Za-z0-9.][A-Za-z0-9.-]*:[^\s-][^\s]*"
)
_STEP_ID_MAX: Final = 63
_MERGE_SUFFIX: Final = "-merge"


def is_branch_name(name: str) -> bool:
    """Whether ``name`` is a branch name coding steps accept."""
    return (
        bool(_BRANCH.fullmatch(name))
        and ".." not in name
        and "//" not in name
        and not name.endswith((".", "/", ".lock"))
    )


def is_repository_source(source: str) -> bool:
    """Whether ``source`` is an absolute path or a clone URL git may fetch (never ``ext::``)."""
    if source.startswith("/"):
        return "\0" not in source and "\n" not in source
    return bool(_URL.fullmatch(source))


def is_coding_agent(agent: str) -> bool:
    """Whether ``agent`` names a coding agent (``coding:<preset>``)."""
    kind, _, preset = agent.partition(":")
    return kind == CODING_KIND and bool(preset)


def branch_for(run_id: str, step_id: str) -> str:
    """The branch a coding step works on: ``missionctl/<run's first 8 hex>/<step id>``."""
    return f"missionctl/{run_id.replace('-', '')[:8]}/{step_id}"


def merge_step_id(step_id: str) -> str:
    """The id of the step that merges ``step_id``'s branch: ``<id>-merge``, cut to fit."""
    return step_id[: _STEP_ID_MAX - len(_MERGE_SUFFIX)] + _MERGE_SUFFIX


def merge_title(task_title: str) -> str:
    """The title of the step that merges a task's branch, and its merge commit's subject.

    >>> merge_title("Build the top_words")
    'Merge: Build the top_words'
    """
    return f"Merge: {task_title}"


GENERIC_PRESET: Final = "generic"
"""The preset whose command line is the step's own ``inputs.argv``."""
MODE_ARGS: Final = "${mode_args}"
"""In a preset's command line, alone in its argument: the arguments of the step's mode."""
MODEL_ARGS: Final = "${model_args}"
"""In a preset's command line, alone in its argument: the arguments that point the CLI at the
step's model endpoint (``inputs.model``); nothing when the step names none."""

# What a model endpoint's parts may hold: they are substituted into a CLI's arguments and
# configuration (Codex reads TOML strings), so no quote, backslash, space or control character.
_URL_SAFE: Final = re.compile(r"[A-Za-z0-9._~:/?#\[\]@!$&()*+,;=%-]{1,500}")
_MODEL_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@-]{0,99}")
_SECRET_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True, slots=True)
class ModelEndpoint:
    """Where a coding step's CLI reaches its model: ``inputs.model`` of the step.

    ``base_url`` is the API's base (``https://api.openai.com/v1``); ``secret`` names the secret
    that holds its key (never the key); ``name`` is the model to ask for, when not the CLI's
    default. ``host`` and ``port`` are the one destination the step's network may reach.
    """

    base_url: str
    secret: str
    name: str | None = None

    @property
    def host(self) -> str:
        """The endpoint's host name or address."""
        return urlsplit(self.base_url).hostname or ""

    @property
    def port(self) -> int:
        """The endpoint's port (the scheme's default when the URL names none)."""
        parts = urlsplit(self.base_url)
        return parts.port or (443 if parts.scheme == "https" else 80)


def model_endpoint(value: Any) -> ModelEndpoint | None:
    """Read a step's ``inputs.model`` (``None`` when absent).

    Raises:
        ValueError: the value is malformed; the message names the field and the fix.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) - {"base_url", "secret", "name"}:
        raise ValueError("inputs.model must be an object with base_url, secret and optionally name")
    base_url, secret, name = value.get("base_url"), value.get("secret"), value.get("name")
    if not isinstance(base_url, str) or not _is_endpoint_url(base_url):
        raise ValueError(
            "inputs.model.base_url must be an http or https URL with a host and no user or "
            "password, such as https://api.openai.com/v1"
        )
    if not isinstance(secret, str) or not _SECRET_NAME.fullmatch(secret):
        raise ValueError(
            "inputs.model.secret must name the secret that holds the key (letters, digits, _)"
        )
    if name is not None and (not isinstance(name, str) or not _MODEL_NAME.fullmatch(name)):
        raise ValueError("inputs.model.name must be a model name (letters, digits, . _ : / @ -)")
    return ModelEndpoint(base_url.rstrip("/"), secret, name)


def _is_endpoint_url(url: str) -> bool:
    if not _URL_SAFE.fullmatch(url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.username is None
        and parts.password is None
        and not parts.query
        and not parts.fragment
    )


@dataclass(frozen=True, slots=True)
class CodingCli:
    """A coding preset's command line, as the approval rule needs it (placeholders unfilled).

    ``modes`` gives, per approval mode, the arguments that replace :data:`MODE_ARGS`;
    ``key_env`` is the variable the CLI reads a model endpoint's key from (``None``: the preset
    cannot be pointed at one), which the rule judges as a ``secret_env`` entry.
    """

    argv: tuple[str, ...]
    modes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    key_env: str | None = None


def coding_command(
    agent: str, inputs: Mapping[str, Any], clis: Mapping[str, CodingCli]
) -> list[str] | None:
    """The command line a coding step of ``agent`` runs, placeholders left as written.

    ``coding:generic`` runs its ``inputs.argv``; any other preset its CLI's command line from
    ``clis``, with the arguments of the step's approval mode in place of :data:`MODE_ARGS`.

    Returns:
        The command line, or ``None`` when it is unknown: a preset ``clis`` does not hold, or a
        generic step whose ``argv`` is not a non-empty list of strings.
    """
    preset = agent.partition(":")[2]
    if preset == GENERIC_PRESET:
        argv = inputs.get("argv")
        if isinstance(argv, list) and argv and all(isinstance(arg, str) for arg in argv):
            return list(argv)
        return None
    cli = clis.get(preset)
    if cli is None or not cli.argv:
        return None
    mode = inputs.get("approval_mode", DEFAULT_APPROVAL_MODE)
    line: list[str] = []
    for arg in cli.argv:
        if arg == MODE_ARGS:
            line += list(cli.modes.get(str(mode), ()))
        elif arg != MODEL_ARGS:  # where the model is, not what runs
            line.append(arg)
    return line
