"""What a step produced is recorded from facts when it ends, cleared when it is queued again.

Coding steps run the scripted coder (``tests/support/scripted_coder.py``) on a real repository:
the diff Mission Control takes and the exit code of the test command it runs decide ``built``,
``changed`` or ``no_change``; never the agent's own words.
"""

import sys
from pathlib import Path

import pytest

from missionctl.services import ServiceContext
from missionctl.services.usecases.runs import cancel_run, read_run, retry_step
from missionctl.settings import CodingSettings, Settings
from tests.coding.helpers import (
    allow_coding,
    coding_agents,
    coding_step,
    make_repository,
    merge_step,
    scripted_presets,
)
from tests.engine.helpers import (
    run_events,
    running_engine,
    start,
    step,
    wait_for_run,
    wait_for_step,
)

PASSING_TESTS = [sys.executable, "-c", "pass"]


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The suite's settings, with the scripted coder in the coding presets file."""
    presets = scripted_presets(tmp_path)
    return settings.model_copy(update={"coding": CodingSettings(presets_file=presets)})


def _terminal_outcomes(events: list, kind: str) -> dict[str, object]:  # type: ignore[type-arg]
    return {e.step_id: e.payload.get("outcome") for e in events if e.type == kind}


async def test_a_coding_steps_diff_and_tests_decide_built_changed_no_change_and_merged(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    claims = "I built and tested everything."  # words of the agent's choosing decide nothing
    steps = [
        coding_step(
            "tested",
            f"{claims}\n@write src/engine.txt: moves",
            repo,
            inputs={"test_command": PASSING_TESTS},
        ),
        coding_step("untested", f"{claims}\n@write docs/notes.md: notes", repo),
        coding_step("idle", claims, repo, inputs={"test_command": PASSING_TESTS}),
        merge_step("tested", gated=False),
    ]
    run = await start(ctx, steps)
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        done = await wait_for_run(ctx, run.id, within_s=60)

    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    outcomes = {s.step_id: s.outcome for s in done.steps}
    assert outcomes == {
        "tested": "built",
        "untested": "changed",
        "idle": "no_change",
        "tested-merge": "merged",
    }
    # Not compiled from a plan: counted by step, built first.
    assert done.outcomes == {"built": 1, "changed": 1, "no_change": 1, "merged": 1}
    assert done.headline == (
        "1 step built, 0 documented, 1 changed, not verified, 1 no change, 1 merged"
    )
    events = await run_events(ctx, run.id)
    assert _terminal_outcomes(events, "step.succeeded") == outcomes
    ended = next(e for e in events if e.type == "run.completed")
    assert ended.payload["headline"] == done.headline
    assert ended.payload["outcomes"] == done.outcomes


async def test_a_failure_is_failed_a_retry_clears_it_and_a_cancel_is_canceled(
    ctx: ServiceContext,
) -> None:
    run = await start(
        ctx,
        [
            step("wrote", "builtin:noop"),
            step("broken", "builtin:fail", inputs={"retryable": False}),
            step("after", "builtin:noop", "broken"),
        ],
    )
    async with running_engine(ctx):
        failed = await wait_for_run(ctx, run.id)
        assert failed.status == "failed"
        assert {s.step_id: s.outcome for s in failed.steps} == {
            "wrote": "ran",  # a diagnostic builtin writes nothing: not "documented"
            "broken": "failed",
            "after": None,  # blocked: it never ran, and may still
        }
        assert failed.headline == "1 step ran, 1 failed, 1 not run"
        events = await run_events(ctx, run.id)
        assert _terminal_outcomes(events, "step.failed") == {"broken": "failed"}
        assert next(e for e in events if e.type == "run.failed").payload["outcomes"] == {
            "ran": 1,
            "failed": 1,
        }

        retried = await retry_step(ctx, run_id=run.id, step_id="broken", actor="user:test")
        broken = next(s for s in retried.steps if s.step_id == "broken")
        assert (broken.status, broken.outcome) == ("queued", None)
        await wait_for_step(ctx, run.id, "broken", "failed")
        again = await read_run(ctx, run_id=run.id)
        assert next(s for s in again.steps if s.step_id == "broken").outcome == "failed"

        slow = await start(
            ctx,
            [
                step("slow", "builtin:sleep", inputs={"seconds": 30}),
                step("then", "builtin:noop", "slow"),
            ],
        )
        await wait_for_step(ctx, slow.id, "slow", "running")
        canceled = await cancel_run(ctx, run_id=slow.id, actor="user:test")
    assert {s.step_id: s.outcome for s in canceled.steps} == {
        "slow": "canceled",
        "then": "canceled",
    }
    assert canceled.outcomes == {"canceled": 2}
    events = await run_events(ctx, slow.id)
    assert _terminal_outcomes(events, "step.canceled") == {"slow": "canceled", "then": "canceled"}
    assert (await read_run(ctx, run_id=slow.id)).headline.startswith("2 steps canceled")


async def test_a_skipped_step_is_skipped_and_a_rerun_keeps_what_reused_steps_produced(
    ctx: ServiceContext,
) -> None:
    from missionctl.services.usecases.runs import rerun_from_failure

    run = await start(
        ctx,
        [
            step("wrote", "builtin:noop"),
            step("never", "builtin:noop", "wrote", when="false"),
            step("broken", "builtin:fail", "wrote", inputs={"retryable": False}),
        ],
    )
    async with running_engine(ctx):
        first = await wait_for_run(ctx, run.id)
        assert {s.step_id: s.outcome for s in first.steps} == {
            "wrote": "ran",
            "never": "skipped",
            "broken": "failed",
        }
        rerun = await rerun_from_failure(ctx, run_id=run.id, actor="user:test")
        reused = next(s for s in rerun.steps if s.step_id == "wrote")
        assert (reused.status, reused.outcome) == ("succeeded", "ran")
        await wait_for_run(ctx, rerun.id)
    events = await run_events(ctx, rerun.id)
    assert _terminal_outcomes(events, "step.reused") == {"wrote": "ran"}
    assert _terminal_outcomes(events, "step.skipped") == {"never": "skipped"}


def test_the_diagnostic_builtins_are_named_once_for_the_record_and_the_registry() -> None:
    """The record's list of builtins that write nothing is the registry's list of diagnostics."""
    from missionctl.agents.diagnostic import DIAGNOSTIC_AGENTS
    from missionctl.domain.outcomes import step_outcome
    from missionctl.domain.workflows import DIAGNOSTIC_AGENT_NAMES

    assert set(DIAGNOSTIC_AGENTS) == DIAGNOSTIC_AGENT_NAMES
    assert {step_outcome(name, "succeeded", {}) for name in DIAGNOSTIC_AGENT_NAMES} == {"ran"}
    assert step_outcome("builtin:release", "succeeded", {}) == "documented"
