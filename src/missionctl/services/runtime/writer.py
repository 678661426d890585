"""The writer thread: runs blocking jobs in order and hands each result to its event loop.

A job may also run on the caller's own thread when the writer has nothing to do
(``call_if_idle``): the engine's small transactions skip two thread hops that way (ADR 0021).
"""

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class WriterBusy(Exception):
    """``call_if_idle`` found the writer running or holding a job: submit it with ``run``."""


_Job = tuple[asyncio.AbstractEventLoop | None, "asyncio.Future[Any] | None", Callable[[], Any]]


class WriterThread:
    """One thread for blocking jobs, taken in submission order (ADR 0017).

    ``loop.run_in_executor`` does the same with a pool, a ``concurrent.futures`` future per job
    and an asyncio future chained to it; on the engine's chain workload that round trip cost
    about 140 µs against about 60 µs for a queue and ``call_soon_threadsafe``, once per tick.
    ``call_if_idle`` runs a job on the caller's thread instead while nothing is queued or
    running, which saves even that (ADR 0021).
    """

    def __init__(self, name: str) -> None:
        """Start the thread (a daemon: ``stop()`` ends it; it must not hold the process up)."""
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        # Held by whoever runs a job: the thread, or a caller of ``call_if_idle``.
        self._running = threading.Lock()
        # Jobs submitted and not yet finished (a job taken off the queue counts until it ends).
        self._unfinished = 0
        self._count_lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def run(self, job: Callable[[], T]) -> "asyncio.Future[T]":
        """Queue ``job``; the future (of the running loop) gets its result or exception.

        Cancelling the future does not stop the job: it still runs, and its result is dropped.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._count_lock:
            self._unfinished += 1
        self._jobs.put((loop, future, job))
        return future

    def call_if_idle(self, job: Callable[[], T]) -> T:
        """Run ``job`` here and now if no job is queued or running; returns its result.

        The job runs on the calling thread, so it blocks that thread (an event loop) until it
        returns; jobs submitted meanwhile wait for it, in order. Errors are the job's own.

        Raises:
            WriterBusy: a job is queued or running; nothing was run.
        """
        with self._count_lock:
            if self._unfinished:
                raise WriterBusy  # a job submitted earlier goes first, as it would on the thread
            self._unfinished += 1
        try:
            # Free unless a job was submitted from another thread just now: that one waits.
            with self._running:
                return job()
        finally:
            self._finished()

    def stop(self, last: Callable[[], None]) -> None:
        """Run the queued jobs, then ``last``, then end the thread; returns when it has ended."""
        self._jobs.put((None, None, last))
        self._thread.join()

    def _serve(self) -> None:
        while True:
            loop, future, job = self._jobs.get()
            if loop is None or future is None:
                try:
                    with self._running:
                        job()
                except Exception:
                    log.exception("the writer thread's last job failed")
                return
            result: Any = None
            error: BaseException | None = None
            try:
                with self._running:
                    result = job()
            except BaseException as exc:  # the caller decides what an error means
                error = exc
            self._finished()  # before the hand-over: the woken caller finds the writer idle
            _hand_over(loop, future, result, error)

    def _finished(self) -> None:
        with self._count_lock:
            self._unfinished -= 1


def _hand_over(
    loop: asyncio.AbstractEventLoop,
    future: "asyncio.Future[Any]",
    result: Any,
    error: BaseException | None,
) -> None:
    # A closed loop raises RuntimeError: nobody is waiting for this result any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_settle, future, result, error)


def _settle(future: "asyncio.Future[Any]", result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
