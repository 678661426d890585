"""Every declared operation, for what checks or lists them all (tests, documentation)."""

from typing import Any

from missionctl.operations import Operation, schedules, webhooks

OPERATIONS: tuple[Operation[Any], ...] = (*schedules.OPERATIONS, *webhooks.OPERATIONS)
