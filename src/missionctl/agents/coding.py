"""The ``coding:<preset>`` agents: a coding CLI at work in a git worktree of its own (ADR 0067).

Inputs (all optional but where said):

- ``prompt``: what to do. The task's file of the mission's AI execution pack (``task_key``,
  else the step id, when the plan has such a task) comes first; the prompt follows it. One of
  the two must exist. The prompt file the CLI reads (``prompt.md``) ends with how the work is
  checked and which attempt this is: its number and the step's idempotency key, the same for
  every attempt (``agents.coding_checks``).
- ``approval_mode``: ``read-only`` (default: the worktree is mounted read-only and a change
  fails the step), ``workspace-write`` (the worktree is writable) or ``full-access`` (the CLI's
  own guard rails off; such a step always waits for an approver who confirms it and records a
  justification). Every mode runs inside the step sandbox, which never sees the git directory.
- ``repository`` and ``base``: override the mission's repository and base branch.
- ``argv``: the command line, for the ``generic`` preset only (placeholders as in
  ``coding_presets.yaml``).
- ``test_command``: a command line run in the worktree after the agent (say, the test suite);
  its output becomes the ``<step>-test-output.log`` artifact and a non-zero exit fails the step.
- ``continue_from`` (a coding step this one depends on) and ``review_verdict`` (true: the step
  is a reviewer whose answer ends with a verdict block): see ``agents.coding_chain``.
- ``network``, ``env``, ``secret_env``, ``max_output_bytes``: as for ``command`` steps (an
  API key for the CLI is a step secret named in ``secret_env``). A step that names its model
  endpoint (``inputs.model``) and not ``network`` reaches that endpoint and nothing else,
  through the egress proxy of ``agents.egress`` (ADR 0079); its ``test_command`` has no network.

What happens: the base commit is resolved, a worktree is added on the branch
``missionctl/<run>/<step>`` (reset on a retry), the CLI runs there, whatever it changed is
committed by Mission Control (hooks off), and the diff from the base becomes the artifacts
``<step>.diff`` (unified) and ``<step>-changes.json`` (per file: status, lines added and removed).
The worktree is removed when the step ends, however it ends; the branch stays for the
``git:merge`` step. Git never discovers a repository in the worktree (ADR 0073): its ``.git`` is
read-only in the sandbox, and a step whose program moved or replaced the worktree or its
``.git`` fails before any git command, or its ``test_command``, runs there
(``agents.git.check_worktree``).

Outputs: ``repository``, ``base_branch``, ``base_commit``, ``branch``,
``head_commit``, ``files_changed``, ``insertions``, ``deletions``, ``approval_mode`` and the
program's ``exit_code``/``stdout_tail``/``stderr_tail``.
"""

import asyncio
import dataclasses
import json
from collections.abc import Mapping, Sequence
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template
from typing import Any

from pydantic import ConfigDict, TypeAdapter
from pydantic.dataclasses import dataclass

from missionctl.agents.base import Agent, AgentError, AgentResult, ArtifactOutput, StepContext
from missionctl.agents.coding_chain import chain_start, read_verdict, review_section
from missionctl.agents.coding_checks import (
    AttemptGuard,
    attempt_section,
    checking_section,
    tests_failed,
)
from missionctl.agents.command import CommandAgent, make_workspace
from missionctl.agents.egress import egress_for
from missionctl.agents.git import (
    FileChange,
    Repository,
    RepositoryStore,
    Worktree,
    add_worktree,
    check_worktree,
    commit_all,
    diff,
    in_worktree,
    remove_entry,
    remove_worktree,
    resolve_commit,
)
from missionctl.agents.git_merge import MergeAgent
from missionctl.agents.git_remote import AddressPolicy
from missionctl.agents.http import HttpAgentConfig
from missionctl.agents.registry import AgentRegistry
from missionctl.agents.secrets import resolve_secrets
from missionctl.agents.workspace_files import write_new_file
from missionctl.domain.coding import (
    APPROVAL_MODES,
    CODING_KIND,
    DEFAULT_APPROVAL_MODE,
    GENERIC_PRESET,
    MERGE_AGENT,
    MODE_ARGS,
    MODEL_ARGS,
    ApprovalMode,
    ModelEndpoint,
    branch_for,
    model_endpoint,
)
from missionctl.llm.redaction import Redactor
from missionctl.schemas.datafiles import read_data_file

MAX_PROMPT_CHARS = 200_000
_CLI_COMMAND_MARKS = ("/", "!")
MAX_DIFF_BYTES = 5_000_000
MAX_FILES_LISTED = 2000


@dataclass(frozen=True, slots=True, config=ConfigDict(extra="forbid"))
class ModelWiring:
    """How a preset's CLI is pointed at a step's model endpoint (``inputs.model``).

    ``key_env`` is the variable the CLI reads its key from (the step's ``inputs.model.secret``
    is handed over as it); ``env`` are more variables and ``args`` the arguments that replace
    ``${model_args}``, both with ``${base_url}`` and ``${model}`` substituted; ``name_args``
    follow ``args`` only when the step names a model.
    """

    key_env: str
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    args: list[str] = dataclasses.field(default_factory=list)
    name_args: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, slots=True, config=ConfigDict(extra="forbid"))
class CodingPreset:
    """One coding CLI: its command line and the arguments of each approval mode.

    ``model`` says how it is pointed at a model endpoint (``None``: it cannot be, and a step
    that names one fails).
    """

    title: str
    argv: list[str]
    modes: dict[ApprovalMode, list[str]]
    model: ModelWiring | None = None


def load_presets(file: Traversable) -> dict[str, CodingPreset]:
    """Read and check a preset table (the product's is ``coding_presets.yaml``).

    Raises:
        DataFileError: the file cannot be read or validated (the message names the field).
    """
    return read_data_file(file, TypeAdapter(dict[str, CodingPreset]))


PRESETS: dict[str, CodingPreset] = load_presets(
    files(__name__.rpartition(".")[0]) / "coding_presets.yaml"
)


class CodingAgent:
    """Runs one preset's CLI in a worktree (see the module docstring)."""

    def __init__(
        self,
        name: str,
        preset: CodingPreset,
        *,
        commands: CommandAgent,
        repositories: RepositoryStore,
    ) -> None:
        """``commands`` runs programs in the sandbox; ``repositories`` opens repositories."""
        self.name = name
        self.preset = preset
        self.commands = commands
        self.repositories = repositories

    async def run(self, step: StepContext) -> AgentResult:
        """Do the task in a fresh worktree; see the module docstring for the contract."""
        mode = approval_mode(step.inputs)
        source, base = await _target(step)
        prompt = await _prompt(step)
        repo = await self.repositories.open(source)
        # A step continuing another's branch starts at its head (agents.coding_chain).
        start = await chain_start(step, repo, source, base, await resolve_commit(repo, base))
        prompt += await review_section(step, repo, start)
        make_workspace(step)
        # A previous attempt's program may have left a link here: never written through.
        await asyncio.to_thread(_write_prompt, step.workspace, prompt)
        path = step.workspace / "repo"
        branch = branch_for(str(step.run_id), step.step_id)
        endpoint = _endpoint(step)
        secrets = resolve_secrets(step.inputs.get("secret_env"), field="secret_env")
        secrets |= self._model_key(endpoint)
        try:
            tree = await add_worktree(repo, path=path, branch=branch, commit=start.commit)
            redactor = Redactor(secrets.values())
            work = _Work(step, repo, tree, mode, prompt, secrets, redactor, endpoint)
            result = await self._work(work)
        finally:
            # Shielded: a canceled step still leaves no worktree behind.
            await asyncio.shield(remove_worktree(repo, path))
        head = result.outputs["head_commit"]
        result.outputs |= {
            "repository": source,
            "base_branch": start.base_branch,
            "base_commit": start.base_commit,
            "branch": branch,
            "approval_mode": mode,
        }
        patch, changes = await diff(repo, start.commit, head)
        _describe_changes(result, step.step_id, patch, changes, work.redactor)
        read_verdict(step, result)  # a reviewer's (agents.coding_chain)
        return result

    async def _work(self, work: "_Work") -> AgentResult:
        step, redactor = work.step, work.redactor
        env = self.commands.environment(step) | self._model_env(work.endpoint) | work.secrets
        guard = await AttemptGuard.start(step)  # its HOME, time limit and workspace as it was
        env["HOME"] = str(guard.home)
        network = step.inputs.get("network", False)
        if not isinstance(network, bool):
            raise AgentError("inputs.network must be true or false", retryable=False)
        # The worktree's .git is read-only even in a writable worktree: a program cannot put a
        # repository of its own in its place (the check after it ran is the second guard).
        worktree = work.tree.path
        read_only = [worktree] if work.mode == "read-only" else [worktree / ".git"]
        argv = self._argv(work)
        # A model endpoint alone is reached through the egress proxy (ADR 0079); `network: true`
        # is the host's whole network, the endpoint included.
        endpoint = None if network else work.endpoint
        async with egress_for(step, endpoint, self.repositories.policy, redactor) as egress:
            done = await guard.within_time(argv[0], lambda bounded: self.commands.run_program(
                bounded, argv, env=env, redactor=redactor, network=network,
                read_only=read_only, cwd=worktree, egress=egress,
            ))  # fmt: skip
        if done.code != 0:
            raise done.failure(argv[0])
        # The sandbox binds the worktree's .git by path: had the program put a link there (or
        # moved the worktree), the test command would see what the link names. Checked first:
        # a moved worktree is the more precise reason than the entries it left in the workspace.
        await asyncio.to_thread(check_worktree, work.tree)
        await guard.check_outside(done)
        artifacts: list[ArtifactOutput] = []
        outputs = done.outputs
        tests = _command(step.inputs, "test_command")
        if tests:
            # The code under test is the CLI's (its model's) work: it gets neither the step's
            # secrets nor the model key, and no network but what the step itself asked for.
            test_env = self.commands.environment(step) | {"HOME": str(guard.home)}
            checked = await guard.within_time(tests[0], lambda bounded: self.commands.run_program(
                bounded, tests, env=test_env, redactor=redactor, network=network,
                read_only=read_only, cwd=worktree, transcript=True,
            ))  # fmt: skip
            log = "\n".join(checked.transcript) + "\n"
            name = f"{step.step_id}-test-output.log"
            artifacts.append(ArtifactOutput(name, "log", "text/plain", log.encode()))
            outputs["tests_exit_code"] = checked.code
            if checked.code != 0:
                raise tests_failed(checked, tests, agent=done, program=argv[0])
            await guard.check_outside(checked)
        title = str(step.inputs.get("title") or step.step_id)
        head = await _commit(work, f"{title} ({self.name}, step {step.step_id})")
        return AgentResult(
            outputs=outputs | {"head_commit": head},
            summary=f"{self.preset.title} finished in {work.mode} mode",
            artifacts=artifacts,
        )

    def _argv(self, work: "_Work") -> list[str]:
        template = self.preset.argv
        if self.name == GENERIC_PRESET:
            template = _command(work.step.inputs, "argv") or []
            if not template:
                raise AgentError(
                    "a coding:generic step needs inputs.argv, the command line of your coding "
                    "CLI (placeholders: ${prompt}, ${prompt_file}, ${mode}, ${worktree})",
                    retryable=False,
                )
        values = {
            "prompt": work.prompt,
            "prompt_file": str(work.step.workspace / "prompt.md"),
            "mode": work.mode,
            "worktree": str(work.tree.path),
        }
        argv: list[str] = []
        for arg in template:
            if arg == MODE_ARGS:
                argv += self.preset.modes.get(work.mode, [])
            elif arg == MODEL_ARGS:
                argv += self._model_args(work.endpoint)
            else:
                argv.append(Template(arg).safe_substitute(values))
        return argv

    def _wiring(self, endpoint: ModelEndpoint) -> "ModelWiring":
        if self.preset.model is None:
            raise AgentError(
                f"coding:{self.name} cannot be pointed at a model endpoint: leave out "
                "inputs.model and give the CLI its endpoint through inputs.env",
                retryable=False,
            )
        return self.preset.model

    def _model_key(self, endpoint: ModelEndpoint | None) -> dict[str, str]:
        """The step's model key, as the variable the CLI reads it from."""
        if endpoint is None:
            return {}
        wiring = self._wiring(endpoint)
        return resolve_secrets({wiring.key_env: endpoint.secret}, field="model.secret")

    def _model_env(self, endpoint: ModelEndpoint | None) -> dict[str, str]:
        if endpoint is None:
            return {}
        values = _model_values(endpoint)
        return {
            name: Template(value).safe_substitute(values)
            for name, value in self._wiring(endpoint).env.items()
        }

    def _model_args(self, endpoint: ModelEndpoint | None) -> list[str]:
        if endpoint is None:
            return []
        wiring, values = self._wiring(endpoint), _model_values(endpoint)
        args = wiring.args + (wiring.name_args if endpoint.name else [])
        return [Template(arg).safe_substitute(values) for arg in args]


def register_coding(
    registry: AgentRegistry,
    *,
    repositories: Path,
    presets: Mapping[str, CodingPreset] | None = None,
    network: HttpAgentConfig | None = None,
) -> None:
    """Make ``coding:<preset>`` and ``git:merge`` resolve.

    The presets are the shipped ones (``PRESETS``) and ``presets`` (an admin's file,
    ``MISSIONCTL_CODING_PRESETS_FILE``), which may replace a shipped one by name.
    ``repositories`` is where clones of repository URLs are kept; ``network`` says where a clone
    may connect, as for ``http`` steps (default: public addresses only).
    """
    config = network or HttpAgentConfig()
    policy = AddressPolicy(allowed=config.allowed_networks, resolve=config.resolve)
    store = RepositoryStore(repositories, policy)
    commands = CommandAgent(sandbox=registry.sandbox)
    agents = {
        name: CodingAgent(name, preset, commands=commands, repositories=store)
        for name, preset in {**PRESETS, **(presets or {})}.items()
    }

    def factory(name: str) -> Agent:
        if name not in agents:
            raise AgentError(
                f"unknown coding agent coding:{name}; known: "
                + ", ".join(f"coding:{known}" for known in sorted(agents)),
                retryable=False,
            )
        return agents[name]

    registry.register_kind(CODING_KIND, factory)
    registry.register(MERGE_AGENT, MergeAgent(store))


@dataclasses.dataclass(frozen=True, slots=True)
class _Work:
    """One attempt's working facts."""

    step: StepContext
    repo: Repository
    tree: Worktree  # as made, before the program ran
    mode: ApprovalMode
    prompt: str
    secrets: dict[str, str]  # the step's secrets by variable, read once per attempt
    redactor: Redactor  # keeps them (and every registered one) out of what the step records
    endpoint: ModelEndpoint | None  # the step's model endpoint (inputs.model), if it names one


def _endpoint(step: StepContext) -> ModelEndpoint | None:
    """The step's ``inputs.model``.

    Raises:
        AgentError: (not retryable) it is malformed; the message names the field.
    """
    try:
        return model_endpoint(step.inputs.get("model"))
    except ValueError as exc:
        raise AgentError(str(exc), retryable=False) from exc


def _model_values(endpoint: ModelEndpoint) -> dict[str, str]:
    return {"base_url": endpoint.base_url, "model": endpoint.name or ""}


def approval_mode(inputs: Mapping[str, Any]) -> ApprovalMode:
    """The step's approval mode (default ``read-only``).

    Raises:
        AgentError: (not retryable) not one of the three modes.
    """
    mode = inputs.get("approval_mode", DEFAULT_APPROVAL_MODE)
    for known in APPROVAL_MODES:
        if mode == known:
            return known
    raise AgentError(
        f"inputs.approval_mode must be one of {', '.join(APPROVAL_MODES)}; not {mode!r}",
        retryable=False,
    )


def _command(inputs: Mapping[str, Any], name: str) -> list[str] | None:
    value = inputs.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(a, str) for a in value):
        raise AgentError(f"inputs.{name} must be a non-empty list of strings", retryable=False)
    return list(value)


async def _target(step: StepContext) -> tuple[str, str]:
    """The repository source and base branch: the step's inputs, else its mission's."""
    mission = await step.load_mission() if step.mission_id else None
    named = (mission or {}).get("repository") or {}
    source = step.inputs.get("repository") or named.get("source")
    base = step.inputs.get("base") or named.get("base") or "main"
    if not isinstance(source, str) or not source:
        raise AgentError(
            "a coding step needs a repository: name one on its mission or in inputs.repository",
            retryable=False,
        )
    if not isinstance(base, str):
        raise AgentError("inputs.base must be a branch name", retryable=False)
    return source, base


async def _prompt(step: StepContext) -> str:
    """The task's pack file (if the plan has the task), the step's prompt, the check, the attempt.

    The last parts are ``agents.coding_checks.checking_section`` and ``attempt_section``.
    """
    key = step.inputs.get("task_key") or step.step_id
    pack = await step.load_task_pack(str(key)) if step.mission_id else None
    own = step.inputs.get("prompt")
    if own is not None and not isinstance(own, str):
        raise AgentError("inputs.prompt must be text", retryable=False)
    parts = [part for part in (pack, own) if part]
    if not parts:
        raise AgentError(
            f"nothing to do: no task {key!r} in the mission's plan and no inputs.prompt",
            retryable=False,
        )
    # It ends with how the work is checked: acceptance criteria, test command, a failed run.
    parts.append(await checking_section(step, _command(step.inputs, "test_command")))
    parts.append(attempt_section(step))  # so that the CLI can recognise a re-run
    prompt = "\n\n".join(parts)
    if prompt.lstrip().startswith(_CLI_COMMAND_MARKS):
        # Claude Code and aider read a message that starts with "/" as their own command and
        # aider one that starts with "!" as a shell line: a prompt is always a task.
        prompt = "Task:\n" + prompt
    if len(prompt) > MAX_PROMPT_CHARS:
        raise AgentError(f"the prompt is over {MAX_PROMPT_CHARS} characters", retryable=False)
    return prompt


async def _commit(work: _Work, message: str) -> str:
    """Commit the worktree's changes; a read-only step that changed something fails."""
    if work.mode == "read-only":
        changed = await in_worktree(work.tree, "status", "--porcelain", "--ignore-submodules=all")
        if changed.out.strip():
            paths = ", ".join(line[3:] for line in changed.out.splitlines()[:10])
            raise AgentError(
                f"a read-only step changed files ({paths}); give it approval_mode "
                "workspace-write to let it",
                retryable=False,
            )
    return await commit_all(work.tree, message)


def _write_prompt(workspace: Path, prompt: str) -> None:
    """Write ``prompt.md`` (mode 0600) into ``workspace`` without following what is there.

    A previous attempt's program may have left a link, a directory or anything else named
    ``prompt.md``: it is removed without being followed, then a new file is made in its place.
    """
    remove_entry(workspace / "prompt.md")
    write_new_file(workspace, "prompt.md", prompt.encode("utf-8"))


def _describe_changes(
    result: AgentResult,
    step_id: str,
    patch: str,
    changes: Sequence[FileChange],
    redactor: Redactor,
) -> None:
    """Add the diff's artifacts and outputs to ``result``."""
    content = redactor.redact(patch.encode("utf-8"), patterns=False)
    if len(content) > MAX_DIFF_BYTES:
        content = content[:MAX_DIFF_BYTES] + b"\n[diff cut at 5 MB]\n"
    listed = [
        {"path": c.path, "status": c.status, "insertions": c.insertions, "deletions": c.deletions}
        for c in changes[:MAX_FILES_LISTED]
    ]
    summary = {
        "files": listed,
        "files_changed": len(changes),
        "insertions": sum(c.insertions for c in changes),
        "deletions": sum(c.deletions for c in changes),
    }
    result.artifacts += [
        ArtifactOutput(f"{step_id}.diff", "diff", "text/x-diff", content),
        ArtifactOutput(
            f"{step_id}-changes.json",
            "json",
            "application/json",
            json.dumps(summary, indent=2).encode(),
        ),
    ]
    result.outputs |= {
        "files_changed": [c["path"] for c in listed],
        "insertions": summary["insertions"],
        "deletions": summary["deletions"],
    }
    result.summary += (
        f": {len(changes)} files changed, +{summary['insertions']} -{summary['deletions']}"
    )
