"""`backport tag`: put a nomination trailer on HEAD or on `git format-patch` files.

Where the trailer goes is git's decision: `git interpret-trailers` places it
(end of the trailer block, a new paragraph when there is none, before a
patch's `---`). But interpret-trailers also rewrites the trailers already
there (`Key:value` becomes `Key: value`, trailing blanks and CRs go), and a
tag must change nothing else. So we take only the position from its output
and insert the new lines into the original bytes ourselves (`insert_trailer`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from backport.errors import ConfigError, RepoError, UsageError
from backport.escape import printable
from backport.git import Git
from backport.maintainer.message_check import Ancestry, Rules, copies_in, request_text, suggest
from backport.models import Nomination, Request, Version, listing
from backport.nominations import covers, line_errors, message_body, parse, parse_value, well_formed
from backport.output import write_atomically
from backport.record import record
from backport.session import Session

_MBOX_FROM = re.compile(rb"^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001$", re.MULTILINE)


@record
class Value:
    """A validated nomination value, e.g. `4.19+ # maybe older`."""

    kind: str  # "request" | "none"
    requests: tuple[Request, ...]
    text: str  # as it goes after the key, in our grammar
    note: str = ""  # the comment alone

    @classmethod
    def parse(
        cls, targets: Sequence[str], comment: str | None, known: Sequence[Version], bare: str = "exact"
    ) -> Value:
        body = ", ".join(t.strip() for t in targets)
        try:
            kind, requests, _ = parse_value(body, bare)
        except ValueError as err:
            raise UsageError(f"bad --to {body!r}: {err}", f"known lines: {listing(known)}") from None
        errors = line_errors([Nomination("trailer", body, kind, requests)], known)
        if errors:
            raise UsageError(errors[0][1], "give a known line with --to, or --to none")
        note = " ".join((comment or "").split())  # a trailer is one line
        text = body if kind == "request" else "none"
        return cls(kind, requests, text + (f" # {note}" if note else ""), note)


def request_line(session: Session, value: Value) -> str:
    """The line that says `value` in the project's own words: the request
    template (`Backport-to: 4.19+`, `Cc: stable@vger.kernel.org # 6.1+`,
    `Cc: qemu-stable@nongnu.org`), or the decline template for `none`."""
    rules = Rules.from_session(session)
    if value.kind == "none":
        if not rules.decline:
            raise UsageError(
                "this project has no way to say 'not for backport' in a message",
                "leave the message as it is (or, once it has landed, backport skip COMMIT --for V -m REASON)",
            )
        return _with_note(rules.decline, value.note)
    template = rules.request
    if "{versions}" in template:
        line = template.replace("{versions}", value.text.partition(" # ")[0])
    else:
        maintained = [line.version for line in rules.lines]
        line = request_text(template, [r.version for r in value.requests], maintained, "and-newer")
    if not any(n.kind == "request" for n in parse(line, session.grammar).nominations):
        source = session.config.source("request-template")
        raise ConfigError(
            f"request-template ({source}) writes {line!r}, which this project's request forms do not read",
            "fix request-template: {versions} (or {version}) stands for the lines, e.g. 'Backport-to: {versions}'",
        )
    return _with_note(line, value.note)


def _with_note(line: str, note: str) -> str:
    if "<reason>" in line:
        return line.replace("<reason>", note) if note else line.replace(" # <reason>", "").replace("<reason>", "")
    if not note:
        return line
    return f"{line} {note}" if "#" in line else f"{line} # {note}"


@record
class Tagged:
    """What `tag` did to one target (HEAD or a patch file), for the command to print."""

    target: str
    trailer: str | None  # the line added; None when nothing changed
    note: str = ""  # why nothing changed, or what happened (old -> new commit)


def insert_trailer(git: Git, message: bytes, trailer: str, *, patch: bool) -> bytes | None:
    """`message` with `trailer` added where git puts it; None when git finds it
    already there. Every original line is kept byte for byte."""
    original = message if message.endswith(b"\n") else message + b"\n"
    args = ["interpret-trailers", "--where", "end", "--if-exists", "addIfDifferent", "--if-missing", "add"]
    if not patch:
        args.append("--no-divider")  # a commit message's own `---` line is not a patch divider
    output = git.run([*args, "--trailer", trailer], input=original).stdout
    old, new = original.split(b"\n"), output.split(b"\n")
    wanted = trailer.encode()
    if new.count(wanted) <= old.count(wanted):
        return None
    return _mapped_back(old, new, wanted, output)


def _mapped_back(old: list[bytes], new: list[bytes], wanted: bytes, output: bytes) -> bytes:
    """The original lines with the trailer git added (`new`, `output`) put
    where git put it, and nothing else changed."""
    # git copies what follows the trailer block (final blank and comment
    # lines, a patch's `---` and diff) verbatim: that common tail places the
    # new trailer. Only the block before it may have been rewritten.
    tail = 0
    while tail < len(old) - 1 and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    at, placed = len(old) - tail, len(new) - tail - 1
    if placed < 0 or new[placed] != wanted:
        return output  # a layout we cannot map back: git's own output is still correct
    inserted = [wanted]
    if placed > 0 and new[placed - 1].strip():
        # git appended to a block whose region ran on over blank lines (only
        # empty and comment lines end it) and dropped them: go in before
        # them, or they would split the block
        while at > 0 and not old[at - 1].strip():
            at -= 1
    elif placed > 0 and at > 0 and old[at - 1].strip():
        inserted.insert(0, b"")  # git opened a new trailer paragraph
    if at > 0 and old[at - 1].endswith(b"\r"):
        inserted = [line + b"\r" for line in inserted]  # a CRLF patch stays CRLF
    return b"\n".join(old[:at] + inserted + old[at:])


@record
class Existing:
    """What a message already says about backporting."""

    nominations: tuple[Nomination, ...]  # well-formed requests and `none`s
    wrong: tuple[tuple[str, str], ...]  # lines that do not read or name no line: (as written, what is wrong)

    @classmethod
    def of(cls, message: str, session: Session) -> Existing:
        good, wrong = well_formed(parse(message, session.grammar), session.known_versions)
        return cls(tuple(n for n in good if n.kind in ("request", "none")), tuple(wrong))

    @property
    def said(self) -> str:
        """"'Backport-to: 4.20'", or several, for messages."""
        return ", ".join(repr(n.text) for n in self.nominations)


def covered(existing: Existing, value: Value, session: Session) -> bool:
    """Whether the message already nominates what `value` asks for.

    Raises UsageError when it says the opposite (`none` against versions)."""
    if not existing.nominations:
        return False
    declined = [n for n in existing.nominations if n.kind == "none"]
    requested = [n for n in existing.nominations if n.kind == "request"]
    if value.kind == "none":
        if requested:
            raise UsageError(
                f"it already asks for a backport ({requested[0].text!r})",
                "edit the message to take that out first",
            )
        return True
    if declined:
        raise UsageError(
            f"it already says {declined[0].text!r}", "edit the message to take that out first"
        )
    return covers(requested, value.requests, session.known_versions)


def _refuse_wrong(existing: Existing, what: str) -> None:
    """A wrong nomination line already there is said, and replaced only when asked (--fix)."""
    if existing.wrong:
        text, error = existing.wrong[0]
        raise UsageError(f"{what} already has {text!r} ({error})", "run again with --fix to replace it")


def replace_lines(message: bytes, wrong: set[str], trailer: str, *, patch: bool) -> bytes:
    """`message` with the first line of `wrong` (as parse writes lines)
    replaced by `trailer`, the others of `wrong` taken out; every other
    byte kept. In a patch, only the message before its `---` is looked at."""
    out: list[bytes] = []
    placed = False
    lines = message.split(b"\n")
    for index, raw in enumerate(lines):
        if patch and raw.rstrip(b"\r") == b"---":
            out.extend(lines[index:])
            break
        text = printable(raw.decode("utf-8", "replace").rstrip())
        if text not in wrong:
            out.append(raw)
        elif not placed:
            out.append(trailer.encode() + (b"\r" if raw.endswith(b"\r") else b""))
            placed = True
    return b"\n".join(out)


def infer(session: Session, message: str, what: str) -> Value:
    """The value the hook would suggest for this message's `Fixes:` lines."""
    rules = Rules.from_session(session)
    ancestry = Ancestry(session.git, rules.lines, session.line_branches, copies=copies_in(session))
    fixes = parse(message, rules.grammar).fixes
    ancestry.prime(fixes)
    affected = {v for target in fixes for v in ancestry.locate(target)[1]}
    if not affected:
        reason = "its Fixes: lines name no commit on a maintained line" if fixes else "it has no Fixes: line"
        raise UsageError(f"cannot tell which lines {what} is for: {reason}", "say which with --to V (or --to none)")
    # the lines as found, whatever a bare version means here: `4.18+` or `4.19, 4.20`
    return Value.parse([suggest(affected, [line.version for line in rules.lines])], None, session.known_versions)


def tag_head(session: Session, value: Value | None, comment: str | None, *, fix: bool = False) -> Tagged:
    git = session.git
    head = git.resolve("HEAD")
    if head is None:
        raise UsageError("HEAD has no commit yet", "commit first, then tag it")
    staged = git.run(["diff", "--cached", "--quiet", "HEAD", "--"], check=False)
    if staged.returncode != 0:
        raise UsageError(
            "there are staged changes, which amending HEAD would take in",
            "commit or unstage them (git restore --staged PATH) first",
        )
    published = _published(session, head)
    if published:
        raise UsageError(
            f"HEAD is already on {published}: tagging it would rewrite published history",
            f"nominate it with a note instead: backport nominate {head[:12]} --to V",
        )
    raw = git.run(["cat-file", "commit", head]).stdout
    message = raw.split(b"\n\n", 1)[1] if b"\n\n" in raw else b""
    new, trailer, note = _tagged(session, message, message.decode("utf-8", "replace"), value, comment, fix, "HEAD")
    if new is None:
        return Tagged("HEAD", None, note)
    # --no-verify: only a validated trailer changes, and the commit's other
    # hooks (pre-commit's formatters, a chained commit-msg) already passed it.
    # --cleanup=verbatim: git must not re-clean a message we kept byte for byte.
    git.run(
        ["commit", "--amend", "--quiet", "--no-verify", "--allow-empty", "--cleanup=verbatim", "-F", "-"],
        input=new,
    )
    moved = f"{head[:12]} -> {git.out(['rev-parse', 'HEAD'])[:12]}"
    return Tagged("HEAD", trailer, f"{note}; {moved}" if note else moved)


def _tagged(
    session: Session,
    data: bytes,
    text: str,
    value: Value | None,
    comment: str | None,
    fix: bool,
    what: str,
    *,
    patch: bool = False,
) -> tuple[bytes | None, str, str]:
    """The new bytes of a message or patch, the trailer added and a note on
    what happened; (None, "", why) when nothing is to change."""
    existing = Existing.of(text, session)
    if not fix:
        _refuse_wrong(existing, what)
    if value is None and existing.nominations and not existing.wrong:
        return None, "", f"already nominated ({existing.said}), nothing to do"
    value = value or _with_comment(infer(session, text, what), comment, session)
    if covered(existing, value, session) and not existing.wrong:
        return None, "", f"already nominated ({existing.said}), nothing to do"
    trailer = request_line(session, value)
    if existing.wrong:
        wrong = {line for line, _ in existing.wrong}
        replaced = "replaced " + ", ".join(map(repr, sorted(wrong)))
        return replace_lines(data, wrong, trailer, patch=patch), trailer, replaced
    new = insert_trailer(session.git, data, trailer, patch=patch)
    if new is None:
        return None, "", f"already nominated ({existing.said}), nothing to do"
    return new, trailer, ""


def tag_patch(session: Session, path: str, value: Value | None, comment: str | None, *, fix: bool = False) -> Tagged:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}", "give git format-patch output files") from None
    if os.path.basename(path).endswith("cover-letter.patch"):
        return Tagged(path, None, "a cover letter, left alone")
    if len(_MBOX_FROM.findall(data)) > 1:
        raise UsageError(f"{path} holds several patches", "tag the files of git format-patch without --stdout")
    if not re.search(rb"^---\r?$", data, re.MULTILINE):
        raise UsageError(f"{path} is not a git format-patch file (no '---' line)", "give format-patch output files")
    text = message_body(data.decode("utf-8", "replace").replace("\r\n", "\n"), patch=True)
    new, trailer, note = _tagged(session, data, text, value, comment, fix, path, patch=True)
    if new is None:
        return Tagged(path, None, note)
    try:
        write_atomically(path, new)  # an interrupted tag leaves the patch whole
    except OSError as err:
        raise RepoError(f"cannot write {path}: {err.strerror}", "check the directory is writable") from None
    return Tagged(path, trailer, note)


def _with_comment(value: Value, comment: str | None, session: Session) -> Value:
    return Value.parse([value.text], comment, session.known_versions) if comment else value  # as inferred: exact


def _published(session: Session, head: str) -> str | None:
    """A remote-tracking copy of the unstable branch that already holds HEAD."""
    branch = session.unstable.ref.split("/")[-1]
    rows = session.git.refs(["--contains", head, "refs/remotes"], "%(refname:short)")
    for (name,) in rows:
        if name.split("/", 1)[-1] == branch:
            return name
    return None
