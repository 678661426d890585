"""The ``command`` agent: run a program as a subprocess in the step's own workspace.

Inputs: ``argv`` (list of strings; each may use ``${workspace}``, ``${run_id}``, ``${step_id}``,
``${attempt}`` placeholders — substituted per element, never through a shell), optional ``env``
(declared variables), optional ``secret_env`` (variable → secret name, see
``missionctl.agents.secrets``: the value is read when the step runs, never stored),
``max_output_bytes``, and ``network`` (``true`` to reach the network; such a step waits for an
approver unless its program is allow-listed with network access).

The program runs in the sandbox of ``missionctl.agents.sandbox``: it sees its workspace
read-write, the system's programs read-only, and nothing of the data directory, the database,
the signing key, other workspaces or other processes; CPU time, memory and file size are capped.
The environment is scrubbed: only ``PATH``, ``LANG``, ``HOME`` (the workspace), the declared
variables and ``MISSIONCTL_IDEMPOTENCY_KEY`` / ``MISSIONCTL_RUN_ID`` / ``MISSIONCTL_STEP_ID`` /
``MISSIONCTL_ATTEMPT`` reach the program (the key is the same for every attempt of the step,
ADR 0093: a program that changes something outside its workspace can recognise a re-run), so
the server's own secrets never do. Exit code 0 is success. stdout/stderr stream to the step
log line by line; a line longer than 64 KiB is logged in pieces, and output past
``max_output_bytes`` is dropped (``output_truncated``).

Regular files the program writes (or changes) under ``artifacts/`` in the workspace (made
before it starts, see :func:`make_artifacts_directory`) become artifacts, read by
``missionctl.agents.workspace_files`` after it exits: no symbolic link is followed (nor is
``artifacts`` itself when it is one), FIFOs, sockets and devices are skipped, and a file past
``MISSIONCTL_SANDBOX_ARTIFACT_MAX_MB`` (or past the step's ``…_ARTIFACTS_MAX_MB``) or with a
name that does not print is left out whole; each such file is named in a ``warning`` line of
the step log, and the step still succeeds with the rest.

The program runs in its own process group, which is killed as a whole on cancellation. Secret
values (the step's own, whatever their length, and every one registered in the process) are
replaced by ``[REDACTED]`` in every log line, output, artifact and artifact name the step
records (a line is never cut inside a secret): the program sees them, the event log and the
blob store never do. Log lines and names are also cleared of credential-looking tokens; an
artifact's content loses only the exact secrets, so a patch still applies.
"""

import asyncio
import contextlib
import os
import signal
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from missionctl.agents.base import (
    AgentError,
    AgentResult,
    ArtifactKind,
    ArtifactOutput,
    StepContext,
)
from missionctl.agents.egress import EgressRoute
from missionctl.agents.sandbox import Sandbox, search_path
from missionctl.agents.secrets import resolve_secrets
from missionctl.agents.workspace_files import ReadLimits, Stamp, read_files, stamps
from missionctl.llm.redaction import Redactor

ARTIFACTS_DIR = "artifacts"
DEFAULT_MAX_OUTPUT_BYTES = 1_000_000
KILL_GRACE_S = 2.0
_TAIL_LINES = 40
_TAIL_LINE_CHARS = 4096  # a tail line is kept this long: tails become outputs and errors
_READ_BYTES = 65536
MAX_LINE_BYTES = 65536  # a longer line (or output with no newline) is logged in pieces
_KINDS: dict[str, ArtifactKind] = {
    ".md": "markdown",
    ".json": "json",
    ".diff": "diff",
    ".patch": "diff",
    ".log": "log",
}


class CommandAgent:
    """Runs ``inputs.argv``."""

    def __init__(
        self, *, sandbox: Sandbox | None = None, base_env: dict[str, str] | None = None
    ) -> None:
        """``sandbox`` confines the programs (default: bubblewrap with default limits).

        ``base_env`` overrides the scrubbed defaults (tests pin PATH, for example).
        """
        self.sandbox = sandbox or Sandbox()
        self._base_env = base_env

    async def run(self, step: StepContext) -> AgentResult:
        """Run the program; see the module docstring for the contract."""
        argv = _render_argv(step)
        network = step.inputs.get("network", False)
        if not isinstance(network, bool):
            raise AgentError("inputs.network must be true or false", retryable=False)
        make_workspace(step)
        make_artifacts_directory(step.workspace)
        # Files already there (a retried attempt's) are kept only if this attempt changes them.
        before = await asyncio.to_thread(stamps, step.workspace, ARTIFACTS_DIR)
        secrets = resolve_secrets(step.inputs.get("secret_env"), field="secret_env")
        redactor = Redactor(secrets.values())
        env = self.environment(step)
        env.update(secrets)
        done = await self.run_program(
            step,
            argv,
            env=env,
            redactor=redactor,
            network=network,
            read_only=list(step.upstream_workspaces.values()),
        )
        if done.code != 0:
            raise done.failure(argv[0])
        artifacts = await self.collect_artifacts(step, redactor, before)
        return AgentResult(outputs=done.outputs, summary=f"{argv[0]} exited 0", artifacts=artifacts)

    async def collect_artifacts(
        self, step: StepContext, redactor: Redactor, before: Mapping[str, Stamp]
    ) -> list[ArtifactOutput]:
        """The files the program wrote or changed under ``artifacts/``, as streamed artifacts.

        Read by :func:`~missionctl.agents.workspace_files.read_files` (no link followed, regular
        files only, within the sandbox's artifact limits); each file it leaves out is logged as
        a warning, and the others are kept.
        """
        collected = await asyncio.to_thread(
            read_files,
            step.workspace,
            ARTIFACTS_DIR,
            limits=ReadLimits.from_settings(self.sandbox.settings),
            redactor=redactor,
            spool_dir=step.run_dir,
            unchanged=before,
        )
        for warning in collected.warnings:
            step.log(warning, level="warning")
        return [
            ArtifactOutput(
                name=file.name,
                kind=_KINDS.get(file.suffix, "file"),
                media_type=file.media_type,
                content=file.content,
            )
            for file in collected.files
        ]

    async def run_program(
        self,
        step: StepContext,
        argv: Sequence[str],
        *,
        env: dict[str, str],
        redactor: Redactor,
        network: bool,
        read_only: Sequence[Path] = (),
        cwd: Path | None = None,
        transcript: bool = False,
        egress: EgressRoute | None = None,
    ) -> "ProgramRun":
        """Run ``argv`` confined to ``step.workspace`` and stream its output to the step log.

        ``read_only`` are directories it may only read (one may lie inside the workspace);
        it starts in ``cwd`` (default: the workspace); with ``transcript`` the run keeps every
        line it logged (as bounded by ``max_output_bytes``). With ``egress`` (and no
        ``network``) the program is started by the egress bridge, and its proxy variables lead
        to the egress proxy (``agents.egress``). Returns when the program has exited, whatever
        its exit code; on cancellation kills its process group and re-raises.

        Raises:
            AgentError: (not retryable) the sandbox cannot start, or the program cannot.
        """
        await self.sandbox.check()
        program = argv[0]
        if egress is not None:
            argv = egress.wrap(argv, confined=self.sandbox.settings.mode != "off")
        confined = self.sandbox.wrap(
            argv,
            workspace=step.workspace,
            network=network,
            read_only=read_only,
            cwd=cwd,
            egress=egress.paths if egress else (),
        )
        process = await _spawn(confined, cwd=cwd or step.workspace, env=env, program=program)
        budget = _OutputBudget(
            int(step.inputs.get("max_output_bytes", DEFAULT_MAX_OUTPUT_BYTES)),
            [] if transcript else None,
        )
        stderr_tail: deque[str] = deque(maxlen=_TAIL_LINES)
        stdout_tail: deque[str] = deque(maxlen=_TAIL_LINES)
        try:
            await asyncio.gather(
                _pump(process.stdout, step, "info", stdout_tail, budget, redactor),
                _pump(process.stderr, step, "error", stderr_tail, budget, redactor),
            )
            code = await process.wait()
        except asyncio.CancelledError:
            await _kill_group(process)
            raise
        return ProgramRun(
            code, list(stdout_tail), list(stderr_tail), budget.truncated, budget.transcript or []
        )

    def environment(self, step: StepContext) -> dict[str, str]:
        """The scrubbed environment of a step's program (see :func:`program_environment`)."""
        return program_environment(step, step.inputs.get("env", {}), self._base_env)


def program_environment(
    step: StepContext,
    declared: Any,
    base_env: dict[str, str] | None = None,
    *,
    field: str = "env",
) -> dict[str, str]:
    """The scrubbed environment a step's program gets (see the module docstring).

    ``PATH``, ``LANG``, ``HOME`` (the workspace), ``base_env``, the ``declared`` variables and
    the step's ids; nothing else of the server's environment.

    Raises:
        AgentError: (not retryable) ``declared`` is not a mapping of names to strings.
    """
    env = {
        "PATH": search_path(),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "HOME": str(step.workspace),
    }
    if base_env:
        env.update(base_env)
    if not isinstance(declared, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in declared.items()
    ):
        raise AgentError(f"inputs.{field} must map names to strings", retryable=False)
    env.update(declared)
    env.update(
        MISSIONCTL_IDEMPOTENCY_KEY=step.idempotency_key,
        MISSIONCTL_RUN_ID=str(step.run_id),
        MISSIONCTL_STEP_ID=step.step_id,
        MISSIONCTL_ATTEMPT=str(step.attempt),
    )
    return env


@dataclass(frozen=True, slots=True)
class ProgramRun:
    """How a step's program ended: its exit code and the last lines of its output."""

    code: int
    stdout_tail: list[str]
    stderr_tail: list[str]
    truncated: bool
    transcript: list[str] = field(default_factory=list)  # every line logged, when asked

    @property
    def outputs(self) -> dict[str, Any]:
        """``exit_code``, ``stdout_tail``, ``stderr_tail``, ``output_truncated``."""
        return {
            "exit_code": self.code,
            "stdout_tail": "\n".join(self.stdout_tail),
            "stderr_tail": "\n".join(self.stderr_tail),
            "output_truncated": self.truncated,
        }

    def failure(self, program: str) -> AgentError:
        """The (retryable) error of a program that exited non-zero, with its last lines."""
        sections = [
            f"--- {name} (last lines) ---\n" + "\n".join(tail)
            for name, tail in (("stdout", self.stdout_tail), ("stderr", self.stderr_tail))
            if tail
        ]
        detail = "\n".join(sections) or "(no output)"
        return AgentError(
            f"{program} exited with code {self.code}\n{detail}",
            retryable=True,
            outputs=self.outputs,
        )


def make_workspace(step: StepContext) -> None:
    """Create the step's workspace, private to the server's user, with its missing parents."""
    # Every level made private: ``mkdir(parents=True)`` would leave the missing parents
    # (the workspaces root) readable by others.
    step.workspace.parent.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    step.workspace.parent.mkdir(mode=0o700, exist_ok=True)
    step.workspace.mkdir(mode=0o700, exist_ok=True)


async def _spawn(
    argv: Sequence[str], *, cwd: Path, env: dict[str, str], program: str
) -> asyncio.subprocess.Process:
    """Start ``argv`` (a confined command line) in its own process group, output piped.

    Raises:
        AgentError: (not retryable) it cannot start; the message names ``program``.
    """
    try:
        # bwrap starts with the step's environment alone: the sandbox's init process
        # (visible in its /proc) must hold nothing the step may not see.
        return await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # its own process group, killed as a whole
        )
    except OSError as exc:
        raise AgentError(f"cannot start {program!r}: {exc}", retryable=False) from exc


def make_artifacts_directory(workspace: Path) -> None:
    """Create ``artifacts/`` in ``workspace`` if nothing has that name, following no link.

    A program may write its artifacts there from its first line. ``mkdir`` never follows a
    link in the last place: whatever a previous attempt's program left under that name (a link
    included) stays as it is, and the artifact reader follows none.
    """
    with contextlib.suppress(FileExistsError):
        os.mkdir(workspace / ARTIFACTS_DIR, 0o700)


class _OutputBudget:
    """What is left of ``max_output_bytes`` across stdout and stderr."""

    def __init__(self, cap: int, transcript: list[str] | None = None) -> None:
        self.remaining = cap
        self.truncated = False
        self.transcript = transcript


def _render_argv(step: StepContext) -> list[str]:
    argv = step.inputs.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise AgentError("inputs.argv must be a non-empty list of strings", retryable=False)
    values = {
        "workspace": str(step.workspace),
        "run_id": str(step.run_id),
        "step_id": step.step_id,
        "attempt": str(step.attempt),
    }
    # string.Template, not str.format: arguments are often code or JSON full of braces, and
    # safe_substitute leaves every other "$name" alone.
    return [Template(arg).safe_substitute(values) for arg in argv]


async def _pump(
    stream: asyncio.StreamReader | None,
    step: StepContext,
    level: str,
    tail: deque[str],
    budget: _OutputBudget,
    redactor: Redactor,
) -> None:
    """Log ``stream`` line by line until it ends; never blocks the program on a full pipe."""
    if stream is None:
        return
    pending = b""
    while chunk := await stream.read(_READ_BYTES):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        if len(pending) > MAX_LINE_BYTES:  # no newline in sight: log what we have
            pieces, pending = _split(pending, MAX_LINE_BYTES, redactor.byte_secrets())
            lines += pieces
        for line in lines:
            _record_line(line, step, level, tail, budget, redactor)
    if pending:
        _record_line(pending, step, level, tail, budget, redactor)


def _record_line(
    line: bytes,
    step: StepContext,
    level: str,
    tail: deque[str],
    budget: _OutputBudget,
    redactor: Redactor,
) -> None:
    # Redacted before anything keeps it: the tails become outputs and error messages.
    text = redactor.redact(line.decode("utf-8", "replace").rstrip("\r"))
    tail.append(text if len(text) <= _TAIL_LINE_CHARS else text[:_TAIL_LINE_CHARS] + "…")
    if budget.truncated:
        return  # keep draining so the program never blocks on a full pipe
    size = len(line) + 1
    if size > budget.remaining:
        head = text.encode("utf-8")[: budget.remaining].decode("utf-8", "ignore")
        if head:
            step.log(head, level="error" if level == "error" else "info")
        budget.remaining = 0
        budget.truncated = True
        step.log("output truncated: max_output_bytes reached", level="warning")
        return
    budget.remaining -= size
    step.log(text, level="error" if level == "error" else "info")
    if budget.transcript is not None:
        budget.transcript.append(text)


def _split(pending: bytes, limit: int, secrets: Sequence[bytes]) -> tuple[list[bytes], bytes]:
    """``pending`` cut into pieces of at most ``limit`` bytes (see :func:`_cut`) and the rest.

    The rest is at most ``limit`` bytes long: it may be the beginning of a longer piece.
    """
    pieces: list[bytes] = []
    start = 0
    while len(pending) - start > limit:
        cut = _cut(pending[start : start + limit + _lookahead(secrets)], limit, secrets)
        pieces.append(pending[start : start + cut])
        start += cut
    return pieces, pending[start:]


def _lookahead(secrets: Sequence[bytes]) -> int:
    return max((len(s) for s in secrets), default=0)


def _cut(pending: bytes, limit: int, secrets: Sequence[bytes]) -> int:
    """Where to split a line longer than ``limit``: there, or before a secret it would split.

    A secret cut in two would survive redaction as two fragments; one that has only begun at
    the end of what arrived so far counts too (its rest is still in the pipe). The cut moves
    back less than the length of the longest secret, so every piece is nearly ``limit`` long
    and splitting a line takes time linear in its length, whatever it holds. The price: in a
    chain of overlapping occurrences reaching back further than that (a run ``aaaa…`` with the
    secret ``aaaaaaaa``, or the end of one secret being the start of another), the cut may
    leave a fragment shorter than the secret at the end of the first piece. Random secrets do
    not overlap themselves or each other.
    """
    if not secrets:
        return limit
    floor = max(1, limit - max(len(s) for s in secrets) + 1)
    cut, moved = limit, True
    while moved:  # moving the cut may put it inside another secret: until none straddles it
        moved = False
        for secret in secrets:
            for start in range(max(floor, cut - len(secret) + 1), cut):
                if secret.startswith(pending[start : start + len(secret)]):
                    cut, moved = start, True
                    break
    return cut


async def _kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGTERM the whole process group, then SIGKILL what is left after a grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), KILL_GRACE_S)
            return
        except TimeoutError:
            continue
