"""background(): one call on its own thread, its value or its error handed over."""

from __future__ import annotations

import threading

import pytest

from backport.background import background


def test_the_value_is_waited_for_and_kept() -> None:
    go = threading.Event()
    started = background(lambda: go.wait(5) and 42, "answer")
    assert not started.done()
    go.set()
    assert started.result() == 42
    assert started.done() and started.result() == 42


def test_the_error_is_raised_by_result_every_time_and_dropped_by_close() -> None:
    def fail() -> None:
        raise LookupError("not here")

    failed = background(fail)
    failed.close()  # an owner that stops early: nothing raised
    assert failed.done()
    for _ in range(2):
        with pytest.raises(LookupError, match="not here"):
            failed.result()


def test_close_waits_for_the_call() -> None:
    go = threading.Event()
    ended: list[bool] = []
    started = background(lambda: ended.append(go.wait(5)))
    threading.Timer(0.05, go.set).start()
    started.close()
    assert ended == [True]
