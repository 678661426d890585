"""Work beside the event loop: parser threads, and parser processes for untrusted documents.

A megabyte of YAML takes seconds of CPU to read. Run on the event loop, it holds every other
request, every live page's stream and the embedded engine's lease heartbeats for as long
(ADR 0076). Two places take such work off the loop:

- :func:`off_loop` runs it on a small pool of threads of its own: not the loop's default pool,
  which the engine's blocking hot path and the database writer use (ADRs 0007, 0017), so that a
  queue of documents never delays a step. For work that yields the interpreter lock often
  (checking parsed data, reading JSON).
- :func:`in_worker` runs it in a parser process, started on first use and reused (at most one
  per parser thread). libyaml builds a document's nodes in C holding the interpreter lock, for
  hundreds of milliseconds at a stretch on a megabyte: on a thread, every request of the
  process would wait that long. A process has its own lock, and a time limit: past it, the
  process is killed (a thread cannot be stopped) and the next call starts a fresh one.

A parser process runs at a lower scheduling priority than the server, so that documents wait
for the CPU rather than requests. It reads work from its pipe until the pipe closes, which
happens when the server exits, however it exits.
"""

import asyncio
import contextlib
import functools
import importlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

PARSER_THREADS = 2
"""Documents parsed at once across the process; more wait their turn (the CPU is the limit).

Each thread drives at most one parser process, so there are at most as many processes."""

WORKER_START_S = 60.0
"""Longest a parser process may take to start (import its modules) before it is given up."""

WORKER_NICENESS = 10
"""How much lower than the server's a parser process's scheduling priority is (``nice``)."""

_POOL = ThreadPoolExecutor(max_workers=PARSER_THREADS, thread_name_prefix="missionctl-parse")
# Parser processes waiting for work, the last used last: one caller at a time reuses one.
_IDLE: list["_Worker"] = []
_IDLE_LOCK = threading.Lock()


class WorkerFailed(Exception):
    """Work given to a parser process did not finish; the process was ended and is replaced."""


class WorkerLost(WorkerFailed):
    """The process ended while it ran the work (it crashed, or was killed from outside)."""


class WorkTimedOut(WorkerFailed):
    """The work ran longer than its time limit (``limit_s``)."""

    def __init__(self, limit_s: float) -> None:
        super().__init__(f"the work took longer than {limit_s:g} s")
        self.limit_s = limit_s


async def off_loop(work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``work(*args, **kwargs)`` on a parser thread; its result, or what it raised.

    A caller cancelled while waiting stops waiting; the work itself runs to its end (a thread
    cannot be interrupted), which the per-identity limit of ``security.bodies`` accounts for by
    holding its slot until the request ends.
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POOL, functools.partial(work, *args, **kwargs))


async def in_worker(
    work: Callable[P, T], /, time_limit_s: float, *args: P.args, **kwargs: P.kwargs
) -> T:
    """``work(*args, **kwargs)`` in a parser process, within ``time_limit_s`` seconds.

    ``work`` must be a module-level function, and its arguments and result plain data (they
    are pickled across a pipe). The time limit counts from when the work reaches the process:
    neither the wait for a free parser thread nor a process's start-up count.

    Raises:
        WorkTimedOut: past ``time_limit_s``; the process was killed.
        WorkerLost: the process ended while it ran the work (crashed, killed from outside).
        WorkerFailed: no parser process could be started.
        Exception: whatever ``work`` raised (when it can be pickled back).
    """
    call = functools.partial(work, *args, **kwargs)
    return await off_loop(_run_in_worker, call, time_limit_s)


def _run_in_worker(call: "functools.partial[T]", time_limit_s: float) -> T:
    with _IDLE_LOCK:
        worker = _IDLE.pop() if _IDLE else None
    if worker is None or not worker.alive():
        worker = _Worker(preload=call.func.__module__)
    try:
        return worker.run(call, time_limit_s)
    finally:
        if worker.alive():  # not after a failure: the worker was ended
            with _IDLE_LOCK:
                _IDLE.append(worker)


class _Worker:
    """One parser process and the pipes to it (used by one parser thread at a time).

    Started as ``python -c`` with this module's :func:`serve_worker`, never by ``fork`` (a
    server with threads cannot be forked safely) nor by ``multiprocessing``'s spawn, which
    runs the server's main script again in the child before anything else.
    """

    def __init__(self, *, preload: str) -> None:
        theirs_in, ours_out = os.pipe()
        ours_in, theirs_out = os.pipe()
        argv = [sys.executable, "-c", _WORKER_MAIN, str(theirs_in), str(theirs_out), preload]
        # The server's import path, however it was made (as multiprocessing passes it on).
        path = os.pathsep.join(entry for entry in sys.path if entry)
        try:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                pass_fds=(theirs_in, theirs_out),
                env=os.environ | {"PYTHONPATH": path},
            )
        finally:
            os.close(theirs_in)
            os.close(theirs_out)
        self._send = Connection(ours_out, readable=False)
        self._answers = Connection(ours_in, writable=False)
        if not self._answers.poll(WORKER_START_S):
            self.end()
            raise WorkerFailed(f"a parser process did not start within {WORKER_START_S:g} s")
        with contextlib.suppress(WorkerLost):
            self._receive()  # the process says it is ready
            return
        raise WorkerFailed("a parser process ended as it started")

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self._process.poll() is None

    def run(self, call: "functools.partial[T]", time_limit_s: float) -> T:
        """``call()`` in the process; see :func:`in_worker`."""
        try:
            self._send.send(call)
        except OSError:  # the process ended since it was last used
            self.end()
            raise WorkerLost("the parser process had ended") from None
        if not self._answers.poll(time_limit_s):
            self.end()
            raise WorkTimedOut(time_limit_s)
        done, value = self._receive()
        if done:
            result: T = value
            return result
        raise value

    def _receive(self) -> tuple[bool, Any]:
        try:
            answer: tuple[bool, Any] = self._answers.recv()
        except (EOFError, OSError):
            self.end()
            raise WorkerLost("the parser process ended without an answer") from None
        return answer

    def end(self) -> None:
        """Kill the process and close the pipes."""
        self._process.kill()
        self._process.wait()
        self._send.close()
        self._answers.close()


# Lower priority first, before the imports: a parser process never competes with the server.
_WORKER_MAIN = (
    f"import os; os.nice({WORKER_NICENESS}); "
    "from missionctl.services.runtime.offload import serve_worker; serve_worker()"
)


def serve_worker() -> None:
    """A parser process's life (``sys.argv``: its two pipes' descriptors, a module to import).

    Imports the module first (imports do not count against a time limit), says it is ready,
    then runs each call that comes and answers ``(True, result)`` or ``(False, exception)``,
    until the pipe closes: when the server exits, however it exits. An exception or result
    that cannot be pickled is answered with a ``WorkerFailed`` naming it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's; it closes the pipe
    calls = Connection(int(sys.argv[1]), writable=False)
    answers = Connection(int(sys.argv[2]), readable=False)
    importlib.import_module(sys.argv[3])
    answers.send((True, None))
    while True:
        try:
            call: Callable[[], Any] = calls.recv()
        except (EOFError, OSError):  # the server is gone
            return
        try:
            answer: tuple[bool, Any] = (True, call())
        except Exception as exc:  # handed back to the caller, who raises it
            answer = (False, exc)
        try:
            answers.send(answer)
        except OSError:  # the server is gone
            return
        except Exception as exc:  # unpicklable: say what it was
            answers.send((False, WorkerFailed(f"the answer could not be sent back: {exc!r}")))
