"""One word for one state: a mission's badge, its stepper and the missions list agree, also after
the emergency stop aborted its run; Run under the stop says the run waits for the release."""

import re

import httpx2
import pytest

from missionctl.domain.states import MISSION, RUN, STEP_RUN
from missionctl.services import ServiceContext
from missionctl.services.usecases.controls import engage_emergency_stop
from missionctl.web.states import STATE_WORDS, mission_state, shown_state, state_label
from tests.web.support import HTMX, planned_mission, start_steps, wait_for_run

LONG_STEP = [{"id": "long", "agent": "builtin:sleep", "inputs": {"seconds": 60}}]


def words(html: str, test: str) -> list[str]:
    """The words of the badges inside the element marked ``test`` (an id or a data-testid)."""
    match = re.search(rf'(?:id|data-testid)="{test}".*?</span>\s*</span>', html, re.S)
    assert match, f"no {test} in the page"
    return re.findall(
        r'<span class="badge__dot" aria-hidden="true"></span>([^<]+)</span>', match.group(0)
    )


@pytest.mark.parametrize("machine", [MISSION, RUN, STEP_RUN], ids=lambda m: m.name)
def test_every_state_of_every_machine_has_its_word(machine: object) -> None:
    for state in machine.states:  # type: ignore[attr-defined]
        assert state.value in STATE_WORDS
        assert state_label(state) == STATE_WORDS[state.value]


def test_a_state_shared_by_missions_runs_and_steps_reads_the_same() -> None:
    assert state_label("awaiting_approval") == "Awaiting approval"
    assert state_label("pending") == "Not started"
    assert state_label("approved") == "Approved"  # not a state: the generic label
    assert mission_state("failed", "aborted") == "aborted"
    assert mission_state("failed", "failed") == "failed"
    assert mission_state("running", "running", halted=True) == "halted"
    assert mission_state("completed", None, halted=True) == "completed"
    assert shown_state("pending", halted=True) == "halted"
    assert shown_state("aborted", halted=True) == "aborted"


async def test_a_mission_whose_run_the_emergency_stop_aborted_says_aborted_everywhere(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, "Build a URL shortener with click analytics")
    run = await start_steps(ctx, mission.id, LONG_STEP)
    await wait_for_run(ctx, run.id, lambda r: r.status == "running")
    await engage_emergency_stop(ctx, actor="user:olga", reason="drill")

    html = (await client.get(f"/missions/{mission.id}")).text
    assert words(html, "mission-status") == ["Aborted"]
    assert words(html, "stepper-status") == ["Aborted"]
    assert "The emergency stop aborted the run" in html
    assert ">Failed</span>" not in html  # no badge says otherwise
    listing = (await client.get("/missions")).text
    row = re.search(rf'data-mission-id="{mission.id}".*?</tr>', listing, re.S)
    assert row and ">Aborted</span>" in row.group(0) and ">Failed</span>" not in row.group(0)


async def test_run_under_the_emergency_stop_says_dispatch_is_halted_and_the_run_waits(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, "Build a URL shortener with click analytics")
    await engage_emergency_stop(ctx, actor="user:olga", reason="drill")

    answer = await client.post(f"/missions/{mission.id}/run", headers=HTMX)

    assert answer.status_code == 200
    assert "Run halted: the emergency stop is on" in answer.text
    assert "wait until an admin releases the stop" in answer.text
    assert "Run started" not in answer.text
    html = (await client.get(f"/missions/{mission.id}")).text
    assert words(html, "mission-status") == ["Halted"]
    assert words(html, "stepper-status") == ["Halted"]
    assert "Dispatch is halted by the emergency stop" in html
    assert ">Running</span>" not in html
