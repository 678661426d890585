"""The append-only, hash-chained event log.

Append in the caller's transaction; publish only after it commits.
"""

from missionctl.eventlog.broadcast import Broadcaster, Subscription
from missionctl.eventlog.chain import GENESIS_HASH, ChainReport, compute_hash
from missionctl.eventlog.store import (
    EventRecord,
    NewEvent,
    append,
    append_sync,
    pending_events,
    read_events,
)
from missionctl.eventlog.verify import verify_chain

__all__ = [
    "GENESIS_HASH",
    "Broadcaster",
    "ChainReport",
    "EventRecord",
    "NewEvent",
    "Subscription",
    "append",
    "append_sync",
    "compute_hash",
    "pending_events",
    "read_events",
    "verify_chain",
]
