"""`missionctl runs report RUN --pdf FILE`: the run report as a PDF, opening with its headline.

The file is never written through a link, never replaces a file unasked, and `--pdf` with
`--json` is refused before anything is read.
"""

import io
import json
from pathlib import Path
from typing import Any

import pypdf

GOAL = "A chess engine in Rust with a UCI interface"


def _text(pdf: bytes) -> str:
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def test_the_report_is_written_as_a_pdf_that_opens_with_the_headline(
    cli: Any, tmp_path: Path
) -> None:
    ran = cli("run", GOAL, "--json")
    assert ran.exit_code == 0, ran.output
    run = json.loads(ran.stdout)["run"]
    target = tmp_path / "report.pdf"
    written = cli("runs", "report", run["id"], "--pdf", str(target))
    assert written.exit_code == 0, written.output
    assert f"bytes to {target}" in " ".join(written.stdout.split())
    text = _text(target.read_bytes())
    assert text.startswith("Run report — ")
    assert f" {run['headline']}. " in text  # 11 tasks documented, 0 built: to build, …
    assert text.index(run["headline"]) < text.index("Outcome")

    # An existing file is kept unless --force; a link is not followed even with it.
    target.write_bytes(b"mine")
    kept = cli("runs", "report", run["id"], "--pdf", str(target))
    assert kept.exit_code == 2 and "--pdf" in kept.output and "--force" in kept.output
    assert target.read_bytes() == b"mine"
    assert cli("runs", "report", run["id"], "--pdf", str(target), "--force").exit_code == 0
    assert target.read_bytes().startswith(b"%PDF-")
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_bytes(b"untouched")
    link = tmp_path / "link.pdf"
    link.symlink_to(elsewhere)
    followed = cli("runs", "report", run["id"], "--pdf", str(link), "--force")
    assert followed.exit_code == 2 and "cannot write" in followed.output
    assert elsewhere.read_bytes() == b"untouched"


def test_pdf_and_json_together_are_refused_naming_the_option(cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "report.pdf"
    both = cli(
        "runs", "report", "0190f2a4-0000-7000-8000-000000000000", "--pdf", str(target), "--json"
    )
    assert both.exit_code == 2 and "--pdf or --json, not both" in both.output
    assert not target.exists()
