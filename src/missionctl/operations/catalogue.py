"""Every declared operation, for what checks or lists them all (tests, documentation)."""

from typing import Any

from missionctl.operations import Operation, register, schedules, webhooks

OPERATIONS: tuple[Operation[Any], ...] = (
    *register.OPERATIONS,
    *schedules.OPERATIONS,
    *webhooks.OPERATIONS,
)
