"""Mission Control: the system of record between a software goal and its execution by AI agents."""

__version__ = "0.1.0"
