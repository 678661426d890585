"""A command's input text from a file or standard input, read within its limit.

Commands that take a file (``workflow validate FILE``, ``spec write --file``) read it through
:func:`read_input_text`, which stops at the limit while reading (``missionctl.bounded_reads``):
``/dev/zero``, a FIFO or an endless pipe is refused after ``limit + 1`` bytes, with the same
exit code and the same kind of message as any input over its limit. It imports no service, so
the refusal comes before the command loads anything heavy.
"""

import sys
from pathlib import Path

import typer
from rich.markup import escape

from missionctl.bounded_reads import TooLarge, read_file, read_stream
from missionctl.cli._runtime import EXIT_INVALID, err_console

STDIN = "standard input"
"""How messages name standard input."""


def read_input_text(path: Path | None, *, limit: int, fix: str, field: str) -> str:
    """The UTF-8 text of ``path`` (``None`` or ``-``: standard input), a byte order mark dropped.

    At most ``limit`` bytes are accepted, and at most one more is read. Exits 2 printing why
    when the input cannot be used: over the limit (``field: SOURCE is larger than LIMIT bytes;
    FIX``), unreadable (the system's reason), or not UTF-8.
    """
    stdin = path is None or str(path) == "-"
    source = STDIN if stdin else str(path)
    try:
        if path is None or stdin:  # `path is None` again: mypy narrows on it, not on `stdin`
            raw = read_stream(sys.stdin.buffer, limit=limit, source=source, fix=fix, field=field)
        else:
            raw = read_file(path, limit=limit, fix=fix, field=field)
        return raw.decode("utf-8").removeprefix("\ufeff")
    except TooLarge as exc:
        # soft_wrap: the path and the limit stay whole on one line, to be copied or searched.
        err_console.print(
            f"[red]error:[/red] {escape(exc.message)}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(EXIT_INVALID) from exc
    except OSError as exc:
        err_console.print(f"[red]error:[/red] cannot read {escape(source)}: {exc.strerror}")
        raise typer.Exit(EXIT_INVALID) from exc
    except UnicodeDecodeError as exc:
        err_console.print(f"[red]error:[/red] {escape(source)} is not UTF-8 text")
        raise typer.Exit(EXIT_INVALID) from exc
