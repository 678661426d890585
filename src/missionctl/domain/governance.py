"""Dispatch governance (pure): agent restrictions, what they hold back, and which programs run.

An agent can be disabled, or limited to some risk tiers. A rule is kept per agent name: an
exact name (``command``, ``builtin:architect``, ``llm:writer``) or a whole kind (``llm:*``);
the exact rule wins. A queued step whose agent's rule refuses it is *held*: it stays queued
with the reason shown, and is not dispatched until a change to the rule allows it.

The ``command`` agent's rule also holds the *allow-list* of programs (stored in its row's
``config`` as ``allowed_programs``). Running a program is at least a ``write`` action: a
command step waits for an approver unless its program (``argv[0]`` as rendered, matched
exactly as written) is listed, whatever tier or ``requires_approval`` its workflow declares
(:func:`command_gate`). A listed program runs at the higher of its listed tier and the step's
declared tier, reaches the network only if its entry says so, and sets only the environment
variables known to be harmless (:data:`SAFE_VARIABLES`) or named by its entry. An ``mcp``
step whose server is a program (stdio) is judged the same way (:func:`mcp_gate`).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from missionctl.domain.coding import FULL_ACCESS, is_coding_agent
from missionctl.domain.workflows import (
    COMMAND_AGENT,
    MCP_AGENT,
    RISK_TIERS,
    StepDef,
    holds_template,
)

PROGRAMS_KEY = "allowed_programs"  # in the command agent's ``config``
MAX_PROGRAMS = 100
MAX_PROGRAM_CHARS = 512
MAX_ENV_NAMES = 50  # per allow-list entry
MAX_ENV_NAME_CHARS = 128
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The environment variables a listed program may be given without an approver, and why each
# is harmless. Any other may choose what runs or what it loads (PATH, LD_*, PYTHONPATH,
# PYTHONWARNINGS, BROWSER, BASH_ENV, ENV, NODE_OPTIONS, PERL5OPT, GIT_CONFIG_*, HOME…), so it
# is refused unless the program's entry names it. A name ending in ``*`` covers a prefix.
SAFE_VARIABLES: Mapping[str, str] = MappingProxyType(
    {
        "CI": "tells tools they run unattended; only their output changes",
        "LANG": "names a locale: selects message and character tables (data), never code",
        "LC_*": "names a locale per category, as LANG does (LC_ALL, LC_CTYPE…)",
        "TZ": "names a time zone: selects a zone table (data), never code",
        "NO_COLOR": "turns colour off in output",
        "FORCE_COLOR": "turns colour on in output",
        "TERM": "names a terminal type: selects a terminfo entry (data), never code",
    }
)


@dataclass(frozen=True, slots=True)
class ProgramRule:
    """An allow-listed program: its lowest tier, its network, the variables its steps may set.

    ``env`` names the variables beyond :data:`SAFE_VARIABLES` its steps may set freely.
    """

    tier: str = "read"
    network: bool = False
    env: tuple[str, ...] = ()


_NO_PROGRAMS: Mapping[str, ProgramRule] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AgentRule:
    """What an agent may do. ``allowed_risk_tiers`` empty means every tier.

    ``programs`` is the allow-list; only the ``command`` agent's rule has one.
    """

    enabled: bool = True
    allowed_risk_tiers: tuple[str, ...] = ()
    programs: Mapping[str, ProgramRule] = field(default_factory=lambda: _NO_PROGRAMS)

    @property
    def restricts(self) -> bool:
        """Whether the rule can hold any step back."""
        return not self.enabled or bool(self.allowed_risk_tiers)


def rule_for(rules: Mapping[str, AgentRule], agent: str) -> AgentRule | None:
    """The rule of ``agent``: its exact name's, else its kind's (``kind:*``), else none."""
    rule = rules.get(agent)
    if rule is None and ":" in agent:
        rule = rules.get(agent.partition(":")[0] + ":*")
    return rule


def hold_reason(rules: Mapping[str, AgentRule], *, agent: str, risk_tier: str) -> str | None:
    """Why a step of ``agent`` at ``risk_tier`` may not be dispatched, or ``None`` if it may."""
    rule = rule_for(rules, agent)
    if rule is None:
        return None
    if not rule.enabled:
        return f"agent {agent} is disabled; an admin can enable it"
    if rule.allowed_risk_tiers and risk_tier not in rule.allowed_risk_tiers:
        allowed = ", ".join(rule.allowed_risk_tiers)
        return (
            f"agent {agent} may run only {allowed} steps and this step is {risk_tier}; "
            "an admin can allow the tier"
        )
    return None


def any_restricted(rules: Mapping[str, AgentRule], agents: Sequence[str]) -> bool:
    """Whether any of ``agents`` has a rule that can hold a step back."""
    for agent in agents:
        rule = rule_for(rules, agent)
        if rule is not None and rule.restricts:
            return True
    return False


def higher_tier(first: str, second: str) -> str:
    """The riskier of two tiers (an unknown tier counts as ``irreversible``)."""
    rank: dict[str, int] = {tier: index for index, tier in enumerate(RISK_TIERS)}
    last = len(RISK_TIERS) - 1
    return first if rank.get(first, last) >= rank.get(second, last) else second


def program_problem(program: str) -> str | None:
    """Why ``program`` cannot be an allow-list entry, or ``None`` when it can.

    An entry is a bare name (``pytest``, found through the sandbox's ``PATH`` of read-only
    system directories) or an absolute path without ``.``/``..`` parts. A relative path
    (``./pytest``, ``bin/pytest``) names a file in the step's own workspace, which the step's
    earlier attempts or its workflow's author control, so it is refused.
    """
    if not program:
        return "is empty; name a program, such as pytest or /usr/bin/make"
    if len(program) > MAX_PROGRAM_CHARS:
        return f"is longer than {MAX_PROGRAM_CHARS} characters; name a program by a shorter path"
    if any(ord(char) < 32 or ord(char) == 127 for char in program):
        return "holds a control character (NUL, tab, newline…); write the program's name alone"
    if program != program.strip():
        return "starts or ends with a space; write the name exactly as argv[0] gives it"
    if "/" in program and not program.startswith("/"):
        return (
            "is a relative path, which names a file the step can write; "
            "list a bare name (pytest) or an absolute path (/usr/bin/pytest)"
        )
    if program.startswith("/") and any(part in ("", ".", "..") for part in program[1:].split("/")):
        return "has an empty, '.' or '..' part; write the absolute path plainly"
    return None


def env_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an environment variable an allow-list entry names, or ``None``."""
    if len(name) > MAX_ENV_NAME_CHARS:
        return f"is longer than {MAX_ENV_NAME_CHARS} characters"
    if not _ENV_NAME.fullmatch(name):
        return "is not a variable name: letters, digits and _, not starting with a digit"
    return None


def safe_variable(name: str) -> bool:
    """Whether ``name`` is one of :data:`SAFE_VARIABLES` (by name, or by a ``*`` prefix)."""
    if name in SAFE_VARIABLES:
        return True
    return any(safe.endswith("*") and name.startswith(safe[:-1]) for safe in SAFE_VARIABLES)


def parse_programs(config: Mapping[str, Any] | None) -> Mapping[str, ProgramRule]:
    """The allow-list stored in the command agent's ``config``.

    An entry that cannot be read (a bad name, an unknown tier, a non-boolean ``network``, an
    ``env`` that is not a list of variable names) allows nothing: it is left out, so its
    program waits for an approver.
    """
    raw = (config or {}).get(PROGRAMS_KEY)
    if not isinstance(raw, Mapping):
        return _NO_PROGRAMS
    programs: dict[str, ProgramRule] = {}
    for program, entry in raw.items():
        if (
            not isinstance(program, str)
            or program_problem(program)
            or not isinstance(entry, Mapping)
        ):
            continue
        tier, network, env = entry.get("tier"), entry.get("network", False), entry.get("env", [])
        if (
            tier in RISK_TIERS
            and isinstance(network, bool)
            and isinstance(env, list)
            and all(isinstance(name, str) and not env_name_problem(name) for name in env)
        ):
            names = tuple(sorted(set(env)))
            programs[program] = ProgramRule(tier=str(tier), network=network, env=names)
    return MappingProxyType(programs)


def programs_config(programs: Mapping[str, ProgramRule]) -> dict[str, Any]:
    """The allow-list as stored in ``config`` and shown in events, programs in name order.

    ``env`` is written only when an entry names variables, so entries without stay as they were.
    """
    return {
        name: {"tier": rule.tier, "network": rule.network}
        | ({"env": list(rule.env)} if rule.env else {})
        for name, rule in sorted(programs.items())
    }


@dataclass(frozen=True, slots=True)
class Gate:
    """Whether a step waits for a person before it runs, at which tier it runs, and why."""

    gated: bool
    risk_tier: str
    reason: str | None = None


def command_gate(
    programs: Mapping[str, ProgramRule],
    *,
    inputs: Mapping[str, Any],
    risk_tier: str,
    policy_gated: bool,
    rendered: bool = True,
) -> Gate:
    """The gate of a ``command`` step: its workflow may add a gate, never remove this one.

    Args:
        programs: the allow-list in force.
        inputs: the step's inputs; ``argv[0]`` is the program; ``network``, ``env`` and the
            names of ``secret_env`` count.
        risk_tier: the tier the workflow declares for the step.
        policy_gated: whether the workflow's approval policy (or ``requires_approval``) gates
            the step at its declared tier.
        rendered: whether templates in ``inputs`` are rendered; when not (an editor's preview),
            a program, network flag or environment still holding a template is known only when
            the step runs, and the step is shown as waiting.

    Returns:
        Not gated only when the program is listed, its tier and the declared tier are both
        ``read``, the network (if asked) is allowed, every variable of ``env`` and
        ``secret_env`` is harmless (:data:`SAFE_VARIABLES`) or named by the program's entry,
        and the workflow's own policy does not gate it.
    """
    argv = inputs.get("argv")
    program = argv[0] if isinstance(argv, list) and argv and isinstance(argv[0], str) else None
    floor = higher_tier(risk_tier, "write")
    env = inputs.get("env")
    secret_env = inputs.get("secret_env")
    network = inputs.get("network", False)
    if not rendered and holds_template([program, network, env, secret_env]):
        reason = (
            "its program is known only when the step runs: it waits then unless that program "
            "is on the command agent's allow-list"
        )
        return Gate(True, floor, reason)
    if program is None:
        return Gate(True, floor, "inputs.argv names no program")
    entry = programs.get(program)
    if entry is None:
        reason = (
            f"{program!r} is not on the command agent's allow-list: an approver decides, "
            "or an admin allows the program"
        )
        return Gate(True, floor, reason)
    tier = higher_tier(entry.tier, risk_tier)
    for field_name, variables in (("env", env), ("secret_env", secret_env)):
        if variables is not None and not isinstance(variables, Mapping):
            reason = f"inputs.{field_name} is not a mapping of variable names"
            return Gate(True, higher_tier(tier, "write"), reason)
        refused = sorted(
            str(name)
            for name in variables or ()
            if not (safe_variable(str(name)) or name in entry.env)
        )
        if refused:
            names = ", ".join(refused)
            reason = (
                f"inputs.{field_name} sets {names}, which can change what {program!r} runs "
                f"or loads; an approver decides, or an admin names {names} in the env of "
                f"{program!r}'s allow-list entry"
            )
            return Gate(True, higher_tier(tier, "write"), reason)
    if network is not False and not entry.network:
        reason = f"it asks for the network, which the allow-list does not give {program!r}"
        return Gate(True, higher_tier(tier, "write"), reason)
    if tier != "read":
        return Gate(True, tier, f"{program!r} runs as a {tier} step here")
    if policy_gated:
        return Gate(True, tier, "the workflow's approval policy gates it")
    return Gate(False, tier)


def step_gate(
    step: StepDef,
    inputs: Mapping[str, Any],
    programs: Mapping[str, ProgramRule],
    *,
    rendered: bool = True,
) -> Gate:
    """Whether ``step`` waits for a person, as the engine decides it when the step is ready.

    The one decision behind both the engine's admission (with the rendered inputs and the
    allow-list in force) and a workflow's preview (with the stored inputs, ``rendered=False``),
    so the two never disagree. A ``command`` step is judged by :func:`command_gate`, an ``mcp``
    step by :func:`mcp_gate`; any other by its workflow's approval policy at its declared tier.
    """
    if step.agent == COMMAND_AGENT:
        return command_gate(
            programs,
            inputs=inputs,
            risk_tier=step.risk_tier,
            policy_gated=step.gated,
            rendered=rendered,
        )
    if is_coding_agent(step.agent):
        return coding_gate(step, inputs)
    if step.agent == MCP_AGENT:
        return mcp_gate(
            programs,
            inputs=inputs,
            risk_tier=step.risk_tier,
            policy_gated=step.gated,
            rendered=rendered,
        )
    if step.gated:
        return Gate(True, step.risk_tier, "the workflow's approval policy gates it")
    return Gate(False, step.risk_tier)


def coding_gate(step: StepDef, inputs: Mapping[str, Any]) -> Gate:
    """A coding step's gate: full access and the network always wait, else the policy decides.

    Full access must be confirmed, with a justification, by the approver who lets it run
    (:func:`needs_full_access_confirmation`); the network is where a coding CLI could send the
    repository, so a person says yes to it as for a ``command`` step.
    """
    if inputs.get("approval_mode") == FULL_ACCESS:
        return Gate(
            True,
            "irreversible",
            "full access: the approver must confirm it and record a justification",
        )
    if inputs.get("network") is True:
        return Gate(True, step.risk_tier, "it asks for the network")
    if step.gated:
        return Gate(True, step.risk_tier, "the workflow's approval policy gates it")
    return Gate(False, step.risk_tier)


def needs_full_access_confirmation(agent: str, inputs: Mapping[str, Any]) -> bool:
    """Whether approving this step needs an explicit confirmation of full access."""
    return is_coding_agent(agent) and inputs.get("approval_mode") == FULL_ACCESS


def mcp_gate(
    programs: Mapping[str, ProgramRule],
    *,
    inputs: Mapping[str, Any],
    risk_tier: str,
    policy_gated: bool,
    rendered: bool = True,
) -> Gate:
    """The gate of an ``mcp`` step: a stdio server is a program, judged as a command step's.

    A stdio server (``server.command``) starts a program in the step's sandbox: it is judged
    by :func:`command_gate` as if ``server.command`` were ``argv``, with ``server.env``,
    ``server.secret_env`` and the step's ``network``, so the command agent's allow-list decides
    whether it runs unapproved. An HTTP server (``server.url``) runs nothing here: like an
    ``http`` step, it waits only when its workflow's approval policy gates it. A server still
    holding a template before it is rendered (an editor's preview) is shown as waiting.
    """
    server = inputs.get("server")
    if isinstance(server, Mapping) and "command" in server:
        as_command = {
            "argv": server.get("command"),
            "env": server.get("env"),
            "secret_env": server.get("secret_env"),
            "network": inputs.get("network", False),
        }
        return command_gate(
            programs,
            inputs=as_command,
            risk_tier=risk_tier,
            policy_gated=policy_gated,
            rendered=rendered,
        )
    if not rendered and not (isinstance(server, Mapping) and "url" in server):
        reason = (
            "its server is known only when the step runs: a program waits then unless it is "
            "on the command agent's allow-list"
        )
        return Gate(True, higher_tier(risk_tier, "write"), reason)
    if policy_gated:
        return Gate(True, risk_tier, "the workflow's approval policy gates it")
    return Gate(False, risk_tier)
