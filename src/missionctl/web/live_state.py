"""A live page's state block: rendered once for the viewers who share it, sent where it changed.

A mission or run page's stream re-renders the page's ``live_state`` block when events change
it (``web/sse.py``): a row of ``<hx-partial hx-target="…">`` elements, each replacing one part
of the page. Two costs grow with the viewers and the page's size, and both are cut here
(ADR 0109):

- **One render per read and role.** Viewers of one page share the read of its state
  (``web/page_reads.py``). What the block shows of its viewer is their role (the controls
  ``can()`` shows) and their session's CSRF token; so the block is rendered once per read, role
  and artifact change, with a placeholder where the token goes, and each viewer's copy has its
  own token put in.
- **Only the parts that changed.** A stream remembers a digest of the last HTML it sent for each
  target (a few bytes, where the HTML of a busy run's page is hundreds of KB per viewer); a
  part that would replace a target with the same HTML is left out. A busy run's page, one
  part per step, then sends the rows that moved rather than all of them.
"""

import hashlib
import re
import secrets
from typing import Any

from markupsafe import escape

from missionctl.web.templating import render_fragment

RENDERS = "live_renders"
"""The key, in a shared state read, of its renders by viewer role (put there by the reader)."""

_CSRF_SLOT = f"csrf{secrets.token_hex(16)}"
"""Stands in the shared render where each viewer's CSRF token goes: letters and digits, which
escaping leaves as they are, and unguessable, so no page content can hold it."""

_PARTIAL = re.compile(r'<hx-partial hx-target="([^"]+)"')
_BEFORE_PARTIAL = re.compile(r"(?=<hx-partial )")


def render_state(page: str, state: dict[str, Any]) -> str:
    """``page``'s ``live_state`` block for the viewer ``state`` names.

    The viewer is ``current_identity`` with the session's ``csrf_token``. When ``state`` holds
    ``RENDERS`` (a read shared by several viewers), the block is rendered once per role and
    artifact change there, and this viewer's token put in.
    """
    renders = state.get(RENDERS)
    if renders is None:
        return render_fragment(page, "live_state", state)
    viewer = state.get("current_identity")
    key = (getattr(viewer, "role", None), bool(state.get("artifacts_changed")))
    html = renders.get(key)
    if html is None:
        html = renders[key] = render_fragment(
            page, "live_state", {**state, "csrf_token": _CSRF_SLOT}
        )
    return str(html.replace(_CSRF_SLOT, str(escape(state.get("csrf_token", "")))))


class SentParts:
    """What one stream last sent for each target; passes on only the parts that differ."""

    def __init__(self) -> None:
        self._sent: dict[str, bytes] = {}

    def changed(self, html: str) -> str:
        """``html`` (a row of ``<hx-partial>`` elements) without the parts already shown.

        A part is left out when its target was last sent the very same HTML; text outside
        the parts is kept.
        """
        kept = []
        for part in _parts(html):
            found = _PARTIAL.match(part)
            if found is not None:
                target, digest = found.group(1), _digest(part)
                if self._sent.get(target) == digest:
                    continue
                self._sent[target] = digest
            kept.append(part)
        return "".join(kept)


def _digest(part: str) -> bytes:
    """A digest of ``part`` that two different parts share by chance one time in 2**128."""
    return hashlib.blake2b(part.encode(), digest_size=16).digest()


def _parts(html: str) -> list[str]:
    """``html`` cut before each ``<hx-partial`` (each part one element and the whitespace after)."""
    return [part for part in _BEFORE_PARTIAL.split(html) if part]
