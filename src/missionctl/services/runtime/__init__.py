"""What the use cases and the followers run on.

``context`` (the shared resources and the transactions that publish events after commit),
``writer`` (the thread of blocking write transactions), ``offload`` (parser threads and
processes), ``periodic`` (background work repeated with backoff) and ``composition`` (the model
client, the planner and the agents the settings choose).
"""
