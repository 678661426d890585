"""Files a step's program left in its workspace, read without following a link (ADR 0072).

A program runs confined, but what it leaves in its workspace is read afterwards by the worker,
as the server's user, outside the sandbox. There a symbolic link points wherever the program
chose (``artifacts -> ../../..`` is the data directory, ``artifacts/env -> /proc/self/environ``
the worker's environment), a FIFO blocks a reader for ever and a sparse file of a terabyte
exhausts memory. This module is the one place that reads such files, and its rules are:

- every directory is opened relative to its parent's descriptor with ``O_NOFOLLOW``: no
  symbolic link is followed at any level, the directory read (``artifacts``) included; only the
  ``root`` a caller passes (a path the server made) is trusted;
- only regular files are read: each is opened with ``O_NOFOLLOW | O_NONBLOCK`` (a FIFO opens at
  once instead of blocking) and kept only if ``fstat`` says it is a regular file; links, FIFOs,
  sockets and devices are left out;
- a file larger than the per-file limit, or one that would pass what is left of the per-read
  limit, is left out whole, judged by its size before a byte is read; one that grows past its
  limit while it is read is left out too, never kept cut short;
- a name is never trusted: one with an empty, ``.`` or ``..`` component, a character that does
  not print (newline, NUL, a bidirectional override), bytes that are not UTF-8, or longer than
  an artifact name may be (once redacted) is left out;
- memory stays bounded: content is copied a chunk at a time, exact secrets replaced on the way
  (:class:`~missionctl.llm.redaction.StreamRedactor`), into one anonymous spool file (no name
  on disk) from which each kept file is read back as a :class:`SpooledContent` stream.

What is left out becomes a warning sentence for the step log (``artifacts/env is a symbolic
link: not kept``); the rest is kept. :func:`write_new_file` is the writing side: it puts a file
into a directory a program could have written without ever writing through a link.
"""

import errno
import itertools
import mimetypes
import os
import stat
import tempfile
import uuid
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from missionctl.domain.artifact_names import NAME_MAX_CHARS
from missionctl.llm.redaction import Redactor, StreamRedactor
from missionctl.settings import SandboxSettings

MIB = 1024 * 1024
MAX_DEPTH = 32  # directories nested deeper are left out (each level holds a descriptor)
MAX_ENTRIES = 10_000  # entries looked at in one read; past them the rest is left out
_CHUNK = 1 << 20
_SHOWN_CHARS = 200  # a name quoted in a warning is cut to this
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC

# (st_mtime_ns, st_size) of a regular file: what says it changed between two looks.
Stamp = tuple[int, int]


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """How much one read may keep, in bytes of the files as they are on disk."""

    file_bytes: int
    total_bytes: int

    @classmethod
    def from_settings(cls, settings: SandboxSettings) -> "ReadLimits":
        """``MISSIONCTL_SANDBOX_ARTIFACT_MAX_MB`` and ``…_ARTIFACTS_MAX_MB``, in bytes."""
        return cls(settings.artifact_max_mb * MIB, settings.artifacts_max_mb * MIB)


class _Spool:
    """An anonymous file (no name on disk) holding the copies made by one read.

    Its descriptor is closed when the last :class:`SpooledContent` reading it is closed or
    dropped.
    """

    def __init__(self, directory: Path) -> None:
        self.fd = _anonymous_file(directory)
        self.size = 0
        weakref.finalize(self, os.close, self.fd)

    def append(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.pwrite(self.fd, view, self.size)
            self.size += written
            view = view[written:]

    def truncate(self, size: int) -> None:
        os.ftruncate(self.fd, size)
        self.size = size


def _anonymous_file(directory: Path) -> int:
    """A new file in ``directory``'s file system that no name reaches (``O_TMPFILE``)."""
    try:
        return os.open(directory, os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
            raise
    # A file system without O_TMPFILE: a private name, removed at once.
    fd, name = tempfile.mkstemp(dir=directory)
    os.unlink(name)
    return fd


class SpooledContent:
    """One kept file's copy, read like a file opened for reading (a ``ContentStream``)."""

    def __init__(self, spool: _Spool, offset: int, size: int) -> None:
        self._spool: _Spool | None = spool
        self._offset = offset
        self._position = 0
        self.size = size

    def read(self, size: int = -1, /) -> bytes:
        """At most ``size`` bytes (the rest when negative); ``b""`` at the end.

        Raises:
            ValueError: the content was closed.
        """
        spool = self._spool  # held here: a close meanwhile cannot close the file under us
        if spool is None:
            raise ValueError("read of closed content")
        left = self.size - self._position
        count = left if size < 0 else min(size, left)
        data = os.pread(spool.fd, count, self._offset + self._position) if count else b""
        self._position += len(data)
        return data

    def close(self) -> None:
        """Let go of the spool (its file goes when no content reads it any more)."""
        self._spool = None


@dataclass(frozen=True, slots=True)
class WorkspaceFile:
    """A regular file that was kept: its redacted name and a stream of its redacted content.

    ``name`` is relative to the directory read (``deep/out.txt``); ``media_type`` and
    ``suffix`` come from the name as the program wrote it.
    """

    name: str
    suffix: str
    media_type: str
    content: SpooledContent


@dataclass(slots=True)
class Collected:
    """What a read kept, and one warning sentence for each thing it left out."""

    files: list[WorkspaceFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def close(self) -> None:
        """Close every kept file's content (when they will not be stored after all)."""
        for file in self.files:
            file.content.close()


def stamps(root: Path, relative: str) -> dict[str, Stamp]:
    """The regular files under ``root/relative`` and their stamps, nothing read, no link followed.

    For telling apart, after a program ran, the files it wrote or changed from those already
    there (a retried attempt's). Names are as on disk (not redacted); what a read would leave
    out is left out here too, silently.
    """
    found: dict[str, Stamp] = {}

    def visit(name: str, fd: int, status: os.stat_result) -> None:
        found[name] = (status.st_mtime_ns, status.st_size)

    _Walker(relative, Redactor(), visit).run(root)
    return found


def read_files(
    root: Path,
    relative: str,
    *,
    limits: ReadLimits,
    redactor: Redactor,
    spool_dir: Path,
    unchanged: Mapping[str, Stamp] | None = None,
) -> Collected:
    """Copy the regular files under ``root/relative`` that a program wrote, by the module's rules.

    Blocking (run it in a thread). ``root`` is trusted (the server made it); nothing below it
    is. Files whose stamp is still the one in ``unchanged`` (see :func:`stamps`) are skipped.
    Each kept file is copied into an anonymous file in ``spool_dir`` (a directory of the
    server's, on the data's disk) with ``redactor``'s exact secrets replaced; its name is
    redacted (patterns too). Files come in name order. The caller closes the contents
    (``Collected.close``) or hands them on to be stored and closed.

    Returns:
        The kept files and the warnings, e.g. ``artifacts/env is a symbolic link: not kept``.
    """
    spool = _Spool(spool_dir)
    collected = Collected()
    copier = _Copier(spool, limits, redactor, collected, unchanged or {})
    walker = _Walker(relative, redactor, copier.visit)
    copier.warn = walker.warn
    try:
        walker.run(root)
    except BaseException:
        collected.close()
        raise
    collected.warnings = walker.warnings  # the copier's among them, in the order of the walk
    return collected


class _Copier:
    """Copies each regular file the walk finds into the spool, within the limits."""

    def __init__(
        self,
        spool: _Spool,
        limits: ReadLimits,
        redactor: Redactor,
        collected: Collected,
        unchanged: Mapping[str, Stamp],
    ) -> None:
        self.spool, self.limits, self.redactor = spool, limits, redactor
        self.collected, self.unchanged = collected, unchanged
        self.left = limits.total_bytes
        self.warn: Callable[[str, str], None] = lambda name, problem: None

    def visit(self, name: str, fd: int, status: os.stat_result) -> None:
        if self.unchanged.get(name) == (status.st_mtime_ns, status.st_size):
            return
        shown = self.redactor.redact(name)
        if len(shown) > NAME_MAX_CHARS:
            self.warn(name, f"has a name longer than {NAME_MAX_CHARS} characters: not kept")
            return
        if status.st_size > self.limits.file_bytes:
            self.warn(name, f"is larger than {_size(self.limits.file_bytes)}: not kept")
            return
        if status.st_size > self.left:
            self.warn(
                name,
                f"would take the step's artifacts past {_size(self.limits.total_bytes)}: not kept",
            )
            return
        limit = min(self.limits.file_bytes, self.left)
        content, read = _copy(fd, self.spool, limit, self.redactor.stream())
        if content is None:
            self.warn(name, f"grew past {_size(limit)} while it was read: not kept")
            return
        self.left -= read
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        suffix = os.path.splitext(name)[1]
        self.collected.files.append(WorkspaceFile(shown, suffix, media_type, content))


def _copy(
    fd: int, spool: _Spool, limit: int, redaction: StreamRedactor
) -> tuple[SpooledContent | None, int]:
    """Copy ``fd`` into ``spool`` redacted; ``None`` (and nothing kept) past ``limit`` bytes.

    Returns the copy and the number of bytes read from ``fd``.
    """
    start = spool.size
    read = 0
    while chunk := os.read(fd, min(_CHUNK, limit + 1 - read)):
        read += len(chunk)
        if read > limit:
            spool.truncate(start)
            return None, read
        spool.append(redaction.feed(chunk))
    spool.append(redaction.end())
    return SpooledContent(spool, start, spool.size - start), read


Visit = Callable[[str, int, os.stat_result], None]


class _Walker:
    """Walks a directory tree through descriptors, never following a link.

    ``visit(name, fd, status)`` is called for each regular file (``fd`` open for reading,
    closed afterwards); everything else is left out with a warning.
    """

    def __init__(self, relative: str, redactor: Redactor, visit: Visit) -> None:
        self.label = relative.strip("/")
        self.redactor, self.visit = redactor, visit
        self.warnings: list[str] = []
        self.entries_left = MAX_ENTRIES

    def warn(self, name: str, problem: str) -> None:
        """Record that ``name`` (relative to the directory read; ``""``: itself) was left out."""
        path = f"{self.label}/{name}" if name else self.label
        self.warnings.append(f"{_shown(self.redactor.redact(path))} {problem}")

    def run(self, root: Path) -> None:
        """Walk ``root / label``; a missing directory holds nothing."""
        fd = self._open_tree(root)
        if fd is None:
            return
        try:
            self._directory(fd, "", 1)
        finally:
            os.close(fd)

    def _open_tree(self, root: Path) -> int | None:
        try:
            fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        walked = ""
        for part in self.label.split("/"):
            walked = f"{walked}/{part}" if walked else part
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                return None
            except OSError as exc:
                # Named as far as it got: the link may be a parent of the directory read.
                shown = _shown(self.redactor.redact(walked))
                self.warnings.append(f"{shown} {_why_not_a_tree(part, fd, exc)}")
                return None
            finally:
                os.close(fd)
            fd = child
        return fd

    def _directory(self, fd: int, prefix: str, depth: int) -> None:
        with os.scandir(fd) as listing:
            entries = list(itertools.islice(listing, self.entries_left + 1))
        if len(entries) > self.entries_left:
            rest = f"passes the {MAX_ENTRIES} entries a read looks at: the rest not kept"
            self.warn(prefix.rstrip("/"), rest)
            entries = entries[: self.entries_left]
        self.entries_left -= len(entries)
        for entry in sorted(entries, key=lambda e: e.name):
            self._entry(fd, entry, prefix, depth)

    def _entry(self, dir_fd: int, entry: os.DirEntry[str], prefix: str, depth: int) -> None:
        name = prefix + entry.name
        problem = _name_problem(entry.name)
        if problem is not None:
            self.warn(name, f"{problem}: not kept")
            return
        try:
            link, directory = entry.is_symlink(), entry.is_dir(follow_symlinks=False)
        except OSError:
            self.warn(name, "changed while it was read: not kept")
            return
        if link:
            self.warn(name, "is a symbolic link: not kept")
        elif directory:
            self._subdirectory(dir_fd, entry.name, name, depth)
        else:
            self._file(dir_fd, entry.name, name)

    def _subdirectory(self, dir_fd: int, part: str, name: str, depth: int) -> None:
        if depth >= MAX_DEPTH:
            self.warn(name, f"is nested deeper than {MAX_DEPTH} levels: not kept")
            return
        fd = self._open(dir_fd, part, name, _DIR_FLAGS)
        if fd is not None:
            try:
                self._directory(fd, name + "/", depth + 1)
            finally:
                os.close(fd)

    def _file(self, dir_fd: int, part: str, name: str) -> None:
        fd = self._open(dir_fd, part, name, _FILE_FLAGS)
        if fd is None:
            return
        try:
            status = os.fstat(fd)
            if stat.S_ISREG(status.st_mode):
                self.visit(name, fd, status)
            else:
                self.warn(name, "is not a regular file: not kept")
        finally:
            os.close(fd)

    def _open(self, dir_fd: int, part: str, name: str, flags: int) -> int | None:
        try:
            return os.open(part, flags, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self.warn(name, "is a symbolic link: not kept")
            elif exc.errno == errno.ENXIO:  # a socket: it cannot be opened
                self.warn(name, "is not a regular file: not kept")
            elif exc.errno in (errno.ENOENT, errno.ENOTDIR):
                self.warn(name, "changed while it was read: not kept")
            else:
                self.warn(name, f"cannot be read ({exc.strerror}): not kept")
            return None


def _why_not_a_tree(part: str, dir_fd: int, exc: OSError) -> str:
    """Why the directory read (or a parent on the way) could not be opened, for a warning."""
    try:
        mode = os.stat(part, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except OSError:
        mode = 0
    if stat.S_ISLNK(mode) or exc.errno == errno.ELOOP:
        return "is a symbolic link: nothing under it kept"
    if exc.errno == errno.ENOTDIR:
        return "is not a directory: nothing under it kept"
    return f"cannot be read ({exc.strerror}): nothing under it kept"


# Characters that reorder how a name is displayed ("txt.exe" shown as "exe.txt").
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _name_problem(part: str) -> str | None:
    """Why one component of a name cannot be kept, or ``None`` when it can."""
    if part in ("", ".", "..") or "/" in part:
        return "has an empty, '.' or '..' part in its name"
    if any("\udc80" <= char <= "\udcff" for char in part):
        return "has a name that is not UTF-8"
    if not part.isprintable() or _BIDI_CONTROLS.intersection(part):
        return "has a character that does not print in its name"
    return None


def _shown(name: str) -> str:
    """``name`` (redacted already) fit for a log line: escapes for what does not print, cut."""
    shown = "".join(
        char if char.isprintable() else char.encode("unicode_escape", "backslashreplace").decode()
        for char in name
    )
    return shown if len(shown) <= _SHOWN_CHARS else shown[:_SHOWN_CHARS] + "…"


def _size(count: int) -> str:
    return f"{count // MIB} MiB" if count % MIB == 0 else f"{count} bytes"


def write_new_file(directory: Path, name: str, data: bytes, *, mode: int = 0o600) -> None:
    """Put ``data`` at ``directory/name``, replacing the entry there, never writing through it.

    For a file the server writes into a directory a program may have written (a workspace on a
    retry): the bytes go to a new file with a fresh name (``O_CREAT | O_EXCL | O_NOFOLLOW``),
    which is then renamed over ``name``. A symbolic link (or FIFO) left at ``name`` is replaced
    itself, its target untouched. ``directory`` is opened without following a link in its last
    component; the path up to it is trusted.

    Raises:
        ValueError: ``name`` is not one plain component (empty, ``.``, ``..``, a ``/``, a
            character that does not print).
        OSError: ``directory`` is a link or missing, or ``name`` is a directory.
    """
    if _name_problem(name) is not None:
        raise ValueError(f"name {name!r} must be one plain file name")
    dir_fd = os.open(directory, _DIR_FLAGS)
    try:
        temporary = f".{name}.{uuid.uuid4().hex}"
        fd = os.open(
            temporary,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            mode,
            dir_fd=dir_fd,
        )
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            os.unlink(temporary, dir_fd=dir_fd)
            raise
    finally:
        os.close(dir_fd)


__all__ = [
    "Collected",
    "ReadLimits",
    "SpooledContent",
    "Stamp",
    "WorkspaceFile",
    "read_files",
    "stamps",
    "write_new_file",
]
