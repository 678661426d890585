"""A coding step's prompt file says which attempt this is and the step's idempotency key.

The scripted coder (``tests/support/scripted_coder.py``) stands in for the CLI; the step's test
command reads the prompt file the CLI read (``prompt.md``, beside the worktree), prints its
"This attempt" section and fails the first attempt, so the step is retried once.
"""

import sys
from pathlib import Path

import pytest

from missionctl.services import ServiceContext
from missionctl.settings import CodingSettings, Settings
from tests.coding.helpers import (
    allow_coding,
    coding_agents,
    coding_step,
    make_repository,
    scripted_presets,
)
from tests.engine.helpers import run_events, running_engine, start, wait_for_run

# Its subject is the prompt the agent writes, the same on both databases.
pytestmark = pytest.mark.one_database

READ_PROMPT = """\
import sys
prompt = open("../prompt.md", encoding="utf-8").read()
# The last: the prompt shows this command, heading and all, in how the work is checked.
section = prompt[prompt.rindex("## This attempt"):].splitlines()
print(section[1])
print(section[2])
sys.exit(1 if section[1] == "Attempt: 1" else 0)
"""


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The scripted coder as an admin's preset, as in ``tests/coding``.

    The approval rule reads the preset's command line from the presets file the settings name.
    """
    presets = scripted_presets(tmp_path)
    return settings.model_copy(update={"coding": CodingSettings(presets_file=presets)})


async def test_each_attempt_reads_its_number_and_the_steps_one_key_in_its_prompt(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    retry = {"max_attempts": 2, "backoff_s": 0.01}
    tests = [sys.executable, "-c", READ_PROMPT]
    change = coding_step("build", "@append app.txt: line 6", repo, retry=retry)
    change["inputs"]["test_command"] = tests
    run = await start(ctx, [change])
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        done = await wait_for_run(ctx, run.id, within_s=60)

    assert done.status == "completed", done.steps[0].error
    assert done.steps[0].attempt == 2
    said = {
        (event.payload["attempt"], line["message"])
        for event in await run_events(ctx, run.id)
        if event.type == "step.log"
        for line in event.payload["lines"]
        if line["message"].startswith(("Attempt:", "Idempotency key:"))
    }
    key = f"Idempotency key: {run.id}:build"  # the run and the step: every attempt's
    assert said == {(1, "Attempt: 1"), (1, key), (2, "Attempt: 2"), (2, key)}
