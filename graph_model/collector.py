"""Python's cyclic garbage collector around the jobs that hold a whole corpus's graph."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off inside the block (as it was, after it).

    For the long jobs of a process that holds a national corpus's graph (the build, the
    stores' writers): each of the collector's full passes walks every one of its millions
    of objects, and the passes come again whenever as many new objects as a quarter of
    those have been made (19 passes, 7 s, in a 2,000-review build). Reference counting
    still frees everything that is not in a cycle; these jobs make few cycles (the build's
    peak memory is the same without the passes)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
