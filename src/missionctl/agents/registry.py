"""Resolves a step's ``agent`` string (``kind`` or ``kind:name``) to an agent."""

from collections.abc import Callable

from missionctl.agents.base import Agent, AgentError
from missionctl.agents.command import CommandAgent
from missionctl.agents.diagnostic import DIAGNOSTIC_AGENTS
from missionctl.agents.sandbox import Sandbox

AgentFactory = Callable[[str], Agent]


class AgentRegistry:
    """Maps agent names to agents. Builtin diagnostics and ``command`` are always present.

    An agent registered as *diagnostic* exists to test workflows and the engine (it does no real
    work); pages list such agents apart from the others.
    """

    def __init__(self, *, sandbox: Sandbox | None = None) -> None:
        """``sandbox`` confines ``command`` steps (default: bubblewrap, default limits)."""
        self.sandbox = sandbox or Sandbox()
        self._exact: dict[str, Agent] = {"command": CommandAgent(sandbox=self.sandbox)}
        self._diagnostic: set[str] = set()
        self._kinds: dict[str, AgentFactory] = {}
        for name, agent in DIAGNOSTIC_AGENTS.items():
            self.register(name, agent(), diagnostic=True)

    def register(self, name: str, agent: Agent, *, diagnostic: bool = False) -> None:
        """Make ``name`` resolve to ``agent`` (replacing any previous one and its mark)."""
        self._exact[name] = agent
        if diagnostic:
            self._diagnostic.add(name)
        else:
            self._diagnostic.discard(name)

    def is_diagnostic(self, name: str) -> bool:
        """Whether ``name`` was registered as a diagnostic agent (not for real work)."""
        return name in self._diagnostic

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
