"""How a PostgreSQL transaction asks the planner to plan for each statement's values."""

from sqlalchemy import text

CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")
"""PostgreSQL only: plan each later statement of the transaction for its own values.

The driver prepares a statement once it has run five times, and the server may then settle on
a generic plan that ignores the values. Reads whose best plan depends on them (how rare the
words are, in search and memory; the range and the segment, in analytics) run this first.
"""
