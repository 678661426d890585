"""Admission of a coding step whose only network is its model endpoint (ADR 0079).

It does not wait "for the network": the egress proxy lets it reach that one endpoint. Its key,
handed over as the preset's key variable, is judged as a ``secret_env`` entry (the program's
allow-list entry must name the variable), and every reason names the endpoint.
"""

from typing import Any

import pytest

from missionctl.agents.coding import PRESETS
from missionctl.domain.coding import CodingCli
from missionctl.domain.governance import Gate, ProgramRule, coding_gate
from missionctl.domain.workflows import StepDef, step_def
from missionctl.services.usecases.execution.types import SHIPPED_CLIS

POLICY = {"read": False, "write": True, "irreversible": True}
CLIS = {
    "coder": CodingCli(("coder", "${mode_args}", "${model_args}", "${prompt}"), {}, "CODER_KEY")
}
MODEL = {"base_url": "https://api.example.com/v1", "secret": "coder_key"}
NAMED = {"coder": ProgramRule(tier="read", env=("CODER_KEY",))}
UNNAMED = {"coder": ProgramRule(tier="read")}


def _gate(inputs: dict[str, Any], programs: dict[str, ProgramRule], **kw: Any) -> Gate:
    step: StepDef = step_def({"id": "code", "agent": "coding:coder", "inputs": inputs}, POLICY)
    return coding_gate(step, inputs, programs, clis=CLIS, **kw)


def test_a_step_whose_program_names_the_key_variable_runs_without_waiting() -> None:
    gate = _gate({"model": MODEL}, NAMED)
    assert not gate.gated, gate.reason
    assert gate.risk_tier == "read"


def test_without_the_key_variable_named_it_waits_and_the_reason_names_the_endpoint() -> None:
    gate = _gate({"model": MODEL}, UNNAMED)
    assert gate.gated
    reason = gate.reason or ""
    assert "inputs.secret_env sets CODER_KEY" in reason, reason
    assert "it is handed the secrets CODER_KEY←coder_key" in reason, reason
    assert reason.endswith("its network reaches only its model endpoint api.example.com:443")


def test_the_host_network_still_waits_and_names_the_endpoint() -> None:
    gate = _gate({"model": MODEL, "network": True}, NAMED)
    assert gate.gated
    assert (gate.reason or "").startswith("it asks for the network")
    assert "model endpoint api.example.com:443" in (gate.reason or "")


def test_an_unlisted_program_waits_naming_its_endpoint_and_port() -> None:
    model = {"base_url": "http://10.0.0.7:8080/v1", "secret": "coder_key"}
    gate = _gate({"model": model}, {})
    assert gate.gated
    assert "'coder' is not on the command agent's allow-list" in (gate.reason or "")
    assert "model endpoint 10.0.0.7:8080" in (gate.reason or "")


@pytest.mark.parametrize(
    ("model", "said"),
    [
        ({"base_url": "ftp://x/", "secret": "k"}, "inputs.model.base_url must be"),
        ({"base_url": "https://u:p@x/", "secret": "k"}, "inputs.model.base_url must be"),
        ({"base_url": "https://x/", "secret": "a b"}, "inputs.model.secret must name"),
        ({"base_url": "https://x/", "secret": "k", "extra": 1}, "inputs.model must be an object"),
        ("https://x/", "inputs.model must be an object"),
    ],
)
def test_a_malformed_endpoint_waits_naming_the_field(model: Any, said: str) -> None:
    gate = _gate({"model": model}, NAMED)
    assert gate.gated and said in (gate.reason or ""), gate.reason


def test_an_endpoint_still_a_template_waits_in_a_preview() -> None:
    model = {"base_url": "{{ inputs.url }}", "secret": "coder_key"}
    gate = _gate({"model": model}, NAMED, rendered=False)
    assert gate.gated
    assert "its model endpoint is known only when the step runs" in (gate.reason or "")


def test_the_key_variable_of_every_shipped_preset_is_the_one_its_wiring_hands_over() -> None:
    for name, preset in PRESETS.items():
        expected = preset.model.key_env if preset.model else None
        assert SHIPPED_CLIS[name].key_env == expected, name
