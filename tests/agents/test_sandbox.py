"""The step sandbox, attacked: a program a step runs reaches nothing beyond its workspace.

The programs are allow-listed (with the network, which the sandbox still gives only to a step
that asks), so the steps run without an approver and the sandbox alone stands in the way.
"""

import asyncio
import base64
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from missionctl.agents.registry import AgentRegistry
from missionctl.agents.sandbox import Sandbox
from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from missionctl.settings import SandboxSettings
from tests.engine.helpers import allow, run_events, running_engine, start, step, wait_for_run

PY = sys.executable
PROGRAMS = (PY, "sh", "touch", "true", "cat")
SIGNING_KEY = "signing-key-canary-5b1f"
LLM_KEY = "sk-llm-canary-93ad"
STEP_SECRET = "step-secret-canary-c40e"
# The attack of the report, word for word (the step's workspace was the run's directory then;
# it is one level deeper now, so the same file is also tried one and two levels further up).
ATTACK = (
    "cat ../../secret_key | base64 -w0; "
    "tr '\\0' '\\n' </proc/$PPID/environ | grep ^MISSIONCTL_ | base64 -w0"
)
PROBES = (
    "cat ../../../secret_key {home}/secret_key | base64 -w0; "
    "for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ; done | grep ^MISSIONCTL_ | base64 -w0; "
    "ls -a {home} {home}/..; cat /proc/1/cmdline; env"
)


@pytest.fixture(autouse=True)
async def listed(ctx: ServiceContext) -> None:
    """The programs these steps run are allow-listed at ``read``, with the network.

    The entries name the variables the steps here set on purpose (a secret and its expected value).
    """
    await allow(ctx, *PROGRAMS, network=True, env=("TOKEN", "EXPECTED"))


def _secrets_in(text: str) -> list[str]:
    """Which canaries ``text`` holds, plainly or base64-encoded anywhere in it."""
    found = []
    decoded = text
    for word in text.split():
        try:
            decoded += "\n" + base64.b64decode(word + "==", validate=False).decode(
                "utf-8", "ignore"
            )
        except ValueError:
            continue
    for canary in (SIGNING_KEY, LLM_KEY, STEP_SECRET):
        if canary in decoded:
            found.append(canary)
    return found


@pytest.fixture
def server_secrets(ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The server's signing key file and secret variables, as a real server holds them."""
    home = Path(ctx.settings.home)
    home.mkdir(parents=True, exist_ok=True)
    (home / "secret_key").write_text(SIGNING_KEY)
    monkeypatch.setenv("MISSIONCTL_SERVER_SECRET_KEY", SIGNING_KEY)
    monkeypatch.setenv("MISSIONCTL_LLM_API_KEY", LLM_KEY)
    monkeypatch.setenv("MISSIONCTL_SECRET_DEPLOY_TOKEN", STEP_SECRET)
    yield home


async def _logged(ctx: ServiceContext, run: RunRead) -> str:
    events = await run_events(ctx, run.id)
    lines = [line["message"] for e in events if e.type == "step.log" for line in e.payload["lines"]]
    return "\n".join(lines)


async def _run(ctx: ServiceContext, steps: list[dict[str, object]], **kwargs: object) -> RunRead:
    run = await start(ctx, steps)
    async with running_engine(ctx, **kwargs) as _:  # type: ignore[arg-type]
        return await wait_for_run(ctx, run.id, within_s=60)


async def test_the_reported_attack_gets_neither_the_key_nor_any_secret(
    ctx: ServiceContext, server_secrets: Path
) -> None:
    probes = PROBES.format(home=server_secrets)
    done = await _run(
        ctx,
        [
            step("attack", "command", inputs={"argv": ["sh", "-c", ATTACK]}),
            step("probe", "command", inputs={"argv": ["sh", "-c", probes]}),
        ],
    )
    logged = await _logged(ctx, done)
    assert _secrets_in(logged) == []
    assert "No such file or directory" in logged  # the files are not there to read
    # The data directory shows only the empty path down to the workspace: no blobs, no key.
    assert "blobs" not in logged and "secret_key\n" not in logged


async def test_a_step_secret_reaches_its_own_program_and_no_other(
    ctx: ServiceContext, server_secrets: Path
) -> None:
    own = step(
        "own",
        "command",
        inputs={
            "argv": ["sh", "-c", 'test "$TOKEN" = "$EXPECTED" && echo has-its-secret'],
            "secret_env": {"TOKEN": "deploy_token"},
            "env": {"EXPECTED": STEP_SECRET},
        },
    )
    # The declared env shows the canary to the program on purpose; the log must not.
    other = step("other", "command", inputs={"argv": ["sh", "-c", PROBES.format(home="/")]})
    done = await _run(ctx, [own, other])
    logged = await _logged(ctx, done)
    assert "has-its-secret" in logged
    assert STEP_SECRET not in logged


async def test_the_database_and_other_workspaces_cannot_be_written(
    ctx: ServiceContext, server_secrets: Path, tmp_path: Path
) -> None:
    url = make_url(ctx.settings.database_url)
    targets = [tmp_path / "outside.txt"]
    # The database file changes under the run's own writes (a WAL checkpoint may land in it at
    # any moment), and it holds the step's own command: it is checked for an appended line (a
    # SQLite file is whole pages) rather than compared byte for byte.
    database = Path(str(url.database)) if url.get_backend_name() == "sqlite" else None
    (tmp_path / "outside.txt").write_text("untouched")
    await _run(ctx, [step("mine", "command", inputs={"argv": ["touch", "mine.txt"]})])
    # Another run's workspace (that run's was removed when it ended; this one's run is unknown
    # to the database, so no sweep removes it).
    other = Path(ctx.settings.home) / "workspaces" / str(uuid.uuid4()) / "mine"
    other.mkdir(mode=0o700, parents=True)
    (other / "mine.txt").write_text("mine")
    targets += [other / "mine.txt", other / "new.txt"]
    before = {t: t.read_bytes() if t.exists() else None for t in targets}
    writes = "; ".join(f"echo pwned >> {t}" for t in [*targets, *([database] if database else [])])
    db_port = url.port or 5432
    connect = (
        f"import socket; socket.create_connection(('127.0.0.1', {db_port}), timeout=2); "
        "print('database reachable')"
    )
    done = await _run(
        ctx,
        [
            step("write", "command", inputs={"argv": ["sh", "-c", writes + "; true"]}),
            step("connect", "command", inputs={"argv": [PY, "-c", connect]}),
        ],
    )
    assert {t: t.read_bytes() if t.exists() else None for t in targets} == before
    if database is not None:
        content = database.read_bytes()
        page_size = int.from_bytes(content[16:18], "big")  # the header's page size field
        assert len(content) % page_size == 0 and not content.endswith(b"pwned\n")
    connect_step = next(s for s in done.steps if s.step_id == "connect")
    assert connect_step.status == "failed"
    assert "database reachable" not in await _logged(ctx, done)


@pytest.fixture
def listener() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


async def test_the_network_is_off_unless_the_step_asks(ctx: ServiceContext, listener: int) -> None:
    code = f"import socket; socket.create_connection(('127.0.0.1', {listener}), 2); print('up')"
    done = await _run(
        ctx,
        [
            step("offline", "command", inputs={"argv": [PY, "-c", code]}),
            step("online", "command", inputs={"argv": [PY, "-c", code], "network": True}),
        ],
    )
    status = {s.step_id: s.status for s in done.steps}
    assert status == {"offline": "failed", "online": "succeeded"}


async def test_memory_and_cpu_are_capped(ctx: ServiceContext) -> None:
    limits = SandboxSettings(memory_mb=128, cpu_s=1)
    agents = AgentRegistry(sandbox=Sandbox(limits))
    hog = "x = bytearray(512 * 1024 * 1024); print('allocated')"
    spin = "import time\nwhile True: pass"
    run = await start(
        ctx,
        [
            step("hog", "command", inputs={"argv": [PY, "-c", hog]}),
            step("spin", "command", inputs={"argv": [PY, "-c", spin]}),
        ],
    )
    async with running_engine(ctx, agents=agents):
        done = await wait_for_run(ctx, run.id, within_s=60)
    assert {s.step_id: s.status for s in done.steps} == {"hog": "failed", "spin": "failed"}
    assert "MemoryError" in (done.steps[0].error or "")
    assert "allocated" not in await _logged(ctx, done)


async def test_a_sandbox_that_cannot_start_refuses_steps_and_names_the_fix(
    ctx: ServiceContext,
) -> None:
    missing = Sandbox(SandboxSettings(bwrap_path="/nonexistent/bwrap"))
    run = await start(ctx, [step("refused", "command", inputs={"argv": ["true"]})])
    async with running_engine(ctx, agents=AgentRegistry(sandbox=missing)):
        done = await wait_for_run(ctx, run.id, within_s=30)
    refused = done.steps[0]
    assert refused.status == "failed"
    assert "cannot start" in (refused.error or "")
    assert "apt-get install bubblewrap" in (refused.error or "")
    assert "MISSIONCTL_SANDBOX_MODE=off" in (refused.error or "")
    status = await missing.check()
    assert status.warning is not None and "refused" in status.warning


async def test_with_the_sandbox_off_programs_run_unconfined_and_a_warning_stands(
    ctx: ServiceContext, server_secrets: Path
) -> None:
    off = Sandbox(SandboxSettings(mode="off"))
    run = await start(
        ctx, [step("bare", "command", inputs={"argv": ["cat", "../../../secret_key"]})]
    )
    async with running_engine(ctx, agents=AgentRegistry(sandbox=off)):
        done = await wait_for_run(ctx, run.id, within_s=30)
    assert done.status == "completed"  # the admin chose this: the key is readable
    assert "unconfined" in ((await off.check()).warning or "")


async def test_a_line_longer_than_64_kib_is_truncated_not_fatal(ctx: ServiceContext) -> None:
    code = "import sys; sys.stdout.write('x' * 300_000); sys.stdout.flush()"
    done = await _run(
        ctx,
        [step("wide", "command", inputs={"argv": [PY, "-c", code], "max_output_bytes": 100_000})],
    )
    assert done.status == "completed", done.steps[0].error
    wide = done.steps[0]
    assert wide.outputs["output_truncated"] is True
    logged = await _logged(ctx, done)
    assert 99_000 <= logged.count("x") <= 100_000
    assert "output truncated" in logged


async def test_concurrent_steps_of_a_run_get_their_own_workspaces(ctx: ServiceContext) -> None:
    write = (
        "import os, pathlib, time; d = pathlib.Path('artifacts'); d.mkdir(exist_ok=True); "
        "step = os.environ['MISSIONCTL_STEP_ID']; (d / (step + '.txt')).write_text(step); "
        "time.sleep(0.3); print(sorted(os.listdir(d))); print(oct(os.stat('.').st_mode & 0o777))"
    )
    steps = [step(f"s{i}", "command", inputs={"argv": [PY, "-c", write]}) for i in range(4)]
    done = await _run(ctx, steps)
    assert done.status == "completed"
    logged = await _logged(ctx, done)
    for i in range(4):
        assert f"['s{i}.txt']" in logged
    events = await run_events(ctx, done.id)
    made = {(e.step_id, e.payload["name"]) for e in events if e.type == "artifact.created"}
    assert made == {(f"s{i}", f"s{i}.txt") for i in range(4)}
    assert "0o700" in logged  # each workspace is private to the server's user


async def test_a_file_marked_read_only_inside_the_workspace_cannot_be_replaced(
    tmp_path: Path,
) -> None:
    sandbox = Sandbox()
    assert (await sandbox.check()).ready
    workspace = tmp_path / "ws"
    (workspace / "repo").mkdir(parents=True)
    guarded = workspace / "repo" / ".git"
    guarded.write_text("gitdir: /elsewhere\n")
    attack = (
        "rm -f .git; mv .git moved; echo planted > .git; ln -sf / .git; "
        "echo mine > mine.txt; cat .git"
    )
    argv = sandbox.wrap(
        ["sh", "-c", attack],
        workspace=workspace,
        network=False,
        read_only=[guarded],
        cwd=workspace / "repo",
    )
    done = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await done.communicate()
    assert out.decode() == "gitdir: /elsewhere\n"
    assert guarded.read_text() == "gitdir: /elsewhere\n" and not guarded.is_symlink()
    assert (workspace / "repo" / "mine.txt").read_text() == "mine\n", "the rest stays writable"
    assert "Device or resource busy" in err.decode()
    # One that is missing is not silently left writable: the sandbox refuses to start.
    argv = sandbox.wrap(
        ["true"], workspace=workspace, network=False, read_only=[workspace / "repo" / "gone"]
    )
    refused = await asyncio.create_subprocess_exec(*argv, stderr=asyncio.subprocess.PIPE)
    _, said = await refused.communicate()
    assert refused.returncode != 0 and "gone" in said.decode()
