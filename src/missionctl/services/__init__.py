"""The application's services, in three parts (ADR 0088).

- ``usecases/``: what a request or a command asks for. Each use case owns its transaction,
  applies domain rules, appends events and raises ``missionctl.errors.*``.
- ``followers/``: background work that reads the event log and keeps derived data up with it
  (the search index, mission memory, the analytics facts, the webhook outbox). Use cases never
  import it: a read that wants current data asks the context (``ServiceContext.catch_up``).
- ``runtime/``: what every use case runs on: the context and its transactions, the blocking
  writer thread, work off the event loop, the loop that repeats background work, and the
  composition of the model client, the planner and the agents the settings choose.
"""

from missionctl.services.runtime.context import ServiceContext, open_context

__all__ = ["ServiceContext", "open_context"]
