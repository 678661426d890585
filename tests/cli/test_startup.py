"""Start-up cost of the command line: ``missionctl --help`` must not load what it never uses.

Every command module is imported to build the help, so a top-level import of the LLM client,
the services, the database or the HTTP server in any of them slows every command down. These
tests import ``missionctl.cli`` in a fresh interpreter and look at ``sys.modules``.
"""

import json
import subprocess
import sys

from missionctl.cli.missions import MAX_PAGE_SIZE
from missionctl.cli.users import PASSWORD_MIN_CHARS
from missionctl.cli.workers import MAX_CONCURRENCY
from missionctl.domain.workers import MAX_CONCURRENCY as DOMAIN_MAX_CONCURRENCY
from missionctl.schemas.identity import PASSWORD_MIN_CHARS as SCHEMA_PASSWORD_MIN_CHARS
from missionctl.services.usecases.paging import MAX_PAGE_SIZE as SERVICE_MAX_PAGE_SIZE

# Imported only by the commands that use them (bench/cli_startup.py measures the effect).
HEAVY = (
    "openai",
    "sqlalchemy",
    "alembic",
    "httpx2",
    "uvicorn",
    "fastapi",
    "genai_prices",
    "jinja2",
    "playwright",
    "missionctl.services",
    "missionctl.engine",
    "missionctl.settings",
    "pydantic_settings",
    "yaml",
    "missionctl.schemas",
    "missionctl.cli._backend",
    "missionctl.cli._live",
    "missionctl.domain.governance",
    "missionctl.domain.workflows",
    "missionctl.domain.replay",
    "missionctl.domain.packs",
    "missionctl.domain.workers",
    "asyncio",
    "pydantic",
    "missionctl.llm.protocol",
)


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_command_line_does_not_import_openai_or_the_services() -> None:
    loaded = _loaded_after("import missionctl.cli")
    assert "openai" not in loaded
    assert sorted(name for name in HEAVY if name in loaded) == []


def test_help_does_not_import_them_either() -> None:
    code = (
        "from typer.testing import CliRunner\n"
        "from missionctl.cli import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0"
    )
    loaded = _loaded_after(code)  # once: a fresh interpreter costs most of a second
    assert sorted(name for name in HEAVY if name in loaded) == []


def test_the_console_script_does_not_import_them_for_help() -> None:
    # main() makes the process private first (restrict_process), before any command runs.
    code = (
        "from missionctl.cli import main\n"
        "sys.argv = ['missionctl', '--help']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0\n"
    )
    loaded = _loaded_after(code)  # once: a fresh interpreter costs most of a second
    assert sorted(name for name in HEAVY if name in loaded) == []


def test_the_page_size_limit_is_the_services_one() -> None:
    assert MAX_PAGE_SIZE == SERVICE_MAX_PAGE_SIZE


def test_the_limits_spelt_out_for_the_help_are_the_real_ones() -> None:
    assert PASSWORD_MIN_CHARS == SCHEMA_PASSWORD_MIN_CHARS
    assert MAX_CONCURRENCY == DOMAIN_MAX_CONCURRENCY
