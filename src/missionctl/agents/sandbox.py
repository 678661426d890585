"""Where a step's program runs: inside a bubblewrap sandbox, or (an admin's explicit choice) not.

Programs that steps run are untrusted. In the sandbox (``bwrap``, from Debian's ``bubblewrap``
package) a program sees:

- its own step workspace, read-write, at the same absolute path as outside (but for what the
  step marks read-only inside it: a coding step's worktree, or that worktree's ``.git``);
- the system's programs and libraries read-only (``/usr`` and the merged ``/bin``, ``/lib``…),
  a short list of ``/etc`` files programs need (:data:`ETC_FILES`), the Python installation
  that runs Mission Control (so ``python`` steps behave as they do for the server), and any
  extra paths the admin lists in ``MISSIONCTL_SANDBOX_READ_ONLY_PATHS``;
- a private ``/tmp`` (size-capped), a minimal ``/dev`` and a ``/proc`` of its own pid namespace.

It does not see the data directory, the database, the signing key, other workspaces or any other
process (its own init holds only the step's environment, because bwrap itself is started with
that environment). It runs as ``nobody`` in new user, pid, ipc, uts, cgroup and network
namespaces, with no capabilities and no new privileges; the network namespace is shared with the
host only for a step that asks for the network (admission has already made such a step wait for
an approver, unless an admin allow-listed its program with network access). A coding step that
names its model endpoint keeps its own network namespace, which has loopback and no route out:
it reaches the endpoint through the egress proxy's socket, whose directory (and the bridge that
carries connections there) the sandbox shows read-only (``agents.egress``, ADR 0079).
``prlimit`` caps CPU seconds, data memory, file size and open files.

With ``MISSIONCTL_SANDBOX_MODE=off`` programs run unconfined as the server's user; the dashboard
shows a permanent warning. When the sandbox is on but cannot start (bwrap missing, user
namespaces disabled), every command step is refused with a message naming the fix.
"""

import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from missionctl.agents.base import AgentError
from missionctl.settings import SandboxSettings

# /etc entries programs commonly need (user names, the dynamic linker's cache, Debian's
# alternatives behind /usr/bin/awk and friends, certificates, time zone). Nothing else of /etc:
# it holds service configuration and sometimes credentials.
ETC_FILES = (
    "/etc/alternatives",
    "/etc/ca-certificates",
    "/etc/ssl",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/hosts",
    "/etc/mime.types",
)
# Only for a step that has the network: name resolution.
ETC_NETWORK_FILES = ("/etc/resolv.conf", "/etc/gai.conf", "/etc/host.conf")
# On a merged-/usr system these are symlinks into /usr; elsewhere real directories.
ROOT_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
NOBODY = "65534"
FIX = (
    "install bubblewrap (Debian: apt-get install bubblewrap) on every machine that runs steps and "
    "allow it to create user namespaces, or have an admin run the server with "
    "MISSIONCTL_SANDBOX_MODE=off, which runs programs unconfined (see docs/security.md)"
)


@dataclass(frozen=True, slots=True)
class SandboxStatus:
    """What the sandbox can do in this process: shown by the dashboard and ``config show``."""

    mode: str
    ready: bool
    detail: str

    @property
    def warning(self) -> str | None:
        """The permanent warning the dashboard shows, or ``None`` when programs are confined."""
        if self.mode == "off":
            return (
                "The step sandbox is off: command steps run unconfined as the server's user "
                "and can read its data directory and environment."
            )
        if not self.ready:
            return f"Command steps are refused: the step sandbox cannot start ({self.detail})."
        return None


# Probe answers by the probe's command line (see Sandbox._probe).
_PROBED: dict[tuple[str, ...], SandboxStatus] = {}


@dataclass(slots=True)
class Sandbox:
    """Builds the command line that runs a program under the configured confinement."""

    settings: SandboxSettings = field(default_factory=SandboxSettings)
    _status: SandboxStatus | None = None

    def wrap(
        self,
        argv: Sequence[str],
        *,
        workspace: Path,
        network: bool,
        read_only: Sequence[Path] = (),
        cwd: Path | None = None,
        egress: Sequence[Path] = (),
    ) -> list[str]:
        """The argv that runs ``argv`` in ``workspace`` with this sandbox's confinement.

        ``read_only`` are more paths the program may read (upstream steps' workspaces), each at
        its own path; those outside ``workspace`` that do not exist are left out. One inside
        ``workspace`` (a directory or a file) is bound read-only over it after the workspace,
        and must exist: a read-only coding step's worktree, or a writable worktree's ``.git``
        file, which the program can then neither change nor remove nor replace (``EBUSY``). The
        program starts in ``cwd`` (default: ``workspace``), which must be inside what it may see.
        ``egress`` are the egress proxy's directory and bridge script (outside the workspace),
        shown read-only at their own paths; they must exist.

        Raises:
            AgentError: (not retryable) the sandbox is on but cannot start; the message names
                the fix. Call :meth:`check` first.
        """
        limits = self._limits()
        if self.settings.mode == "off":
            return [*limits, *argv]
        status = self._status
        if status is None or not status.ready:
            detail = status.detail if status else "not checked"
            raise AgentError(
                f"command steps run in a sandbox, which cannot start here: {detail}; fix: {FIX}",
                retryable=False,
            )
        sandboxed = self._bwrap(
            workspace=workspace, network=network, read_only=read_only, cwd=cwd, egress=egress
        )
        return [*sandboxed, *limits, *argv]

    async def check(self) -> SandboxStatus:
        """Probe once whether the sandbox starts here (cached for the process's life).

        Returns when the probe has run; never raises.
        """
        if self._status is None:
            self._status = await self._probe()
        return self._status

    async def _probe(self) -> SandboxStatus:
        if self.settings.mode == "off":
            return SandboxStatus("off", ready=True, detail="turned off by the admin")
        if shutil.which(self.settings.bwrap_path) is None:
            return SandboxStatus(
                "bubblewrap", ready=False, detail=f"{self.settings.bwrap_path!r} is not installed"
            )
        probe = Path(tempfile.gettempdir())  # any directory will do: the probe runs `true`
        argv = (*self._bwrap(workspace=probe, network=False), "true")
        # Every app a process makes (a test suite makes thousands) asks again; what bwrap can
        # do with the same command line does not change while the process lives.
        if (known := _PROBED.get(argv)) is not None:
            return known
        _PROBED[argv] = status = await _run_probe(argv)
        return status

    def _bwrap(
        self,
        *,
        workspace: Path,
        network: bool,
        read_only: Sequence[Path] = (),
        cwd: Path | None = None,
        egress: Sequence[Path] = (),
    ) -> list[str]:
        argv = [
            self.settings.bwrap_path,
            "--unshare-all",
            *(["--share-net"] if network else []),
            "--uid", NOBODY, "--gid", NOBODY,
            "--die-with-parent",
            "--new-session",  # no TIOCSTI into a terminal it does not own
            "--cap-drop", "ALL",
            "--proc", "/proc",
            "--dev", "/dev",
            "--size", str(self.settings.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp",
            "--ro-bind", "/usr", "/usr",
        ]  # fmt: skip
        for root in ROOT_DIRS:
            argv += _root_dir(root)
        etc = ETC_FILES + (ETC_NETWORK_FILES if network else ())
        for path in (*etc, *self._read_only_paths()):
            argv += ["--ro-bind-try", path, path]
        argv += ["--bind", str(workspace), str(workspace)]
        for shown in read_only:
            # Inside the workspace: ours (a worktree, its .git), so it must be bound or bwrap
            # fails; outside: an upstream workspace, which may not exist.
            inside = shown.is_relative_to(workspace)
            argv += ["--ro-bind" if inside else "--ro-bind-try", str(shown), str(shown)]
        for bound in egress:  # after /tmp's tmpfs, over which the proxy's directory may lie
            argv += ["--ro-bind", str(bound), str(bound)]
        argv += ["--chdir", str(cwd or workspace), "--"]
        return argv

    def _read_only_paths(self) -> list[str]:
        # The interpreter that runs the server, so a step's `python` is the server's Python.
        python = {sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parent.parent)}
        own = sorted(p for p in python if not p.startswith("/usr"))
        return [*own, *self.settings.read_only_paths]

    def _limits(self) -> list[str]:
        prlimit = shutil.which("prlimit")
        if prlimit is None:
            return []
        mb = 1024 * 1024
        return [
            prlimit,
            f"--cpu={self.settings.cpu_s}",
            f"--data={self.settings.memory_mb * mb}",
            f"--fsize={self.settings.file_size_mb * mb}",
            f"--nofile={self.settings.open_files}",
            "--",
        ]


async def _run_probe(argv: tuple[str, ...]) -> SandboxStatus:
    """Run ``true`` under ``argv``'s confinement: whether it started, and if not why."""
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env={"PATH": "/usr/bin:/bin"},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(process.communicate(), 30)
    except (OSError, TimeoutError) as exc:
        return SandboxStatus("bubblewrap", ready=False, detail=f"bwrap did not run: {exc}")
    if process.returncode != 0:
        reason = err.decode("utf-8", "replace").strip().splitlines()
        said = reason[-1] if reason else f"exit code {process.returncode}"
        return SandboxStatus("bubblewrap", ready=False, detail=f"bwrap failed: {said}")
    return SandboxStatus("bubblewrap", ready=True, detail="bubblewrap")


def search_path() -> str:
    """The ``PATH`` a step's program gets: the server's Python first, then the server's own.

    A step's ``python`` is the interpreter that runs Mission Control, which the sandbox shows
    read-only; the server's other ``PATH`` entries work where the sandbox shows them. Only
    absolute entries are kept: an empty or relative one is the step's workspace, where a file
    named like an allow-listed program would run in its place.
    """
    server = os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
    return os.pathsep.join(
        [str(Path(sys.executable).parent), *(entry for entry in server if entry.startswith("/"))]
    )


def _root_dir(path: str) -> list[str]:
    """Bind ``path`` as the host has it: a symlink (merged /usr) or a read-only directory."""
    if os.path.islink(path):
        return ["--symlink", os.readlink(path), path]
    if os.path.isdir(path):
        return ["--ro-bind", path, path]
    return []
