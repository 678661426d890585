"""The plan a run's steps read, read once per workflow version rather than once per step.

A mission's specialist steps each ask for the plan (``StepContext.load_plan``). Read every
time, that cost a read transaction of six statements and the plan's validation per step: on
PostgreSQL the largest share of the engine's work on a mission's run. A workflow version
compiled from a plan, and that plan, never change, so the engine keeps the plan of the
``capacity`` most recently used versions (``services.usecases.plans.read_run_plan`` says which it
is). A workflow not compiled from a plan reads the mission's newest plan each time.
"""

import asyncio
import copy
import uuid
from collections import OrderedDict
from typing import Any

from missionctl.services import ServiceContext
from missionctl.services.usecases.plans import read_run_plan

PLAN_CACHE_CAPACITY = 128

PlanJson = dict[str, Any] | None


class PlanCache:
    """Plans as JSON (``PlanRead``), by the workflow version compiled from them.

    Steps of one version asking together share one read. Each caller gets a copy of its own:
    an agent may change what it was given without changing what the next step reads.
    """

    def __init__(self, ctx: ServiceContext, capacity: int = PLAN_CACHE_CAPACITY) -> None:
        """An empty cache reading through ``ctx``; ``capacity`` must be at least 1."""
        if capacity < 1:
            raise ValueError("a plan cache holds at least one plan")
        self._ctx = ctx
        self._capacity = capacity
        self._reads: OrderedDict[uuid.UUID, asyncio.Future[tuple[PlanJson, bool]]] = OrderedDict()

    async def plan(self, *, workflow_id: uuid.UUID, mission_id: uuid.UUID) -> PlanJson:
        """The plan a run of ``workflow_id`` for ``mission_id`` executes, as JSON (a copy).

        Raises:
            Whatever the read raised (nothing is kept then; the next caller reads again).
        """
        read = self._reads.get(workflow_id)
        if read is None:
            read = asyncio.ensure_future(self._read(workflow_id, mission_id))
            # Retrieved even when every waiter was stopped, so a failure is never left unread.
            read.add_done_callback(lambda done: done.cancelled() or done.exception())
            self._reads[workflow_id] = read
            while len(self._reads) > self._capacity:
                self._reads.popitem(last=False)
        else:
            self._reads.move_to_end(workflow_id)
        try:
            # Shielded: a step stopped while it waits must not cancel the read others share.
            plan, keep = await asyncio.shield(read)
        except Exception:
            self._forget(workflow_id, read)
            raise
        if not keep:
            self._forget(workflow_id, read)
        return copy.deepcopy(plan)

    def __len__(self) -> int:
        """How many workflow versions' plans are held (or being read)."""
        return len(self._reads)

    async def _read(self, workflow_id: uuid.UUID, mission_id: uuid.UUID) -> tuple[PlanJson, bool]:
        found = await read_run_plan(self._ctx, workflow_id=workflow_id, mission_id=mission_id)
        plan = None if found.plan is None else found.plan.model_dump(mode="json")
        return plan, found.compiled

    def _forget(self, workflow_id: uuid.UUID, read: "asyncio.Future[Any]") -> None:
        if self._reads.get(workflow_id) is read:
            del self._reads[workflow_id]
