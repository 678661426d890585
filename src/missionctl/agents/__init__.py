"""Agents: one module per kind (builtin specialists, llm, command)."""
