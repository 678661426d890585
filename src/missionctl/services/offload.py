"""Parsing and checking untrusted documents beside the event loop, on threads of their own.

A megabyte of YAML takes seconds of CPU to read. Run on the event loop, it holds every other
request, every live page's stream and the embedded engine's lease heartbeats for as long
(ADR 0076). :func:`off_loop` runs such work on a small pool of its own: not the loop's default
pool, which the engine's blocking hot path and the database writer use (ADRs 0007, 0017), so
that a queue of documents never delays a step. Parsers hold the interpreter lock while they
work, but yield it every few milliseconds, which is all the loop needs to keep answering.
"""

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

PARSER_THREADS = 2
"""Documents parsed at once across the process; more wait their turn (the CPU is the limit)."""

_POOL = ThreadPoolExecutor(max_workers=PARSER_THREADS, thread_name_prefix="missionctl-parse")


async def off_loop(work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``work(*args, **kwargs)`` on a parser thread; its result, or what it raised.

    A caller cancelled while waiting stops waiting; the work itself runs to its end (a thread
    cannot be interrupted), which the per-identity limit of ``security.bodies`` accounts for by
    holding its slot until the request ends.
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POOL, functools.partial(work, *args, **kwargs))
