"""Use cases: each owns its transaction, applies domain rules, appends events, raises errors.*.

They import the runtime (``services.runtime``), never the followers of the log
(``services.followers``; an import-linter contract keeps it so).
"""
