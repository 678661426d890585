"""`missionctl run "GOAL"` offline: plan, execute and report on the local engine.

No model is configured, so the local planner plans and the builtin specialists execute. The
outcome must be specific to the goal: its artifacts mention the goal's own subject.
"""

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from missionctl.cli import app
from missionctl.services import open_context
from missionctl.settings import get_settings
from tests.support.consistency import assert_consistent

SEED_000 = (
    "Build Codex Mission Control as a production-ready mission orchestration dashboard that "
    "accepts a software goal, generates a live execution plan, runs specialist tasks, and returns "
    "artifacts, logs, risks, and next steps."
)
SEED_001 = (
    "Build a product analytics cockpit that shows activation funnel metrics, retention trends, "
    "anomaly alerts, AI-generated insights, and executive summary views for product leaders."
)
CASES = [
    ("Build a URL shortener with click analytics", ["URL shortener", "click analytics"], []),
    (
        SEED_000,
        ["mission", "execution plan"],
        ["-c", "Avoid mock demos. Make the MVP real end to end."],
    ),
    (
        SEED_001,
        ["activation funnel", "retention"],
        ["-c", "Avoid overbuilding data infrastructure."],
    ),
]


@pytest.mark.parametrize(
    ("goal", "subject", "extra"), CASES, ids=["url-shortener", "seed-000", "seed-001"]
)
def test_run_offline_plans_executes_and_reports(
    goal: str, subject: list[str], extra: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MISSIONCTL_DATABASE_URL", "MISSIONCTL_LLM_MODEL", "MISSIONCTL_LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, ["run", goal, *extra, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    assert outcome["engine"] == "local engine"
    assert outcome["plan"]["source"] == "local"
    assert outcome["plan"]["tasks"] >= 6
    assert outcome["run"]["status"] == "completed"
    assert all(step["status"] == "succeeded" for step in outcome["steps"])

    report_md = Path(outcome["report"]["markdown"])
    assert report_md.parent.parent == tmp_path / "home" / "reports"
    report = report_md.read_text()
    assert report.startswith("#")
    for step in outcome["steps"]:
        assert step["step"] in report
    documents = [a for a in outcome["artifacts"] if a["kind"] == "markdown"]
    assert len(documents) >= outcome["plan"]["tasks"]
    text = "\n".join(Path(a["path"]).read_text() for a in documents).lower()
    for words in subject:
        assert words.lower() in text, f"{words!r} is not in the documents"
    assert "local engine" in text
    asyncio.run(_check_consistency())


async def _check_consistency() -> None:
    """The CLI's run replays to its stored state and the chain verifies (as for every test)."""
    async with open_context(get_settings()) as ctx:
        await assert_consistent(ctx)
