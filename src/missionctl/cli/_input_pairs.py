"""``--input NAME=VALUE`` options as a run's inputs (``schedule add``, ``templates use``)."""

import json
from collections.abc import Mapping
from typing import Any

import typer

from missionctl.cli._runtime import EXIT_INVALID, err_console


def json_inputs(pairs: list[str], types: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``name=value`` pairs as inputs; exits 2 for a pair without ``=`` or a name.

    A value is what its text reads as in JSON (a number, true, a list), else the text; one
    whose declared type in ``types`` is ``string`` is always the text as it is.
    """
    declared = types or {}
    inputs: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            err_console.print(f"[red]error:[/red] --input: write NAME=VALUE, not {pair!r}")
            raise typer.Exit(EXIT_INVALID)
        if declared.get(name) == "string":
            inputs[name] = text
            continue
        try:
            inputs[name] = json.loads(text)
        except ValueError:
            inputs[name] = text
    return inputs
