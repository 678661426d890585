"""Text search in list queries: the ``LIKE`` pattern every list's search box uses."""


def search_pattern(text: str) -> str:
    r"""The ``LIKE`` pattern (escape character ``\``) finding ``text`` anywhere in a column.

    Wildcards are escaped so that a search for "50%" or "a_b" means that text.
    """
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
