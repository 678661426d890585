"""Resolves a step's ``agent`` string (``kind`` or ``kind:name``) to an agent."""

from collections.abc import Callable

from missionctl.agents.base import Agent, AgentError
from missionctl.agents.command import CommandAgent
from missionctl.agents.diagnostic import FailAgent, NoopAgent, SleepAgent
from missionctl.agents.sandbox import Sandbox

AgentFactory = Callable[[str], Agent]


class AgentRegistry:
    """Maps agent names to agents. Builtin diagnostics and ``command`` are always present."""

    def __init__(self, *, sandbox: Sandbox | None = None) -> None:
        """``sandbox`` confines ``command`` steps (default: bubblewrap, default limits)."""
        self.sandbox = sandbox or Sandbox()
        self._exact: dict[str, Agent] = {
            "builtin:noop": NoopAgent(),
            "builtin:sleep": SleepAgent(),
            "builtin:fail": FailAgent(),
            "command": CommandAgent(sandbox=self.sandbox),
        }
        self._kinds: dict[str, AgentFactory] = {}

    def register(self, name: str, agent: Agent) -> None:
        """Make ``name`` resolve to ``agent`` (replacing any previous one)."""
        self._exact[name] = agent

    def register_kind(self, kind: str, factory: AgentFactory) -> None:
        """Resolve every ``kind:<name>`` without an exact entry through ``factory(name)``."""
        self._kinds[kind] = factory

    def names(self) -> list[str]:
        """Exact names and ``kind:*`` patterns, sorted."""
        return sorted([*self._exact, *(f"{kind}:*" for kind in self._kinds)])

    def resolve(self, name: str) -> Agent:
        """The agent for ``name``.

        Raises:
            AgentError: (not retryable) no agent has that name.
        """
        if name in self._exact:
            return self._exact[name]
        kind, _, rest = name.partition(":")
        if rest and kind in self._kinds:
            return self._kinds[kind](rest)
        raise AgentError(
            f"unknown agent {name!r}; known: {', '.join(self.names())}", retryable=False
        )

    def knows(self, name: str) -> bool:
        """Whether ``resolve(name)`` would succeed."""
        kind, _, rest = name.partition(":")
        return name in self._exact or bool(rest and kind in self._kinds)
