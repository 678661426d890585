"""``missionctl docs generate|list|export``, locally and through a server, and refusals."""

import io
from pathlib import Path

import pypdf
import pytest

from missionctl.cli import docs as docs_command
from missionctl.schemas.documents import DOCUMENT_KINDS, MAX_DOCUMENT_VERSION
from tests.cli import test_cli_both_ways
from tests.cli.test_cli_both_ways import MODES, World, as_json, ok, text

# The live server of test_cli_both_ways (one per database for this module too).
world = test_cli_both_ways.world

GOAL = "Build a URL shortener with click analytics and custom aliases"


def test_the_command_s_kinds_and_limit_are_the_schema_s() -> None:
    assert docs_command.KINDS == DOCUMENT_KINDS
    assert docs_command.MAX_DOCUMENT_VERSION == MAX_DOCUMENT_VERSION


@pytest.mark.parametrize("mode", MODES)
def test_generate_list_and_export_every_format(world: World, mode: str, tmp_path: Path) -> None:
    mission_id = as_json(world.cli(mode, "mission", "create", GOAL, "--json"))["id"]
    early = world.cli(mode, "docs", "generate", mission_id, "--kind", "prd")
    assert early.exit_code == 2 and "plan it first" in text(early)
    ok(world.cli(mode, "mission", "plan", mission_id))

    everything = as_json(world.cli(mode, "docs", "generate", mission_id, "--json"))
    assert [d["kind"] for d in everything] == list(DOCUMENT_KINDS)
    assert {d["writer"] for d in everything} == {"local"}
    again = ok(world.cli(mode, "docs", "generate", mission_id, "--kind", "prd"))
    assert "prd v2" in text(again) and "the local writer" in text(again)

    listed = ok(world.cli(mode, "docs", "list", mission_id))
    assert "v2, v1" in text(listed) and "engineering_plan" in text(listed)
    shown = ok(world.cli(mode, "docs", "show", mission_id, "--kind", "prd", "--version", "1"))
    assert "# Product requirements document: " in shown.stdout
    same = ok(world.cli(mode, "docs", "compare", mission_id, "-k", "prd", "--base", "1",
                        "--target", "2"))  # fmt: skip
    assert "v1 and v2 hold the same text" in text(same)
    ok(world.cli(mode, "docs", "generate", mission_id, "--kind", "engineering_plan"))

    md, html, pdf = tmp_path / "prd.md", tmp_path / "prd.html", tmp_path / "prd.pdf"
    ok(world.cli(mode, "docs", "export", mission_id, "--kind", "prd", "-o", str(md)))
    ok(world.cli(mode, "docs", "export", mission_id, "-k", "prd", "-f", "html", "-o", str(html)))
    ok(
        world.cli(
            mode, "docs", "export", mission_id, "--kind", "prd", "--format", "pdf",
            "--version", "1", "-o", str(pdf),
        )
    )  # fmt: skip
    assert md.read_text().startswith("# Product requirements document: ")
    assert html.read_text().startswith("<!doctype html>")
    pages = pypdf.PdfReader(io.BytesIO(pdf.read_bytes())).pages
    assert "Product requirements document" in " ".join(p.extract_text() for p in pages)
    exists = world.cli(mode, "docs", "export", mission_id, "--kind", "prd", "-o", str(md))
    assert exists.exit_code == 2 and "exists; add --force" in text(exists)
    assert not world.remote_home.exists(), "a remote command touched a local home"


@pytest.mark.parametrize("mode", MODES)
def test_bad_arguments_are_refused_and_write_nothing(
    world: World, mode: str, tmp_path: Path
) -> None:
    mission_id = as_json(world.cli(mode, "mission", "create", GOAL, "--json"))["id"]
    ok(world.cli(mode, "mission", "plan", mission_id))
    target = tmp_path / "out.md"
    kind = world.cli(mode, "docs", "export", mission_id, "--kind", "memo", "-o", str(target))
    assert kind.exit_code == 2 and "--kind: memo is not a kind of document" in text(kind)
    none_yet = world.cli(mode, "docs", "export", mission_id, "--kind", "prd", "-o", str(target))
    assert none_yet.exit_code == 1 and "generate it first" in text(none_yet)
    bad_kind = world.cli(mode, "docs", "generate", mission_id, "--kind", "memo")
    assert bad_kind.exit_code == 2
    ok(world.cli(mode, "docs", "generate", mission_id, "--kind", "prd"))
    missing = world.cli(
        mode, "docs", "export", mission_id, "--kind", "prd", "--version", "9", "-o", str(target)
    )
    assert missing.exit_code == 1 and "no version 9" in text(missing)
    assert not target.exists()


def test_a_viewer_lists_and_exports_but_may_not_generate(world: World, tmp_path: Path) -> None:
    mission_id = as_json(world.cli("remote", "mission", "create", GOAL, "--json"))["id"]
    ok(world.cli("remote", "mission", "plan", mission_id))
    ok(world.cli("remote", "docs", "generate", mission_id, "--kind", "decision_log"))
    refused = world.cli(
        "remote", "docs", "generate", mission_id, "--kind", "prd", token=world.viewer
    )
    assert refused.exit_code == 2 and "missions:write needs the operator role" in text(refused)
    ok(world.cli("remote", "docs", "list", mission_id, token=world.viewer))
    target = tmp_path / "log.md"
    ok(
        world.cli(
            "remote", "docs", "export", mission_id, "--kind", "decision_log", "-o", str(target),
            token=world.viewer,
        )
    )  # fmt: skip
    assert target.read_text().startswith("# Decision log: ")
