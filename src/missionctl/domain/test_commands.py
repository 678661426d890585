"""How a coding step's work is checked: a mission's test command, given or detected.

A mission whose code tasks run on a coding agent names the command that says whether a change
works (``test_command``, a command line), or Mission Control detects one once, from the files at
its repository's base commit, by the rules of ``agents/test_commands.yaml``. Everything here is
pure: the rules' shape, the matcher over what was read, and the checks of a command line and of
a secret's name. The reading (git plumbing, capped) is ``agents.test_detection``.
"""

import json
import re
import shlex
import tomllib
from collections.abc import Mapping, Sequence
from configparser import ConfigParser
from configparser import Error as ConfigError
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Final

MAX_TEST_COMMAND_ARGS: Final = 50
MAX_TEST_COMMAND_ARG_CHARS: Final = 1000
MAX_TEST_COMMAND_CHARS: Final = 4000
"""Most characters of all a test command's arguments together."""
NO_TEST_COMMAND: Final = (
    "no test command: coding tasks will be `changed`, not `built`; give --test-command"
)
"""What the mission page and the CLI say when the mission names none and none was found."""

# A key pasted where a secret's NAME goes: a vendor's key prefix, or one long run of letters
# and digits mixed (names are words joined by "_").
_KEY_PREFIX: Final = re.compile(
    r"(?i)(?:sk|pk|rk|ghp|gho|ghs|ghu|github_pat|glpat|xox[abpr]|akia|aiza)[_-]?[A-Za-z0-9_-]{12,}"
)
_LONG_MIXED_RUN: Final = re.compile(
    r"(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{24,}"
)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One thing in a repository that shows how its tests run.

    ``path`` is a file (or, with ``entries``, a directory) at the base commit. Alone it must
    exist; ``section`` needs an INI section (``[section]``) or, in a TOML file, a table whose
    dotted name starts with it; ``json_key`` a non-empty string at that dotted path of a JSON
    file; ``make_target`` a Makefile rule of that name; ``entries`` a directory entry whose name
    matches that pattern (``test_*.py``).
    """

    path: str
    section: str | None = None
    json_key: str | None = None
    make_target: str | None = None
    entries: str | None = None

    def describe(self) -> str:
        """Where the evidence was found, for a person: ``pyproject.toml [tool.pytest]``."""
        if self.section:
            return f"{self.path} [{self.section}]"
        if self.json_key:
            return f"{self.path} {self.json_key}"
        if self.make_target:
            return f"{self.path} target {self.make_target}"
        if self.entries:
            return f"{self.path}/{self.entries}"
        return self.path


@dataclass(frozen=True, slots=True)
class DetectionRule:
    """A test command and the evidence any one of which says the repository uses it."""

    command: tuple[str, ...]
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class RepositoryFiles:
    """What was read at a base commit: the files the rules name, and the directories' entries.

    ``files`` maps a path to its text, or ``None`` when it exists but was too large to read;
    a path that is not there is absent. ``directories`` maps a directory to its entries' names.
    """

    files: Mapping[str, str | None] = field(default_factory=dict)
    directories: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Detected:
    """A detected test command and what it was detected from."""

    command: tuple[str, ...]
    evidence: str


def paths_to_read(rules: Sequence[DetectionRule]) -> tuple[set[str], set[str]]:
    """The files and the directories the rules look at (what the reader reads, and no more)."""
    files = {e.path for rule in rules for e in rule.evidence if e.entries is None}
    directories = {e.path for rule in rules for e in rule.evidence if e.entries is not None}
    return files, directories


def detect_test_command(rules: Sequence[DetectionRule], found: RepositoryFiles) -> Detected | None:
    """The command of the first rule with evidence in ``found`` (rules in order), or ``None``."""
    for rule in rules:
        for evidence in rule.evidence:
            if _holds(evidence, found):
                return Detected(rule.command, evidence.describe())
    return None


def _holds(evidence: Evidence, found: RepositoryFiles) -> bool:
    if evidence.entries is not None:
        names = found.directories.get(evidence.path, ())
        return any(fnmatchcase(name, evidence.entries) for name in names)
    if evidence.path not in found.files:
        return False
    text = found.files[evidence.path]
    if evidence.section is None and evidence.json_key is None and evidence.make_target is None:
        return True
    if text is None:  # there, but too large to read: no claim about what it holds
        return False
    if evidence.section is not None:
        return _has_section(evidence.path, text, evidence.section)
    if evidence.json_key is not None:
        return _has_json_text(text, evidence.json_key)
    return _has_make_target(text, evidence.make_target or "")


def _has_section(path: str, text: str, section: str) -> bool:
    if path.endswith(".toml"):
        try:
            table: object = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return False
        for part in section.split("."):
            if not isinstance(table, dict) or part not in table:
                return False
            table = table[part]
        return True
    parser = ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except ConfigError:
        return False
    return parser.has_section(section)


def _has_json_text(text: str, dotted: str) -> bool:
    try:
        value: object = json.loads(text)
    except ValueError:
        return False
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return False
        value = value.get(part)
    return isinstance(value, str) and bool(value.strip())


def _has_make_target(text: str, target: str) -> bool:
    # A rule line names its targets before one ":" (not ":=", an assignment).
    rule = re.compile(rf"^(?:[^\s:=#][^:=#]*\s)?{re.escape(target)}(?:\s[^:=#]*)?:(?!=)", re.M)
    return rule.search(text) is not None


def command_line_problem(argv: Sequence[str]) -> str | None:
    """Why ``argv`` cannot be a test command, or ``None`` when it can.

    A test command is 1 to :data:`MAX_TEST_COMMAND_ARGS` arguments, the first not empty, none
    holding a NUL, a line break or more than :data:`MAX_TEST_COMMAND_ARG_CHARS` characters, at
    most :data:`MAX_TEST_COMMAND_CHARS` in all.
    """
    if not argv or not argv[0].strip():
        return "give the command that runs the tests, such as python -m pytest -q"
    if len(argv) > MAX_TEST_COMMAND_ARGS:
        return f"at most {MAX_TEST_COMMAND_ARGS} arguments"
    if any(len(arg) > MAX_TEST_COMMAND_ARG_CHARS for arg in argv):
        return f"each argument at most {MAX_TEST_COMMAND_ARG_CHARS} characters"
    if sum(len(arg) for arg in argv) > MAX_TEST_COMMAND_CHARS:
        return f"at most {MAX_TEST_COMMAND_CHARS} characters in all"
    if any(char in arg for arg in argv for char in "\x00\r\n"):
        return "no NUL characters or line breaks: one command line"
    return None


def split_test_command(line: str) -> list[str]:
    """A test command written as one shell-like line (``python -m pytest -q``), split.

    Raises:
        ValueError: the line is too long, holds a NUL or a line break, or its quotes do not
            close; the message says which.
    """
    if len(line) > MAX_TEST_COMMAND_CHARS * 2:
        raise ValueError(f"at most {MAX_TEST_COMMAND_CHARS} characters in all")
    if any(char in line for char in "\x00\r\n"):
        raise ValueError("no NUL characters or line breaks: one command line")
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise ValueError(f"cannot split it into arguments ({exc}): close every quote") from None


def looks_like_a_key(name: str) -> bool:
    """Whether ``name``, given as a secret's NAME, looks like a key itself."""
    return bool(_KEY_PREFIX.fullmatch(name) or _LONG_MIXED_RUN.search(name))


def show_command(argv: Sequence[str]) -> str:
    """``argv`` as one line a person could type (quoted where needed)."""
    return shlex.join(argv)
