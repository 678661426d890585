"""Coding steps in parallel on one repository: wall time, and that nothing is corrupted or left.

Run: `.venv/bin/python bench/coding.py` (SQLite in a temporary directory; PostgreSQL too when
MISSIONCTL_BENCH_POSTGRES_URL names a server, see bench/_databases.py). Needs git and
bubblewrap, as coding steps do, and `make coding-clis` for the real CLI.

Two programs, each measured for N = 1 and N = 10 coding steps on one fresh repository, every
step followed by its ungated `git:merge`, one engine with 2N slots running the run to the end:

- `generic`: `coding:generic`, a Python one-liner that writes one file (ROUNDS rounds);
- `claude`: the real Claude Code (the version `make coding-clis` pins), whose model is scripted
  (`missionctl.demo.anthropic_server` on 127.0.0.1, reached through each step's egress proxy):
  it asks where it is, writes one file with its Write tool, and ends (CLI_ROUNDS rounds).

Figures: the median wall time from the start of the run to its end, and the parallel speed-up
(10 times the time of one, divided by the time of ten). After every round: `git fsck --strict`
must be clean, no worktree but the repository's own may be left, no branch of a step may
remain, and the base branch must hold every step's file.
"""

import asyncio
import ipaddress
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _databases import backends
from missionctl.agents.http import HttpAgentConfig
from missionctl.demo.anthropic_server import (
    Message,
    RecordedRequest,
    Reply,
    ScriptedAnthropicServer,
    Text,
    ToolUse,
)
from missionctl.domain.governance import CODING_RULE
from missionctl.domain.workflows import COMMAND_AGENT
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.schemas.governance import AgentUpdate, AllowedProgram
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext, open_context
from missionctl.services.runtime.composition import build_agents
from missionctl.services.usecases.agents import update_agent
from missionctl.services.usecases.runs import read_run, start_run
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import EngineSettings, Settings

logging.getLogger("alembic").setLevel(logging.WARNING)

ROUNDS = 3
CLI_ROUNDS = 2
SIZES = (1, 10)
ADMIN = "user:bench"
CLIS = Path(sys.prefix) / "coding-clis" / "node_modules" / ".bin"
KEY = "sk-ant-bench-" + "0123456789abcdef" * 2
WRITE = (
    "import os, pathlib; p = pathlib.Path('src'); p.mkdir(exist_ok=True); "
    "(p / (os.environ['MISSIONCTL_STEP_ID'] + '.txt')).write_text('done\\n')"
)


@dataclass(frozen=True)
class Program:
    """What each coding step runs, and how the admin allows it."""

    name: str
    rounds: int
    allowed: dict[str, AllowedProgram]

    def inputs(self, base_url: str | None) -> dict[str, Any]:
        """The step inputs beside the repository (``base_url``: the scripted model's)."""
        if self.name == "generic":
            return {"prompt": "write one file", "argv": [sys.executable, "-c", WRITE]}
        return {
            "prompt": "Write src/<this step's id>.txt holding the word done.",
            "model": {"base_url": base_url, "secret": "bench"},
            "env": {"DISABLE_TELEMETRY": "1", "DISABLE_AUTOUPDATER": "1"},
        }


GENERIC = Program("generic", ROUNDS, {sys.executable: AllowedProgram(tier="read")})
CLAUDE = Program(
    "claude",
    CLI_ROUNDS,
    {"claude": AllowedProgram(tier="read", env=["ANTHROPIC_API_KEY", "DISABLE_TELEMETRY",
                                                "DISABLE_AUTOUPDATER"])},
)  # fmt: skip


def one_file_model(request: RecordedRequest) -> Reply:
    """The scripted model: ``pwd``, then Write ``src/<step>.txt`` (the step is the worktree's
    parent directory), then end."""
    turn = sum(m.get("role") == "assistant" for m in request.messages)
    if turn == 0:
        return Message([ToolUse("Bash", {"command": "pwd", "description": "where am I"})])
    if turn == 1:
        result = request.tool_results[0].get("content")
        text = (
            result
            if isinstance(result, str)
            else "".join(str(b.get("text", "")) for b in result or [] if isinstance(b, dict))
        )
        worktree = Path(text.strip())
        path = worktree / "src" / f"{worktree.parent.name}.txt"
        return Message([ToolUse("Write", {"file_path": str(path), "content": "done\n"})])
    return Message([Text("Written.")])


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


def _steps(repo: Path, count: int, program: Program, base_url: str | None) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for n in range(count):
        inputs = {"repository": str(repo), "approval_mode": "workspace-write"}
        agent = f"coding:{program.name}"
        steps.append(
            {"id": f"task{n}", "agent": agent, "inputs": inputs | program.inputs(base_url)}
        )
        steps.append(
            {"id": f"task{n}-merge", "agent": "git:merge", "depends_on": [f"task{n}"],
             "inputs": {"step": f"task{n}"}, "requires_approval": False}
        )  # fmt: skip
    return steps


async def _allow(ctx: ServiceContext, repo: Path, program: Program) -> None:
    """As the admin would: the repository and the program."""
    await update_agent(
        ctx, name=CODING_RULE, data=AgentUpdate(allowed_repositories={str(repo): True}),
        actor=ADMIN,
    )  # fmt: skip
    await update_agent(
        ctx, name=COMMAND_AGENT, data=AgentUpdate(allowed_programs=program.allowed), actor=ADMIN
    )


async def _round(
    ctx: ServiceContext, root: Path, count: int, program: Program, base_url: str | None
) -> float:
    repo = _repository(root)
    await _allow(ctx, repo, program)
    steps = _steps(repo, count, program, base_url)
    spec = WorkflowSpec.model_validate({"name": f"coding-{root.name}", "steps": steps})
    workflow = await create_workflow(ctx, spec=spec, actor=ADMIN)
    config = EngineConfig(concurrency=2 * count, poll_s=0.02, heartbeat_s=0.5)
    # The scripted model listens on 127.0.0.1, which an admin allows for model endpoints.
    http = HttpAgentConfig(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),))
    engine = Engine(ctx, build_agents(None, http=http, repositories=root / "clones"), config=config)
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    began = time.perf_counter()
    run = await start_run(ctx, workflow_id=workflow.id, actor=ADMIN)
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


async def _measure_program(
    ctx: ServiceContext, program: Program, base_url: str | None
) -> dict[str, Any]:
    figures: dict[str, Any] = {"rounds": program.rounds}
    for count in SIZES:
        walls = []
        for round_ in range(program.rounds):
            # Not under /tmp: some CLIs (Codex) refuse to keep their helpers there.
            with tempfile.TemporaryDirectory(dir="/var/tmp") as root:
                path = Path(root) / f"r{count}-{round_}"
                path.mkdir()
                walls.append(await _round(ctx, path, count, program, base_url))
        figures[f"wall_s_{count}_steps"] = round(statistics.median(walls), 3)
    one, ten = figures["wall_s_1_steps"], figures["wall_s_10_steps"]
    figures["parallel_speedup_10"] = round(10 * one / ten, 2)
    figures["fsck_clean_and_no_worktree_left"] = True
    return figures


async def measure(name: str, settings: Settings) -> dict[str, Any]:
    quiet = settings.model_copy(update={"engine": EngineSettings(embedded=False)})
    figures: dict[str, Any] = {"database": name}
    async with open_context(quiet) as ctx:
        figures["generic"] = await _measure_program(ctx, GENERIC, None)
        if not (CLIS / "claude").exists():
            figures["claude"] = "not measured: run `make coding-clis`"
            return figures
        with ScriptedAnthropicServer(one_file_model) as server:
            figures["claude"] = await _measure_program(ctx, CLAUDE, server.base_url)
            figures["claude"]["model_requests"] = len(server.requests)
    return figures


async def main() -> None:
    os.environ["PATH"] = f"{CLIS}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    os.environ["MISSIONCTL_SECRET_BENCH"] = KEY
    results = [await measure(name, settings) for name, settings in backends()]
    print(json.dumps({"benchmark": "coding", "results": results}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
