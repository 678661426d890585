"""Command help reads as paragraphs, whatever the line breaks of the docstring behind it."""

from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from missionctl.cli import app
from missionctl.cli._help import reflow


def helps(group: typer.Typer) -> Iterator[tuple[str, str]]:
    for command in group.registered_commands:
        yield command.name or "?", str(command.help)
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        yield from helps(sub.typer_instance)


def test_every_command_s_help_breaks_lines_only_before_list_items() -> None:
    found = list(helps(app))
    assert len(found) > 100
    for name, text in found:
        for paragraph in text.split("\n\n"):
            for line in paragraph.splitlines()[1:]:
                assert line.startswith(("- ", "* ", "    ")) or line[:2].rstrip(".)").isdigit(), (
                    name,
                    line,
                )


def test_a_hard_wrapped_docstring_renders_as_one_paragraph(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    result = CliRunner().invoke(app, ["workflow", "run", "--help"])
    assert result.exit_code == 0
    assert "(on a server, the server's engine), drawing its steps live" in result.output


def test_lists_indented_blocks_and_unwrapped_paragraphs_keep_their_lines() -> None:
    text = """First line
    goes on.

    A paragraph
    wrapped twice
    here.

    - one item
      continued
    - two

        code line one
        code line two

    \b
    kept
    as is"""
    assert reflow(text).split("\n\n") == [
        "First line goes on.",
        "A paragraph wrapped twice here.",
        "- one item continued\n- two",
        "    code line one\n    code line two",
        "\b\nkept\nas is",
    ]
