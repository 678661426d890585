"""User text inside a Markdown document we write, unable to change the document's structure.

A title, a goal or a task's description is typed by a person or written by a model. Dropped
into Markdown as it is, ``# Heading`` would forge a section, a line of backticks would open a
code block that swallows the rest of the document, ``<!--`` would hide it, and ``===`` under a
line would turn that line into a heading. Two functions keep such text in its place:

- :func:`inline` for text inside one line (a heading, a list item, after a label): whitespace
  and line breaks become single spaces, control characters go, and whatever Markdown reads as
  markup at the start of a block, or as code anywhere, is escaped with a backslash;
- :func:`block` for text of several lines (a goal, a description): each line as
  :func:`inline`, blank lines kept (one at most) as paragraph breaks.

Emphasis (``*``, ``_``) and links are left alone: they change how words look, not where a
section starts or ends, and escaping them would make the raw text harder for an agent to read.

:func:`safe_html` turns untrusted Markdown (an artifact, a document a model wrote) into HTML
that is safe to show: raw HTML disabled, then cleaned by nh3 with an allow-list of tags and URL
schemes, so ``<script>`` comes out as text and a ``javascript:`` link loses its target.
"""

import re

import nh3
from markdown_it import MarkdownIt

# A backslash Markdown would read as an escape: one before ASCII punctuation (CommonMark 2.4),
# or at the end, where the markup we write after the text would follow it.
_ESCAPING_BACKSLASH = re.compile(r"\\(?=[!-/:-@\[-`{-~]|$)")
# What starts a block when it opens a line: a heading, a quote, a list item, a setext underline
# or thematic break (also of underscores), a table row, HTML, a fence of tildes, an ordered item
# ("1." / "1)").
_BLOCK_START = re.compile(r"[#>+*_=|<~-]|[0-9]{1,9}(?=[.)])")
# C0 and C1 control characters, and the line and paragraph separators, which Python's
# ``str.split`` treats as whitespace but some renderers show.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def inline(text: str) -> str:
    """``text`` on one line, safe anywhere inside a line of Markdown.

    Whitespace runs (line breaks included) become one space and the ends are stripped; control
    characters are dropped; backslashes that would escape, and every backtick, are escaped (no
    code span or fence can open); a block marker at the start is escaped, so the text cannot
    begin a heading, quote, list, fence, table or HTML block even at the start of a line.
    """
    flat = " ".join(_CONTROL.sub("", text).split())
    escaped = _ESCAPING_BACKSLASH.sub(r"\\\\", flat).replace("`", "\\`")
    start = _BLOCK_START.match(escaped)
    if start is None:
        return escaped
    end = start.end()
    if end > 1 or escaped[0].isdigit():  # an ordered item: escape its "." or ")"
        return f"{escaped[:end]}\\{escaped[end:]}"
    return f"\\{escaped}"


def link_text(text: str) -> str:
    """:func:`inline`, with brackets escaped too: safe as the text of a link, ``[…](…)``."""
    return inline(text).replace("[", "\\[").replace("]", "\\]")


def block(text: str) -> str:
    """``text`` as paragraphs of safe lines: each line through :func:`inline`, in order.

    Runs of blank lines become one blank line (a paragraph break); leading indentation goes
    (four spaces would make an indented code block). Empty when ``text`` has no visible
    character.
    """
    lines: list[str] = []
    for line in text.splitlines():
        safe = inline(line)
        if safe or (lines and lines[-1]):
            lines.append(safe)
    return "\n".join(lines).strip("\n")


SAFE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "s", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr",
    "ul",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}
_MARKDOWN = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("table")
    .enable("strikethrough")
)


def safe_html(text: str) -> str:
    """Untrusted Markdown as HTML safe to insert into a page (tags outside the allow-list go)."""
    html = _MARKDOWN.render(text)
    return nh3.clean(html, tags=SAFE_TAGS, attributes=_ATTRIBUTES, url_schemes=_SCHEMES)
