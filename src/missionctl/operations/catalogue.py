"""Every declared operation, for what checks or lists them all (tests, documentation)."""

from typing import Any

from missionctl.operations import (
    Operation,
    access,
    agents,
    approvals,
    board,
    calendar,
    controls,
    epics,
    prices,
    register,
    runs,
    schedules,
    specs,
    spending_caps,
    system,
    templates,
    webhooks,
    workers,
)

OPERATIONS: tuple[Operation[Any], ...] = (
    *access.OPERATIONS,
    *agents.OPERATIONS,
    *approvals.OPERATIONS,
    *board.OPERATIONS,
    *calendar.OPERATIONS,
    *controls.OPERATIONS,
    *epics.OPERATIONS,
    *prices.OPERATIONS,
    *register.OPERATIONS,
    *runs.OPERATIONS,
    *schedules.OPERATIONS,
    *spending_caps.OPERATIONS,
    *specs.OPERATIONS,
    *system.OPERATIONS,
    *templates.OPERATIONS,
    *webhooks.OPERATIONS,
    *workers.OPERATIONS,
)
