"""The workspace reader, on its own: what a program leaves is read without following a link.

These drive ``agents.workspace_files`` directly on files made here, for what a step cannot show
deterministically (a file that grows between the look at its size and its reading), for the
memory a huge file costs, and for the rules on names. ``test_workspace_escape.py`` runs the
same attacks as steps, through the engine.
"""

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from missionctl.agents.workspace_files import (
    Collected,
    ReadLimits,
    read_files,
    stamps,
    write_new_file,
)
from missionctl.agents.workspaces import Workspaces
from missionctl.blobs.store import BlobStore
from missionctl.llm.redaction import REDACTED, Redactor, redact_chunks
from missionctl.settings import SandboxSettings

MIB = 1024 * 1024
LIMITS = ReadLimits(file_bytes=MIB, total_bytes=4 * MIB)
UNPRINTABLE = " has a character that does not print in its name: not kept"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A step's workspace with an ``artifacts`` directory, and ``outside`` beside it."""
    (tmp_path / "run" / "step" / "artifacts").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret_key").write_text("outside-canary")
    return tmp_path / "run" / "step"


def _read(
    workspace: Path, limits: ReadLimits = LIMITS, redactor: Redactor | None = None
) -> Collected:
    return read_files(
        workspace,
        "artifacts",
        limits=limits,
        redactor=redactor or Redactor(),
        spool_dir=workspace.parent,
    )


def _contents(collected: Collected) -> dict[str, bytes]:
    kept = {file.name: file.content.read() for file in collected.files}
    collected.close()
    return kept


def test_links_fifos_and_sockets_are_left_out_and_regular_files_kept(workspace: Path) -> None:
    artifacts = workspace / "artifacts"
    (artifacts / "own.txt").write_text("mine")
    (artifacts / "sub").mkdir()
    (artifacts / "sub" / "deep.md").write_text("# deep")
    (artifacts / "key").symlink_to(workspace.parent.parent / "outside" / "secret_key")
    (artifacts / "sub" / "out").symlink_to(workspace.parent.parent / "outside")
    (artifacts / "zero").symlink_to("/dev/zero")
    os.mkfifo(artifacts / "fifo")

    collected = _read(workspace)

    assert collected.warnings == [
        "artifacts/fifo is not a regular file: not kept",
        "artifacts/key is a symbolic link: not kept",
        "artifacts/sub/out is a symbolic link: not kept",
        "artifacts/zero is a symbolic link: not kept",
    ]
    assert _contents(collected) == {"own.txt": b"mine", "sub/deep.md": b"# deep"}


@pytest.mark.parametrize("linked", ["artifacts", "parent"])
def test_a_linked_directory_or_parent_on_the_way_keeps_nothing(
    workspace: Path, linked: str
) -> None:
    outside = workspace.parent.parent / "outside"
    if linked == "artifacts":
        (workspace / "artifacts").rmdir()
        (workspace / "artifacts").symlink_to("../..")  # as ``ln -s ../../.. artifacts`` does
        collected = _read(workspace)
        assert collected.warnings == ["artifacts is a symbolic link: nothing under it kept"]
    else:
        (workspace / "parent").symlink_to(outside)
        (outside / "artifacts").mkdir()
        (outside / "artifacts" / "x.txt").write_text("outside-canary")
        collected = read_files(
            workspace,
            "parent/artifacts",
            limits=LIMITS,
            redactor=Redactor(),
            spool_dir=workspace.parent,
        )
        assert collected.warnings == ["parent is a symbolic link: nothing under it kept"]
    assert collected.files == []
    # The snapshot taken before a program runs does not follow it either.
    assert stamps(workspace, "artifacts") == {}


def test_a_file_over_either_limit_is_left_out_whole_by_its_size(workspace: Path) -> None:
    artifacts = workspace / "artifacts"
    with (artifacts / "big.bin").open("wb") as big:
        big.truncate(MIB + 1)  # sparse: judged by its size, never read
    for name in ("a.bin", "b.bin", "c.bin"):
        (artifacts / name).write_bytes(b"x" * (700 * 1024))
    (artifacts / "small.txt").write_text("fits")
    limits = ReadLimits(file_bytes=MIB, total_bytes=2 * MIB)

    collected = _read(workspace, limits)

    assert collected.warnings == [
        "artifacts/big.bin is larger than 1 MiB: not kept",
        "artifacts/c.bin would take the step's artifacts past 2 MiB: not kept",
    ]
    assert sorted(_contents(collected)) == ["a.bin", "b.bin", "small.txt"]


def test_a_file_that_grows_while_it_is_read_is_left_out_not_cut(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grower = workspace / "artifacts" / "grows.log"
    grower.write_bytes(b"x" * 1000)  # well within the limit when its size is looked at
    (workspace / "artifacts" / "steady.txt").write_text("steady")
    real_fstat = os.fstat

    def fstat_then_grow(fd: int) -> os.stat_result:
        # A writer still holding the file appends right after the reader looked at its size:
        # the worst moment, made certain instead of left to chance.
        status = real_fstat(fd)
        if status.st_size == 1000 and stat.S_ISREG(status.st_mode):
            with grower.open("ab") as out:
                out.write(b"y" * (2 * MIB))
        return status

    monkeypatch.setattr(os, "fstat", fstat_then_grow)
    collected = _read(workspace)
    monkeypatch.undo()

    assert collected.warnings == ["artifacts/grows.log grew past 1 MiB while it was read: not kept"]
    assert _contents(collected) == {"steady.txt": b"steady"}


def test_names_that_do_not_print_or_are_too_long_are_left_out_and_secrets_hidden(
    workspace: Path,
) -> None:
    secret = "tok-5e1f0c2a9b"
    artifacts = workspace / "artifacts"
    (artifacts / "bad\nname.txt").write_text("a newline in its name")
    (artifacts / "evil\u202etxt.exe").write_text("a bidirectional override")
    os.close(os.open(bytes(artifacts) + b"/latin-\xe9.txt", os.O_CREAT | os.O_WRONLY, 0o600))
    (artifacts / f"{secret}\n.txt").write_text("both")
    deep = artifacts / ("d" * 200)
    deep.mkdir()
    (deep / ("f" * 150)).write_text("a name longer than an artifact's column")
    (artifacts / f"name-{secret}.txt").write_text(f"holds {secret} twice: {secret}")

    collected = _read(workspace, redactor=Redactor([secret]))

    # In the order of the names on disk; the secret is hidden where a name is quoted too.
    assert collected.warnings == [
        "artifacts/bad\\nname.txt" + UNPRINTABLE,
        f"artifacts/{'d' * 200}/{'f' * 150}"[:200]
        + "… has a name longer than 300 characters: not kept",
        "artifacts/evil\\u202etxt.exe" + UNPRINTABLE,
        "artifacts/latin-\\udce9.txt has a name that is not UTF-8: not kept",
        "artifacts/[REDACTED]\\n.txt" + UNPRINTABLE,
    ]
    assert _contents(collected) == {
        f"name-{REDACTED}.txt": f"holds {REDACTED} twice: {REDACTED}".encode()
    }
    assert all(secret not in warning for warning in collected.warnings)


def test_only_files_written_or_changed_since_the_snapshot_are_read(workspace: Path) -> None:
    artifacts = workspace / "artifacts"
    (artifacts / "old.txt").write_text("from an earlier attempt")
    (artifacts / "changed.txt").write_text("before")
    before = stamps(workspace, "artifacts")
    (artifacts / "changed.txt").write_text("after, longer")
    (artifacts / "new.txt").write_text("new")

    collected = read_files(
        workspace,
        "artifacts",
        limits=LIMITS,
        redactor=Redactor(),
        spool_dir=workspace.parent,
        unchanged=before,
    )

    assert sorted(before) == ["changed.txt", "old.txt"]
    assert _contents(collected) == {"changed.txt": b"after, longer", "new.txt": b"new"}


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")


def test_a_1_gib_file_is_streamed_into_the_blob_store_in_bounded_memory(
    workspace: Path, tmp_path: Path
) -> None:
    secret = "streamed-secret-canary"
    huge = workspace / "artifacts" / "huge.bin"
    with huge.open("wb") as out:  # sparse: a gigabyte of zeros with a secret at both ends
        out.write(secret.encode())
        out.seek(1 << 30)
        out.write(secret.encode())
    limits = ReadLimits(file_bytes=2 << 30, total_bytes=2 << 30)
    store = BlobStore(tmp_path / "blobs")
    # The peak resident size is reset here, so what follows is measured alone.
    Path("/proc/self/clear_refs").write_text("5")
    start = _rss_kib("VmRSS")

    collected = _read(workspace, limits, Redactor([secret]))
    (file,) = collected.files
    blob = store.put_chunks(redact_chunks(iter(lambda: file.content.read(MIB), b"")))
    collected.close()

    grown_mib = (_rss_kib("VmHWM") - start) / 1024
    assert grown_mib < 40, f"resident memory grew by {grown_mib:.0f} MiB"
    expected = (1 << 30) + 2 * len(REDACTED) - len(secret)
    assert blob.size == expected
    with store.path(blob.sha256).open("rb") as stored:
        assert stored.read(len(REDACTED)) == REDACTED.encode()
        stored.seek(-len(REDACTED), os.SEEK_END)
        assert stored.read() == REDACTED.encode()


def test_write_new_file_replaces_a_link_and_never_writes_through_it(workspace: Path) -> None:
    target = workspace.parent.parent / "outside" / "secret_key"
    (workspace / "prompt.md").symlink_to(target)

    write_new_file(workspace, "prompt.md", b"# the prompt\n")

    assert target.read_text() == "outside-canary"
    assert not (workspace / "prompt.md").is_symlink()
    assert (workspace / "prompt.md").read_bytes() == b"# the prompt\n"
    assert stat.S_IMODE((workspace / "prompt.md").stat().st_mode) == 0o600
    assert sorted(p.name for p in workspace.iterdir()) == ["artifacts", "prompt.md"]
    for bad in ("..", ".", "", "a/b", "x\ny"):
        with pytest.raises(ValueError, match="must be one plain file name"):
            write_new_file(workspace, bad, b"no")
    (workspace / "linked").symlink_to(workspace.parent.parent / "outside")
    with pytest.raises(OSError):
        write_new_file(workspace / "linked", "secret_key", b"overwritten")
    assert target.read_text() == "outside-canary"


def test_deleting_a_workspace_opens_locked_directories_and_leaves_link_targets_alone(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir(mode=0o755)
    outside.chmod(0o755)  # whatever the umask
    (outside / "keep.txt").write_text("not the workspace's")
    trash = tmp_path / "root" / ".removing-run"
    locked = trash / "step" / "locked"
    (locked / "deep").mkdir(parents=True)
    (locked / "deep" / "token.txt").write_text("secret")
    (trash / "step" / "out").symlink_to(outside, target_is_directory=True)
    (locked / "deep" / "file").symlink_to(outside / "keep.txt")
    (locked / "deep").chmod(0o300)  # listable by nobody
    locked.chmod(0o000)

    Workspaces.delete([trash])

    assert not trash.exists()
    assert (outside / "keep.txt").read_text() == "not the workspace's"
    assert stat.S_IMODE(outside.stat().st_mode) == 0o755


@pytest.mark.parametrize("value", ["0", "1048577", "ten"])
def test_artifact_limits_out_of_range_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MISSIONCTL_SANDBOX_ARTIFACT_MAX_MB", value)
    with pytest.raises(ValidationError, match="artifact_max_mb"):
        SandboxSettings()


def test_artifact_limits_come_from_the_sandbox_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISSIONCTL_SANDBOX_ARTIFACT_MAX_MB", "3")
    monkeypatch.setenv("MISSIONCTL_SANDBOX_ARTIFACTS_MAX_MB", "7")
    assert ReadLimits.from_settings(SandboxSettings()) == ReadLimits(3 * MIB, 7 * MIB)
