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

CODING_KIND: Final = "coding"
MERGE_AGENT: Final = "git:merge"
ApprovalMode = Literal["read-only", "workspace-write", "full-access"]
APPROVAL_MODES: Final[tuple[ApprovalMode, ...]] = ("read-only", "workspace-write", "full-access")
DEFAULT_APPROVAL_MODE: Final[ApprovalMode] = "read-only"
FULL_ACCESS: Final[ApprovalMode] = "full-access"
CODE_ROLES: Final = frozenset({"backend", "frontend", "mobile", "data", "ml", "devops"})
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


GENERIC_PRESET: Final = "generic"
"""The preset whose command line is the step's own ``inputs.argv``."""
MODE_ARGS: Final = "${mode_args}"
"""In a preset's command line, alone in its argument: the arguments of the step's mode."""


@dataclass(frozen=True, slots=True)
class CodingCli:
    """A coding preset's command line, as the approval rule needs it (placeholders unfilled).

    ``modes`` gives, per approval mode, the arguments that replace :data:`MODE_ARGS`.
    """

    argv: tuple[str, ...]
    modes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


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
        line += list(cli.modes.get(str(mode), ())) if arg == MODE_ARGS else [arg]
    return line
