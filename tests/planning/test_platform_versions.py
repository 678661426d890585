"""A platform version the mission names is the one the plan supports: the planner's default
("Android 10 and later") never contradicts a goal that must run on Android 9."""

import pytest

from missionctl.planning.base import PlanningInput
from missionctl.planning.local import LocalPlanner


async def _requirements(goal: str, *constraints: str) -> str:
    result = await LocalPlanner().plan(
        PlanningInput(title=goal[:60], goal=goal, constraints=constraints)
    )
    return "\n".join(r.text for r in result.draft.requirements)


@pytest.mark.parametrize(
    ("goal", "constraints", "supported", "not_supported"),
    [
        (
            "A Kotlin Android app where allotment holders book the shared rotavator",
            ("must run on Android 9",),
            "Android 9 and later",
            "Android 10 and later",
        ),
        (
            "A Flutter app for iOS 15 and Android 12.1 where choir members mark their attendance",
            (),
            "iOS 15 and later and Android 12.1 and later",
            "the last three iOS versions",
        ),
        (
            "An iPhone app in SwiftUI where birders log sightings",
            ("supports iOS 17, and iOS 16 for older phones",),
            "iOS 16 and later",
            "iOS 17 and later",
        ),
    ],
)
async def test_the_supported_versions_start_at_the_one_the_mission_names(
    goal: str, constraints: tuple[str, ...], supported: str, not_supported: str
) -> None:
    requirements = await _requirements(goal, *constraints)
    assert supported in requirements
    assert not_supported not in requirements


async def test_without_a_version_the_platform_default_stands() -> None:
    requirements = await _requirements("An Android app where tenants report broken boilers")
    assert "Android 10 and later" in requirements


@pytest.mark.parametrize(
    "context",
    ["Android " + "9" * 5000, "iOS 1." + "7" * 5000, "android " + "1.2.3.4.5.6 " * 2000],
)
async def test_a_hostile_version_in_the_context_plans_with_the_default(context: str) -> None:
    goal = "An Android and iOS app where tenants report broken boilers"
    mission = PlanningInput(title="Boilers", goal=goal, repo_context=context[:20_000])
    draft = (await LocalPlanner().plan(mission)).draft
    assert "Android 10 and later" in "\n".join(r.text for r in draft.requirements)


async def test_a_version_at_the_end_of_a_sentence_is_read() -> None:
    requirements = await _requirements(
        "An Android app where tenants report broken boilers.", "It must run on Android 9."
    )
    assert "Android 9 and later" in requirements
