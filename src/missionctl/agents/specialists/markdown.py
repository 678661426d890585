"""Small, pure Markdown helpers shared by the specialists' writers."""

import re
from collections.abc import Iterable, Sequence

_UNSAFE = re.compile(r"[^a-z0-9]+")
_DOC_SUFFIXES = (".md", ".markdown", ".txt", ".rst")
NAME_MAX_CHARS = 80


def cell(text: object) -> str:
    """``text`` made safe for one table cell (pipes escaped, lines joined)."""
    return " ".join(str(text).split()).replace("|", "\\|") or "—"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """A GitHub-flavoured Markdown table; no lines at all when there are no rows."""
    body = [f"| {' | '.join(cell(value) for value in row)} |" for row in rows]
    if not body:
        return []
    return [f"| {' | '.join(headers)} |", f"|{'|'.join('---' for _ in headers)}|", *body]


def bullets(items: Iterable[str], *, empty: str = "") -> list[str]:
    """A bullet list; when there is nothing to list, the sentence ``empty`` (if any) instead."""
    lines = [f"- {' '.join(item.split())}" for item in items if item.strip()]
    return lines or ([empty] if empty else [])


def checklist(items: Iterable[str]) -> list[str]:
    """An unticked task list (``- [ ] …``): things for a person to verify.

    The builtin specialists never tick a box: they check nothing themselves.
    """
    return [f"- [ ] {' '.join(item.split())}" for item in items if item.strip()]


def numbered(items: Iterable[str]) -> list[str]:
    """A numbered list (no lines for no items)."""
    return [f"{n}. {' '.join(item.split())}" for n, item in enumerate(items, 1)]


def section(title: str, lines: Iterable[str], *, level: int = 2) -> list[str]:
    """A heading, its lines, and a blank line; nothing at all when the lines say nothing.

    A section is left out rather than printed empty: a heading over no content (or over
    nothing but subheadings) would read as an outline waiting to be filled in.
    """
    body = list(lines)
    if not any(line.strip() and not line.startswith("#") for line in body):
        return []
    return [f"{'#' * level} {title}", "", *body, ""]


def join_words(items: Sequence[str]) -> str:
    """``["a", "b", "c"]`` → ``"a, b and c"``."""
    items = [item for item in items if item]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def slug(text: str) -> str:
    """Lower-case words joined by hyphens (``"Click analytics"`` → ``"click-analytics"``)."""
    return _UNSAFE.sub("-", text.lower()).strip("-")[:NAME_MAX_CHARS].rstrip("-")


def is_document_name(name: str) -> bool:
    """Whether an expected artifact names a document (a Markdown or text file)."""
    return name.strip().lower().endswith(_DOC_SUFFIXES)


def stem(name: str) -> str:
    """The slug of an artifact name's last path part, without its extension.

    >>> stem("tests/e2e/test_click_analytics.py")
    'test-click-analytics'
    >>> stem("pull request: custom-aliases")
    'pull-request-custom-aliases'
    """
    last = name.strip().rstrip("/").rsplit("/", 1)[-1]
    base, dot, extension = last.rpartition(".")
    if dot and base and extension.isalnum() and len(extension) <= 8:
        last = base
    return slug(last)


def document_name(name: str, *, fallback: str = "document") -> str:
    """A safe ``.md`` file name for an expected artifact (``"ADR 1.md"`` → ``adr-1.md``)."""
    return f"{stem(name) or fallback}.md"
