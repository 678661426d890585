"""Pure rules about missions."""

TITLE_MAX_CHARS = 80


def derive_title(goal: str, *, max_chars: int = TITLE_MAX_CHARS) -> str:
    """A short title from a goal: its first line, cut at a word boundary with an ellipsis.

    >>> derive_title("Build a URL shortener with click analytics")
    'Build a URL shortener with click analytics'
    """
    first_line = goal.strip().splitlines()[0].strip() if goal.strip() else ""
    first_line = first_line.rstrip(".")
    if len(first_line) <= max_chars:
        return first_line
    cut = first_line[: max_chars - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"
