"""The rules of coding steps: branch names, repository sources, approval modes and gates."""

import pytest

from missionctl.domain.coding import (
    CodingCli,
    branch_for,
    is_branch_name,
    is_coding_agent,
    is_repository_source,
    merge_step_id,
)
from missionctl.domain.governance import (
    Gate,
    ProgramRule,
    coding_gate,
    needs_full_access_confirmation,
)
from missionctl.domain.workflows import StepDef, step_def

POLICY = {"read": False, "write": True, "irreversible": True}


@pytest.mark.parametrize("name", ["main", "release/2.0", "feature_x", "v1.2.3", "a-b/c_d"])
def test_ordinary_branch_names_are_accepted(name: str) -> None:
    assert is_branch_name(name)


@pytest.mark.parametrize(
    "name",
    ["", "-x", "--upload-pack=evil", "a..b", "a//b", "main.", "main/", "x.lock", "a b", "a~1",
     "a^", "a:b", "HEAD@{1}", "\x00", "é", "x" * 201],
)  # fmt: skip
def test_branch_names_git_or_a_shell_would_misread_are_refused(name: str) -> None:
    assert not is_branch_name(name)


@pytest.mark.parametrize(
    "source",
    ["/srv/repos/shop", "https://git.example.com/a/b.git", "ssh://git@host/a.git",
     "git@github.com:team/repo.git", "file:///srv/repos/shop", "git://host/x"],
)  # fmt: skip
def test_paths_and_clone_urls_are_repository_sources(source: str) -> None:
    assert is_repository_source(source)


@pytest.mark.parametrize(
    "source",
    ["ext::sh -c touch% /tmp/x", "relative/path", "-uevil", "fd::17", "git@host:-oProxyCommand=x",
     "/srv/a\nb", "https://host/a b", ""],
)  # fmt: skip
def test_transports_that_run_commands_and_relative_paths_are_refused(source: str) -> None:
    assert not is_repository_source(source)


def test_a_coding_agent_is_coding_and_a_preset() -> None:
    assert is_coding_agent("coding:codex")
    assert not is_coding_agent("coding:") and not is_coding_agent("llm:codex")


def test_branches_and_merge_steps_are_named_from_run_and_step() -> None:
    assert branch_for("01a20c70-70e8-709b-81d8-9405da3d8592", "api") == "missionctl/01a20c70/api"
    assert merge_step_id("api") == "api-merge"
    assert len(merge_step_id("x" * 63)) == 63


def _coding(inputs: dict[str, object], **fields: object) -> StepDef:
    raw = {"id": "code", "agent": "coding:codex", "inputs": inputs, **fields}
    return step_def(raw, POLICY)


CODEX = {"codex": CodingCli(("codex", "exec", "${mode_args}", "${prompt}"), {})}
ALLOWED = {"codex": ProgramRule(tier="read", network=True)}


def _gate(step: StepDef, inputs: dict[str, object]) -> Gate:
    return coding_gate(step, inputs, ALLOWED, clis=CODEX)


def test_full_access_and_the_network_always_wait_and_say_why() -> None:
    full = _gate(_coding({"approval_mode": "full-access"}), {"approval_mode": "full-access"})
    assert full.gated and "full access" in (full.reason or "") and full.risk_tier == "irreversible"
    net = _gate(_coding({"network": True}), {"network": True})
    assert net.gated and "network" in (net.reason or ""), "even for a program allowed the network"
    plain = _gate(_coding({"approval_mode": "workspace-write"}), {})
    assert not plain.gated
    told = _coding({}, requires_approval=True)
    assert _gate(told, {}).gated


def test_only_a_full_access_coding_step_needs_the_confirmation() -> None:
    assert needs_full_access_confirmation("coding:aider", {"approval_mode": "full-access"})
    assert not needs_full_access_confirmation("coding:aider", {"approval_mode": "read-only"})
    assert not needs_full_access_confirmation("command", {"approval_mode": "full-access"})
