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
    """A GitHub-flavoured Markdown table; a row-less table says so instead."""
    body = [f"| {' | '.join(cell(value) for value in row)} |" for row in rows]
    if not body:
        return ["_None._"]
    return [f"| {' | '.join(headers)} |", f"|{'|'.join('---' for _ in headers)}|", *body]


def bullets(items: Iterable[str], *, empty: str = "_None._") -> list[str]:
    """A bullet list, or ``empty`` when there is nothing to list."""
    lines = [f"- {' '.join(item.split())}" for item in items if item.strip()]
    return lines or [empty]


def checklist(items: Iterable[str]) -> list[str]:
    """An unticked task list (``- [ ] …``)."""
    return [f"- [ ] {' '.join(item.split())}" for item in items if item.strip()] or ["_None._"]


def numbered(items: Iterable[str]) -> list[str]:
    """A numbered list."""
    return [f"{n}. {' '.join(item.split())}" for n, item in enumerate(items, 1)] or ["_None._"]


def section(title: str, lines: Iterable[str], *, level: int = 2) -> list[str]:
    """A heading, its lines, and a blank line."""
    return [f"{'#' * level} {title}", "", *lines, ""]


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
