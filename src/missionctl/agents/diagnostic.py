"""Diagnostic builtin agents for testing workflows and measuring the engine.

- ``builtin:noop`` succeeds at once, echoing its inputs' ``value`` if any.
- ``builtin:sleep`` waits ``inputs.seconds`` (default 1) and succeeds.
- ``builtin:fail`` fails attempts up to ``inputs.fail_attempts`` (default: every attempt) with
  ``inputs.message``, then succeeds — to exercise retries and failure handling.
"""

import asyncio
from collections.abc import Callable

from missionctl.agents.base import Agent, AgentError, AgentResult, StepContext


class NoopAgent:
    """Succeeds immediately."""

    async def run(self, step: StepContext) -> AgentResult:
        """Return at once."""
        return AgentResult(outputs={"value": step.inputs.get("value")}, summary="no-op")


class SleepAgent:
    """Sleeps, then succeeds."""

    async def run(self, step: StepContext) -> AgentResult:
        """Wait ``inputs.seconds``; cancellation interrupts the wait."""
        seconds = float(step.inputs.get("seconds", 1.0))
        await asyncio.sleep(seconds)
        return AgentResult(outputs={"slept_s": seconds}, summary=f"slept {seconds:g} s")


class FailAgent:
    """Fails its first attempts, then succeeds."""

    async def run(self, step: StepContext) -> AgentResult:
        """Raise ``AgentError`` while ``attempt <= inputs.fail_attempts``."""
        limit = step.inputs.get("fail_attempts")
        message = str(step.inputs.get("message", "failed on purpose"))
        if limit is None or step.attempt <= int(limit):
            step.log(f"attempt {step.attempt}: {message}", level="error")
            raise AgentError(message, retryable=bool(step.inputs.get("retryable", True)))
        return AgentResult(outputs={"attempt": step.attempt}, summary="succeeded after failing")


DIAGNOSTIC_AGENTS: dict[str, Callable[[], Agent]] = {
    "builtin:noop": NoopAgent,
    "builtin:sleep": SleepAgent,
    "builtin:fail": FailAgent,
}
"""The diagnostic agents by name: every registry has them, marked as diagnostic (not real work).

The same names are ``domain.workflows.DIAGNOSTIC_AGENT_NAMES`` (a test holds them equal), by
which the record knows that their steps wrote nothing (their outcome is ``ran``)."""
