"""A coding step's program plants a repository for git to run: git never trusts the worktree.

In ``workspace-write`` mode the program may write anything in its worktree. Each attack here
tries to make the worker's git (run as the server's user, outside the sandbox) run a command the
program chose: a clean filter, ``diff.external``, ``gpg.program`` with ``commit.gpgSign``,
``core.sshCommand``, each touching a marker in a directory of the test's, outside every
workspace. None may run; the step fails naming what was changed; the base branch and the real
repository stay as they were.
"""

import sys
from pathlib import Path
from typing import Any

import pytest

from missionctl.agents.registry import AgentRegistry
from missionctl.agents.sandbox import Sandbox
from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import build_agents
from missionctl.services.usecases.artifacts import read_artifacts
from missionctl.settings import SandboxSettings
from tests.coding.helpers import (
    SCRIPTED,
    allow_coding,
    coding_agents,
    coding_step,
    git,
    make_repository,
    worktrees,
)
from tests.engine.helpers import running_engine, start, wait_for_run


def _plant(markers: Path) -> str:
    """Shell lines that configure the repository git finds in the worktree to touch markers."""
    gpg = "${worktree}/sign.sh"
    return " && ".join(
        [
            f"printf '#!/bin/sh\\ntouch {markers}/gpg\\n' > {gpg} && chmod +x {gpg}",
            f"git config filter.x.clean 'touch {markers}/clean; cat'",
            "git config filter.x.smudge cat",
            f"git config diff.external 'touch {markers}/diff'",
            "git config commit.gpgSign true",
            f"git config gpg.program {gpg}",
            f"git config core.sshCommand 'touch {markers}/ssh'",
            f"git config core.fsmonitor 'touch {markers}/fsmonitor'",
            f"git config core.pager 'touch {markers}/pager'",
            "echo '* filter=x diff=x' > .gitattributes",
            "echo hi > f.txt",
        ]
    )


PLANTED_DIRECTORY = "rm -rf .git && git init -q . && "
PLANTED_GITDIR_FILE = 'rm -f .git && git init -q --separate-git-dir "$PWD/.planted" . && '


def generic_step(step_id: str, script: str, repo: Path, **extra: Any) -> dict[str, Any]:
    """A ``coding:generic`` step whose program runs ``script`` with ``sh`` in the worktree.

    The program is the test's Python (allow-listed by ``allow_coding``), which runs the shell.
    """
    runner = (
        "import subprocess, sys; sys.exit(subprocess.run(['sh', '-c', sys.argv[1]]).returncode)"
    )
    step = coding_step(step_id, "plant a repository", repo, **extra)
    step["agent"] = "coding:generic"
    step["inputs"]["argv"] = [sys.executable, "-c", runner, script]
    return step


def _agents(root: Path, *, sandbox: bool) -> AgentRegistry:
    if sandbox:
        return coding_agents(root)
    off = Sandbox(SandboxSettings(mode="off"))  # the admin's choice: only the check guards
    return build_agents(
        None, sandbox=off, repositories=root / "clones", coding_presets={"scripted": SCRIPTED}
    )


async def _run(ctx: ServiceContext, root: Path, step: dict[str, Any], *, sandbox: bool) -> RunRead:
    run = await start(ctx, [step])
    async with running_engine(ctx, agents=_agents(root, sandbox=sandbox)):
        return await wait_for_run(ctx, run.id, within_s=60)


def _untouched(repo: Path, base: str, config: str, markers: Path) -> None:
    """Nothing ran, nothing moved: no marker, the base branch and the repository as before."""
    assert sorted(p.name for p in markers.iterdir()) == []
    assert git(repo, "rev-parse", "main").strip() == base
    assert (repo / ".git" / "config").read_text() == config
    assert git(repo, "status", "--porcelain") == ""
    assert worktrees(repo) == [str(repo)]
    for branch in git(repo, "branch", "--list", "missionctl/*", "--format=%(objectname)").split():
        assert branch == base, "nothing was committed on the step's branch"


@pytest.mark.parametrize("planted", [PLANTED_DIRECTORY, PLANTED_GITDIR_FILE], ids=["dir", "file"])
async def test_a_planted_git_runs_nothing_and_fails_the_step_naming_git(
    ctx: ServiceContext, tmp_path: Path, planted: str
) -> None:
    repo = make_repository(tmp_path)
    markers = tmp_path / "markers"
    markers.mkdir()
    base, config = git(repo, "rev-parse", "main").strip(), (repo / ".git" / "config").read_text()
    await allow_coding(ctx, repo)
    step = generic_step("plant", planted + _plant(markers), repo)

    # Unconfined (MISSIONCTL_SANDBOX_MODE=off): the program plants it; the check stops git.
    done = await _run(ctx, tmp_path, step, sandbox=False)
    assert done.status == "failed"
    error = done.steps[0].error or ""
    assert "the worktree's .git (repo/.git) was changed or removed" in error, error
    assert done.steps[0].attempt == 1, "not retried"
    _untouched(repo, base, config, markers)

    # In the sandbox, the .git file is bound read-only: the program cannot even replace it.
    done = await _run(ctx, tmp_path, step, sandbox=True)
    assert done.status == "failed"
    assert "cannot remove '.git'" in (done.steps[0].error or ""), done.steps[0].error
    _untouched(repo, base, config, markers)


async def test_a_repository_planted_in_place_of_the_worktree_runs_nothing(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    markers = tmp_path / "markers"
    markers.mkdir()
    base, config = git(repo, "rev-parse", "main").strip(), (repo / ".git" / "config").read_text()
    await allow_coding(ctx, repo)
    # The sandbox keeps .git, so the program moves the whole worktree aside instead.
    moved = "cd .. && mv repo aside && mkdir repo && cd repo && git init -q . && "
    done = await _run(
        ctx, tmp_path, generic_step("swap", moved + _plant(markers), repo), sandbox=True
    )
    assert done.status == "failed"
    error = done.steps[0].error or ""
    assert "the step's worktree repo/ was moved, removed or replaced" in error, error
    _untouched(repo, base, config, markers)


async def test_a_worktree_replaced_by_a_link_commits_nothing_from_outside(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    outside = make_repository(tmp_path, "outside")  # a repository git would gladly commit in
    (outside / "secret.txt").write_text("not for the diff\n")
    base, config = git(repo, "rev-parse", "main").strip(), (repo / ".git" / "config").read_text()
    outside_head = git(outside, "rev-parse", "HEAD")
    await allow_coding(ctx, repo)
    script = f"cd .. && mv repo aside && ln -s {outside} repo"
    run = await start(ctx, [generic_step("link", script, repo)])
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        done = await wait_for_run(ctx, run.id, within_s=60)
    assert done.status == "failed"
    assert "the step's worktree repo/ was moved, removed or replaced" in (done.steps[0].error or "")
    markers = tmp_path / "markers"
    markers.mkdir()
    _untouched(repo, base, config, markers)
    # The link was removed, not followed: what it pointed to is whole, and nothing was committed.
    assert (outside / "secret.txt").read_text() == "not for the diff\n"
    assert (outside / "app.txt").exists()
    assert git(outside, "rev-parse", "HEAD") == outside_head
    assert git(outside, "status", "--porcelain") == "?? secret.txt\n"
    assert [a for a in await read_artifacts(ctx, run_id=run.id) if a.kind == "diff"] == []


async def test_a_prompt_file_replaced_by_a_link_leaves_its_target_alone_on_retry(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    await allow_coding(ctx, repo)
    script = f'rm -f "${{prompt_file}}" && ln -s {target} "${{prompt_file}}" && exit 3'
    step = generic_step("relink", script, repo, retry={"max_attempts": 2, "backoff_s": 0})
    done = await _run(ctx, tmp_path, step, sandbox=True)
    assert done.status == "failed"
    assert done.steps[0].attempt == 2, "the second attempt wrote its prompt again"
    assert target.read_text() == "keep me\n"
    assert not target.is_symlink()


async def test_a_nested_repository_and_an_undefined_filter_run_nothing_and_commit(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    # The repository's own .gitattributes names a filter its configuration does not define.
    (repo / ".gitattributes").write_text("*.txt filter=x diff=x\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "--quiet", "-m", "attributes")
    markers = tmp_path / "markers"
    markers.mkdir()
    base, config = git(repo, "rev-parse", "main").strip(), (repo / ".git" / "config").read_text()
    await allow_coding(ctx, repo)
    # A repository inside the worktree defines that filter (and more); git must not read it.
    nested = (
        "mkdir sub && cd sub && git init -q . && "
        + _plant(markers)
        + " && git add f.txt && git -c user.name=x -c user.email=x@x -c commit.gpgSign=false"
        + " commit -q -m x"
        + " && echo changed > f.txt && cd .. && echo new > app.txt"
    )
    done = await _run(ctx, tmp_path, generic_step("nest", nested, repo), sandbox=True)
    assert done.status == "completed", done.steps[0].error
    assert sorted(p.name for p in markers.iterdir()) == []
    branch = done.steps[0].outputs["branch"]
    assert git(repo, "show", f"{branch}:app.txt") == "new\n", "committed as written, unfiltered"
    assert "sub" in done.steps[0].outputs["files_changed"]
    assert git(repo, "rev-parse", "main").strip() == base
    assert (repo / ".git" / "config").read_text() == config
