"""A mission's test command is detected once, from the files at its repository's base commit."""

import json
from pathlib import Path

import pytest

from missionctl.agents.test_detection import MAX_FILE_BYTES, detect
from tests.coding.helpers import git

PYTEST = ("python", "-m", "pytest", "-q")


def repository(root: Path, files: dict[str, str], *, branch: str = "main") -> Path:
    """A repository whose one commit on ``branch`` holds ``files`` (path → text)."""
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch", branch)
    for path, text in (files or {"README.md": "# nothing to test\n"}).items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "initial")
    return repo


@pytest.mark.parametrize(
    ("files", "command", "evidence"),
    [
        ({"pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-q'\n"}, PYTEST,
         "pyproject.toml [tool.pytest]"),
        ({"pytest.ini": "[pytest]\n"}, PYTEST, "pytest.ini"),
        ({"setup.cfg": "[metadata]\nname = x\n[tool:pytest]\ntestpaths = t\n"}, PYTEST,
         "setup.cfg [tool:pytest]"),
        ({"tox.ini": "[tox]\n[pytest]\naddopts = -q\n"}, PYTEST, "tox.ini [pytest]"),
        ({"tests/test_cart.py": "def test_x(): pass\n"}, PYTEST, "tests/test_*.py"),
        ({"package.json": json.dumps({"scripts": {"test": "jest"}})}, ("npm", "test"),
         "package.json scripts.test"),
        ({"Cargo.toml": "[package]\nname = 'x'\n"}, ("cargo", "test"), "Cargo.toml"),
        ({"go.mod": "module example.com/x\n"}, ("go", "test", "./..."), "go.mod"),
        ({"pom.xml": "<project/>\n"}, ("mvn", "-q", "test"), "pom.xml"),
        ({"Makefile": "build:\n\tcc x.c\n\ntest: build\n\t./run-tests\n"}, ("make", "test"),
         "Makefile target test"),
        # pytest comes first where a repository shows more than one.
        ({"pytest.ini": "[pytest]\n", "Makefile": "test:\n\ttrue\n"}, PYTEST, "pytest.ini"),
    ],
)  # fmt: skip
async def test_each_kind_of_test_setup_gives_its_command(
    tmp_path: Path, files: dict[str, str], command: tuple[str, ...], evidence: str
) -> None:
    repo = repository(tmp_path, files)
    found = await detect(str(repo), "main", repositories=tmp_path / "clones")
    assert found.command == command
    assert found.note.startswith(f"detected from {evidence} at main (")


@pytest.mark.parametrize(
    "files",
    [
        {},
        {"pyproject.toml": "[project]\nname = 'x'\n[tool.ruff]\n"},
        {"package.json": json.dumps({"scripts": {"build": "tsc"}})},
        {"package.json": json.dumps({"scripts": {"test": ""}})},
        {"package.json": "{not json"},
        {"Makefile": "TEST := yes\nlint:\n\truff .\n"},
        {"tests/helpers.py": "x = 1\n", "src/test_wrong_place.py": ""},
        # Too large to read: what it holds is not guessed.
        {"pyproject.toml": "[tool.pytest.ini_options]\n" + "#" * (MAX_FILE_BYTES + 1) + "\n"},
    ],
)
async def test_no_evidence_no_command_and_the_note_says_so(
    tmp_path: Path, files: dict[str, str]
) -> None:
    repo = repository(tmp_path, files)
    found = await detect(str(repo), "main", repositories=tmp_path / "clones")
    assert found.command is None
    assert found.note.startswith("no test setup found at main (")


async def test_only_the_base_commit_counts_not_the_checkout_or_other_branches(
    tmp_path: Path,
) -> None:
    repo = repository(tmp_path, {"README.md": "hi\n"})
    git(repo, "checkout", "--quiet", "-b", "feature")
    (repo / "go.mod").write_text("module x\n")
    git(repo, "add", "go.mod")
    git(repo, "commit", "--quiet", "-m", "go")
    (repo / "pytest.ini").write_text("[pytest]\n")  # in the checkout, never committed
    on_main = await detect(str(repo), "main", repositories=tmp_path / "clones")
    on_feature = await detect(str(repo), "feature", repositories=tmp_path / "clones")
    assert on_main.command is None
    assert on_feature.command == ("go", "test", "./...")
    assert git(repo, "status", "--porcelain") == "?? pytest.ini\n", "nothing checked out"


async def test_a_repository_that_cannot_be_read_gives_no_command_and_says_why(
    tmp_path: Path,
) -> None:
    missing = await detect(str(tmp_path / "nowhere"), "main", repositories=tmp_path / "c")
    assert missing.command is None and "could not be read" in missing.note
    repo = repository(tmp_path, {"pytest.ini": "[pytest]\n"})
    no_branch = await detect(str(repo), "release", repositories=tmp_path / "c")
    assert no_branch.command is None and "no branch 'release'" in no_branch.note
