"""Pydantic contracts at the edges: API bodies, page forms, CLI output, LLM outputs."""
