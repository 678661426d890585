"""The rules of an ``mcp`` step's inputs and of its gate, pure (no server, no database)."""

import sys
from typing import Any

from missionctl.agents.mcp_inputs import input_problems
from missionctl.domain.governance import Gate, ProgramRule, mcp_gate

PY = sys.executable


def test_a_stdio_server_is_judged_as_a_command_and_an_http_server_by_the_policy() -> None:
    listed = {PY: ProgramRule("read", network=False, env=("GREETING",))}
    stdio = {"server": {"command": [PY, "s.py"], "env": {"GREETING": "hi"}}, "tool": "t"}
    assert mcp_gate(listed, inputs=stdio, risk_tier="read", policy_gated=False) == Gate(
        False, "read"
    )
    unlisted = mcp_gate({}, inputs=stdio, risk_tier="read", policy_gated=False)
    assert unlisted.gated and unlisted.risk_tier == "write"
    assert "not on the command agent's allow-list" in (unlisted.reason or "")
    loader = {"server": {"command": [PY], "env": {"PYTHONPATH": "/x"}}, "tool": "t"}
    assert mcp_gate(listed, inputs=loader, risk_tier="read", policy_gated=False).gated
    online = {**stdio, "network": True}
    assert mcp_gate(listed, inputs=online, risk_tier="read", policy_gated=False).gated
    remote = {"server": {"url": "https://tools.example.com/mcp"}, "tool": "t"}
    assert not mcp_gate({}, inputs=remote, risk_tier="read", policy_gated=False).gated
    assert mcp_gate({}, inputs=remote, risk_tier="write", policy_gated=True).gated
    later = {"server": "{{ inputs.server }}", "tool": "t"}
    assert mcp_gate(
        listed, inputs=later, risk_tier="read", policy_gated=False, rendered=False
    ).gated


def test_hostile_inputs_are_named_by_field() -> None:
    cases: dict[str, tuple[dict[str, Any], str]] = {
        "port out of range": (
            {"server": {"url": "https://h:99999/mcp"}, "tool": "t"},
            "server.url",
        ),
        "credentials": ({"server": {"url": "https://u:p@h/mcp"}, "tool": "t"}, "server.url"),
        "long url": ({"server": {"url": "https://h/" + "a" * 3000}, "tool": "t"}, "server.url"),
        "long tool": ({"server": {"url": "https://h/mcp"}, "tool": "t" * 500}, "tool"),
        "no tool": ({"server": {"url": "https://h/mcp"}}, "tool"),
        "list arguments": (
            {"server": {"url": "https://h/mcp"}, "tool": "t", "arguments": [1]},
            "arguments",
        ),
        "stray key": ({"server": {"command": ["x"], "headers_secret": {}}, "tool": "t"}, "server"),
        "bad env": ({"server": {"command": ["x"], "env": {"1X": "v"}}, "tool": "t"}, "server.env"),
        "http network": (
            {"server": {"url": "https://h/mcp"}, "tool": "t", "network": True},
            "network",
        ),
        "not a mapping": ({"server": ["x"], "tool": "t"}, "server"),
    }
    for name, (inputs, field) in cases.items():
        fields = [found for found, _ in input_problems(inputs, rendered=True)]
        assert field in fields, (name, fields)
    later = {"server": {"url": "{{ inputs.where }}"}, "tool": "{{ inputs.tool }}"}
    assert input_problems(later, rendered=False) == []
    assert [f for f, _ in input_problems(later, rendered=True)] == ["server.url"]
