"""Text output through the user's pager, as git pages its own.

Only when stdout is a terminal and the run did not say `--no-pager`; the
pager is the one git would use (`Git.pager`: GIT_PAGER, core.pager, PAGER,
git's default), started the way git starts it: with `LESS=FRX` and `LV=-c`
unless those are set (quit when the text fits one screen, keep colour, leave
the text on the screen), directly when the command is a plain program name
and through `sh -c` when it is a shell command line (`less -S`, `delta |
less`). The command is the user's own configuration, never repository data.
"""

from __future__ import annotations

import os
import signal
import subprocess
from typing import IO

# git's own test (run-command.c): any of these makes the command a shell line
_SHELL_CHARACTERS = set("|&;<>()$`\\\"' \t\n*?[#~=%")


def argv(command: str) -> list[str]:
    if _SHELL_CHARACTERS & set(command):
        return ["sh", "-c", command]
    return [command]


def page(command: str, text: str) -> bool:
    """Show `text` through `command`; False when the pager could not start
    (the caller prints it instead)."""
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    try:
        proc = subprocess.Popen(argv(command), stdin=subprocess.PIPE, env=env)
    except OSError:
        return False
    # While the pager runs, Ctrl-C is the pager's (less uses it to stop a
    # search): we wait for it to end, as git does.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _feed(proc.stdin, text.encode("utf-8"))
        proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    return True


def _feed(stdin: IO[bytes] | None, data: bytes) -> None:
    if stdin is None:
        return
    try:
        stdin.write(data)
    except BrokenPipeError:
        pass  # the reader quit before the end (q in less): that is its right
    finally:
        try:
            stdin.close()
        except BrokenPipeError:
            pass
