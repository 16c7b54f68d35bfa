"""Pausing Python's cyclic garbage collector while the core builds its values.

Reading a plan, routing and diffing make hundreds of thousands of small objects that hold
no reference cycles (frozen dataclasses, tuples, strings). The cyclic collector would scan
them again and again as they pile up: about a fifth of the time of routing 100,000 events
(bench/bench_core.py). Reference counting frees them all the same; only cycles wait, and
they are collected as soon as the pause ends. The pause covers reading the plan (with its
fetch, which is short), routing and each calendar's diff; never the calendar requests.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0  # callers inside a pause (calendars diff in parallel threads)
_resume = False  # whether the collector was on when the first pause began


@contextmanager
def collector_paused() -> Iterator[None]:
    """Nested and concurrent pauses are fine: the collector is on again when the last one
    ends, and only if it was on before the first began."""
    global _paused, _resume
    with _lock:
        if _paused == 0:
            _resume = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _resume:
                gc.enable()
