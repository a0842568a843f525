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

from backport.config import DEFAULT_FIXES_KEYS, DEFAULT_KEYS, DEFAULT_SKIP_KEYS, key_line
from backport.escape import printable
from backport.models import Form, Nomination, Request, Version, listing
from backport.record import record

_SEPARATORS = re.compile(r"[,\s]+")
_ITEM = re.compile(r"(\d+(?:\.\d+)*)()(\+?)")  # 4.20, 4.18+
# As Linux writes it in a comment: also v6.1 and 6.1.x (that line)
_LOOSE_ITEM = re.compile(r"v?(\d+(?:\.\d+)*?)(\.[xy])?(\+?)", re.IGNORECASE)
# Where a comment starts with versions (Linux: `# 5.10+`, `# 5.15.x: <sha>: subject`).
_ONE = r"v?\d+(?:\.\d+)+(?:\.[xy])?\+?"
_LEADING_VERSIONS = re.compile(rf"\s*({_ONE}(?:[\s,]+{_ONE})*)(.*)$", re.S | re.IGNORECASE)
_PREREQUISITE = re.compile(r"\s*:\s*([0-9a-fA-F]{7,64})\b\s*:?\s*(.*)$", re.S)
# The commit a Fixes: line names: the first word of the value, blanks around
# it aside, when it is 7 to 64 hex digits (a SHA-1 or SHA-256 id).
_FIXED = re.compile(r"\s*\b([0-9a-fA-F]{7,64})\b")
REVERT_TEXT = "This reverts commit "  # what `git revert` writes; the scanner has git look for it too
_REVERTS = re.compile(rf"^{REVERT_TEXT}([0-9a-fA-F]{{7,64}})", re.MULTILINE)
EXACT, AND_NEWER = "exact", "and-newer"


@record
class Grammar:
    """Which keys and forms mean what. Built from configuration."""

    keys: tuple[str, ...] = DEFAULT_KEYS  # each a plain form: Form(key)
    skip_keys: tuple[str, ...] = DEFAULT_SKIP_KEYS
    fixes_keys: tuple[str, ...] = DEFAULT_FIXES_KEYS
    forms: tuple[Form, ...] = ()  # the project's own request forms, tried before the plain keys
    bare: str = EXACT  # what a bare version means where a form does not say

    @property
    def pattern(self) -> re.Pattern[str]:
        """`Key: value` lines for every key (nomination, skip and fixes); groups key, value."""
        return _line_pattern((*self.request_keys, *self.skip_keys, *self.fixes_keys))

    @property
    def request_keys(self) -> tuple[str, ...]:
        """Every key a request may be written with."""
        return tuple(dict.fromkeys((*(f.key for f in self.forms), *self.keys)))

    def forms_for(self, key: str) -> tuple[Form, ...]:
        """The forms of a key (lower-cased), in the order they are tried."""
        return _forms(self).get(key, ())


@cache
def _forms(grammar: Grammar) -> dict[str, tuple[Form, ...]]:
    found: dict[str, list[Form]] = {}
    for form in (*grammar.forms, *(Form(k) for k in grammar.keys)):
        found.setdefault(form.key.lower(), []).append(form)
    return {key: tuple(forms) for key, forms in found.items()}


@cache
def _line_pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    """`Key: value` lines for any of `keys` (config.key_line); groups key, value."""
    return re.compile(key_line(keys) + r"[ \t]*(.*)$", re.IGNORECASE | re.MULTILINE)


@cache
def _roles(grammar: Grammar) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The grammar's request, skip and fixes keys, lower-cased."""
    return (
        frozenset(k.lower() for k in grammar.request_keys),
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


@record
class Value:
    """What a request line's value says: kind "request" or "none", the
    versions asked for, a comment, whether it asks for every line, and
    commits to pick first (Linux: `# 5.15.x: <sha>: subject`)."""

    kind: str
    requests: tuple[Request, ...] = ()
    comment: str | None = None
    all_lines: bool = False
    needs: tuple[str, ...] = ()


def parse_value(value: str, bare: str = EXACT) -> tuple[str, tuple[Request, ...], str | None]:
    """Parse the value of a plain `Key: versions # comment` line.

    Returns (kind, requests, comment) with kind "request" or "none".
    Raises ValueError with a sentence saying what is wrong.
    """
    parsed = read_value(Form("Backport-to"), value, bare)
    assert parsed is not None  # a plain form matches any value
    return parsed.kind, parsed.requests, parsed.comment


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


@lru_cache(maxsize=4096)  # values repeat ("4.19+"); the result is immutable; errors are not cached
def read_value(form: Form, value: str, bare: str = EXACT) -> Value | None:
    """What `value`, written with `form`'s key, asks for; None when the form
    does not match it (an ordinary trailer). Raises ValueError with a
    sentence saying what is wrong."""
    body, hash_, comment = value.partition("#")
    comment_text: str | None = comment.strip() if hash_ else None
    written = _form_versions(form, body.strip())
    if written is None:
        return None
    if form.opt_out:
        return Value("none", comment=comment_text or None)
    needs: tuple[str, ...] = ()
    if form.versions == "comment":
        written, comment_text, needs = _from_comment(comment_text or "")
    plus = (form.bare or bare) == AND_NEWER
    found = _versions(written, plus, _LOOSE_ITEM if form.versions == "comment" else _ITEM)
    if found is None:
        return Value("none", comment=comment_text or None)
    requests, everything = found
    if not requests and not everything:
        if form.versionless != "all":
            raise ValueError("no version given (expected e.g. 4.20, 4.18+ or none)")
        everything = True
    return Value("request", requests, comment_text or None, everything, needs)


def _form_versions(form: Form, written: str) -> str | None:
    """The versions part of a value before its comment: all of it, or what
    the form's value pattern names `versions` ("" when it names none); None
    when the pattern does not match (an ordinary trailer)."""
    if form.value is None:
        return written
    matcher = _compiled(form.value)
    match = matcher.fullmatch(written)
    if match is None:
        return None
    return (match.group("versions") or "") if "versions" in matcher.groupindex else ""


def _versions(text: str, plus: bool, item: re.Pattern[str] = _ITEM) -> tuple[tuple[Request, ...], bool] | None:
    """The requests in `text` ("4.19, 4.20+", "6.1.x", "*"), and whether it
    asks for every line (`*`); None for `none`. `plus`: a bare version
    means that line and every newer one."""
    tokens = [t for t in _SEPARATORS.split(text.strip()) if t]
    requests: list[Request] = []
    everything = saw_none = False
    for token in tokens:
        if token.lower() == "none":
            saw_none = True
            continue
        if token == "*":
            everything = True
            continue
        match = item.fullmatch(token)
        version = Version.parse(match.group(1)) if match else None
        if match is None or version is None:
            raise ValueError(f"malformed version {token!r} (expected e.g. 4.20, 4.18+ or none)")
        requests.append(Request(version, plus or bool(match.group(3))))
    if saw_none and (requests or everything):
        raise ValueError("'none' cannot be combined with versions")
    return None if saw_none else (tuple(dict.fromkeys(requests)), everything)


def _from_comment(comment: str) -> tuple[str, str | None, tuple[str, ...]]:
    """Versions, the rest of the comment, and a prerequisite, from a comment
    that may start with versions: `5.10+`, `5.15.x: 1a2b3c4: subject`,
    `after -rc3`, `see patch description, needs adjustments for <= 6.3`."""
    match = _LEADING_VERSIONS.match(comment)
    if match is None:
        return "", comment or None, ()
    versions, rest = match.group(1), match.group(2)
    needed = _PREREQUISITE.match(rest)
    if needed:
        return versions, needed.group(2).strip() or None, (needed.group(1).lower(),)
    return versions, rest.strip(" \t,;") or None, ()


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


def covers(existing: Iterable[Nomination], requests: Sequence[Request], known: Sequence[Version]) -> bool:
    """Whether the requests of `existing` already ask for every one of
    `requests`: the same item, or every known line it stands for."""
    have = {r for n in existing for r in n.requests}
    have_versions = {v for n in existing for v in n.versions(known)}
    return all(r in have or (r.expand(known) and set(r.expand(known)) <= have_versions) for r in requests)


def well_formed(parsed: Parsed, known: Sequence[Version]) -> tuple[list[Nomination], list[tuple[str, str]]]:
    """The nominations of `parsed` that name known lines, and the lines that
    do not read or name no line (as written, what is wrong)."""
    unknown = line_errors(parsed.nominations, known)
    wrong = {text for text, _ in unknown}
    return [n for n in parsed.nominations if n.text not in wrong], [*parsed.errors, *unknown]


# complex: git's find_trailer_start statement for statement, so the two can be
# read side by side (McCabe 11; radon, which adds each boolean operator, 18)
def trailer_block(lines: Sequence[str]) -> range:
    """Indexes of the message's final trailer block, exactly as git finds it
    (trailer.c, find_trailer_start; tests/test_trailers.py holds the two
    to each other with `git interpret-trailers --parse`).

    The block is the last paragraph after the title, read from the end: it
    counts when all its lines are trailers (a continuation line, indented,
    goes with the trailer above it), or when one is git-generated
    (`Signed-off-by: `, `(cherry picked from commit `) and at least a
    quarter of its lines are trailers. Comment lines (`#`) are skipped.
    """
    title = 0  # the first paragraph is the title: never trailers
    while title < len(lines) and (lines[title].startswith("#") or not _blank(lines[title])):
        title += 1
    cut = end_of_message(lines)
    end = cut
    while end > 0 and _blank(lines[end - 1]):
        end -= 1
    trailers = others = pending = 0  # pending: indented lines not yet known to continue a trailer
    recognized, only_blanks = False, True
    for index in range(cut - 1, title - 1, -1):
        line = lines[index]
        if line.startswith("#"):
            others, pending = others + pending, 0
            continue
        if _blank(line):
            if only_blanks:
                continue
            others += pending
            if (recognized and trailers * 3 >= others) or (trailers and not others):
                return range(index + 1, end)
            return range(0)
        only_blanks = False
        if line.startswith(_GIT_MADE):
            trailers, pending, recognized = trailers + 1, 0, True
        elif separator(line) >= 1 and line[0] not in _C_SPACE:
            trailers, pending = trailers + 1, 0
        elif line[0] in _C_SPACE:
            pending += 1
        else:
            others, pending = others + 1 + pending, 0
    return range(0)


def end_of_message(lines: Sequence[str]) -> int:
    """Where the message ends for trailers, as git's ignore_non_trailer
    says: before its closing run of empty and comment lines and an
    old-style `Conflicts:` list (a tab-indented path per line). Two
    differences, neither reachable from our callers: git's scissors line
    (`# ------------------------ >8 ------------------------`) is cut by
    message_body first; and git matches `Conflicts:` only with its newline,
    which a message git commits always has."""
    start = None
    in_conflicts = False
    for index, line in enumerate(lines):
        if not line or line.startswith("#"):
            start = index if start is None else start
        elif line == "Conflicts:":
            in_conflicts = True
            start = index if start is None else start
        elif not (in_conflicts and line.startswith("\t")):
            start, in_conflicts = None, False
    return len(lines) if start is None else start


_C_SPACE = " \t\n\v\f\r"  # C's isspace(): git's, not Python's
_GIT_MADE = ("Signed-off-by: ", "(cherry picked from commit ")


def _blank(line: str) -> bool:
    return not line.strip(_C_SPACE)


def separator(line: str) -> int:
    """Where a trailer's `:` is, as git's find_separator sees it: after a
    token of ASCII letters, digits and '-', and blanks; -1 if none."""
    blanks = False
    for index, char in enumerate(line):
        if char == ":":
            return index
        if not blanks and ((char.isascii() and char.isalnum()) or char == "-"):
            continue
        if index and char in " \t":
            blanks = True
            continue
        break
    return -1


def message_body(message: str, *, patch: bool = False) -> str:
    """The message as git would commit it: no `#` comments, nothing past
    scissors, and for a format-patch file nothing past its `---` separator
    (in a commit message, `---` may be pasted output that git keeps)."""
    kept = []
    for line in message.splitlines():
        if line.startswith("# ") and ">8" in line:
            break
        if patch and line == "---":
            break
        if line.startswith("#"):
            continue
        kept.append(line)
    return "\n".join(kept)


DEFAULT_GRAMMAR = Grammar()


def _read_line(grammar: Grammar, key: str, value: str, skip_keys: frozenset[str]) -> tuple[str, Value] | None:
    """The kind ("request", "none" or "skip") and value of one `Key: value`
    line, by the first of the key's forms that matches it; None when none
    does. Raises ValueError when a form matches but the value is malformed."""
    if key in skip_keys:
        found = read_value(Form(key), value)
        if found is None or found.kind == "none" or found.all_lines:
            raise ValueError("Backport-skip needs the line versions it declines")
        return "skip", found
    for form in grammar.forms_for(key):
        found = read_value(form, value, grammar.bare)
        if found is not None:
            # Linux's `# 5.15.x: <sha>: subject` asks for <sha>, to go first; this
            # commit is asked for by a line of its own (`# 5.15.x`)
            return ("prerequisite" if found.needs else found.kind), found
    return None


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
        written = printable(match.group(0).rstrip())
        try:
            read = _read_line(grammar, match.group(1).lower(), printable(match.group(2)), skip_keys)
        except ValueError as err:
            errors.append((written, str(err)))
            continue
        if read is None:
            continue  # an ordinary trailer with a request key (`Cc: someone`): nothing to say
        kind, value = read
        nominations.append(
            Nomination(
                source=source,
                text=written,
                kind=kind,
                requests=value.requests,
                comment=value.comment,
                misplaced=text.count("\n", 0, match.start()) not in block,
                all_lines=value.all_lines,
                needs=value.needs,
            )
        )
    if REVERT_TEXT in text:  # a substring search spares most messages the regex
        reverts = tuple(dict.fromkeys(m.group(1).lower() for m in _REVERTS.finditer(text)))
    else:
        reverts = ()
    return Parsed(tuple(nominations), tuple(errors), tuple(dict.fromkeys(fixes)), reverts)
