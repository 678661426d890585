"""Parsed workflow versions are held up to a bound; an evicted one is read again when needed."""

import uuid

import pytest

from missionctl.agents.base import AgentResult, StepContext
from missionctl.agents.registry import AgentRegistry
from missionctl.domain.workflows import WorkflowDag
from missionctl.services import ServiceContext
from missionctl.services.runtime.context import DagStore
from tests.engine.helpers import running_engine, start, step, wait_for_run


def _dag(name: str) -> WorkflowDag:
    return WorkflowDag.from_definition(
        {"name": name, "steps": [{"id": "a", "agent": "builtin:noop"}]}, version=1
    )


def test_the_store_keeps_the_most_recently_used_versions() -> None:
    store = DagStore(capacity=2)
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    store.put(first, _dag("first"))
    store.put(second, _dag("second"))
    assert store.get(first) is not None  # now the most recently used
    store.put(third, _dag("third"))
    assert len(store) == 2
    assert store.get(second) is None  # the least recently used went
    assert store.get(first) is not None and store.get(third) is not None
    with pytest.raises(ValueError, match="at least one"):
        DagStore(capacity=0)


class _Reader:
    """Succeeds with the ids of the upstream outputs it was given."""

    async def run(self, step: StepContext) -> AgentResult:
        upstream = await step.load_upstream_outputs()
        return AgentResult(outputs={"upstream": sorted(upstream)})


async def test_an_engine_whose_store_holds_one_version_runs_several_workflows(
    ctx: ServiceContext,
) -> None:
    """Evicted between claim and result, a version is read again; steps still see upstream."""
    ctx.dags.capacity = 1
    agents = AgentRegistry()
    agents.register("builtin:sleep", _Reader())  # a name workflows may use, doing our work
    runs = [
        await start(
            ctx,
            [
                step("a"),
                step("b"),
                step("join", "builtin:sleep", "a", "b"),
                step("last", "builtin:sleep", "join"),
            ],
        )
        for _ in range(3)
    ]
    async with running_engine(ctx, agents=agents):
        done = [await wait_for_run(ctx, run.id) for run in runs]
    assert len(ctx.dags) == 1
    for run in done:
        assert run.status == "completed"
        outputs = {s.step_id: s.outputs for s in run.steps}
        assert outputs["join"]["upstream"] == ["a", "b"]
        assert outputs["last"]["upstream"] == ["join"]
