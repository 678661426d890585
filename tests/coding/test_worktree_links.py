"""A coding step's program leaves links to files outside and a FIFO in its worktree.

The worker's git reads the worktree after the program ran, as the server's user. A symbolic
link must be committed and diffed as what it is, a link (its target's path as text), never as
the content of the file it names; a FIFO must be passed over, not read (a reader would wait for
ever). The step finishes, and the diff it records holds neither the marker's text nor the
host's name.
"""

import json
import socket
from pathlib import Path

from missionctl.services import ServiceContext
from missionctl.services.usecases.artifacts import read_artifact_content, read_artifacts
from tests.coding.helpers import allow_coding, coding_agents, git, make_repository
from tests.coding.test_planted_git import generic_step
from tests.engine.helpers import running_engine, start, wait_for_run

MARKER_TEXT = "marker-content-4f1c9a never leaves its file"
HOSTNAME = Path("/etc/hostname")
HOST_TEXT = HOSTNAME.read_text().strip() if HOSTNAME.exists() else socket.gethostname()


async def test_links_to_files_outside_are_diffed_as_links_and_a_fifo_does_not_hang(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    marker = tmp_path / "outside" / "marker.txt"
    marker.parent.mkdir()
    marker.write_text(MARKER_TEXT + "\n")
    hostname = HOSTNAME
    await allow_coding(ctx, repo)
    script = (
        f"ln -s {marker} marker-link && ln -s {hostname} host-link && mkfifo pipe"
        " && echo mine > own.txt"
    )
    run = await start(ctx, [generic_step("links", script, repo)])
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        done = await wait_for_run(ctx, run.id, within_s=60)  # a FIFO read would never end

    assert done.status == "completed", done.steps[0].error
    outputs = done.steps[0].outputs
    assert sorted(outputs["files_changed"]) == ["host-link", "marker-link", "own.txt"]
    branch = outputs["branch"]
    # Committed as links: mode 120000, the blob is the target's path.
    listing = git(repo, "ls-tree", branch, "marker-link", "host-link")
    assert [line.split()[0] for line in listing.splitlines()] == ["120000", "120000"]
    assert git(repo, "show", f"{branch}:marker-link") == str(marker)
    assert git(repo, "show", f"{branch}:host-link") == str(hostname)

    artifacts = {a.name: a for a in await read_artifacts(ctx, run_id=run.id)}
    _, patch_bytes = await read_artifact_content(ctx, artifact_id=artifacts["links.diff"].id)
    patch = patch_bytes.decode()
    assert "new file mode 120000" in patch
    assert f"+{marker}" in patch and f"+{hostname}" in patch
    assert "+mine" in patch
    assert MARKER_TEXT not in patch
    assert HOST_TEXT and f"+{HOST_TEXT}\n" not in patch
    assert "pipe" not in patch
    _, changes = await read_artifact_content(ctx, artifact_id=artifacts["links-changes.json"].id)
    listed = {entry["path"]: entry for entry in json.loads(changes)["files"]}
    assert sorted(listed) == ["host-link", "marker-link", "own.txt"]
    assert listed["marker-link"]["status"] == "A" and listed["marker-link"]["insertions"] == 1
    # What the links name is as it was.
    assert marker.read_text() == MARKER_TEXT + "\n"
