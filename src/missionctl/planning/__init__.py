"""Planners (LLM and local) and the compilation of a plan into a workflow."""
