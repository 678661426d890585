"""Detect a mission's test command from its repository's base commit (``domain.test_commands``).

Read once, when a mission whose code tasks run on a coding agent is created without a test
command. The repository is the one coding steps would use (``agents.git.RepositoryStore``: a
path in place, a clone URL cloned under ``MISSIONCTL_HOME/repositories`` after its address is
checked). Only git plumbing reads it (``ls-tree`` and ``cat-file`` at the base commit): nothing
is checked out, no filter or hook runs, and only the paths the rules name are read, each file up
to :data:`MAX_FILE_BYTES` and each directory's first :data:`MAX_DIRECTORY_ENTRIES` entries.
"""

import asyncio
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import TypeAdapter

from missionctl.agents.base import AgentError
from missionctl.agents.git import Repository, RepositoryStore, git, resolve_commit
from missionctl.agents.git_remote import AddressPolicy
from missionctl.agents.http import HttpAgentConfig
from missionctl.domain.test_commands import (
    DetectionRule,
    RepositoryFiles,
    detect_test_command,
    paths_to_read,
)
from missionctl.schemas.datafiles import read_data_file

MAX_FILE_BYTES = 256 * 1024
MAX_DIRECTORY_ENTRIES = 2000
DETECTION_TIMEOUT_S = 60.0
"""Longest the whole detection may take (a first clone included); then none is recorded."""


def load_rules(file: Traversable) -> list[DetectionRule]:
    """Read and check a rules file (the product's is ``test_commands.yaml``).

    Raises:
        DataFileError: the file cannot be read or validated (the message names the field).
    """
    return read_data_file(file, TypeAdapter(list[DetectionRule]))


RULES: list[DetectionRule] = load_rules(files(__name__.rpartition(".")[0]) / "test_commands.yaml")


@dataclass(frozen=True, slots=True)
class Detection:
    """What detection found: a command and its evidence, or ``command`` ``None`` and why."""

    command: tuple[str, ...] | None
    note: str


async def detect(
    source: str, base: str, *, repositories: Path, network: HttpAgentConfig | None = None
) -> Detection:
    """The test command the repository ``source`` shows at the tip of ``base``, if any.

    ``repositories`` is where clones of URLs are kept; ``network`` where a clone may connect
    (as for coding steps). Never raises for the repository: one that cannot be read, or not
    within :data:`DETECTION_TIMEOUT_S`, gives no command and a note that says why.
    """
    config = network or HttpAgentConfig()
    store = RepositoryStore(repositories, AddressPolicy(config.allowed_networks, config.resolve))
    try:
        async with asyncio.timeout(DETECTION_TIMEOUT_S):
            repo = await store.open(source)
            commit = await resolve_commit(repo, base)
            found = await read_repository_files(repo, commit, RULES)
    except AgentError as exc:
        return Detection(None, f"the repository could not be read ({exc.message})")
    except TimeoutError:
        return Detection(None, f"the repository could not be read in {DETECTION_TIMEOUT_S:.0f} s")
    detected = detect_test_command(RULES, found)
    at = f"{base} ({commit[:12]})"
    if detected is None:
        return Detection(None, f"no test setup found at {at}")
    return Detection(detected.command, f"detected from {detected.evidence} at {at}")


async def read_repository_files(
    repo: Repository, commit: str, rules: list[DetectionRule]
) -> RepositoryFiles:
    """The files and directories ``rules`` name, as they are at ``commit`` (capped, see above).

    Raises:
        AgentError: git failed.
    """
    wanted_files, wanted_directories = paths_to_read(rules)
    entries = await _entries(repo, commit, sorted(wanted_files | wanted_directories))
    texts: dict[str, str | None] = {}
    directories: dict[str, list[str]] = {}
    for path, (kind, oid) in entries.items():
        if kind == "blob" and path in wanted_files:
            texts[path] = await _blob_text(repo, oid)
        elif kind == "tree" and path in wanted_directories:
            listed = await git("ls-tree", "-z", "--name-only", oid, cwd=repo.path)
            directories[path] = listed.out.split("\0")[:MAX_DIRECTORY_ENTRIES]
    return RepositoryFiles(texts, directories)


async def _entries(repo: Repository, commit: str, paths: list[str]) -> dict[str, tuple[str, str]]:
    """``path → (type, object id)`` of those of ``paths`` at the top of ``commit``'s tree."""
    listed = await git("ls-tree", "-z", commit, "--", *paths, cwd=repo.path)
    entries: dict[str, tuple[str, str]] = {}
    for record in listed.out.split("\0"):
        head, _, name = record.partition("\t")
        parts = head.split()
        if name and len(parts) == 3:
            entries[name] = (parts[1], parts[2])
    return entries


async def _blob_text(repo: Repository, oid: str) -> str | None:
    """The blob's text, or ``None`` when it is over :data:`MAX_FILE_BYTES`."""
    size = await git("cat-file", "-s", oid, cwd=repo.path)
    if int(size.out.strip() or 0) > MAX_FILE_BYTES:
        return None
    blob = await git("cat-file", "blob", oid, cwd=repo.path)
    return blob.out
