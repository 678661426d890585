"""A PDF export never fails on Markdown its HTML layout cannot draw: tables fall back to lines
of text, then to plain paragraphs, and every word is still in the PDF."""

import io

import pypdf
import pytest

from missionctl.documents.export import to_pdf


def text_of(pdf: bytes) -> str:
    return " ".join(
        " ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages
    )


@pytest.mark.parametrize(
    "table",
    [
        "| a | b |\n|---|---|\n| *Fast* and **cheap** | cell |",  # two styles in one cell
        "| a |\n|---|\n| " + "a very long cell " * 500 + "|",  # taller than a page
        "| " + " | ".join(f"c{i}" for i in range(40)) + " |\n|" + "---|" * 40,  # 40 columns
    ],
)
def test_tables_the_layout_refuses_are_drawn_as_text(table: str) -> None:
    body = f"# Design\n\nBefore the table.\n\n{table}\n\nAfter the table."
    text = text_of(to_pdf("Design", body))
    assert "Before the table." in text and "After the table." in text
    first_cell = table.split("|")[1].replace("*", "").strip()
    assert first_cell.split()[0] in text


def test_a_pdf_that_needs_no_fallback_keeps_its_tables() -> None:
    body = "| Component | Technology |\n|---|---|\n| API service | FastAPI |"
    assert "Component Technology" in text_of(to_pdf("T", body))
