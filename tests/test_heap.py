"""reasoner.heap: a session freezes its long-lived objects between questions and hands them back
to the collector when it ends, so that its caches are freed with it."""

from __future__ import annotations

import gc
import weakref

from reasoner.heap import long_lived, settle


class _Cycle:
    def __init__(self):
        self.me = self


def test_settle_outside_a_session_does_nothing():
    gc.unfreeze()
    settle()
    assert gc.get_freeze_count() == 0


def test_a_session_freezes_between_questions_and_hands_back_at_its_end():
    gc.unfreeze()
    with long_lived() as between:
        cache = [_Cycle() for _ in range(100)]
        between()
        assert gc.get_freeze_count() > 0
        with long_lived():  # a nested session (the audit inside a program's) leaves it frozen
            pass
        assert gc.get_freeze_count() > 0
        del cache
    assert gc.get_freeze_count() == 0
    # the session's cycles are garbage the collector now finds
    assert gc.collect() >= 100


def test_garbage_made_before_settling_is_collected_not_frozen():
    gc.unfreeze()
    with long_lived() as between:
        garbage = weakref.ref(_Cycle())  # a cycle nobody holds
        between()
        assert garbage() is None  # collected (a frozen one would still be alive)
