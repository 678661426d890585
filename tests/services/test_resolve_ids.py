"""Whole ids from their first digits, on both databases (``services.usecases.ids``)."""

import asyncio

import pytest

from missionctl.errors import Conflict, NotFound, ValidationFailed
from missionctl.schemas.ids import IdKind
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases.ids import resolve_id
from missionctl.services.usecases.missions import create_mission

GOALS = (
    "A tide table widget for a sailing club's website",
    "A rota planner for a volunteer fire brigade",
    "A seed library's lending log with reminders",
)


async def _missions(ctx: ServiceContext) -> list[str]:
    made = [
        await create_mission(ctx, data=MissionCreate(goal=goal), actor="user:test")
        for goal in GOALS
    ]
    return [str(m.id) for m in made]


async def test_every_prefix_of_an_id_resolves_to_it_or_names_it_among_several(
    ctx: ServiceContext,
) -> None:
    ids = await _missions(ctx)
    for whole in ids:
        digits = whole.replace("-", "")
        for length in range(4, 33):
            prefix = digits[:length]
            others = [i for i in ids if i != whole and i.replace("-", "").startswith(prefix)]
            if others:
                with pytest.raises(Conflict) as several:
                    await resolve_id(ctx, kind=IdKind.MISSIONS, prefix=prefix)
                assert whole in several.value.message and "type more" in several.value.message
            else:
                found = await resolve_id(ctx, kind=IdKind.MISSIONS, prefix=prefix)
                assert str(found.id) == whole


async def test_dashes_and_capitals_are_as_good_as_digits(ctx: ServiceContext) -> None:
    whole = (await _missions(ctx))[0]
    typed = whole[:20].upper()  # "01A21827-5807-7433-9"
    assert str((await resolve_id(ctx, kind=IdKind.MISSIONS, prefix=typed)).id) == whole


async def test_an_id_of_another_kind_or_none_is_not_found(ctx: ServiceContext) -> None:
    whole = (await _missions(ctx))[0]
    with pytest.raises(NotFound, match="no run has an id that starts with"):
        await resolve_id(ctx, kind=IdKind.RUNS, prefix=whole[:13])
    with pytest.raises(NotFound, match="no mission"):
        await resolve_id(ctx, kind=IdKind.MISSIONS, prefix="ffffffff")


async def test_text_that_starts_no_id_is_refused_naming_the_field(ctx: ServiceContext) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await resolve_id(ctx, kind=IdKind.MISSIONS, prefix="01a2'; DROP TABLE missions; --")
    assert refused.value.problems[0].field == "prefix"


async def test_two_readers_at_once_get_the_same_answer(ctx: ServiceContext) -> None:
    whole = (await _missions(ctx))[1]
    both = await asyncio.gather(
        *(resolve_id(ctx, kind=IdKind.MISSIONS, prefix=whole[:18]) for _ in range(2))
    )
    assert {str(found.id) for found in both} == {whole}
