"""Use cases. Each owns its transaction, applies domain rules, appends events, raises errors.*."""

from missionctl.services.context import ServiceContext, open_context

__all__ = ["ServiceContext", "open_context"]
