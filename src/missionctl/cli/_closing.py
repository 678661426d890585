"""The closing lines of a command that followed a run to its end: what it left, and where.

``missionctl run`` and ``missionctl mission run`` end alike: the number of artifacts, the
report (as files under the data directory when the run was made here, as the commands that
download it from a server), and the run's web address when there is one to open: the
server's, or the local one that ``make run`` serves when it keeps the same record.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from missionctl.cli._runtime import console, err_console

if TYPE_CHECKING:
    from missionctl.cli._backend import MissionControl
    from missionctl.schemas.artifacts import ArtifactRead
    from missionctl.schemas.runs import RunRead

__all__ = ["Closing", "closing_of", "print_closing", "shown_path"]


@dataclass(frozen=True, slots=True)
class Closing:
    """What a followed run left: its artifacts, where its report is, where to see it."""

    artifacts: int
    report_markdown: str | None = None
    report_json: str | None = None
    url: str | None = None


def print_closing(closing: Closing) -> None:
    """The closing lines; paths and the address are printed whole, so a copied one works."""
    console.print(f"{closing.artifacts} artifacts", highlight=False)
    lines = [
        ("Report (Markdown): ", closing.report_markdown),
        ("Report (JSON):     ", closing.report_json),
        ("Run on the web:    ", closing.url),
    ]
    for label, value in lines:
        if value:
            console.print(f"[bold]{label}[/bold]{escape(value)}", highlight=False, soft_wrap=True)


def closing_of(api: MissionControl, run: RunRead, *, title: str) -> Closing:
    """The closing of ``run`` (a mission's, called ``title``), read through ``api``."""
    from missionctl.cli._report_files import JSON_NAME, MARKDOWN_NAME
    from missionctl.operations import artifacts as ops

    artifacts = api.call(ops.RUN_ARTIFACTS, run_id=run.id)
    reports = {a.name: a for a in artifacts if a.step_id is None}
    markdown, json_ = reports.get(MARKDOWN_NAME), reports.get(JSON_NAME)
    where: tuple[str, str] | None = None
    if markdown is not None and json_ is not None:
        where = _report_files(api, run, title, markdown, json_)
    base = api.web_address()
    return Closing(
        artifacts=len(artifacts),
        report_markdown=where[0] if where else None,
        report_json=where[1] if where else None,
        url=f"{base}/runs/{run.id}" if base else None,
    )


def _report_files(
    api: MissionControl, run: RunRead, title: str, markdown: ArtifactRead, json_: ArtifactRead
) -> tuple[str, str] | None:
    """Where the report is: files under the home when local, else how to download it."""
    home = api.local_home()
    if home is None or run.mission_id is None:
        return (
            f"missionctl artifact download {markdown.id}",
            f"missionctl artifact download {json_.id}",
        )
    from missionctl.cli._report_files import write_report_files
    from missionctl.operations import artifacts as ops

    try:
        paths = write_report_files(
            home,
            title=title,
            mission_id=run.mission_id,
            markdown=api.file(ops.CONTENT, artifact_id=markdown.id),
            json_bytes=api.file(ops.CONTENT, artifact_id=json_.id),
        )
    except OSError as exc:
        err_console.print(
            f"[yellow]warning:[/yellow] the report files could not be written "
            f"({escape(str(exc))}); the report is stored with the run's artifacts",
            highlight=False,
        )
        return None
    return shown_path(paths[0]), shown_path(paths[1])


def shown_path(path: Path | str) -> str:
    """``path`` relative to the current directory when it is below it (shorter), else whole."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)
