"""Command steps run real programs: a generated project's tests pass, or fail visibly.

The programs here are on the command agent's allow-list (the ``listed`` fixture): unlisted
ones wait for an approver, which ``test_program_allow_list.py`` covers.
"""

import asyncio
import os
import sys
import textwrap

import pytest
from sqlalchemy import select

from missionctl.db.models import Artifact
from missionctl.services import ServiceContext
from missionctl.services.usecases.runs import cancel_run
from tests.engine.helpers import (
    allow,
    host_pids,
    run_events,
    running_engine,
    start,
    step,
    wait_for_run,
    wait_for_step,
)

PY = sys.executable
PYTEST = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_calc.py"]


@pytest.fixture(autouse=True)
async def listed(ctx: ServiceContext) -> None:
    """The interpreter these steps run is allow-listed at ``read``: they run unapproved.

    ``DECLARED`` is the one variable a step here sets; an entry must name it (or the step waits).
    """
    await allow(ctx, PY, env=("DECLARED",))


def _generate(test_body: str) -> list[str]:
    """argv that writes a tiny package and its test into the workspace."""
    code = textwrap.dedent(
        f"""
        import pathlib
        pathlib.Path("calc.py").write_text("def add(a, b):\\n    return a + b\\n")
        test = "from calc import add\\n\\ndef test_add():\\n    {test_body}\\n"
        pathlib.Path("test_calc.py").write_text(test)
        print("generated calc.py and test_calc.py")
        """
    )
    return [PY, "-c", code]


REPORT = [
    PY,
    "-c",
    "import pathlib, os; d = pathlib.Path('artifacts'); d.mkdir(exist_ok=True); "
    "step = os.environ['MISSIONCTL_STEP_ID']; "
    "(d / 'report.md').write_text('# Test report\\n\\nAll tests passed for ' + step + '.\\n')",
]


def _workflow(test_body: str) -> list[dict[str, object]]:
    return [
        step("generate", "command", inputs={"argv": _generate(test_body)}),
        step(
            "test",
            "command",
            "generate",
            # A step reads the workspace of a step it depends on at ../<step id>.
            inputs={"argv": [*PYTEST[:-1], "../generate/test_calc.py"]},
        ),
        step("report", "command", "test", inputs={"argv": REPORT}),
    ]


async def _logged(ctx: ServiceContext, run_id: object) -> list[str]:
    events = await run_events(ctx, run_id)  # type: ignore[arg-type]
    return [line["message"] for e in events if e.type == "step.log" for line in e.payload["lines"]]


async def test_a_generated_project_is_tested_and_reported(ctx: ServiceContext) -> None:
    run = await start(ctx, _workflow("assert add(2, 3) == 5"))
    async with running_engine(ctx):
        done = await wait_for_run(ctx, run.id, within_s=60)
    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    events = await run_events(ctx, run.id)
    logged = [
        line["message"] for e in events if e.type == "step.log" for line in e.payload["lines"]
    ]
    assert "generated calc.py and test_calc.py" in logged
    assert any("1 passed" in line for line in logged)
    async with ctx.read() as session:
        artifacts = (await session.scalars(select(Artifact).where(Artifact.run_id == run.id))).all()
    assert [(a.name, a.kind, a.media_type) for a in artifacts] == [
        ("report.md", "markdown", "text/markdown")
    ]
    assert ctx.blobs.read_bytes(artifacts[0].sha256).decode().startswith("# Test report")
    assert any(e.type == "artifact.created" and e.payload["name"] == "report.md" for e in events)


async def test_a_failing_test_fails_the_run_with_its_output_visible(ctx: ServiceContext) -> None:
    run = await start(ctx, _workflow("assert add(2, 2) == 5"))
    async with running_engine(ctx):
        done = await wait_for_run(ctx, run.id, within_s=60)
    assert done.status == "failed"
    generate, test, report = done.steps
    assert (generate.status, test.status, report.status) == ("succeeded", "failed", "blocked")
    assert "exited with code 1" in (test.error or "")
    assert "1 failed" in (test.error or "") or "1 failed" in test.outputs.get("stdout_tail", "")
    logged = [
        line["message"]
        for e in await run_events(ctx, run.id)
        if e.type == "step.log"
        for line in e.payload["lines"]
    ]
    assert any("assert 4 == 5" in line for line in logged)


async def test_commands_get_a_scrubbed_environment(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISSIONCTL_LLM_API_KEY", "sk-canary-env-123")
    monkeypatch.setenv("SOME_SERVER_SECRET", "canary-456")
    dump = [PY, "-c", "import os; [print(f'{k}={v}') for k, v in sorted(os.environ.items())]"]
    run = await start(
        ctx, [step("env", "command", inputs={"argv": dump, "env": {"DECLARED": "yes"}})]
    )
    async with running_engine(ctx):
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed"
    logged = "\n".join(
        line["message"]
        for e in await run_events(ctx, run.id)
        if e.type == "step.log"
        for line in e.payload["lines"]
    )
    assert "canary" not in logged
    assert "DECLARED=yes" in logged
    assert f"MISSIONCTL_IDEMPOTENCY_KEY={run.id}:env\n" in logged
    assert "MISSIONCTL_ATTEMPT=1\n" in logged


async def test_a_retried_command_sees_the_same_idempotency_key_and_the_next_attempt(
    ctx: ServiceContext,
) -> None:
    # Each attempt appends its key and attempt to a file of the workspace (which attempts
    # share) and the first fails: the second's artifact lists both.
    record = (
        "import os, pathlib, sys; "
        "seen = pathlib.Path('seen.txt'); "
        "line = os.environ['MISSIONCTL_IDEMPOTENCY_KEY'] + ' ' + os.environ['MISSIONCTL_ATTEMPT']; "
        "seen.write_text((seen.read_text() if seen.exists() else '') + line + '\\n'); "
        "pathlib.Path('artifacts/seen.txt').write_text(seen.read_text()); "
        "sys.exit(1 if os.environ['MISSIONCTL_ATTEMPT'] == '1' else 0)"
    )
    retry = {"max_attempts": 2, "backoff_s": 0.01}
    run = await start(
        ctx, [step("once", "command", inputs={"argv": [PY, "-c", record]}, retry=retry)]
    )
    async with running_engine(ctx):
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed", done.steps[0].error
    assert done.steps[0].attempt == 2
    async with ctx.read() as session:
        artifact = await session.scalar(select(Artifact).where(Artifact.run_id == run.id))
    assert artifact is not None and artifact.name == "seen.txt"
    content = ctx.blobs.path(artifact.sha256).read_text()
    assert content == f"{run.id}:once 1\n{run.id}:once 2\n"


async def test_cancel_kills_the_whole_process_group(ctx: ServiceContext) -> None:
    marker = f"grandchild-{os.getpid()}-{id(ctx)}"
    spawn = [
        PY,
        "-c",
        "import subprocess, sys, time; "
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', {marker!r}]); "
        "print('spawned', flush=True); time.sleep(60)",
    ]
    run = await start(ctx, [step("hang", "command", inputs={"argv": spawn})])
    async with running_engine(ctx):
        await wait_for_step(ctx, run.id, "hang", "running")
        for _ in range(250):
            if host_pids(marker):
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the grandchild never started")
        await cancel_run(ctx, run_id=run.id, actor="user:test")
        for _ in range(250):
            if not host_pids(marker):
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the grandchild process survived the cancel")
    assert (await wait_for_run(ctx, run.id)).status == "canceled"
