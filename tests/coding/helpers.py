"""Coding-step test helpers: a test repository, the scripted coder, coding and merge steps."""

import ipaddress
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from missionctl.agents.coding import CodingPreset
from missionctl.agents.http import HttpAgentConfig
from missionctl.agents.registry import AgentRegistry
from missionctl.domain.governance import CODING_RULE
from missionctl.domain.workflows import COMMAND_AGENT
from missionctl.llm import LLMUsage
from missionctl.planning.base import LOCAL_SOURCE, PlannerResult, PlanningInput
from missionctl.schemas.governance import AgentUpdate, AllowedProgram
from missionctl.schemas.missions import MissionCreate, MissionRead
from missionctl.schemas.plans import PlanDraft
from missionctl.services.runtime.composition import build_agents
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.agents import update_agent
from missionctl.services.usecases.missions import create_mission

CODER_SOURCE = (Path(__file__).resolve().parents[1] / "support" / "scripted_coder.py").read_text()
# The coder runs as ``python -c SOURCE``: the tests folder is not inside the sandbox.
SCRIPTED = CodingPreset(
    title="Scripted coder",
    argv=[sys.executable, "-c", CODER_SOURCE, "${prompt_file}", "${mode_args}"],
    modes={
        "read-only": ["--mode", "read-only"],
        "workspace-write": ["--mode", "workspace-write"],
        "full-access": ["--mode", "full-access"],
    },
)
APP = "".join(f"line {n}\n" for n in range(1, 6))


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` as a person would, and return what it printed."""
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def make_repository(root: Path, name: str = "repo") -> Path:
    """A repository with ``app.txt`` (five lines) and a README on ``main``, checked out."""
    repo = root / name
    repo.mkdir(parents=True)
    git(repo, "init", "--quiet", "--initial-branch", "main")
    (repo / "app.txt").write_text(APP)
    (repo / "README.md").write_text("# Test repository\n")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "initial")
    return repo


LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
"""The networks of the scripted model servers, which an admin allows as for ``http`` steps."""


def coding_agents(root: Path, *, model_on_loopback: bool = False) -> AgentRegistry:
    """Every agent, with the scripted coder as ``coding:scripted``.

    ``model_on_loopback``: a step's model endpoint may be on 127.0.0.0/8 (a scripted server).
    """
    http = HttpAgentConfig(allowed_networks=LOOPBACK) if model_on_loopback else None
    return build_agents(
        None, http=http, repositories=root / "clones", coding_presets={"scripted": SCRIPTED}
    )


def coding_step(
    step_id: str, orders: str, repo: Path, *deps: str, mode: str = "workspace-write", **extra: Any
) -> dict[str, Any]:
    """A ``coding:scripted`` step on ``repo`` whose prompt holds ``orders``."""
    inputs = {"prompt": orders, "repository": str(repo), "base": "main", "approval_mode": mode}
    return {
        "id": step_id,
        "agent": "coding:scripted",
        "depends_on": list(deps),
        "inputs": inputs | extra.pop("inputs", {}),
        **extra,
    }


def merge_step(step_id: str, *, gated: bool = True) -> dict[str, Any]:
    """The ``git:merge`` step of ``step_id``: gated unless told otherwise."""
    return {
        "id": f"{step_id}-merge",
        "agent": "git:merge",
        "depends_on": [step_id],
        "inputs": {"step": step_id},
        "risk_tier": "irreversible",
        "requires_approval": gated,
    }


def worktrees(repo: Path) -> list[str]:
    """The paths of ``repo``'s worktrees (its own first)."""
    listing = git(repo, "worktree", "list", "--porcelain")
    return [line.split(" ", 1)[1] for line in listing.splitlines() if line.startswith("worktree ")]


def branches(repo: Path) -> list[str]:
    """``repo``'s branches made by coding steps."""
    return git(repo, "branch", "--list", "missionctl/*", "--format=%(refname:short)").split()


def plan_task(key: str, role: str, description: str, *deps: str) -> dict[str, Any]:
    """A plan task (for a ``PlanDraft``) whose description may hold the coder's orders."""
    return {
        "key": key,
        "title": f"Task {key}",
        "description": description,
        "role": role,
        "depends_on": list(deps),
        "acceptance": ["It is done"],
        "estimate_tokens": 0,
        "traces": ["R1"],
    }


class FixedPlanner:
    """A planner that always gives one plan (the plan is a test's input, not its subject)."""

    def __init__(self, plan: PlanDraft) -> None:
        """``plan``: what every call returns."""
        self.draft = plan

    async def plan(self, mission: PlanningInput) -> PlannerResult:
        """The plan, as the local planner would report it."""
        return PlannerResult(self.draft, LOCAL_SOURCE, LLMUsage(), 1, "fixed/1")


def scripted_presets(root: Path) -> Path:
    """A presets file naming the scripted coder ``scripted``, as an admin's file would."""
    path = root / "coding_presets.yaml"
    preset = {"title": SCRIPTED.title, "argv": SCRIPTED.argv, "modes": SCRIPTED.modes}
    path.write_text(json.dumps({"scripted": preset}))  # JSON is YAML
    return path


async def coding_mission(ctx: ServiceContext, repo: Path, goal: str) -> MissionRead:
    """A mission on ``repo``'s ``main`` whose code tasks the scripted coder does."""
    repository = {"source": str(repo), "base": "main", "agent": "coding:scripted"}
    data = MissionCreate.model_validate({"goal": goal, "repository": repository})
    return await create_mission(ctx, data=data, actor="user:test")


async def allow_coding(ctx: ServiceContext, *sources: str | Path) -> None:
    """As an admin would: allow the scripted coder's program and the repositories ``sources``.

    Coding steps run only on allowed repositories, and their CLI waits for an approver unless
    it is on the allow-list; the tests that are not about either allow them first.
    """
    python = AllowedProgram(tier="read")
    await update_agent(
        ctx,
        name=COMMAND_AGENT,
        data=AgentUpdate(allowed_programs={sys.executable: python}),
        actor="user:admin",
    )
    changes = {str(source): True for source in sources}
    await update_agent(
        ctx, name=CODING_RULE, data=AgentUpdate(allowed_repositories=changes), actor="user:admin"
    )
