"""The rules of coding steps: repositories, branch names, approval modes, merge steps (ADR 0067).

A coding step (agent ``coding:<preset>``) runs a coding CLI in a git worktree of its mission's
repository, on a branch of its own; a ``git:merge`` step merges that branch back into the base
once an approver has seen the diff. Everything here is pure: names, patterns and the shape of
the steps a plan's code tasks compile to.
"""

import re
from typing import Final, Literal

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
_URL: Final = re.compile(
    r"(?:https?|ssh|git|file)://[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s-][^\s]*"
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
