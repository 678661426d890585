"""A coding step's ``inputs.model``: validated, and handed to its CLI as the preset says."""

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from missionctl.agents.coding import CodingPreset, ModelWiring
from missionctl.domain.coding import CodingCli, ModelEndpoint, coding_command, model_endpoint
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import build_agents
from missionctl.settings import CodingSettings, Settings
from tests.coding.helpers import allow_coding, git, make_repository
from tests.engine.helpers import allow, running_engine, start, wait_for_run

# Its subject is how a CLI is pointed at its model, not the database (tests/conftest.py).
pytestmark = pytest.mark.one_database

KEY = "sk-wiring-" + "9" * 24
# Writes what it was given into the worktree: its arguments, the endpoint variable, and the key's
# length and whether it is the one expected (never the key itself, which the diff would show).
PROBE = """
import json, os, sys
key = os.environ.get("WIRED_KEY", "")
seen = {"argv": sys.argv[1:], "url": os.environ.get("WIRED_URL"), "key_length": len(key),
        "key_is_expected": key == sys.argv[-1][::-1]}
open("seen.json", "w").write(json.dumps(seen))
"""
WIRED = CodingPreset(
    title="Wired probe",
    argv=[sys.executable, "-c", PROBE, "${model_args}", KEY[::-1]],
    modes={"read-only": [], "workspace-write": [], "full-access": []},
    model=ModelWiring(
        key_env="WIRED_KEY",
        env={"WIRED_URL": "${base_url}"},
        args=["--base", "${base_url}"],
        name_args=["--model", "${model}"],
    ),
)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The suite's settings, with the probe as an admin's preset ``wired`` (the gate reads it)."""
    path = tmp_path / "wired_presets.yaml"
    path.write_text(json.dumps({"wired": dataclasses.asdict(WIRED)}))  # JSON is YAML
    return settings.model_copy(update={"coding": CodingSettings(presets_file=path)})


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("https://api.example.com", "inputs.model must be an object"),
        ({"base_url": "https://x.example", "secret": "k", "extra": 1}, "inputs.model must be"),
        ({"base_url": "ftp://x.example", "secret": "k"}, "inputs.model.base_url"),
        ({"base_url": "https://user:pw@x.example", "secret": "k"}, "inputs.model.base_url"),
        ({"base_url": 'https://x.example/"quoted"', "secret": "k"}, "inputs.model.base_url"),
        ({"base_url": "https://x.example/\nv1", "secret": "k"}, "inputs.model.base_url"),
        ({"base_url": "https://x.example:99999", "secret": "k"}, "inputs.model.base_url"),
        ({"base_url": "https://" + "x" * 600, "secret": "k"}, "inputs.model.base_url"),
        ({"base_url": "https://x.example/v1", "secret": "sk-live-abc"}, "inputs.model.secret"),
        ({"base_url": "https://x.example/v1", "secret": "k", "name": "a b"}, "model.name"),
    ],
)
def test_a_malformed_endpoint_is_refused_naming_the_field(value: Any, field: str) -> None:
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        model_endpoint(value)


def test_an_endpoint_names_its_one_destination() -> None:
    endpoint = model_endpoint({"base_url": "https://api.example.com/v1/", "secret": "openai"})
    assert endpoint == ModelEndpoint("https://api.example.com/v1", "openai")
    assert (endpoint.host, endpoint.port) == ("api.example.com", 443)
    local = model_endpoint({"base_url": "http://127.0.0.1:8123", "secret": "k", "name": "m-1"})
    assert local is not None and (local.host, local.port, local.name) == ("127.0.0.1", 8123, "m-1")
    assert model_endpoint(None) is None


def test_the_command_line_an_approver_sees_leaves_the_endpoint_arguments_out() -> None:
    cli = CodingCli(argv=("codex", "exec", "${mode_args}", "${model_args}", "${prompt}"))
    assert coding_command("coding:codex", {}, {"codex": cli}) == ["codex", "exec", "${prompt}"]


async def _run_probe(ctx: ServiceContext, tmp_path: Path, model: dict[str, Any]) -> Any:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    await allow(ctx, sys.executable, env=("WIRED_KEY", "WIRED_URL"))
    step = {
        "id": "wired",
        "agent": "coding:wired",
        "inputs": {
            "prompt": "Probe.",
            "repository": str(repo),
            "base": "main",
            "approval_mode": "workspace-write",
            "model": model,
        },
    }
    agents = build_agents(None, repositories=tmp_path / "clones", coding_presets={"wired": WIRED})
    run = await start(ctx, [step])
    async with running_engine(ctx, agents=agents):
        done = await wait_for_run(ctx, run.id, within_s=30)
    return repo, done


async def test_the_cli_gets_the_endpoint_its_model_and_the_key_under_its_own_variable(
    ctx: ServiceContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISSIONCTL_SECRET_WIRED", KEY)
    model = {"base_url": "http://127.0.0.1:59999/v1", "secret": "wired", "name": "small-1"}
    repo, done = await _run_probe(ctx, tmp_path, model)
    step = done.steps[0]
    assert done.status == "completed", step.error
    seen = json.loads(git(repo, "show", f"{step.outputs['branch']}:seen.json"))
    assert seen["argv"][:4] == ["--base", "http://127.0.0.1:59999/v1", "--model", "small-1"]
    assert seen["url"] == "http://127.0.0.1:59999/v1"
    assert (seen["key_length"], seen["key_is_expected"]) == (len(KEY), True)
    assert KEY not in json.dumps(step.model_dump(mode="json"))


async def test_an_unset_model_secret_fails_the_step_naming_it(
    ctx: ServiceContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISSIONCTL_SECRET_NOWHERE", raising=False)
    model = {"base_url": "https://api.example.com/v1", "secret": "nowhere"}
    _, done = await _run_probe(ctx, tmp_path, model)
    assert done.status == "failed"
    assert "secret 'nowhere' is not set" in (done.steps[0].error or "")
