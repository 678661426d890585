"""What the real-CLI tests share: the installed CLIs and the example repository as a git repo.

The CLIs are installed by ``make coding-clis`` (a prerequisite of ``make pytest``) under the
server's Python installation, which the step sandbox shows read-only. The example repository is
``examples/wordcount``: a Python package whose ``top_words`` is missing and whose tests show it.
"""

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.coding.helpers import git

CODING_CLIS = Path(sys.prefix) / "coding-clis"
NPM_BIN = CODING_CLIS / "node_modules" / ".bin"
AIDER_BIN = CODING_CLIS / "aider" / "bin"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "wordcount"
TEST_COMMAND = ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"]
"""The example's test command, as a step's ``test_command`` (the step's ``python`` is the
server's, which has pytest)."""

TOP_WORDS = '''def top_words(text: str, n: int) -> list[tuple[str, int]]:
    """The ``n`` most frequent words of ``text`` with their counts, most frequent first.

    Words that occur equally often come in alphabetical order; ``n`` larger than the number of
    distinct words returns them all; ``n`` below 1 raises ``ValueError``.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    ranked = sorted(count_words(text).items(), key=lambda item: (-item[1], item[0]))
    return ranked[:n]
'''
"""A correct ``top_words``: what a scripted model writes in place of the missing one."""
MISSING = """    raise NotImplementedError("top_words is not written yet")
"""


def example_repository(root: Path, name: str = "wordcount") -> Path:
    """``examples/wordcount`` as a git repository on ``main`` (one commit), under ``root``."""
    repo = root / name
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    git(repo, "init", "--quiet", "--initial-branch", "main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "wordcount: top_words is missing")
    return repo


def put_on_path(monkeypatch: pytest.MonkeyPatch, *directories: Path) -> None:
    """Put ``directories`` first on the server's ``PATH`` (steps inherit it); fail if missing."""
    for directory in directories:
        if not directory.is_dir():
            pytest.fail(f"{directory} is missing: run `make coding-clis`")
    head = os.pathsep.join(str(d) for d in directories)
    monkeypatch.setenv("PATH", f"{head}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}")
