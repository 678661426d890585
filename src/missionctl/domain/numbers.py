"""Whole numbers read from text that comes from outside: headers, cursors, field paths."""

MAX_DIGITS = 100
"""Longer runs of digits are not read (``int`` refuses more than 4,300 digits)."""


def ascii_int(text: str) -> int | None:
    """``text`` as a non-negative integer if it is ASCII digits only; otherwise ``None``.

    ``str.isdigit`` is true of characters ``int`` cannot read (superscripts such as ``"²"``),
    and ``int`` reads what a header or a cursor must not hold (signs, spaces, underscores,
    digits of other scripts): this reads ``0`` to ``9`` and nothing else, and returns ``None``
    for an empty text or one of more than ``MAX_DIGITS`` digits.
    """
    if not text or len(text) > MAX_DIGITS or not text.isascii() or not text.isdigit():
        return None
    return int(text)
