"""`missionctl run` ends with its report as named files, labelled, and the run's web address.

The report is copied to ``MISSIONCTL_HOME/reports/<mission slug>/report.md|json``; a hostile
title never leads outside ``reports/``, and two missions with one slug get two directories.
What the command prints reads well in an 80-column terminal.
"""

import json
import re
import uuid
from pathlib import Path

import pytest

from missionctl.cli._report_files import SLUG_MAX_CHARS, mission_report_dir, report_slug
from missionctl.cli.run import _web_address
from missionctl.settings import Settings

HOSTILE_TITLE = "../../etc/passwd"
SERVER = "https://mc.example.com/ops"


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Build a URL shortener", "build-a-url-shortener"),
        ("../../etc", "etc"),
        ("/etc/passwd\x00..", "etc-passwd"),
        ("..", "mission"),
        ("日本語のタイトル", "mission"),
        ("Café — crème brûlée", "cafe-creme-brulee"),
        ("a" * 200, "a" * SLUG_MAX_CHARS),
        ("word " * 40, "-".join(["word"] * 9)),
    ],
)
def test_the_slug_keeps_safe_characters_only(title: str, slug: str) -> None:
    made = report_slug(title)
    assert made == slug
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", made) and len(made) <= SLUG_MAX_CHARS


def test_a_planted_link_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "home" / "reports").mkdir(parents=True)
    mission = uuid.uuid4()
    (tmp_path / "home" / "reports" / f"etc-{mission.hex[-8:]}").symlink_to(outside)
    (tmp_path / "home" / "reports" / "etc").mkdir()  # another mission's
    with pytest.raises(OSError, match="inside"):
        mission_report_dir(tmp_path / "home", title="../etc", mission_id=mission)


def test_run_writes_named_labelled_report_files_at_80_columns(
    cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("MISSIONCTL_URL", SERVER + "/")
    first = cli("run", "Build a URL shortener with click analytics", "--title", HOSTILE_TITLE)
    assert first.exit_code == 0, first.output
    out = first.stdout
    assert re.search(r"^run completed: \d+ tasks documented, 0 built", out, re.MULTILINE), out
    run_id = re.search(r"^run (\S+)  tokens in/out", out, re.MULTILINE)
    assert run_id is not None, out
    labelled = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    markdown = Path(labelled["Report (Markdown)"].strip()).resolve()
    as_json = Path(labelled["Report (JSON)"].strip()).resolve()
    assert labelled["Run on the web"].strip() == f"{SERVER}/runs/{run_id[1]}"
    assert markdown == home / "reports" / "etc-passwd" / "report.md"
    assert as_json == markdown.with_name("report.json")
    assert HOSTILE_TITLE in markdown.read_text()  # the mission's own title, in the report
    report = json.loads(as_json.read_text())
    assert report["run_id"] == run_id[1] and report["mission"]["title"] == HOSTILE_TITLE
    _assert_tables_fit_80_columns(out)

    # A second mission with the same slug: its own directory, the first one's report kept.
    second = cli("run", "Build a URL shortener", "--title", HOSTILE_TITLE, "--json")
    assert second.exit_code == 0, second.output
    outcome = json.loads(second.stdout)
    files = outcome["report"]
    suffix = uuid.UUID(outcome["mission"]["id"]).hex[-8:]
    assert Path(files["markdown"]) == home / "reports" / f"etc-passwd-{suffix}" / "report.md"
    assert json.loads(Path(files["json"]).read_text())["run_id"] == outcome["run"]["id"]
    assert outcome["url"] == f"{SERVER}/runs/{outcome['run']['id']}"
    assert json.loads(as_json.read_text())["run_id"] == run_id[1]
    written = [p for p in tmp_path.rglob("report.*") if p.parent.parent.name == "reports"]
    assert sorted(p.resolve().parent.parent for p in written) == [home / "reports"] * 4
    assert {p.stat().st_mode & 0o777 for p in written} == {0o600}


def test_the_web_address_is_the_cli_server_else_the_public_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MISSIONCTL_URL", raising=False)
    monkeypatch.delenv("MISSIONCTL_SERVER_PUBLIC_URL", raising=False)
    assert _web_address(Settings()) is None  # no server configured: no address printed
    monkeypatch.setenv("MISSIONCTL_SERVER_PUBLIC_URL", "https://public.example.com/")
    assert _web_address(Settings()) == "https://public.example.com"
    monkeypatch.setenv("MISSIONCTL_URL", SERVER)
    assert _web_address(Settings()) == SERVER


def _assert_tables_fit_80_columns(out: str) -> None:
    """Every line of every table is at most 80 wide, and no cell was cut with an ellipsis."""
    lines = out.splitlines()
    table_lines = [line for line in lines if line[:1] in "┏┃┡│└"]
    assert len(table_lines) > 30  # the plan's tasks and risks, and the run's steps
    assert all(len(line) <= 80 for line in table_lines), max(table_lines, key=len)
    assert "…" not in "\n".join(table_lines)
    # Task and step ids are whole words of some line (never folded), like every title word.
    cells = {word for line in table_lines for word in re.split(r"[\s│┃,]+", line) if word}
    for key in ("scope", "architecture", "api-contract", "click-analytics", "security-review"):
        assert key in cells, key
    assert {"Build", "click", "analytics", "builtin:data", "succeeded"} <= cells
