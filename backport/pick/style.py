"""The line's reference style, and the message a pick gets in it.

A stable line names the original of each backport in one of three ways, the
same lines `backport.verdict.detect` reads back:

  master-commit       Xen: `master commit: <sha>` and `master date: <date>`
                      (the original's committer date, as `git log --format=%ci`
                      prints it) attached to the last paragraph;
  cherry-picked-from  `(cherry picked from commit <sha>)`, exactly as
                      `git cherry-pick -x` writes it (QEMU, most projects);
  upstream-line       Linux stable: `commit <sha> upstream.` as the first
                      paragraph of the body.

Which one a line uses is counted from its own history (the commits that carry
each kind of line), unless `pick.reference` says. The message rules follow
git's own (sequencer.c, trailer.c), so a `cherry-picked-from` pick carries
byte for byte the message `git cherry-pick -x` (with `-s`: `-x -s`) gives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from backport.nominations import trailer_block
from backport.record import record
from backport.verdict.detect import CHERRY_PICKED_FROM, MASTER_COMMIT, UPSTREAM_LINE, LineIndex

STYLES = (MASTER_COMMIT, CHERRY_PICKED_FROM, UPSTREAM_LINE)
DEFAULT = CHERRY_PICKED_FROM  # git's own -x, for a line that shows no preference
AUTO = "auto"


@record
class Style:
    """The reference style a run writes, and why."""

    reference: str  # one of STYLES
    source: str  # "pick.reference (git config backport.pick.reference)" or what was counted
    counts: tuple[tuple[str, int], ...] = ()  # (style, line commits carrying it), most first


def choose(setting: str, setting_source: str, index: LineIndex | None) -> Style:
    """The style `pick.reference` names, or the one the line's history uses most."""
    if setting != AUTO:
        return Style(setting, f"pick.reference ({setting_source})")
    counts = count(index) if index is not None else {}
    # most carriers first; on a tie, git's own -x, then the order of STYLES
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] != DEFAULT, STYLES.index(kv[0])))
    shown = tuple((name, n) for name, n in ranked if n)
    if not shown:
        return Style(DEFAULT, "no reference lines on the line yet: git's -x", ())
    total = sum(n for _, n in shown)
    best, n = shown[0]
    return Style(best, f"the line's history: {n} of {total} backports carry it", shown)


def count(index: LineIndex) -> dict[str, int]:
    """Line commits carrying each kind of reference line (a commit counts once per kind)."""
    carriers: dict[str, set[str]] = {style: set() for style in STYLES}
    for _written, carrier, evidence in index.references:
        if evidence in carriers:
            carriers[evidence].add(carrier)
    return {style: len(found) for style, found in carriers.items()}


# -- the message ---------------------------------------------------------------


@record
class Original:
    """What a pick needs to know of the commit it picks, from the raw object."""

    commit: str
    message: str  # as stored (decoded by its `encoding` header; bytes that do not decode kept as surrogates)
    author_name: str
    author_email: str
    author_date: str  # raw: "<epoch> <+zzzz>"
    committer_date: str  # raw
    parents: tuple[str, ...]

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


def parse_commit(commit: str, raw: bytes) -> Original:
    """An Original from `git cat-file commit` output."""
    head, _, body = raw.partition(b"\n\n")
    fields: dict[bytes, bytes] = {}
    parents: list[str] = []
    for line in head.split(b"\n"):
        if line.startswith(b" "):  # continuation of a multi-line header (gpgsig)
            continue
        key, _, value = line.partition(b" ")
        if key == b"parent":
            parents.append(value.decode())
        else:
            fields.setdefault(key, value)
    encoding = fields.get(b"encoding", b"utf-8").decode("ascii", "replace")
    try:
        "".encode(encoding)
    except LookupError:
        encoding = "utf-8"

    def text(data: bytes) -> str:
        return data.decode(encoding, "surrogateescape")

    name, email, date = _ident(text(fields.get(b"author", b"")))
    _, _, committed = _ident(text(fields.get(b"committer", b"")))
    return Original(commit, text(body), name, email, date, committed, tuple(parents))


def _ident(value: str) -> tuple[str, str, str]:
    """("Name", "mail", "<epoch> <tz>") from "Name <mail> <epoch> <tz>"."""
    name, _, rest = value.partition(" <")
    email, _, date = rest.rpartition("> ")
    return name, email, date.strip()


def git_date(raw: str) -> str:
    """A raw git date as `%ci` prints it: 2025-07-14 17:31:08 +0100 (the
    author's own zone), which is how Xen writes `master date:`."""
    epoch, _, zone = raw.partition(" ")
    sign = -1 if zone.startswith("-") else 1
    digits = zone.lstrip("+-").rjust(4, "0")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]))
    moment = datetime.fromtimestamp(int(epoch), timezone(sign * offset))
    return moment.strftime("%Y-%m-%d %H:%M:%S ") + (zone or "+0000")


def message(original: Original, style: str, signoff: str | None = None) -> str:
    """The line's message for a pick of `original`: its own message with the
    reference line of `style`, and `Signed-off-by: signoff` when given."""
    text = _complete(original.message)
    if style == CHERRY_PICKED_FROM:
        text = _attach(text, f"(cherry picked from commit {original.commit})\n")
        if signoff:
            text = _signed(text, signoff)
    elif style == MASTER_COMMIT:
        if signoff:
            text = _signed(text, signoff)
        footer = f"master commit: {original.commit}\nmaster date: {git_date(original.committer_date)}\n"
        text = _attach(text, footer)
    elif style == UPSTREAM_LINE:
        title, blank, body = text.partition("\n\n")
        reference = f"commit {original.commit} upstream.\n"
        text = f"{title}\n\n{reference}" + (f"\n{body}" if blank and body.strip() else "")
        if signoff:
            text = _signed(text, signoff)
    else:
        raise ValueError(f"unknown reference style {style!r}")
    return stripspace(text)


def _complete(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def _attach(text: str, footer: str) -> str:
    """`footer` after the message: straight under a trailer block, else as
    a paragraph of its own (git's rule for -x)."""
    return text + footer if has_trailers(text) else text + "\n" + footer


def _signed(text: str, who: str) -> str:
    """git's append_signoff: after the trailers, unless it is the last one already."""
    line = f"Signed-off-by: {who}\n"
    trailers = trailer_lines(text)
    if trailers and trailers[-1] + "\n" == line:
        return text
    if not trailers:
        text = text if text.endswith("\n\n") else text + "\n"
    return text + line


def has_trailers(text: str) -> bool:
    return bool(trailer_lines(text))


def trailer_lines(text: str) -> list[str]:
    """The lines of the message's trailer block, as git's trailer.c finds it
    (backport.nominations.trailer_block, held to `git interpret-trailers`),
    without blank and comment lines."""
    lines = text.split("\n")
    return [lines[i] for i in trailer_block(lines) if lines[i].strip() and not lines[i].startswith("#")]


def stripspace(text: str) -> str:
    """git stripspace without comment removal (what cherry-pick -x commits):
    no trailing blanks on a line, no run of empty lines, none at either end."""
    out: list[str] = []
    pending_blank = False
    for line in text.split("\n"):
        line = line.rstrip(" \t\r\v\f")
        if not line:
            pending_blank = bool(out)
            continue
        if pending_blank:
            out.append("")
            pending_blank = False
        out.append(line)
    return "\n".join(out) + "\n" if out else ""


def author_env(original: Original) -> Mapping[str, str]:
    """The original's author, for the git commit that records the pick."""
    return {
        "GIT_AUTHOR_NAME": original.author_name,
        "GIT_AUTHOR_EMAIL": original.author_email,
        "GIT_AUTHOR_DATE": f"@{original.author_date}",
    }


def references(text: str, commit: str, style: str) -> bool:
    """Whether `text` already carries `style`'s reference to `commit`."""
    patterns = {
        CHERRY_PICKED_FROM: rf"^\(cherry picked from commit {commit}\)",
        MASTER_COMMIT: rf"^master commit: {commit}$",
        UPSTREAM_LINE: rf"^commit {commit} upstream\.",
    }
    return re.search(patterns[style], text, re.M) is not None
