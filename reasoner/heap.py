"""A session's long-lived caches and Python's cyclic garbage collector.

A session asks many questions of one snapshot (an audit, `prove`, a program reusing a
`PathFinder`), and its caches grow to millions of objects. The collector's full collections
rescan all of them: at 1,000 roles one such collection costs a who-can question 0.75 s of its
0.96 s. Between questions, `settle()` collects the garbage made since the last call and then
moves every object alive out of the collector's view (`gc.freeze`), so later collections scan only
what the next question makes. The collection is cheap after the first call for the same reason.

Freezing is process-wide, so only the layer that owns the process's sessions (the CLI, the audit,
the prover, a program) does it, never a question's own code, and always inside `long_lived()`: on
leaving the outermost one the frozen objects are handed back (`gc.unfreeze`), so that the caches,
which hold reference cycles, are freed with their session rather than kept for the process's life.
Python keeps one frozen set: objects a program froze on its own are handed back too.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_depth = 0


def settle() -> None:
    """Collect the garbage made since the last call, then freeze what is alive (see above). Only
    inside `long_lived()`; elsewhere it does nothing."""
    if _depth:
        gc.collect()
        gc.freeze()


@contextmanager
def long_lived() -> Iterator[Callable[[], None]]:
    """A session: yields `settle`, to call between its questions; on leaving the outermost one,
    every object frozen since is given back to the collector."""
    global _depth
    _depth += 1
    try:
        yield settle
    finally:
        _depth -= 1
        if not _depth:
            gc.unfreeze()
