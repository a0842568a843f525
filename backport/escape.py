"""How text from a repository is made fit to show: the one home of every
escaping rule that is not a format's own markup (Markdown and HTML escape
their syntax in their renderers, after these).

Text from git may hold what must not reach a terminal or a table as is:
control characters (an escape sequence in a subject could drive the
coordinator's terminal, a newline forge a line of output) and bytes that
are not UTF-8 (git gives names as bytes; we keep such bytes as surrogates,
so they can go back to git unchanged). Each is shown as `\\xNN`.

Light on purpose: the commit-msg hook imports this (through models).
"""

from __future__ import annotations

import re

# C0 and C1 controls except tab and newline (kept by `printable`: a message
# or a hunk may be several lines).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Every control, tab and newline included: a path or a name is one item.
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Line breaks of every kind, Unicode's too, and the separators that some
# viewers break lines at: flattened to a space by `one_line`.
_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _hex(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def _surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    # U+DC80..U+DCFF: one byte, as Python's surrogateescape keeps it
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def utf8_text(text: str) -> str:
    """`text` that encodes as UTF-8: bytes git gave us that are not UTF-8
    (kept as surrogates) read as \\xNN, where writing them would fail."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub(_surrogate, text)


def printable(text: str) -> str:
    """Text safe for a terminal: control characters as \\xNN; tabs and
    newlines stay (a message, a hunk)."""
    return _CONTROL.sub(_hex, text)


def one_line(text: str) -> str:
    """`text` as a single printable line: breaks and tabs become spaces,
    other control characters and non-UTF-8 bytes \\xNN."""
    return printable(utf8_text(_BREAKS.sub(" ", text).replace("\t", " ")))


def shown_path(path: str) -> str:
    """A path as git gave it, fit to print: non-UTF-8 bytes and every
    control character (tab and newline too: they are part of the name)
    as \\xNN, the rest as written."""
    return _ANY_CONTROL.sub(_hex, utf8_text(path))
