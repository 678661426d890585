"""Artifact viewers: Markdown rendered and sanitised, JSON as a collapsible tree, diffs coloured.

Artifact content is untrusted (a model or a command wrote it), so nothing of it reaches the page
unescaped except Markdown, which is rendered with raw HTML disabled and then cleaned by nh3
with an allow-list of tags and URL schemes: ``<script>`` comes out as text and a
``javascript:`` link loses its target.
"""

import json
from dataclasses import dataclass
from typing import Any, Literal

from markupsafe import Markup, escape

from missionctl.domain.markdown import safe_html
from missionctl.schemas.artifacts import ArtifactRead

ViewerKind = Literal["markdown", "json", "diff", "text", "download"]

MAX_INLINE_BYTES = 1_000_000
"""Larger artifacts are offered as downloads only."""

MAX_JSON_NODES = 5_000
# Deeper values are summarised: the renderer recurses once per level, and an artifact is
# whatever a program wrote.
MAX_JSON_DEPTH = 64
OPEN_DEPTH = 2
"""JSON objects and arrays nested less deeply than this start open."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """What the artifact viewer shows: a kind and, unless it is a download, safe HTML."""

    kind: ViewerKind
    html: Markup
    note: str | None = None


def render_markdown(text: str) -> Markup:
    """Markdown to HTML that is safe to insert into the page."""
    return Markup(safe_html(text))  # cleaned by nh3 with an allow-list (domain.markdown)


def render_json(value: Any) -> Markup:
    """A JSON value as nested ``<details>`` (objects and arrays), pretty-printed and collapsible."""
    budget = [MAX_JSON_NODES]
    parts: list[str] = ['<div class="json">']
    _json_node(value, None, 0, parts, budget, last=True)
    if budget[0] <= 0:
        parts.append('<p class="json__more">Too large to show in full; download it.</p>')
    parts.append("</div>")
    return Markup("".join(parts))  # every piece of content is escaped in _json_node


def _json_scalar(value: Any) -> str:
    if isinstance(value, str):
        return f'<span class="json__string">{escape(json.dumps(value, ensure_ascii=False))}</span>'
    if isinstance(value, bool) or value is None:
        return f'<span class="json__literal">{escape(json.dumps(value))}</span>'
    return f'<span class="json__number">{escape(json.dumps(value))}</span>'


def _json_node(
    value: Any, key: str | None, depth: int, parts: list[str], budget: list[int], *, last: bool
) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        return
    label = (
        f'<span class="json__key">{escape(json.dumps(key, ensure_ascii=False))}</span>: '
        if key is not None
        else ""
    )
    comma = "" if last else '<span class="json__punct">,</span>'
    if not isinstance(value, dict | list) or not value:
        text = ("{}" if isinstance(value, dict) else "[]") if isinstance(value, dict | list) else ""
        scalar = f'<span class="json__punct">{text}</span>' if text else _json_scalar(value)
        parts.append(f'<div class="json__leaf">{label}{scalar}{comma}</div>')
        return
    if depth >= MAX_JSON_DEPTH:
        note = f"nested deeper than {MAX_JSON_DEPTH} levels; download it to read it"
        parts.append(f'<div class="json__leaf">{label}<span class="json__meta">{note}</span></div>')
        return
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    count = len(value)
    noun = ("key" if isinstance(value, dict) else "item") + ("" if count == 1 else "s")
    is_open = " open" if depth < OPEN_DEPTH else ""
    parts.append(
        f'<details class="json__node"{is_open}><summary>{label}'
        f'<span class="json__punct">{opening}</span>'
        f'<span class="json__meta">{count} {noun}</span></summary><div class="json__children">'
    )
    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    for index, (child_key, child) in enumerate(items):
        _json_node(
            child,
            str(child_key) if isinstance(value, dict) else None,
            depth + 1,
            parts,
            budget,
            last=index == count - 1,
        )
    parts.append(f'</div><span class="json__punct">{closing}</span>{comma}</details>')


def render_diff(text: str) -> Markup:
    """A unified diff with added, removed, hunk and file-header lines marked for colour."""
    lines = []
    for line in text.splitlines():
        if line.startswith(("+++", "---", "diff ", "index ")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        lines.append(f'<span class="diff__line diff__line--{kind}">{escape(line) or " "}</span>')
    return Markup(f'<pre class="diff"><code>{"".join(lines)}</code></pre>')


def viewer_kind(artifact: ArtifactRead) -> ViewerKind:
    """How to show an artifact, from its kind, media type and name."""
    media = artifact.media_type.split(";")[0].strip().lower()
    name = artifact.name.lower()
    if artifact.size > MAX_INLINE_BYTES:
        return "download"
    if artifact.kind == "markdown" or media == "text/markdown" or name.endswith(".md"):
        return "markdown"
    if media.endswith("json") or name.endswith(".json"):
        return "json"
    if (
        artifact.kind == "diff"
        or media in {"text/x-diff", "text/x-patch"}
        or name.endswith((".diff", ".patch"))
    ):
        return "diff"
    if media.startswith("text/") or artifact.kind == "log":
        return "text"
    return "download"


def view_artifact(artifact: ArtifactRead, content: bytes) -> Viewer:
    """The viewer for ``artifact`` with its ``content`` rendered (or a download offer)."""
    kind = viewer_kind(artifact)
    if kind == "download":
        return Viewer("download", Markup(""))
    text = content.decode("utf-8", errors="replace")
    if kind == "markdown":
        return Viewer("markdown", render_markdown(text))
    if kind == "diff":
        return Viewer("diff", render_diff(text))
    if kind == "json":
        try:
            return Viewer("json", render_json(json.loads(text)))
        # A program wrote the artifact: JSON nested past the parser's recursion limit is shown
        # as text, like JSON that does not parse.
        except (ValueError, RecursionError):
            return Viewer("text", Markup(f"<pre>{escape(text)}</pre>"), note="Not valid JSON.")
    return Viewer("text", Markup(f'<pre class="plain">{escape(text)}</pre>'))
