"""Work beside other work: one call on its own thread.

`background(call)` starts `call()` at once on a thread; `result()` waits for
it and gives its value or raises its error, as often as asked; `close()`
waits for it and drops its error, for an owner that stops early. Every
thread backport starts is started here, for one of two reasons:

- a git command and what is made of its answer, beside the caller's own
  work: the scanner's notes and its listing of the range
  (backport.scan.history), the fork points' walk (backport.forks), the
  candidates' patch-ids while the lines' are read, and the fixes' while
  the fixed commits' detection runs (backport.verdict.detect), a line's
  picks worked out ahead a level at a time, and its `after` lists completed
  one candidate behind its virtual branch (backport.verdict.chain);
- a pump between a git process and us (backport.git: Stream and
  ObjectReader read git's stdout as it comes, Git.pipe writes stdin): it
  lives as long as its process, and ends when the process does; killing
  the process is how it is stopped.

Two other ways of running work at once are not threads of this kind, on
purpose:

- `Git.ahead` starts git processes and no thread: the operating system runs
  git while we go on, and its answer (small: it waits in the pipe) is read
  when `run` asks for the same command. The hook starts its questions that
  way, before it has imported what asks them.
- The simulator's worker pool (backport.verdict.simulate,
  concurrent.futures): many picks mapped over `jobs` workers, the work not
  yet started cancelled on close. That is a pool, not one call.

Light on purpose: backport.git imports it, and the commit-msg hook imports
that (no typing at run time).
"""

from __future__ import annotations

import threading

TYPE_CHECKING = False  # not typing's: importing typing costs the hook 12 ms
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Generic, TypeVar

    T = TypeVar("T")
else:

    class Generic:
        """At run time, a plain base: Background[T] is for type checkers."""

        def __class_getitem__(cls, item: object) -> type:
            return cls

    T = None


class Background(Generic[T]):
    """One call running on its own thread (see background)."""

    def __init__(self, call: Callable[[], T], name: str) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = call()
            except BaseException as err:  # handed to result()
                self._error = err

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    def done(self) -> bool:
        """Whether the call has ended (returned or raised)."""
        return not self._thread.is_alive()

    def result(self) -> T:
        """Wait for the call; its value, or its error raised here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set: the call returned

    def close(self) -> None:
        """Wait for the call and drop its error: for an owner that stops
        early (its own error wins) or never needed the value. The call must
        end by itself (a killed process ends its pump)."""
        self._thread.join()


def background(call: Callable[[], T], name: str = "backport") -> Background[T]:
    """Start `call()` now on its own thread (named `name`, for a debugger)."""
    return Background(call, name)
