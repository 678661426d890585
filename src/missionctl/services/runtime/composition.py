"""What the settings choose at run time: the model client, the planner and the agents.

One place decides "local engine or model": with ``MISSIONCTL_LLM_MODEL`` unset, missions are
planned by the local planner and run by the builtin specialists; with it set, by the LLM planner
and ``llm:<role>`` agents over the OpenAI-compatible endpoint.
"""

import asyncio
import functools
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from missionctl.agents.base import AgentError
from missionctl.agents.coding import CodingPreset, load_presets, register_coding
from missionctl.agents.http import HTTP_AGENT, HttpAgent, HttpAgentConfig
from missionctl.agents.llm_agent import LLMAgent
from missionctl.agents.mcp_tool import MCP_AGENT, McpToolAgent
from missionctl.agents.registry import AgentRegistry
from missionctl.agents.sandbox import Sandbox
from missionctl.agents.specialists import SPECIALIST_ROLES, register_specialists
from missionctl.llm import LLMClient
from missionctl.llm.openai_client import OpenAICompatibleClient
from missionctl.planning import Planner, make_planner
from missionctl.settings import HOME_DIR_NAME, Settings
from missionctl.telemetry import start_tracing, stop_tracing


@dataclass(frozen=True, slots=True)
class Runtime:
    """The planner and agents of one process, and the model client they share (if any)."""

    llm: LLMClient | None
    planner: Planner
    agents: AgentRegistry

    @property
    def engine_label(self) -> str:
        """What the UI and CLI show: ``local engine`` or ``model <name>``."""
        return f"model {self.llm.model}" if self.llm else "local engine"


def build_agents(
    llm: LLMClient | None,
    sandbox: Sandbox | None = None,
    http: HttpAgentConfig | None = None,
    repositories: Path = Path(HOME_DIR_NAME) / "repositories",
    coding_presets: Mapping[str, CodingPreset] | None = None,
) -> AgentRegistry:
    """Every agent: diagnostics, ``command``, ``http``, ``mcp``, coding, specialists, ``llm``.

    Coding is ``coding:<preset>`` and ``git:merge``; ``llm:<role>`` exists with a model only.

    ``sandbox`` confines ``command`` and coding steps and ``mcp`` steps' stdio servers
    (default: bubblewrap with default limits); ``http`` configures ``http`` steps and the
    addresses ``mcp`` steps may reach (default: public addresses only, no callbacks);
    ``repositories`` is where coding steps keep their clones of repository URLs (which may
    connect where ``http`` allows), and ``coding_presets`` adds (or replaces) coding CLIs by name.
    """
    registry = AgentRegistry(sandbox=sandbox)
    registry.register(HTTP_AGENT, HttpAgent(http))
    # ``mcp`` shares the command steps' sandbox and the ``http`` steps' address rule.
    registry.register(MCP_AGENT, McpToolAgent(sandbox=registry.sandbox, network=http))
    register_coding(registry, repositories=repositories, presets=coding_presets, network=http)
    register_specialists(registry)
    if llm is not None:
        client = llm
        registry.register_kind("llm", lambda role: LLMAgent(client, role))
    return registry


# ``llm:<role>`` is a kind of agent every installation knows; it needs a model only to run.
# ``coding:<preset>`` too: an admin's presets file may name presets this catalog has not
# read, so an unknown preset is refused when the step runs, naming the known ones.
_ALWAYS_KNOWN_KINDS = ("llm", "coding")


@functools.cache
def _catalog() -> AgentRegistry:
    return build_agents(None)


def known_agent_names() -> list[str]:
    """Every agent name a workflow may use, sorted.

    Exact names (each builtin specialist among them), and ``kind:*`` for a kind that takes
    any name (``llm:*``).
    """
    names = {name for name in _catalog().names() if name != "builtin:*"}
    names |= {f"builtin:{role}" for role in SPECIALIST_ROLES}
    names |= {f"{kind}:*" for kind in _ALWAYS_KNOWN_KINDS}
    return sorted(names)


def agent_is_diagnostic(name: str) -> bool:
    """Whether ``name`` is a diagnostic agent, for testing workflows and the engine."""
    return _catalog().is_diagnostic(name)


def agent_is_known(name: str) -> bool:
    """Whether a workflow step may name ``name`` as its agent."""
    kind, _, rest = name.partition(":")
    if bool(rest) and kind in _ALWAYS_KNOWN_KINDS:
        return True
    try:
        # Resolving checks more than the name's shape: ``builtin:<role>`` needs a real role.
        _catalog().resolve(name)
    except AgentError:
        return False
    return True


def http_agent_config(settings: Settings) -> HttpAgentConfig:
    """The ``http`` agent's configuration: ``MISSIONCTL_HTTP_AGENT_*`` and the callback address."""
    return HttpAgentConfig(
        callback_base_url=settings.callback_base_url,
        allowed_networks=settings.http_agent.networks(),
        poll_s=settings.http_agent.poll_s,
    )


def coding_presets(settings: Settings) -> dict[str, CodingPreset]:
    """The admin's coding presets (``MISSIONCTL_CODING_PRESETS_FILE``), or none.

    Raises:
        DataFileError: the file cannot be read or validated (the message names the field).
    """
    path = settings.coding.presets_file
    return {} if path is None else load_presets(path)


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """Build the runtime for ``settings``; closes the model client when the block ends.

    With an OTLP endpoint configured, the block is traced (ADR 0045): tracing starts here,
    before any engine is built, and its last spans are flushed when the block ends.
    """
    client = OpenAICompatibleClient.from_settings(settings.llm) if settings.llm.configured else None
    endpoint = settings.tracing.traces_endpoint
    traced = endpoint is not None and start_tracing(endpoint)
    try:
        agents = build_agents(
            client,
            Sandbox(settings.sandbox),
            http_agent_config(settings),
            repositories=settings.home / "repositories",
            coding_presets=coding_presets(settings),
        )
        planner = make_planner(client, stream=settings.llm.stream_plans)
        yield Runtime(llm=client, planner=planner, agents=agents)
    finally:
        if client is not None:
            await client.aclose()
        if traced:
            await asyncio.to_thread(stop_tracing)  # waits FLUSH_TIMEOUT_S at most
