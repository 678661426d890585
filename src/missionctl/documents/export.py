"""A document version as a file: Markdown (its body), a standalone HTML page, or a PDF.

HTML is the body through ``domain.markdown.safe_html`` (raw HTML disabled, then an nh3
allow-list), inside a page of our own with a small stylesheet for screen and print; no script,
no outside resource. The PDF is drawn by fpdf2 from that same sanitised HTML, as text (it can
be selected, searched and copied), in the DejaVu fonts shipped in ``documents/fonts`` (Bitstream
Vera licence, ``LICENSE-DejaVu.txt``): they cover Latin, Greek and Cyrillic, typographic quotes
and dashes. A character no shipped font has (Chinese, Japanese, Korean, most emoji) is drawn
as the font's empty box in the PDF, never an error; the Markdown and HTML exports keep it.
"""

import io
import logging
import re
from datetime import UTC, datetime
from importlib.resources import as_file, files
from typing import TYPE_CHECKING, Any, Final

from markupsafe import escape

from missionctl.documents.local import DIAGRAM_HEADINGS
from missionctl.domain.diagram_svg import render_svg
from missionctl.domain.diagrams import MissionDiagrams
from missionctl.domain.markdown import safe_html

if TYPE_CHECKING:
    from fpdf import FPDF

logger = logging.getLogger(__name__)

FONT = "DejaVu"
MONO_FONT = "DejaVuMono"
_FONT_FILES: Final = {
    (FONT, ""): "DejaVuSans.ttf",
    (FONT, "B"): "DejaVuSans-Bold.ttf",
    # No oblique face is shipped: emphasis is drawn upright (bold italic as bold).
    (FONT, "I"): "DejaVuSans.ttf",
    (FONT, "BI"): "DejaVuSans-Bold.ttf",
    (MONO_FONT, ""): "DejaVuSansMono.ttf",
    (MONO_FONT, "B"): "DejaVuSansMono.ttf",
    (MONO_FONT, "I"): "DejaVuSansMono.ttf",
    (MONO_FONT, "BI"): "DejaVuSansMono.ttf",
}

MEDIA_TYPES: Final = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}

_STYLE = """
:root { color-scheme: light dark; }
body { font: 16px/1.55 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto;
       padding: 0 1rem; color: #1f2328; background: #fff; }
h1 { font-size: 1.7rem; } h2 { font-size: 1.3rem; margin-top: 2rem;
     border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; } h3 { font-size: 1.1rem; }
code, pre { font-family: ui-monospace, monospace; background: #f6f8fa; }
pre { padding: .75rem; overflow-x: auto; } table { border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; }
.diagram-figure { margin: 1rem 0; } .diagram-scroll { overflow-x: auto; }
.diagram-scroll svg { display: block; max-width: none; background: #fff; }
@media (prefers-color-scheme: dark) {
  body { color: #e6edf3; background: #0d1117; } code, pre { background: #161b22; }
  h2, th, td { border-color: #30363d; } a { color: #58a6ff; } }
@media print { body { margin: 0; max-width: none; font-size: 11pt; color: #000;
  background: #fff; } h2 { break-after: avoid; } pre, tr, li { break-inside: avoid; }
  a { color: inherit; } }
"""

_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)  # every PDF's creation date: same bytes

# fpdf2 warns about each glyph a font lacks; the module docstring says what is drawn instead.
logging.getLogger("fpdf.output").setLevel(logging.ERROR)
# ...and about each SVG element it does not draw: a diagram's tooltips (<title>) are for screens.
logging.getLogger("fpdf.svg").setLevel(logging.ERROR)


def with_diagrams(body: str, diagrams: MissionDiagrams | None) -> list[tuple[str, str | None]]:
    """The sanitised HTML of ``body`` in pieces, each with the diagram drawn after it, if any.

    A diagram is drawn right after its heading (``local.DIAGRAM_HEADINGS``); one whose heading
    the body lacks (a model may rewrite the sections) is drawn under a "Diagrams" heading at the
    end. Without ``diagrams`` the body is one piece.
    """
    rest = safe_html(body)
    if diagrams is None:
        return [(rest, None)]
    pieces: list[tuple[str, str | None]] = []
    missing: list[str] = []
    for name, heading in DIAGRAM_HEADINGS.items():
        marker = f"<h3>{heading}</h3>"
        at = rest.find(marker)
        if at < 0:
            missing.append(name)
            continue
        cut = at + len(marker)
        pieces.append((rest[:cut], name))
        rest = rest[cut:]
    if missing:
        pieces.append((rest + "<h2>Diagrams</h2>", None))
        rest = ""
        pieces += [(f"<h3>{DIAGRAM_HEADINGS[name]}</h3>", name) for name in missing]
    pieces.append((rest, None))
    return pieces


def _svg(diagrams: MissionDiagrams, name: str, **style: Any) -> str:
    diagram = diagrams.architecture if name == "architecture" else diagrams.deployment
    return render_svg(diagram, element_id=f"diagram-{name}", **style)


def body_html(body: str, diagrams: MissionDiagrams | None = None) -> str:
    """The sanitised HTML of the Markdown ``body``, with ``diagrams`` as inline SVG figures.

    The figures go where :func:`with_diagrams` places them; their SVG escapes every text it
    draws (``domain.diagram_svg``), so the result is as safe as ``safe_html``'s.
    """
    parts: list[str] = []
    for piece, name in with_diagrams(body, diagrams):
        parts.append(piece)
        if name is not None and diagrams is not None:
            parts.append(
                f'<figure class="diagram-figure"><div class="diagram-scroll">'
                f"{_svg(diagrams, name)}</div></figure>"
            )
    return "".join(parts)


def to_html(title: str, body: str, diagrams: MissionDiagrams | None = None) -> str:
    """A standalone, sanitised HTML page of the Markdown ``body`` titled ``title``.

    ``diagrams`` are drawn as inline SVG where :func:`with_diagrams` places them.
    """
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n"
        f"<body><main>\n{body_html(body, diagrams)}</main></body></html>\n"
    )


_INK = (33, 37, 41)


def _draw_diagram(pdf: "FPDF", svg: str) -> None:
    """``svg`` across a landscape page of its own; the text goes on in a portrait page."""
    pdf.add_page(orientation="L")
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.image(io.BytesIO(svg.encode("utf-8")), x=pdf.l_margin, y=pdf.t_margin, w=width)
    pdf.add_page(orientation="P")


def _tag_styles() -> dict[str, Any]:
    """How headings and code are drawn (fpdf2 is imported when a PDF is first asked for)."""
    from fpdf import FontFace, TextStyle

    return {
        "h1": TextStyle(font_size_pt=19, font_style="B", color=_INK, t_margin=2, b_margin=1.5),
        "h2": TextStyle(font_size_pt=15, font_style="B", color=_INK, t_margin=6, b_margin=1),
        "h3": TextStyle(font_size_pt=12.5, font_style="B", color=_INK, t_margin=4, b_margin=0.6),
        "code": FontFace(family=MONO_FONT),
        "pre": TextStyle(font_family=MONO_FONT, t_margin=2),
    }


def _add_fonts(pdf: "FPDF") -> None:
    folder = files("missionctl.documents").joinpath("fonts")
    for (family, style), name in _FONT_FILES.items():
        with as_file(folder.joinpath(name)) as path:
            pdf.add_font(family, style, str(path))


def to_pdf(title: str, body: str, diagrams: MissionDiagrams | None = None) -> bytes:
    """The Markdown ``body`` as an A4 PDF of selectable text, titled ``title`` in its metadata.

    Each of ``diagrams`` is drawn as vector graphics with selectable text on a landscape page
    of its own, where :func:`with_diagrams` places it. Deterministic for the same input: the
    creation date is fixed, so two exports of one version give the same bytes.

    fpdf2's HTML layout refuses some tables (two styles in one cell, a cell taller than a
    page, dozens of columns): the document is then drawn again with each table row as a line
    of text, and if that fails too, as plain paragraphs. Every word is kept either way.
    """
    from fpdf.errors import FPDFException

    pieces = with_diagrams(body, diagrams)
    for simplify in (_as_is, _tables_as_lines, _paragraphs):
        try:
            return _draw_pdf(title, [(simplify(html), name) for html, name in pieces], diagrams)
        except (FPDFException, NotImplementedError, ValueError) as exc:
            logger.info("PDF layout gave way to a simpler one: %s", exc)
    raise AssertionError("plain paragraphs are always drawn")  # pragma: no cover


def _as_is(html: str) -> str:
    return html


_ROW = re.compile(r"<tr\b[^>]*>.*?</tr>", re.S)
_CELL = re.compile(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", re.S)
_TABLE_TAGS = re.compile(r"</?(?:table|thead|tbody|tfoot)\b[^>]*>")
_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(?:p|h[1-6]|li|pre|tr|blockquote)>|<br\s*/?>")


def _tables_as_lines(html: str) -> str:
    """``html`` with each table row made a paragraph of its cells' text, joined by " · "."""

    def row(match: re.Match[str]) -> str:
        cells = (_TAG.sub("", cell).strip() for cell in _CELL.findall(match.group(0)))
        return f"<p>{' · '.join(cells)}</p>"

    return _TABLE_TAGS.sub("", _ROW.sub(row, html))


def _paragraphs(html: str) -> str:
    """``html``'s text alone, a paragraph per block (its entities kept escaped)."""
    text = _TAG.sub("", _BLOCK_END.sub("\n", html))
    return "".join(f"<p>{line.strip()}</p>" for line in text.splitlines() if line.strip())


def _draw_pdf(
    title: str, pieces: list[tuple[str, str | None]], diagrams: MissionDiagrams | None
) -> bytes:
    from fpdf import FPDF  # about a tenth of the server's imports: loaded when first used

    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Mission Control")
    pdf.set_creation_date(_EPOCH)
    _add_fonts(pdf)
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.set_font(FONT, size=10.5)
    try:
        for piece, name in pieces:
            pdf.write_html(
                piece,
                font_family=FONT,
                tag_styles=_tag_styles(),
                li_prefix_color=(60, 60, 60),
                table_line_separators=True,
                warn_on_tags_not_matching=False,
            )
            if name is not None and diagrams is not None:
                _draw_diagram(pdf, _svg(diagrams, name, font_family=FONT, halo=False))
    except BaseException:
        for font in pdf.fonts.values():  # output() closes them; an abandoned PDF must too
            if hasattr(font, "close"):
                font.close()
        raise
    buffer = io.BytesIO()
    pdf.output(buffer)
    return buffer.getvalue()
