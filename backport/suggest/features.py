"""What `suggest` knows about each unstable commit, from one streamed `git log`.

The log prints, per commit, its id, parents, author and committer mail,
committer date and message, and with `--raw` the paths it changes with the
blob each had before: no process per commit. From that come the commit's
own features (words of the subject and of the body without its trailers,
security advisories, trailer counts, people, path prefixes, series) and,
against a line, whether the files it changes are there and unchanged since
the line's fork (one `git ls-tree` per fork point).

Features are names ("w:leak", "p:xen/arch/x86"): a model is a weight per name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

from backport.git import Git, RecordSplitter
from backport.record import record

VERSION = 3  # bump when what a commit's features are changes: cached models are then retrained

_FORMAT = "%H%x00%P%x00%ae%x00%ce%x00%ct%x00%B"
_FIELDS = 6
_NULL = "0" * 40
_TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*)$")
_MAIL = re.compile(r"<([^<>@\s]+@[^<>\s]+)>")
_WORD = re.compile(r"[a-z][a-z0-9_]{2,}")
_SECURITY = re.compile(r"\b(XSA-\d+|CVE-\d{4}-\d+)", re.I)
_FIXES = re.compile(r"^(?:fixes|amends):[ \t]*([0-9a-fA-F]{7,40})\b", re.I | re.M)
_REVERT = re.compile(r"^This reverts commit ([0-9a-fA-F]{7,40})", re.M)
# Linux's opt-out of automatic selection: never suggested (SPEC, Linux stable row)
_NOAUTOSEL = re.compile(r"^cc:.*stable\+noautosel@", re.I | re.M)
_PEOPLE = {"reviewed-by": "r", "acked-by": "k", "reported-by": "rep", "tested-by": "t", "suggested-by": "sug"}
_STOP = frozenset(
    "the and for with this that from are was were not but has have been when which into also than then "
    "its can all only there their should would could will may does did use used using after before".split()
)
SERIES_WINDOW = 300  # seconds: patches committed together by one author within this are one series


@record
class Commit:
    """One unstable commit as `suggest` sees it."""

    id: str
    parents: tuple[str, ...]
    author: str  # mail
    committer: str  # mail
    committed: int  # committer date, seconds since the epoch
    subject: str
    tokens: tuple[str, ...]  # its own features, without line or history ones
    fixes: tuple[str, ...]  # Fixes:/Amends: targets as written
    reverts: tuple[str, ...]
    paths: tuple[str, ...]  # paths it changes
    before: tuple[str, ...]  # each path's blob before the change ("" when added)
    security: bool  # names an XSA or a CVE
    opt_out: bool  # asks not to be selected automatically


def read_history(git: Git, tip: str, stop: Iterable[str]) -> list[Commit]:
    """Non-merge commits of `tip ^stop...`, oldest first, in one streamed `git log --raw`."""
    args = ["log", "-z", "--raw", "--no-renames", "--no-abbrev", "--no-color", "--no-merges", f"--format={_FORMAT}"]
    args.append(tip)
    args += [f"^{s}" for s in stop]
    found = list(_parse(git.stream([*args, "--"])))
    found.reverse()
    return found


def _parse(chunks: Iterable[bytes]) -> Iterator[Commit]:
    """Commits from `git log -z --raw` output: the format's fields, then for
    each changed path a raw entry (":mode mode blob blob status") and the path."""
    splitter = RecordSplitter(1)
    fields: list[bytes] = []
    header: list[bytes] | None = None
    paths: list[str] = []
    before: list[str] = []
    entry: bytes | None = None
    for chunk in chunks:
        for (field,) in splitter.push(chunk):
            if entry is not None:
                paths.append(field.decode("utf-8", "surrogateescape"))
                before.append(_blob(entry))
                entry = None
            elif header is not None and not fields and field.lstrip(b"\n").startswith(b":"):
                entry = field
            else:
                fields.append(field.lstrip(b"\n") if not fields else field)
                if len(fields) == _FIELDS:
                    if header is not None:
                        yield _commit(header, paths, before)
                    header, fields, paths, before = fields, [], [], []
    splitter.end()
    if header is not None:
        yield _commit(header, paths, before)


def _blob(entry: bytes) -> str:
    """The pre-image blob of a raw entry (empty for an added path)."""
    parts = entry.lstrip(b"\n").split(b" ")
    blob = parts[2].decode() if len(parts) > 2 else ""
    return "" if blob == _NULL else blob


def _commit(header: list[bytes], paths: list[str], before: list[str]) -> Commit:
    sha, parents, author, committer, when, body = header
    message = body.decode("utf-8", "replace")
    subject, _, rest = message.partition("\n")
    text, trailers = split_trailers(rest)
    who = author.decode("utf-8", "replace").lower(), committer.decode("utf-8", "replace").lower()
    tokens = commit_tokens(subject, text, trailers, *who, paths)
    return Commit(
        id=sha.decode(),
        parents=tuple(parents.decode().split()),
        author=who[0],
        committer=who[1],
        committed=int(when),
        subject=subject.strip(),
        tokens=tokens,
        fixes=tuple(m.lower() for m in _FIXES.findall(message)),
        reverts=tuple(m.lower() for m in _REVERT.findall(message)),
        paths=tuple(paths),
        before=tuple(before),
        security=bool(_SECURITY.search(message)),
        opt_out=bool(_NOAUTOSEL.search(message)),
    )


def split_trailers(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The body without its trailer lines, and those lines as (key lower case, value).

    Any `Key: value` line counts, wherever it is: Xen keeps `Backport:` and
    `Fixes:` in paragraphs of their own."""
    body: list[str] = []
    trailers: list[tuple[str, str]] = []
    for row in text.splitlines():
        match = _TRAILER.match(row)
        if match and not row.startswith(("http", " ")):
            trailers.append((match.group(1).lower(), match.group(2)))
        else:
            body.append(row)
    return "\n".join(body), trailers


def commit_tokens(
    subject: str,
    body: str,
    trailers: Sequence[tuple[str, str]],
    author: str,
    committer: str,
    paths: Sequence[str],
) -> tuple[str, ...]:
    """A commit's own features, as names."""
    tokens: set[str] = {"bias", f"a:{author}", f"c:{committer}"}
    if _REVERT.search(body):
        tokens.add("revert")
    low = subject.lower()
    prefix, colon, title = low.rpartition(":")
    if colon:
        tokens.update(f"s:{part.strip()}" for part in prefix.split(":") if part.strip())
    tokens.update(f"w:{w}" for w in _WORD.findall(title if colon else low) if w not in _STOP)
    # Words of the body are left out: on Xen they cost average precision
    # (cutoff 0.594 with, 0.608 without; replay 0.402 with, 0.410 without)
    # and took 2.5 times as long to train on.
    if _SECURITY.search(subject) or _SECURITY.search(body):
        tokens.add("security")
    tokens.update(_trailer_tokens(trailers))
    tokens.update(_path_tokens(paths))
    return tuple(sorted(tokens))


def _trailer_tokens(trailers: Sequence[tuple[str, str]]) -> set[str]:
    """The people of the trailers (reviewers, ackers, ...), and each key with its count."""
    tokens: set[str] = set()
    counts: dict[str, int] = {}
    for key, value in trailers:
        counts[key] = counts.get(key, 0) + 1
        short = _PEOPLE.get(key)
        mail = _MAIL.search(value) if short else None
        if mail:
            tokens.add(f"{short}:{mail.group(1).lower()}")
    for key, n in counts.items():
        tokens.add(f"t:{key}")
        tokens.add(f"t:{key}:{min(n, 3)}")
    return tokens


def _path_tokens(paths: Sequence[str]) -> set[str]:
    """How many files, the directories (three levels) and the kinds of file."""
    tokens = {f"files:{bucket(len(paths), (1, 2, 4, 10))}"}
    for path in paths:
        parts = path.split("/")
        for depth in range(1, min(len(parts), 4)):
            tokens.add("p:" + "/".join(parts[:depth]))
        name = parts[-1]
        if "." in name:
            tokens.add(f"ext:{name.rsplit('.', 1)[1].lower()}")
    return tokens


def bucket(n: float, edges: Sequence[float]) -> str:
    """A count as a range name: 0, 1, 2-4, 4-10, 10+ for edges (1, 2, 4, 10),
    each range without its upper end ("2-4" is 2 or 3). The names are the
    model's tokens: changing them changes what a trained model reads."""
    low = 0.0
    for edge in edges:
        if n < edge:
            return f"{low:g}-{edge:g}" if edge - low > 1 else f"{low:g}"
        low = edge
    return f"{low:g}+"



def series(commits: Sequence[Commit]) -> dict[str, tuple[str, ...]]:
    """Commit -> the commits of its series (itself included): consecutive
    commits of one author committed within SERIES_WINDOW of each other, as a
    series applied with `git am` lands. Projects without Link: or Message-Id
    trailers (Xen) leave no other trace of a series."""
    groups: list[list[Commit]] = []
    for commit in commits:
        last = groups[-1][-1] if groups else None
        together = last is not None and 0 <= commit.committed - last.committed <= SERIES_WINDOW
        if last is not None and together and last.author == commit.author:
            groups[-1].append(commit)
        else:
            groups.append([commit])
    found: dict[str, tuple[str, ...]] = {}
    for group in groups:
        ids = tuple(c.id for c in group)
        for c in group:
            found[c.id] = ids
    return found


def fork_trees(git: Git, forks: Iterable[str]) -> dict[str, dict[str, str]]:
    """Fork commit -> {path: blob} of its whole tree, one `git ls-tree -r` each."""
    return {fork: {path: oid for path, (_, oid) in git.tree_files(fork).items()} for fork in dict.fromkeys(forks)}


def presence(commit: Commit, tree: Mapping[str, str]) -> tuple[str, str]:
    """How much of what the commit changes is on a line at its fork: the
    share of changed files that exist there, and of those unchanged since
    (the same blob the commit started from: the pick is likely clean)."""
    existing = [(p, b) for p, b in zip(commit.paths, commit.before, strict=True) if b]
    if not existing:
        return "exist:new", "same:new"
    there = [tree.get(p) for p, _ in existing]
    present = sum(1 for t in there if t is not None)
    same = sum(1 for t, (_, b) in zip(there, existing, strict=True) if t == b)
    return f"exist:{_share(present, len(existing))}", f"same:{_share(same, len(existing))}"


def _share(n: int, total: int) -> str:
    if n == total:
        return "all"
    if n == 0:
        return "none"
    return "most" if n * 2 >= total else "some"
