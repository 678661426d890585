"""The ``--plan-version`` option of the commands that read one version of a mission's plan."""

from typing import Any

import typer

# ``schemas.plans.MAX_PLAN_VERSION`` (the column's 32-bit limit), spelt out so that ``--help``
# does not import the schemas (tests/cli/test_cli_parity.py and test_pack_cli.py check that the
# two agree).
MAX_PLAN_VERSION = 2**31 - 1


def plan_version_option(help: str = "The plan version (default: newest).") -> Any:
    """``--plan-version N``, a plan version from 1 to :data:`MAX_PLAN_VERSION` (unset: none)."""
    return typer.Option("--plan-version", min=1, max=MAX_PLAN_VERSION, help=help)
