"""Coding steps in parallel on one repository: wall time, and that nothing is corrupted or left.

Run: `.venv/bin/python bench/coding.py` (SQLite in a temporary directory; PostgreSQL too when
MISSIONCTL_BENCH_POSTGRES_URL names a server, see bench/_databases.py). Needs git and
bubblewrap, as coding steps do.

For each database, ROUNDS times: a fresh repository; a workflow of N coding steps
(`coding:generic`, a program that writes one file, in `workspace-write` mode) each followed by
its ungated `git:merge`; one engine with 2N slots runs it to the end. Measured for N = 1 and
N = 10: the median wall time from the start of the run to its end, and the parallel speed-up
(10 times the time of one, divided by the time of ten). After every round: `git fsck
--strict` must be clean, no worktree but the repository's own may be left, no branch of a
step may remain, and the base branch must hold every file.
"""

import asyncio
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _databases import backends
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext, open_context
from missionctl.services.runs import read_run, start_run
from missionctl.services.runtime import build_agents
from missionctl.services.workflows import create_workflow
from missionctl.settings import EngineSettings, Settings

logging.getLogger("alembic").setLevel(logging.WARNING)

ROUNDS = 3
SIZES = (1, 10)
WRITE = (
    "import os, pathlib; p = pathlib.Path('src'); p.mkdir(exist_ok=True); "
    "(p / (os.environ['MISSIONCTL_STEP_ID'] + '.txt')).write_text('done\\n')"
)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com", *args],
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def _repository(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir()
    _git(repo, "init", "--quiet", "--initial-branch", "main")
    (repo / "README.md").write_text("# Bench\n")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "-m", "initial")
    return repo


def _steps(repo: Path, count: int) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for n in range(count):
        inputs = {
            "repository": str(repo),
            "approval_mode": "workspace-write",
            "prompt": "write one file",
            "argv": [sys.executable, "-c", WRITE],
        }
        steps.append({"id": f"task{n}", "agent": "coding:generic", "inputs": inputs})
        steps.append(
            {"id": f"task{n}-merge", "agent": "git:merge", "depends_on": [f"task{n}"],
             "inputs": {"step": f"task{n}"}, "requires_approval": False}
        )  # fmt: skip
    return steps


async def _round(ctx: ServiceContext, root: Path, count: int) -> float:
    repo = _repository(root)
    steps = _steps(repo, count)
    spec = WorkflowSpec.model_validate({"name": f"coding-{root.name}", "steps": steps})
    workflow = await create_workflow(ctx, spec=spec, actor="user:bench")
    config = EngineConfig(concurrency=2 * count, poll_s=0.02, heartbeat_s=0.5)
    engine = Engine(ctx, build_agents(None, repositories=root / "clones"), config=config)
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    began = time.perf_counter()
    run = await start_run(ctx, workflow_id=workflow.id, actor="user:bench")
    while (run := await read_run(ctx, run_id=run.id)).status not in {"completed", "failed"}:  # noqa: ASYNC110 - polling the database, as a client would
        await asyncio.sleep(0.01)
    wall = time.perf_counter() - began
    stop.set()
    await task
    failed = [(s.step_id, s.error) for s in run.steps if s.status != "succeeded"]
    assert run.status == "completed", failed
    assert _git(repo, "fsck", "--strict", "--no-progress") == ""
    assert _git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert _git(repo, "branch", "--list", "missionctl/*") == ""
    assert len(list((repo / "src").iterdir())) == count
    return wall


async def measure(name: str, settings: Settings) -> dict[str, Any]:
    quiet = settings.model_copy(update={"engine": EngineSettings(embedded=False)})
    figures: dict[str, Any] = {"database": name, "rounds": ROUNDS}
    async with open_context(quiet) as ctx:
        for count in SIZES:
            walls = []
            for round_ in range(ROUNDS):
                with tempfile.TemporaryDirectory() as root:
                    path = Path(root) / f"r{count}-{round_}"
                    path.mkdir()
                    walls.append(await _round(ctx, path, count))
            figures[f"wall_s_{count}_steps"] = round(statistics.median(walls), 3)
    one, ten = figures["wall_s_1_steps"], figures["wall_s_10_steps"]
    figures["parallel_speedup_10"] = round(10 * one / ten, 2)
    figures["fsck_clean_and_no_worktree_left"] = True
    return figures


async def main() -> None:
    results = [await measure(name, settings) for name, settings in backends()]
    print(json.dumps({"benchmark": "coding", "results": results}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
