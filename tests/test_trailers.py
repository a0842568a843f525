"""The trailer block exactly as git sees it: backport.nominations.trailer_block
against `git interpret-trailers --parse` over thousands of generated messages.

git prints the trailers of the block it finds, one per line, as
"<token>: <value>" (continuation lines joined with a space, values trimmed,
lines without a separator left out). From our block, the same printing is
done here; the two must be equal for every message.
"""

from __future__ import annotations

import os
import subprocess

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backport.nominations import parse, separator, trailer_block

EXAMPLES = int(os.environ.get("TRAILER_EXAMPLES", "2000"))

TRAILER_LINES = [
    "Signed-off-by: Ada Author <ada@example.org>",
    "Reviewed-by: Jan Beulich <jbeulich@suse.com>",
    "Fixes: 1234567890ab (\"x86: something\")",
    "Backport-to: 4.19+ # maybe older",
    "Backport: 4.20",
    "Backport:",
    "Acked-by:",
    "Key : spaced token",
    "dash-key: v",
    "Cc: stable@vger.kernel.org # 6.1+",
    "http://example.org/a/b",
    "Link: https://lore.kernel.org/r/123@x",
    "(cherry picked from commit 1234567890abcdef1234567890abcdef12345678)",
]
OTHER_LINES = [
    "Free text in the body.",
    "not a trailer because of spaces in key: x",
    "under_score: not a token",
    ": empty token",
    "-- dashes",
    "---",
    "# a comment line",
    "1) a list item",
    "master commit: 1234567890ab",
    "Tested-on x86",
]
CONTINUATION_LINES = ["  continued here", "\tand a tab", " ", "    (more)"]
BLANKS = ["", "   ", "\t"]

line = st.one_of(
    st.sampled_from(TRAILER_LINES), st.sampled_from(OTHER_LINES), st.sampled_from(CONTINUATION_LINES)
)
paragraph = st.lists(line, min_size=1, max_size=6)
# what git's ignore_non_trailer cuts off the end before looking for trailers:
# a closing run of empty and comment lines, and an old-style conflicts list
TAILS = [[], ["# a comment"], ["", "# Please enter the commit message"], ["", "Conflicts:", "\tfoo.c", "\tbar.c"]]
message = st.builds(
    lambda subject, body, last, blanks_before, blanks_after, tail: "\n".join(
        [subject, *[x for p in body for x in ("", *p)], *blanks_before, *last, *blanks_after, *tail]
    )
    + "\n",
    st.sampled_from(["x86/mm: fix it", "Subject: looks like a trailer", "tools: subject"]),
    st.lists(paragraph, max_size=3),
    paragraph,
    st.lists(st.sampled_from(BLANKS), min_size=1, max_size=2),
    st.lists(st.sampled_from(BLANKS), max_size=2),
    st.sampled_from(TAILS),
)


def git_parse(text: str) -> list[str]:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    proc = subprocess.run(
        ["git", "interpret-trailers", "--parse", "--no-divider"], input=text.encode(), capture_output=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode().splitlines()


def ours(text: str) -> list[str]:
    """What git would print for the block trailer_block finds."""
    lines = text.split("\n")
    printed: list[str] = []
    continues = False  # an indented line goes with the trailer right above it
    for index in trailer_block(lines):
        row = lines[index]
        if row.startswith("#"):
            continues = False  # git continues no trailer across a comment
            continue
        at = separator(row)
        if at >= 1 and row[0] not in " \t":
            printed.append(f"{row[:at].strip()}: {row[at + 1:].strip()}")
            continues = True
        elif row[:1] in (" ", "\t") and continues:
            if row.strip():
                printed[-1] = f"{printed[-1].rstrip()} {row.strip()}"
        else:
            continues = False
    return printed


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(message)
def test_trailer_block_is_the_block_git_finds(text: str) -> None:
    assert ours(text) == git_parse(text)


def test_the_two_cases_that_drifted() -> None:
    """Seen by fuzzing before git's rules were followed: an empty value is
    a trailer; a last paragraph that starts indented is no trailer block."""
    empty = "s\n\nBackport-to: 4.20\nAcked-by:\n"
    assert ours(empty) == git_parse(empty) == ["Backport-to: 4.20", "Acked-by: "]
    indented = "s\n\n  indented start\nBackport-to: 4.20\n"
    assert ours(indented) == git_parse(indented) == []
    assert parse(indented).nominations[0].misplaced


def test_an_old_style_conflicts_list_is_no_trailer_block() -> None:
    """`git cherry-pick` once ended a conflicted pick's message with a
    `Conflicts:` list; git looks for trailers above it (ignore_non_trailer),
    and so must we (pick's messages and the scanner alike)."""
    text = "s\n\nbody\n\nSigned-off-by: A <a@example.org>\n\nConflicts:\n\tfoo.c\n"
    assert ours(text) == git_parse(text) == ["Signed-off-by: A <a@example.org>"]
