"""Every declared operation, for what checks or lists them all (tests, documentation)."""

from typing import Any

from missionctl.operations import (
    Operation,
    access,
    agents,
    board,
    calendar,
    controls,
    epics,
    prices,
    register,
    schedules,
    spending_caps,
    system,
    webhooks,
    workers,
)

OPERATIONS: tuple[Operation[Any], ...] = (
    *access.OPERATIONS,
    *agents.OPERATIONS,
    *board.OPERATIONS,
    *calendar.OPERATIONS,
    *controls.OPERATIONS,
    *epics.OPERATIONS,
    *prices.OPERATIONS,
    *register.OPERATIONS,
    *schedules.OPERATIONS,
    *spending_caps.OPERATIONS,
    *system.OPERATIONS,
    *webhooks.OPERATIONS,
    *workers.OPERATIONS,
)
