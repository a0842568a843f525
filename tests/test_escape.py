"""The escaping rules, in their one home (backport.escape): what each shows
of text that could drive a terminal, forge a line, or fail to encode."""

from __future__ import annotations

import pytest

from backport.escape import one_line, printable, shown_path, utf8_text

NOT_UTF8 = b"caf\xe9".decode("utf-8", "surrogateescape")  # as git gives a Latin-1 name


@pytest.mark.parametrize(
    "rule, text, shown",
    [
        (printable, "bell\x07 esc\x1b[31m", "bell\\x07 esc\\x1b[31m"),
        (printable, "two\nlines\tand a tab", "two\nlines\tand a tab"),
        (printable, "C1 \x9b control", "C1 \\x9b control"),
        (one_line, "a\nb\r\nc\u2028d\te", "a b c d e"),
        (one_line, "esc\x1b", "esc\\x1b"),
        (one_line, NOT_UTF8, "caf\\xe9"),
        (shown_path, "dir/a\tb\nc", "dir/a\\x09b\\x0ac"),
        (shown_path, NOT_UTF8 + ".c", "caf\\xe9.c"),
        (utf8_text, NOT_UTF8, "caf\\xe9"),
        (utf8_text, "plain ünïcode", "plain ünïcode"),
    ],
)
def test_each_rule(rule, text: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    assert rule(text) == shown
    shown.encode("utf-8")  # whatever came in, what goes out can be written


def test_the_hook_path_stays_light() -> None:
    import subprocess
    import sys

    code = "import sys, backport.escape; print(' '.join(sys.modules))"
    modules = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert not modules & {"click", "jinja2", "typing", "dataclasses", "tempfile"}
