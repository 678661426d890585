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
step whose server is a program (stdio) is judged the same way (:func:`mcp_gate`), and so are a
coding step's CLI and test command (:func:`coding_gate`, ADR 0074).

The ``coding:*`` rule holds the repositories coding steps may work on (``allowed_repositories``
in its row's ``config``; empty: none): :func:`repository_refusal` says why a repository is not
one of them, :func:`address_refusal` why a clone URL's host is a private address.
"""

import ipaddress
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from missionctl.domain.addresses import Address, Network, embedded_ipv4, reachable
from missionctl.domain.coding import (
    FULL_ACCESS,
    GENERIC_PRESET,
    CodingCli,
    coding_command,
    is_coding_agent,
    is_repository_source,
    model_endpoint,
)
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
    ``repositories`` are the repositories coding steps may work on; only the ``coding:*``
    rule has them.
    """

    enabled: bool = True
    allowed_risk_tiers: tuple[str, ...] = ()
    programs: Mapping[str, ProgramRule] = field(default_factory=lambda: _NO_PROGRAMS)
    repositories: tuple[str, ...] = ()

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
    # A coding step's command line (placeholders unfilled), shown to the approver.
    command: tuple[str, ...] | None = None


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
    return _policy_gate(tier, gated=policy_gated)


def _policy_gate(risk_tier: str, *, gated: bool) -> Gate:
    """The gate its workflow's approval policy alone gives a step at ``risk_tier``.

    What is left once nothing else holds the step; ``gated``: whether that policy (or
    ``requires_approval``) gates the step at that tier.
    """
    if gated:
        return Gate(True, risk_tier, "the workflow's approval policy gates it")
    return Gate(False, risk_tier)


def step_gate(
    step: StepDef,
    inputs: Mapping[str, Any],
    programs: Mapping[str, ProgramRule],
    *,
    rendered: bool = True,
    clis: Mapping[str, CodingCli] = MappingProxyType({}),
) -> Gate:
    """Whether ``step`` waits for a person, as the engine decides it when the step is ready.

    The one decision behind both the engine's admission (with the rendered inputs and the
    allow-list in force) and a workflow's preview (with the stored inputs, ``rendered=False``),
    so the two never disagree. A ``command`` step is judged by :func:`command_gate`, an ``mcp``
    step by :func:`mcp_gate`, a coding step by :func:`coding_gate` (``clis``: the coding
    presets' command lines); any other by its workflow's approval policy at its declared tier.
    A step its own definition gates that says why (``approval_reason``: a plan's compiler writes
    one on an irreversible task's step) has that reason first in the gate's, so the approver
    reads why the step waits before the mechanics of the gate.
    """
    gate = _judged_gate(step, inputs, programs, rendered=rendered, clis=clis)
    if not (gate.gated and step.gated and step.approval_reason):
        return gate
    told = step.approval_reason
    return replace(gate, reason=told if gate.reason is None else f"{told}; {gate.reason}")


def _judged_gate(
    step: StepDef,
    inputs: Mapping[str, Any],
    programs: Mapping[str, ProgramRule],
    *,
    rendered: bool,
    clis: Mapping[str, CodingCli],
) -> Gate:
    """:func:`step_gate` by the step's agent, before the step's own reason is added."""
    if is_coding_agent(step.agent):
        return coding_gate(step, inputs, programs, clis=clis, rendered=rendered)
    if step.agent not in (COMMAND_AGENT, MCP_AGENT):
        return _policy_gate(step.risk_tier, gated=step.gated)
    # The two gates take the same arguments: an mcp step's stdio server is judged as a command.
    program_gate = command_gate if step.agent == COMMAND_AGENT else mcp_gate
    return program_gate(
        programs,
        inputs=inputs,
        risk_tier=step.risk_tier,
        policy_gated=step.gated,
        rendered=rendered,
    )


def runs_programs(agent: str) -> bool:
    """Whether steps of ``agent`` start programs the allow-list judges: command, mcp, coding."""
    return agent in (COMMAND_AGENT, MCP_AGENT) or is_coding_agent(agent)


_SHOWN_LINE = 300


def coding_gate(
    step: StepDef,
    inputs: Mapping[str, Any],
    programs: Mapping[str, ProgramRule],
    *,
    clis: Mapping[str, CodingCli],
    rendered: bool = True,
) -> Gate:
    """A coding step's gate: its programs are judged as a ``command`` step's, and more.

    Full access always waits (irreversible), to be confirmed with a justification by the
    approver who lets it run (:func:`needs_full_access_confirmation`); so does the network,
    where a coding CLI could send the repository; a model endpoint is not the network
    (:func:`_model_of`). Otherwise the CLI's command line
    (:func:`~missionctl.domain.coding.coding_command`: the preset's, or ``coding:generic``'s
    ``inputs.argv``, with the step's ``env`` and ``secret_env``) and ``inputs.test_command``
    (with ``env`` only: it is handed no secret) are each judged by :func:`command_gate`: a
    program nobody allowed, a variable its entry does not name, a tier above ``read`` or the
    workflow's policy makes the step wait. The reason names the command line, every secret the
    step hands over and the model endpoint; ``Gate.command`` carries the command line for the
    approval request.
    """
    command = coding_command(step.agent, inputs, clis)
    shown = tuple(command) if command is not None else None
    model = _model_of(inputs, clis.get(step.agent.partition(":")[2]), rendered=rendered)
    secret_env = _with_model_key(inputs.get("secret_env"), model)
    facts = _Facts(command, _secrets_named(secret_env), model.endpoint)
    if inputs.get("approval_mode") == FULL_ACCESS:
        reason = "full access: the approver must confirm it and record a justification"
        return Gate(True, "irreversible", _coding_reason(reason, facts), shown)
    floor = higher_tier(step.risk_tier, "write")
    if inputs.get("network") is True or (not rendered and holds_template(inputs.get("network"))):
        return Gate(True, floor, _coding_reason("it asks for the network", facts), shown)
    if model.problem is not None:
        return Gate(True, floor, _coding_reason(model.problem, facts), shown)
    if command is None:
        preset = step.agent.partition(":")[2]
        reason = (
            "inputs.argv names no command line"
            if preset == GENERIC_PRESET
            else f"no coding CLI is called {preset!r} here, so what it runs is not known"
        )
        return Gate(True, floor, reason)
    test_command = inputs.get("test_command")
    lines: list[Any] = [command] + ([test_command] if test_command is not None else [])
    tier = step.risk_tier
    for line in lines:
        # The test command runs without the step's secrets and the model key (agents.coding).
        handed = secret_env if line is command else None
        gate = command_gate(
            programs,
            inputs={"argv": line, "env": inputs.get("env"), "secret_env": handed},
            risk_tier=step.risk_tier,
            policy_gated=step.gated,
            rendered=rendered,
        )
        if gate.gated:
            return Gate(True, gate.risk_tier, _coding_reason(gate.reason, facts), shown)
        tier = higher_tier(tier, gate.risk_tier)
    return Gate(False, tier, None, shown)


def _secrets_named(secret_env: Any) -> list[str]:
    """``VARIABLE←secret`` for each secret ``secret_env`` hands over (names only, never values)."""
    if not isinstance(secret_env, Mapping):
        return []
    return [f"{name}←{secret}" for name, secret in sorted(secret_env.items(), key=str)]


@dataclass(frozen=True, slots=True)
class _Model:
    """A coding step's model endpoint as its gate sees it."""

    endpoint: str | None = None  # ``host:port``
    key: tuple[str, str] | None = None  # (the preset's key variable, the secret's name)
    problem: str | None = None  # why it makes the step wait


@dataclass(frozen=True, slots=True)
class _Facts:
    """What a coding gate's reason names: the command line, the secrets, the model endpoint."""

    command: Sequence[str] | None
    secrets: list[str]
    endpoint: str | None


def _model_of(inputs: Mapping[str, Any], cli: CodingCli | None, *, rendered: bool) -> _Model:
    """``inputs.model`` as the gate judges it (nothing when absent).

    The step reaches that one ``host:port`` through the egress proxy (ADR 0079), so it does
    not wait "for the network"; its key, handed over as the preset's key variable, counts as a
    ``secret_env`` entry. An endpoint that is malformed, or still a template before rendering,
    makes the step wait. A preset without a key variable cannot take an endpoint: such a step
    fails when it runs, before any program starts, so its gate does not judge the endpoint.
    """
    value = inputs.get("model")
    if value is None:
        return _Model()
    if not rendered and holds_template(value):
        return _Model(problem="its model endpoint is known only when the step runs")
    try:
        endpoint = model_endpoint(value)
    except ValueError as exc:
        return _Model(problem=str(exc))
    if endpoint is None or cli is None or cli.key_env is None:
        return _Model()
    shown = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    return _Model(f"{shown}:{endpoint.port}", (cli.key_env, endpoint.secret))


def _with_model_key(secret_env: Any, model: _Model) -> Any:
    """``secret_env`` with the model's key variable added, as the program is handed it."""
    if model.key is None or not (secret_env is None or isinstance(secret_env, Mapping)):
        return secret_env
    variable, secret = model.key
    return {**(secret_env or {}), variable: secret}


def _coding_reason(reason: str | None, facts: _Facts) -> str:
    """A coding gate's reason: the command line it runs, the secrets, the model endpoint."""
    text = reason or "it waits for an approver"
    if facts.command is not None:
        line = shlex.join(facts.command)
        text += f"; it runs: {line if len(line) <= _SHOWN_LINE else line[:_SHOWN_LINE] + '…'}"
    if facts.secrets:
        text += f"; it is handed the secrets {', '.join(facts.secrets)}"
    if facts.endpoint is not None:
        text += f"; its network reaches only its model endpoint {facts.endpoint}"
    return text


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
    return _policy_gate(risk_tier, gated=policy_gated)


# --- Repositories coding steps may work on ---------------------------------------------------

CODING_RULE = "coding:*"  # the row whose ``config`` holds the allowed repositories
REPOSITORIES_KEY = "allowed_repositories"
MAX_REPOSITORIES = 100
MAX_REPOSITORY_CHARS = 2000
ALLOW_REPOSITORY = "missionctl agents allow-repository"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_DOT_SEGMENT = re.compile(r"(?:^|[/:])(?:\.|%2e){1,2}(?:$|[/?#])", re.IGNORECASE)
_SHOWN_SOURCE = 200


def repository_entry_problem(source: str) -> str | None:
    """Why ``source`` cannot be an allowed repository, or ``None`` when it can.

    An entry is an absolute path without ``.``/``..`` parts (it allows itself and what is under
    it) or a clone URL prefix (it allows the URLs that continue it at a ``/``).
    """
    if not source:
        return "is empty; give an absolute path (/srv/repos) or a clone URL prefix"
    if len(source) > MAX_REPOSITORY_CHARS:
        return f"is longer than {MAX_REPOSITORY_CHARS} characters"
    if any(ord(char) < 32 or ord(char) == 127 for char in source) or source != source.strip():
        return "holds a control character or a leading or trailing space"
    if _DOT_SEGMENT.search(source):
        return "has a '.' or '..' part; write the path or URL plainly"
    if not is_repository_source(source):
        return (
            "is neither an absolute path nor a clone URL (https://, ssh://, git://, file:// or "
            "user@host:path)"
        )
    if re.match(r"[A-Za-z]+://[^/@]*:[^/@]*@", source):
        return "holds a password or token, which would be shown and logged; name the URL without it"
    return None


def normal_repository(source: str) -> str:
    """An entry as stored: a path without repeated or trailing ``/`` (``/`` stays ``/``)."""
    if not source.startswith("/"):
        return source
    return "/" + "/".join(part for part in source.split("/") if part)


def parse_repositories(config: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The allowed repositories stored in the ``coding:*`` row's ``config``, sorted.

    An entry that cannot be read is left out: it allows nothing.
    """
    raw = (config or {}).get(REPOSITORIES_KEY)
    if not isinstance(raw, list):
        return ()
    entries = {
        normal_repository(entry)
        for entry in raw
        if isinstance(entry, str) and repository_entry_problem(entry) is None
    }
    return tuple(sorted(entries))


def repository_allowed(source: str, allowed: Sequence[str]) -> bool:
    """Whether ``source`` is on the list ``allowed``.

    A path matches an entry that is itself or a directory above it; a path with a ``.`` or
    ``..`` part matches nothing (a symbolic link could take ``..`` anywhere). A URL matches an
    entry it equals or continues at a ``/`` (``https://git.example.com/team`` allows
    ``https://git.example.com/team/shop.git``, never ``…/team-b/…``).
    """
    if _DOT_SEGMENT.search(source):
        return False
    if source.startswith("/"):
        path = normal_repository(source)
        for entry in allowed:
            if entry.startswith("/"):
                base = entry.rstrip("/")
                if path == entry or path.startswith(base + "/"):
                    return True
        return False
    for entry in allowed:
        if entry.startswith("/") or not source.startswith(entry):
            continue
        if len(source) == len(entry) or entry.endswith("/") or source[len(entry)] == "/":
            return True
    return False


def shown_source(source: str) -> str:
    """``source`` as a message may repeat it: without a URL's user part, cut short."""
    match = _SCHEME.match(source)
    if match:
        rest = source[match.end() :]
        authority, slash, path = rest.partition("/")
        if "@" in authority:
            source = source[: match.end()] + "…@" + authority.rpartition("@")[2] + slash + path
    return source if len(source) <= _SHOWN_SOURCE else source[:_SHOWN_SOURCE] + "…"


def repository_refusal(
    source: str, allowed: Sequence[str], *, field: str | None = None
) -> str | None:
    """Why a coding step may not work on ``source``, or ``None`` when it may.

    The message names the fix (the command an admin runs to allow it), and begins with
    ``field`` when one is given (a problem that carries its field names it already).
    """
    if repository_allowed(source, allowed):
        return None
    source_text = shown_source(source)
    shown = _named(field, repr(source_text))
    if not is_repository_source(source):
        return (
            f"{shown} is neither an absolute path nor a clone URL (https://, ssh://, "
            "git://, file:// or user@host:path)"
        )
    if not allowed:
        return (
            f"{shown}: no repository is allowed yet, so no coding step may work on one; an "
            f"admin allows it with `{ALLOW_REPOSITORY} {source_text}` (or on the Agents page)"
        )
    return (
        f"{shown} is not an allowed repository; an admin allows it with "
        f"`{ALLOW_REPOSITORY} {source_text}` (or on the Agents page)"
    )


def _named(field: str | None, shown: str) -> str:
    """``shown`` behind ``field`` and a colon, or alone."""
    return f"{field}: {shown}" if field else shown


def clone_host(source: str) -> str | None:
    """The host a clone URL names (lower case, without port or brackets), or ``None``.

    ``None`` for a path, a ``file://`` URL and a URL without a host.
    """
    match = _SCHEME.match(source)
    if match:
        if source[: match.end()].lower() == "file://":
            return None
        authority = source[match.end() :].split("/", 1)[0].rpartition("@")[2]
        if authority.startswith("["):
            host = authority[1:].partition("]")[0]
        else:
            host = authority.partition(":")[0]
    elif source.startswith("/"):
        return None
    else:  # user@host:path
        host = source.partition(":")[0].rpartition("@")[2]
    return host.lower().rstrip(".") or None


def literal_address(host: str) -> Address | None:
    """The address ``host`` spells, in any form a resolver accepts, or ``None`` for a name.

    Besides the usual forms, IPv4 as the C library reads it: one to four parts, each decimal,
    octal (a leading ``0``) or hexadecimal (``0x``): ``2852039166``, ``0xa9fea9fe``,
    ``0251.0376.0251.0376`` and ``169.254.43518`` all spell 169.254.169.254. ``localhost`` (and
    a name under it) is the loopback address.
    """
    if host == "localhost" or host.endswith(".localhost"):
        return ipaddress.IPv4Address("127.0.0.1")
    try:
        return ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        pass
    values: list[int] = []
    for part in host.split("."):
        try:
            if re.fullmatch(r"0x[0-9a-f]*", part):
                values.append(int(part[2:] or "0", 16))
            elif re.fullmatch(r"0[0-7]*", part):
                values.append(int(part, 8))
            elif re.fullmatch(r"[1-9][0-9]*", part):
                values.append(int(part))
            else:
                return None
        except ValueError:
            return None
    if not 1 <= len(values) <= 4:
        return None
    *head, last = values
    if any(value > 255 for value in head) or last >= 256 ** (5 - len(values)):
        return None
    number = last
    for index, value in enumerate(head):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def address_refusal(
    source: str, allowed_networks: Sequence[Network], *, field: str | None = None
) -> str | None:
    """Why a clone URL may not be fetched, or ``None``: its host spells a private address.

    A host that spells an address (in any form :func:`literal_address` reads) must be public,
    or inside one of ``allowed_networks`` (``MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS``). A host
    name is not resolved here: where it leads is checked when the clone connects.
    """
    host = clone_host(source)
    address = None if host is None else literal_address(host)
    if address is None:
        return None
    if reachable(address, allowed_networks):
        return None
    carried = embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
    return (
        f"{_named(field, repr(host))} is {carried or address}, a loopback, private, link-local "
        "or reserved address; an admin may allow its network in "
        "MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS"
    )
