"""The nomination grammar: find and parse backport lines in a message or note.

Pure text in, records out; no git. The commit-msg hook imports this module,
so it stays free of heavy imports.

A nomination line is `Key: value` at the start of a line, the key matched
case-insensitively, anywhere in the message: real history has them in their
own paragraph above the sign-offs, where git's trailer parser does not look
(Xen 13316827fa). Such lines are kept and marked `misplaced`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache

from backport.config import DEFAULT_FIXES_KEYS, DEFAULT_KEYS, DEFAULT_SKIP_KEYS
from backport.models import Nomination, Request, Version, listing, printable
from backport.record import record

_SEPARATORS = re.compile(r"[,\s]+")
_ITEM = re.compile(r"(\d+(?:\.\d+)*)(\+?)")
_TRAILER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*[ \t]*:[ \t]*\S")
# The commit a Fixes: line names: the first word of the value, blanks around
# it aside, when it is 7 to 64 hex digits (a SHA-1 or SHA-256 id).
_FIXED = re.compile(r"\s*\b([0-9a-fA-F]{7,64})\b")
_REVERT_TEXT = "This reverts commit "
_REVERTS = re.compile(rf"^{_REVERT_TEXT}([0-9a-fA-F]{{7,64}})", re.MULTILINE)
# Trailers that git itself writes: one of these makes a paragraph with some
# free-form lines still count as the trailer block, as in git's own parser.
_GIT_TRAILERS = ("signed-off-by:", "(cherry picked from commit ")


@record
class Grammar:
    """Which keys mean what. Built from configuration."""

    keys: tuple[str, ...] = DEFAULT_KEYS
    skip_keys: tuple[str, ...] = DEFAULT_SKIP_KEYS
    fixes_keys: tuple[str, ...] = DEFAULT_FIXES_KEYS

    @property
    def pattern(self) -> re.Pattern[str]:
        """`Key: value` lines for every key (nomination, skip and fixes); groups key, value."""
        return _line_pattern((*self.keys, *self.skip_keys, *self.fixes_keys))


@cache
def _line_pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    """`Key: value` lines for any of `keys`, longest first; groups key, value."""
    alternatives = "|".join(re.escape(k) for k in sorted(set(keys), key=len, reverse=True))
    return re.compile(rf"^({alternatives})[ \t]*:[ \t]*(.*)$", re.IGNORECASE | re.MULTILINE)


@cache
def _roles(grammar: Grammar) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The grammar's nomination, skip and fixes keys, lower-cased."""
    return (
        frozenset(k.lower() for k in grammar.keys),
        frozenset(k.lower() for k in grammar.skip_keys),
        frozenset(k.lower() for k in grammar.fixes_keys),
    )


@record
class Parsed:
    """What one message or note says about backporting."""

    nominations: tuple[Nomination, ...]
    errors: tuple[tuple[str, str], ...]  # (line as written, what is wrong)
    fixes: tuple[str, ...]
    reverts: tuple[str, ...]


@lru_cache(maxsize=4096)  # values repeat ("4.19+"); the result is immutable; errors are not cached
def parse_value(value: str) -> tuple[str, tuple[Request, ...], str | None]:
    """Parse the value of a nomination line.

    Returns (kind, requests, comment) with kind "request" or "none".
    Raises ValueError with a sentence saying what is wrong.
    """
    body, hash_, comment = value.partition("#")
    comment_text = comment.strip() if hash_ else None
    tokens = [t for t in _SEPARATORS.split(body.strip()) if t]
    if not tokens:
        raise ValueError("no version given (expected e.g. 4.20, 4.18+ or none)")
    requests: list[Request] = []
    saw_none = False
    for token in tokens:
        if token.lower() == "none":
            saw_none = True
            continue
        match = _ITEM.fullmatch(token)
        version = Version.parse(match.group(1)) if match else None
        if match is None or version is None:
            raise ValueError(f"malformed version {token!r} (expected e.g. 4.20, 4.18+ or none)")
        requests.append(Request(version, bool(match.group(2))))
    if saw_none and requests:
        raise ValueError("'none' cannot be combined with versions")
    if saw_none:
        return "none", (), comment_text or None
    return "request", tuple(dict.fromkeys(requests)), comment_text or None


def line_errors(nominations: Iterable[Nomination], known: Sequence[Version]) -> list[tuple[str, str]]:
    """(line as written, what is wrong) for each well-formed version that
    names no stable line: `4.2` where no 4.2 exists, `4.30+` above the newest."""
    if not known:
        return []
    newest = max(known)
    errors = []
    for nomination in nominations:
        for request in nomination.requests:
            if request.plus and request.version > newest:
                errors.append((nomination.text, f"no stable line {request.version} or newer (known: {listing(known)})"))
            elif not request.plus and request.version not in known:
                errors.append((nomination.text, f"unknown stable line {request.version} (known: {listing(known)})"))
    return errors


def trailer_block(lines: Sequence[str]) -> range:
    """Indexes of the message's final trailer block, following git's rules.

    The block is the last paragraph when it is all trailers (continuation lines
    allowed), or when at least a quarter of it is trailers and one of them is
    git-generated (Signed-off-by, cherry-pick -x line).
    """
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    start = end
    while start > 0 and lines[start - 1].strip():
        start -= 1
    if start == 0 or start == end:  # the subject paragraph is never trailers
        return range(0)
    paragraph = lines[start:end]
    trailers = sum(1 for line in paragraph if _TRAILER.match(line))
    continuation = sum(1 for line in paragraph if line[:1] in (" ", "\t"))
    git_made = any(line.lower().startswith(_GIT_TRAILERS) for line in paragraph)
    if trailers and trailers + continuation == len(paragraph):
        return range(start, end)
    if git_made and trailers * 4 >= len(paragraph):
        return range(start, end)
    return range(0)


def message_body(message: str) -> str:
    """The message as git would commit it: no `#` comments, nothing past scissors,
    nothing past a format-patch `---` separator."""
    kept = []
    for line in message.splitlines():
        if line.startswith("# ") and ">8" in line:
            break
        if line == "---":
            break
        if line.startswith("#"):
            continue
        kept.append(line)
    return "\n".join(kept)


DEFAULT_GRAMMAR = Grammar()


def parse(text: str, grammar: Grammar = DEFAULT_GRAMMAR, source: str = "trailer") -> Parsed:
    """Find every nomination, fix reference and revert marker in `text`.

    `source` is "trailer" for commit messages (trailer placement is checked)
    or "note" for notes (every line counts, placement does not matter).
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    keys, skip_keys, fixes_keys = _roles(grammar)
    matches = []  # one pass over the text finds every key; most messages have only Fixes:
    fixes = []
    for match in grammar.pattern.finditer(text):
        key = match.group(1).lower()
        if key in fixes_keys:
            commit = _FIXED.match(match.group(2))
            if commit:
                fixes.append(commit.group(1).lower())
        if key in keys or key in skip_keys:
            matches.append(match)
    block = range(0)
    if matches:
        lines = text.split("\n")
        block = trailer_block(lines) if source == "trailer" else range(len(lines))
    nominations: list[Nomination] = []
    errors: list[tuple[str, str]] = []
    for match in matches:
        key, value = match.group(1), match.group(2)
        written = printable(match.group(0).rstrip())
        index = text.count("\n", 0, match.start())
        kind_override = "skip" if key.lower() in skip_keys else None
        try:
            kind, requests, comment = parse_value(printable(value))
        except ValueError as err:
            errors.append((written, str(err)))
            continue
        if kind_override == "skip":
            if kind == "none":
                errors.append((written, "Backport-skip needs the line versions it declines"))
                continue
            kind = "skip"
        nominations.append(
            Nomination(
                source=source,
                text=written,
                kind=kind,
                requests=requests,
                comment=comment,
                misplaced=index not in block,
            )
        )
    if _REVERT_TEXT in text:  # a substring search spares most messages the regex
        reverts = tuple(dict.fromkeys(m.group(1).lower() for m in _REVERTS.finditer(text)))
    else:
        reverts = ()
    return Parsed(tuple(nominations), tuple(errors), tuple(dict.fromkeys(fixes)), reverts)
