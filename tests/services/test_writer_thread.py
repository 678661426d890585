"""The writer thread: one thread, jobs in order, results and errors handed to the caller's loop."""

import asyncio
import threading

import pytest

from missionctl.services.runtime.writer import WriterBusy, WriterThread


async def test_jobs_run_in_order_on_one_thread_and_return_their_results() -> None:
    thread = WriterThread("test-writer")
    seen: list[tuple[int, str]] = []

    def job(n: int) -> int:
        seen.append((n, threading.current_thread().name))
        return n * n

    results = await asyncio.gather(*(thread.run(lambda n=n: job(n)) for n in range(20)))
    thread.stop(lambda: None)
    assert results == [n * n for n in range(20)]
    assert [n for n, _ in seen] == list(range(20))
    assert {name for _, name in seen} == {"test-writer"}


async def test_an_error_reaches_the_caller_and_the_thread_goes_on() -> None:
    thread = WriterThread("test-writer")

    def fail() -> None:
        raise LookupError("no such row")

    with pytest.raises(LookupError, match="no such row"):
        await thread.run(fail)
    assert await thread.run(lambda: "still serving") == "still serving"
    thread.stop(lambda: None)


async def test_a_cancelled_caller_does_not_stop_the_job() -> None:
    thread = WriterThread("test-writer")
    started = threading.Event()
    release = threading.Event()
    done: list[str] = []

    def slow() -> str:
        started.set()
        release.wait(5)
        done.append("finished")
        return "ignored"

    future = thread.run(slow)
    await asyncio.to_thread(started.wait, 5)
    future.cancel()
    release.set()
    # The next job runs after the cancelled one, which therefore has finished by then.
    assert await thread.run(lambda: list(done)) == ["finished"]
    thread.stop(lambda: None)


async def test_stop_runs_queued_jobs_then_the_last_one_and_ends_the_thread() -> None:
    thread = WriterThread("test-writer")
    order: list[str] = []
    gate = threading.Event()
    first = thread.run(lambda: (gate.wait(5), order.append("queued"))[1])
    gate.set()
    await asyncio.to_thread(thread.stop, lambda: order.append("last"))
    await first
    assert order == ["queued", "last"]
    assert not thread._thread.is_alive()


async def test_call_if_idle_runs_the_job_on_the_callers_thread() -> None:
    thread = WriterThread("test-writer")
    assert thread.call_if_idle(lambda: threading.current_thread().name) == (
        threading.current_thread().name
    )
    with pytest.raises(LookupError, match="its own error"):
        thread.call_if_idle(lambda: (_ for _ in ()).throw(LookupError("its own error")))
    # Neither left the writer marked busy.
    assert thread.call_if_idle(lambda: "again") == "again"
    assert await thread.run(lambda: threading.current_thread().name) == "test-writer"
    thread.stop(lambda: None)


async def test_call_if_idle_refuses_while_a_job_runs_or_waits() -> None:
    thread = WriterThread("test-writer")
    started = threading.Event()
    release = threading.Event()
    ran: list[str] = []
    running = thread.run(lambda: (started.set(), release.wait(5), ran.append("first"))[2])
    queued = thread.run(lambda: ran.append("second"))
    await asyncio.to_thread(started.wait, 5)
    with pytest.raises(WriterBusy):  # a job is running
        thread.call_if_idle(lambda: ran.append("jumped the queue"))
    release.set()
    await running
    await queued
    assert ran == ["first", "second"]
    # A job queued behind a running one is refused too: it would otherwise be overtaken.
    started.clear()
    release.clear()
    running = thread.run(lambda: (started.set(), release.wait(5))[1])
    waiting = thread.run(lambda: ran.append("third"))
    await asyncio.to_thread(started.wait, 5)
    release.set()
    await running
    while True:  # the thread takes the queued job; until then it still counts as waiting
        try:
            thread.call_if_idle(lambda: ran.append("inline"))
            break
        except WriterBusy:
            await asyncio.sleep(0.001)
    await waiting
    assert ran == ["first", "second", "third", "inline"]
    thread.stop(lambda: None)
