"""``missionctl demo coding``: a coding mission on the example repository, set up in one go.

What a newcomer would otherwise do by hand, in order (docs/coding-agents.md, "Try a coding
mission"):

1. :func:`copy_example`: ``examples/wordcount`` of the checkout (a Python package whose
   ``top_words`` is missing, and whose tests show it) becomes a new git repository under the
   data directory, on ``main``, one commit;
2. :func:`allow_for_demo`: the admin's two choices, made by the demo and recorded as its own
   (:data:`DEMO_ACTOR`) in the audit log: that repository may be worked on, and the coding
   CLI and the test command's program run without an approver (each entry only widened);
3. :func:`create_demo_mission`: the mission (:data:`GOAL`, the coding agent of the CLI chosen
   from :data:`CLIS`, the example's test command, the model endpoint), planned by the
   installation's planner.

The example is read from the checkout the product is installed from (``make run`` installs it
editable): it is the same directory the real-CLI tests use, so there is one copy of it. An
installation without the checkout names a repository of its own with ``--repository``.
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import missionctl
from missionctl.agents.coding import PRESETS
from missionctl.domain.governance import CODING_RULE
from missionctl.domain.workflows import COMMAND_AGENT
from missionctl.planning.base import Planner
from missionctl.schemas.clarifications import ClarificationRead
from missionctl.schemas.governance import AgentUpdate, AllowedProgram
from missionctl.schemas.missions import MissionCreate, MissionRead
from missionctl.schemas.plans import PlanRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.agents import list_agents, update_agent
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.plans import plan_mission

DEMO_ACTOR = "agent:demo-coding"
"""Who the demo's choices and its mission are recorded as (no person: the four-eyes rule lets
anyone with the approver role approve its merges)."""
GOAL = "Add top_words to wordcount (the most frequent words of a text)"
TITLE = "wordcount: add top_words"
REPO_CONTEXT = (
    "wordcount is a small Python package; top_words in wordcount/__init__.py is missing and "
    "tests/test_top_words.py shows what it must do."
)
RUN_CLI_REASON = (
    "the coding demo runs its coding CLI on a branch of the demo's repository; the merge into "
    "the base branch waits for a person"
)
"""Why the demo approves its coding steps (the planner gives code tasks the ``write`` tier,
and only ``read`` runs without an approver); recorded with each decision."""


@dataclass(frozen=True, slots=True)
class DemoCli:
    """A coding CLI the demo runs: its shipped preset, and a real endpoint it speaks to.

    ``endpoint``, ``secret`` and ``model`` are the example the demo's hints give for a real
    model (the same as ``demo coding --help``'s).
    """

    preset: str
    endpoint: str
    secret: str
    model: str

    @property
    def agent(self) -> str:
        """The mission's coding agent, ``coding:<preset>``."""
        return f"coding:{self.preset}"

    @property
    def program(self) -> str:
        """The program its preset runs (what the allow-list names)."""
        return PRESETS[self.preset].argv[0]

    @property
    def key_variable(self) -> str:
        """The variable its preset hands the endpoint's key over in (the preset's ``key_env``)."""
        wiring = PRESETS[self.preset].model
        assert wiring is not None, f"the shipped {self.preset} preset takes a model endpoint"
        return wiring.key_env


CLIS = {
    "claude": DemoCli("claude", "https://api.anthropic.com", "anthropic", "claude-sonnet-4-5"),
    # Codex speaks the Responses API, aider Chat Completions: OpenAI's endpoint speaks both.
    "codex": DemoCli("codex", "https://api.openai.com/v1", "openai", "gpt-5-codex"),
    "aider": DemoCli("aider", "https://api.openai.com/v1", "openai", "gpt-4.1"),
}
"""The CLIs ``demo coding --cli`` runs, by name."""
TEST_COMMAND = ("python", "-m", "pytest", "-q", "-p", "no:cacheprovider")
"""The example's test command: a step's ``python`` is the server's (``agents.sandbox``), and
pytest keeps no cache in the worktree."""
SCRIPTED_SECRET = "demo_scripted_model"
"""The secret name of the scripted model's key (a placeholder the scripted model ignores)."""
SCRIPTED_KEY = "scripted-model-placeholder-key-not-a-real-one"
EXAMPLE_NAME = "wordcount"
_GIT_IDENTITY = ("-c", "user.name=Mission Control demo", "-c", "user.email=demo@missionctl.invalid")


@dataclass(frozen=True, slots=True)
class DemoMission:
    """What :func:`create_demo_mission` made.

    The mission, and its plan (or the planner's questions, when it asked instead of planning).
    """

    mission: MissionRead
    planned: PlanRead | ClarificationRead


def example_source() -> Path | None:
    """``examples/wordcount`` of the checkout this package is installed from, if there is one."""
    checkout = Path(missionctl.__file__).resolve().parents[2]
    example = checkout / "examples" / EXAMPLE_NAME
    return example if (example / EXAMPLE_NAME / "__init__.py").is_file() else None


def copy_example(source: Path, under: Path) -> Path:
    """Copy ``source`` to a new directory under ``under`` and make it a git repository.

    The copy is ``wordcount``, or ``wordcount-2``, ``-3``… when that exists (each demo gets a
    fresh one, with ``top_words`` missing again); branch ``main``, one commit.

    Raises:
        OSError: the copy could not be written.
        subprocess.CalledProcessError: git refused (its message is on the exception).
    """
    under.mkdir(parents=True, exist_ok=True)
    target = under / EXAMPLE_NAME
    number = 1
    while target.exists():
        number += 1
        target = under / f"{EXAMPLE_NAME}-{number}"
    ignored = shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc")
    shutil.copytree(source, target, ignore=ignored)
    for args in (
        ("init", "--quiet", "--initial-branch", "main"),
        ("add", "--all"),
        ("commit", "--quiet", "-m", "wordcount: top_words is missing"),
    ):
        _git(target, *args)
    return target


def current_branch(repo: Path) -> str:
    """The branch checked out in ``repo`` (a mission's base branch).

    Raises:
        ValueError: ``repo`` is no git repository, or has no branch checked out.
    """
    try:
        branch = _git(repo, "symbolic-ref", "--quiet", "--short", "HEAD").strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ValueError(f"{repo} is not a git repository with a branch checked out") from exc
    return branch


def _git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` as its owner would (the demo's identity for commits); its output."""
    done = subprocess.run(
        ["git", *_GIT_IDENTITY, *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def find_cli(program: str) -> Path | None:
    """``program`` on ``PATH``, else where ``make coding-clis`` installs it, else ``None``.

    ``make coding-clis`` puts npm's CLIs (claude, codex) in ``coding-clis/node_modules/.bin``
    and aider in a virtual environment of its own, ``coding-clis/aider``.
    """
    found = shutil.which(program)
    if found is not None:
        return Path(found)
    clis = Path(sys.prefix) / "coding-clis"
    for installed in (clis / "node_modules" / ".bin" / program, clis / program / "bin" / program):
        if installed.is_file():
            return installed
    return None


@contextmanager
def environment(changes: Mapping[str, str]) -> Iterator[None]:
    """Set the process's environment variables ``changes`` for the block, then restore them.

    The engine of the demo runs in this process and reads them: ``PATH`` (where the coding CLI
    is found) and the scripted model's secret.
    """
    before = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


async def allow_for_demo(
    ctx: ServiceContext, repository: Path, programs: Mapping[str, tuple[str, ...]]
) -> list[str]:
    """Allow ``repository`` and ``programs`` (name → variables) as the admin; what changed.

    An entry a program already has is kept when it allows what the demo needs (tier ``read``,
    the variables named), and otherwise widened only: its variables and network stay.
    """
    changed: list[str] = []
    command = next(agent for agent in await list_agents(ctx) if agent.name == COMMAND_AGENT)
    entries: dict[str, AllowedProgram | None] = {}
    for program, variables in programs.items():
        entry = command.allowed_programs.get(program)
        if entry is not None and entry.tier == "read" and set(variables) <= set(entry.env):
            continue
        kept = entry.env if entry is not None else []
        network = entry.network if entry is not None else False
        env = sorted({*kept, *variables})
        entries[program] = AllowedProgram(tier="read", network=network, env=env)
        named = f", variables {', '.join(env)}" if env else ""
        changed.append(f"program {program} (tier read{named})")
    if entries:
        await update_agent(
            ctx, name=COMMAND_AGENT, data=AgentUpdate(allowed_programs=entries), actor=DEMO_ACTOR
        )
    allowed = AgentUpdate(allowed_repositories={str(repository): True})
    await update_agent(ctx, name=CODING_RULE, data=allowed, actor=DEMO_ACTOR)
    changed.append(f"repository {repository}")
    return changed


async def create_demo_mission(
    ctx: ServiceContext,
    planner: Planner,
    *,
    repository: Path,
    base: str,
    agent: str,
    model: Mapping[str, str],
    test_command: tuple[str, ...] | None,
    review: bool = False,
) -> DemoMission:
    """Create the demo's mission on ``repository`` and plan it with ``planner``.

    ``agent`` is the mission's coding agent (a :class:`DemoCli`'s ``agent``); ``model`` its
    model endpoint (``base_url``, ``secret``, optionally ``name``); without ``test_command``
    the mission detects one from the repository. ``review`` gives the mission the review loop
    (``repository.review``).
    """
    named: dict[str, object] = {
        "source": str(repository),
        "base": base,
        "agent": agent,
        "model": dict(model),
    }
    if test_command is not None:
        named["test_command"] = list(test_command)
    if review:
        named["review"] = True
    data = MissionCreate.model_validate(
        {"goal": GOAL, "title": TITLE, "repo_context": REPO_CONTEXT, "repository": named}
    )
    mission = await create_mission(ctx, data=data, actor=DEMO_ACTOR)
    planned = await plan_mission(ctx, mission_id=mission.id, actor=DEMO_ACTOR, planner=planner)
    return DemoMission(mission, planned)


@dataclass(frozen=True, slots=True)
class WhereToLook:
    """What the demo left to look at, for :func:`where_to_look`."""

    home: Path
    server: str
    """The dashboard's base URL (``missionctl serve``)."""
    mission_id: str
    run_id: str
    repository: Path
    base: str
    branches: Mapping[str, str]
    """Each coding step's branch, by step id."""
    approvals: Mapping[str, str]
    """Each pending approval's id, by the id of the step it gates."""


def where_to_look(seen: WhereToLook) -> list[str]:
    """The closing lines: the mission page, the approvals and how to decide, branches and diffs.

    Commands start with ``MISSIONCTL_HOME=…`` so that they work copied into any terminal.
    """
    env = f"MISSIONCTL_HOME={seen.home} "
    lines = [
        "where to look:",
        f"  the mission page: start the dashboard with  {env}missionctl serve",
        f"    then open {seen.server}/missions/{seen.mission_id}  (the first start prints a "
        f"sign-in link for admin; later ones: {env}missionctl login-link admin)",
    ]
    if seen.approvals:
        lines += [
            f"  waiting for approval: {len(seen.approvals)} merge(s); a merge into "
            f"{seen.base} is gated: a person reads its diff first",
            f"    in the dashboard: {seen.server}/approvals  (its engine runs the merge once "
            "approved)",
            f"    or here: {env}missionctl approvals --run {seen.run_id}  (shows each diff)",
        ]
        for step, approval in seen.approvals.items():
            lines.append(f"      {env}missionctl approve {approval}   ({step})")
        lines.append(
            f"    then {env}missionctl worker  runs the merge (stop it with Ctrl-C once the run "
            "has completed)"
        )
    if seen.branches:
        lines.append(f"  branches and diffs, in {seen.repository}:")
        for step, branch in seen.branches.items():
            lines.append(f"    {step}: git -C {seen.repository} diff {seen.base}...{branch}")
        lines.append(
            f"    the same diffs, kept as the run's artifacts (<step>.diff): {env}missionctl "
            f"runs artifacts {seen.run_id}"
        )
    return lines
