"""Command help as paragraphs, whatever the line breaks of the docstring it comes from.

Typer shows a command's docstring with its line breaks kept, so a docstring wrapped at 100
columns breaks sentences in mid-line on an 80-column terminal. :func:`reflow_help` rewrites
the help of every command and group of an app once, when the app is built: the lines of a
paragraph are joined, while list items and indented blocks keep a line each.
"""

import inspect
import re

import typer

__all__ = ["reflow", "reflow_help"]

# A line that starts a list item ("- ", "* ", "1. ", "2) ") keeps a line of its own.
_ITEM = re.compile(r"^(?:[-*•]|\d+[.)])\s")


def reflow(text: str) -> str:
    """``text`` with each paragraph's lines joined; list items and indented lines kept apart.

    Paragraphs are separated by a blank line. A paragraph starting with a backspace character
    (click's mark for "do not rewrap") is left as it is.
    """
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(_reflow_paragraph(p) for p in paragraphs)


def _reflow_paragraph(paragraph: str) -> str:
    if paragraph.startswith("\b"):
        return paragraph
    lines: list[str] = []
    for line in paragraph.splitlines():
        starts_apart = _ITEM.match(line) or line.startswith("    ")
        if lines and not starts_apart:
            lines[-1] = f"{lines[-1]} {line.strip()}"
        else:
            lines.append(line.rstrip())
    return "\n".join(lines)


def reflow_help(app: typer.Typer) -> None:
    """Reflow the help of ``app``, its commands and its groups, recursively, in place."""
    if isinstance(app.info.help, str):
        app.info.help = reflow(app.info.help)
    for command in app.registered_commands:
        text = command.help if isinstance(command.help, str) else inspect.getdoc(command.callback)
        if text:
            command.help = reflow(text)
    for group in app.registered_groups:
        if isinstance(group.help, str):
            group.help = reflow(group.help)
        if group.typer_instance is not None:
            reflow_help(group.typer_instance)
