"""Ids from their first digits: the kinds of record that can be named so, and the answer."""

import uuid
from enum import StrEnum

from pydantic import BaseModel


class IdKind(StrEnum):
    """A kind of record whose id may be given by its first digits (``/api/v1/ids/<kind>/…``)."""

    MISSIONS = "missions"
    EPICS = "epics"
    RUNS = "runs"
    ARTIFACTS = "artifacts"
    APPROVALS = "approvals"
    SPECS = "specs"
    DECISIONS = "decisions"
    RISKS = "risks"
    SCHEDULES = "schedules"
    WORKFLOWS = "workflows"
    WORKERS = "workers"
    WEBHOOKS = "webhooks"
    DELIVERIES = "deliveries"

    @property
    def singular(self) -> str:
        """One of them, in words ("mission", "workflow version")."""
        return _SINGULAR.get(self, self.value.removesuffix("s"))


_SINGULAR = {IdKind.WORKFLOWS: "workflow version", IdKind.DELIVERIES: "webhook delivery"}


class ResolvedId(BaseModel):
    """The one id of its kind that starts with the digits given."""

    id: uuid.UUID
