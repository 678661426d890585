"""The execution engine: dispatcher, workers, leases (an adapter over the services)."""
