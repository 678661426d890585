"""Keeping the garbage collector's full collections short in a process that runs an engine.

A process that has imported the product (SQLAlchemy, FastAPI, pydantic models, the OpenAI SDK…)
holds about 170,000 objects that live as long as it does. CPython's full (oldest-generation)
collections walk all of them: about 100 ms, during which the event loop, and with it every
running step's bookkeeping and every live page, stands still. They come every few thousand
steps. ``gc.freeze()`` moves what is alive once start-up is over into a permanent generation
that collections skip; objects made afterwards are collected as before (ADR 0019).

The youngest generation is also collected less often. With CPython's default of 700 net
allocations, a tick that builds a thousand events and claims is interrupted by collections
that walk its still-live objects and promote them to older generations, where they are walked
again; at 10,000 most of them are gone before a collection comes (ADR 0022).
"""

import gc
import threading

_lock = threading.Lock()
_frozen = False
YOUNG_GENERATION_THRESHOLD = 10_000


def freeze_startup_heap() -> bool:
    """Collect once, then freeze every object alive now (``gc.freeze``); once per process.

    A program that runs an engine calls it when its start-up is over, before the engine's
    first tick: ``missionctl worker``, ``serve`` with its embedded engine, and the commands that
    follow a run here (``run``, ``workflow run``). A library call never retunes the collector
    of the process that imported it.

    Also raises the youngest generation's threshold to ``YOUNG_GENERATION_THRESHOLD`` (never
    lowers it); the older generations' thresholds are left as they are.

    Returns:
        Whether this call froze the heap (``False``: an earlier call already did).
    """
    global _frozen
    with _lock:
        if _frozen:
            return False
        # Garbage already unreachable must not be frozen along with the rest.
        gc.collect()
        gc.freeze()
        young, *older = gc.get_threshold()
        if young < YOUNG_GENERATION_THRESHOLD:
            gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *older)
        _frozen = True
        return True
