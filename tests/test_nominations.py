"""The nomination grammar, as pure text: every form SPEC names, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backport.models import Request, Version
from backport.nominations import Grammar, message_body, parse, parse_value, trailer_block

V = Version.parse


def one(message: str):
    parsed = parse(message)
    assert not parsed.errors, parsed.errors
    assert len(parsed.nominations) == 1, parsed.nominations
    return parsed.nominations[0]


@pytest.mark.parametrize(
    "value, requests",
    [
        ("4.20", [Request(V("4.20"))]),
        ("4.18+", [Request(V("4.18"), True)]),
        ("4.19, 4.20", [Request(V("4.19")), Request(V("4.20"))]),
        ("4.19 4.20", [Request(V("4.19")), Request(V("4.20"))]),
        ("4.19,4.20,", [Request(V("4.19")), Request(V("4.20"))]),
        ("  4.9+  ", [Request(V("4.9"), True)]),
    ],
)
def test_value_forms(value: str, requests: list[Request]) -> None:
    kind, parsed, comment = parse_value(value)
    assert kind == "request"
    assert list(parsed) == requests
    assert comment is None


def test_comment_is_kept() -> None:
    assert parse_value("4.9+ # maybe older") == ("request", (Request(V("4.9"), True),), "maybe older")


def test_none_declines() -> None:
    assert parse_value("none") == ("none", (), None)
    assert parse_value("None # not a bug on stable") == ("none", (), "not a bug on stable")


@pytest.mark.parametrize(
    "value, words",
    [
        ("4.2O", "malformed version '4.2O'"),
        ("", "no version given"),
        ("# just a comment", "no version given"),
        ("4.20 none", "cannot be combined"),
        ("latest", "malformed version 'latest'"),
        ("4.20++", "malformed version"),
    ],
)
def test_malformed_values(value: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_value(value)


def test_versions_compare_numerically() -> None:
    assert V("4.9") < V("4.10") < V("4.20")
    assert Request(V("4.9"), True).expand([V("4.10"), V("4.8"), V("4.9")]) == [V("4.10"), V("4.9")]


def test_keys_are_case_insensitive_and_both_default_keys_count() -> None:
    assert one("s\n\nbackport-TO: 4.20\n").requests == (Request(V("4.20")),)
    assert one("s\n\nBACKPORT: 4.18+ # maybe older\n").comment == "maybe older"


def test_backport_key_does_not_swallow_other_keys() -> None:
    parsed = parse("s\n\nBackport-requested-by: someone\nBackportish: 4.20\n")
    assert parsed.nominations == () and parsed.errors == ()


def test_line_in_trailer_block_is_not_misplaced() -> None:
    nomination = one("x86: fix\n\nBody text.\n\nSigned-off-by: A <a@example.org>\nBackport-to: 4.20\n")
    assert not nomination.misplaced


def test_line_in_its_own_paragraph_is_found_and_misplaced() -> None:
    # the shape of Xen commit 13316827fa
    message = (
        "x86/ucode: fix\n\nLong explanation.\n\nBackport: 4.13+\n\n"
        "Signed-off-by: A <a@example.org>\nReviewed-by: B <b@example.org>\n"
    )
    nomination = one(message)
    assert nomination.misplaced
    assert nomination.text == "Backport: 4.13+"


def test_git_trailer_rules_allow_some_free_lines_with_a_sign_off() -> None:
    lines = ["subject", "", "[ jb: adjusted for 4.19 ]", "Signed-off-by: A <a@b>", "Backport-to: 4.19"]
    assert list(trailer_block(lines)) == [2, 3, 4]
    lines = ["subject", "", "just prose here", "and more prose", "Backport-to: 4.19"]
    assert list(trailer_block(lines)) == []


def test_skip_key_and_none_in_skip() -> None:
    parsed = parse("Backport-skip: 4.19 # too invasive", source="note")
    assert parsed.nominations[0].kind == "skip"
    assert parsed.nominations[0].comment == "too invasive"
    assert parse("Backport-skip: none", source="note").errors


def test_malformed_value_is_reported_with_the_line() -> None:
    parsed = parse("s\n\nBackport-to: 4.2O\n")
    assert parsed.nominations == ()
    assert parsed.errors == (("Backport-to: 4.2O", "malformed version '4.2O' (expected e.g. 4.20, 4.18+ or none)"),)


def test_fixes_amends_and_reverts() -> None:
    parsed = parse(
        'x\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.\n\n'
        'Fixes: 89ABCDEF0123 ("foo")\nAmends: deadbeef1\nFixes: not a sha\n'
    )
    assert parsed.fixes == ("89abcdef0123", "deadbeef1")
    assert parsed.reverts == ("0123456789abcdef0123456789abcdef01234567",)


def test_configured_keys() -> None:
    grammar = Grammar(keys=("Stable",), skip_keys=("No-stable",), fixes_keys=("Fixes",))
    parsed = parse("s\n\nStable: 9.0\nBackport-to: 4.20\n", grammar)
    assert [n.text for n in parsed.nominations] == ["Stable: 9.0"]


def test_message_body_drops_comments_scissors_and_patch_tail() -> None:
    text = "s\n\nBackport-to: 4.20\n# Please enter\n# ------------------------ >8 ------------------------\nBackport-to: 4.19\n"
    assert "4.19" not in message_body(text, patch=True) and "4.20" in message_body(text, patch=True)
    assert message_body("s\n\nA: b\n---\n Backport-to: 4.19\n", patch=True).endswith("A: b")
    # a commit message keeps what follows a `---` line (pasted output)
    assert message_body("s\n\nlog:\n---\nFixes: 1234567\n").endswith("Fixes: 1234567")


def test_crlf_messages() -> None:
    nomination = one("s\r\n\r\nSigned-off-by: A <a@b>\r\nBackport-to: 4.20\r\n")
    assert nomination.text == "Backport-to: 4.20" and not nomination.misplaced


# -- properties -----------------------------------------------------------------

KEYS = st.sampled_from(["Backport-to", "Backport", "backport-to", "Backport-skip", "Fixes", "Signed-off-by", "X"])
LINE = st.one_of(
    st.text(max_size=40),
    st.builds(lambda k, v: f"{k}: {v}", KEYS, st.text(max_size=30)),
    st.builds(lambda k, a, b: f"{k}: {a}.{b}", KEYS, st.integers(0, 30), st.integers(0, 30)),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(LINE, max_size=12), st.sampled_from(["trailer", "note"]))
def test_parser_never_raises(lines: list[str], source: str) -> None:
    parse("\n".join(lines), source=source)


@settings(max_examples=400, deadline=None)
@given(st.lists(LINE, max_size=12))
def test_parser_never_invents_a_nomination(lines: list[str]) -> None:
    """Every nomination comes from a line that really says Key: value with that key,
    and every version it requests is written in that line."""
    text = "\n".join(lines)
    parsed = parse(text)
    written = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for nomination in parsed.nominations:
        assert nomination.text in (line.rstrip() for line in written)
        key = nomination.text.split(":", 1)[0].strip().lower()
        assert key in ("backport-to", "backport", "backport-skip")
        for request in nomination.requests:
            assert str(request.version) in nomination.text


FIX_VALUE = st.builds(
    lambda lead, sha, tail: f"{lead}{sha}{tail}",
    st.sampled_from(["", " ", "\t", "  \t", "\u00a0", "\u2003 ", "\x0b"]),
    st.text("0123456789abcdefABCDEFgx", min_size=0, max_size=70),
    st.sampled_from(["", " ", " (\"subject\")", "x", ".", "\u00a0", "-1", "\t# why"]),
)
FIX_LINE = st.builds(
    lambda key, space, value: f"{key}{space}:{value}",
    st.sampled_from(["Fixes", "fixes", "AMENDS", "Fixes-not", "Fix"]),
    st.sampled_from(["", " ", "\t"]),
    FIX_VALUE,
)


def reference_fix_targets(text: str) -> tuple[str, ...]:
    """The definition: the first word of each `Fixes:`/`Amends:` value,
    blanks around the value dropped, when it is 7 to 64 hex digits."""
    import re

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    found = []
    for match in re.finditer(r"^(?:amends|fixes)[ \t]*:[ \t]*(.*)$", text, re.IGNORECASE | re.MULTILINE):
        sha = re.match(r"\b([0-9a-fA-F]{7,64})\b", match.group(1).strip())
        if sha:
            found.append(sha.group(1).lower())
    return tuple(dict.fromkeys(found))


@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(FIX_LINE, LINE), max_size=8))
def test_fix_targets_are_the_first_word_of_the_value(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert parse(text).fixes == reference_fix_targets(text)
