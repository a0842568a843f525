"""Nominations and refusals after the fact, as notes on refs/notes/backport:
written, and shared with a remote.

Notes are appended to, never replaced: the note may already carry other
people's decisions. Only a line asked to be fixed (`--fix`) is rewritten,
and everything else in the note stays as it was. git fetches and pushes no
notes by default, so a fresh clone has none of the team's decisions until
`backport notes fetch`; a fetch merges the remote's notes into ours and a
push merges first, so decisions taken at the same time on both sides all
survive.
"""

from __future__ import annotations

from collections.abc import Iterable

from backport.config import NOTES_REF
from backport.errors import ConfigError, GitError, RepoError, UsageError
from backport.git import Git, check_revision
from backport.models import plural
from backport.nominations import Grammar, parse
from backport.record import record


def read_note(git: Git, commit: str) -> str:
    proc = git.run(["notes", f"--ref={NOTES_REF}", "show", commit], check=False)
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else ""


def append_lines(git: Git, commit: str, lines: list[str]) -> list[str]:
    """Append the lines the note does not already hold; return those added."""
    existing = {line.strip() for line in read_note(git, commit).splitlines()}
    new = [line for line in lines if line.strip() not in existing]
    if new:
        # `append` separates paragraphs with a blank line and never drops the old text
        git.run(["notes", f"--ref={NOTES_REF}", "append", "-m", "\n".join(new), commit])
    return new


def replace_lines(git: Git, commit: str, wrong: set[str], lines: list[str]) -> None:
    """Take the lines of the note that are in `wrong` (compared stripped)
    out, and add `lines` where the first of them was."""
    kept: list[str] = []
    placed = False
    for line in read_note(git, commit).splitlines():
        if line.strip() not in wrong:
            kept.append(line)
        elif not placed:
            kept.extend(lines)
            placed = True
    if not placed:
        kept.extend(lines)
    text = "\n".join(kept).strip("\n") + "\n"
    git.run(["notes", f"--ref={NOTES_REF}", "add", "-f", "-F", "-", commit], input=text.encode("utf-8"))

# -- sharing: backport notes fetch|push ---------------------------------------

# Where a fetch puts the remote's notes until they are merged into ours;
# removed again before the command ends.
FETCHED_REF = NOTES_REF + "-fetched"
# Merging two versions of one note: every line of both, once. Our notes are
# lists of decisions, one a line, so nothing either side wrote is lost.
STRATEGY = "cat_sort_uniq"
_PUSH_ATTEMPTS = 3  # pushes by others between our fetch and our push: merged, then tried again

Decision = tuple[str, str]  # (commit, the decision's line as written)


@record
class Exchange:
    """What a `notes fetch` or `notes push` did."""

    remote: str
    came_in: frozenset[Decision]  # decisions new here
    went_out: frozenset[Decision]  # decisions new there
    held: int  # decisions refs/notes/backport holds afterwards
    remote_had_notes: bool


def default_remote(git: Git, unstable_ref: str) -> str:
    """The remote of the unstable branch's upstream, the remote its name
    starts with (origin/master), else origin."""
    rows = git.config_regexp(r"^(branch\..*\.remote|remote\..*\.url)$")
    remotes = {key[len("remote.") : -len(".url")] for key, _ in rows if key.startswith("remote.")}
    branch = unstable_ref.removeprefix("refs/heads/")
    for key, value in rows:
        if key == f"branch.{branch}.remote" and value and value != ".":
            return value
    short = unstable_ref.removeprefix("refs/remotes/")
    for name in sorted(remotes, key=len, reverse=True):
        if short.startswith(f"{name}/"):
            return name
    if "origin" not in remotes:
        raise UsageError(
            f"no remote to share notes with: {unstable_ref} has no upstream and there is no remote origin",
            "name one: backport notes fetch|push REMOTE (git remote -v lists them)",
        )
    return "origin"


def decisions(git: Git, grammar: Grammar, ref: str = NOTES_REF) -> set[Decision]:
    """Every decision the notes on `ref` hold: each nomination or refusal
    line the grammar reads in a note, with the commit it is about."""
    proc = git.run(["notes", f"--ref={ref}", "list"], check=False)
    if proc.returncode != 0:
        return set()  # no such notes ref
    pairs = [row.split() for row in proc.stdout.decode().splitlines()]
    pairs = [pair for pair in pairs if len(pair) == 2]
    contents = git.blobs(blob for blob, _ in pairs)
    found: set[Decision] = set()
    for blob, commit in pairs:
        text = contents.get(blob, b"").decode("utf-8", "replace")
        found.update((commit, n.text) for n in parse(text, grammar, "note").nominations)
    return found


def fetch(git: Git, remote: str, grammar: Grammar) -> Exchange:
    """Fetch the remote's refs/notes/backport and merge it into ours: a note
    both sides changed keeps every line of both."""
    check_revision(remote)
    before = decisions(git, grammar)
    try:
        theirs = _fetch(git, remote)
        if theirs:
            _merge(git)
    finally:
        _drop_fetched(git)
    after = decisions(git, grammar)
    return Exchange(remote, frozenset(after - before), frozenset(), len(after), theirs is not None)


def push(git: Git, remote: str, grammar: Grammar) -> Exchange:
    """Merge the remote's notes into ours, then push ours there: a fast
    forward, so no decision of theirs is replaced. When someone pushed in
    between, theirs are merged too and the push is tried again."""
    check_revision(remote)
    before = decisions(git, grammar)
    for _ in range(_PUSH_ATTEMPTS):
        try:
            theirs = _fetch(git, remote)
            there = decisions(git, grammar, FETCHED_REF) if theirs else set()
            if theirs:
                _merge(git)
        finally:
            _drop_fetched(git)
        ours = decisions(git, grammar)
        came_in, went_out = frozenset(ours - before), frozenset(ours - there)
        if NOTES_REF not in git.resolve_many([NOTES_REF]):
            return Exchange(remote, came_in, went_out, len(ours), theirs is not None)  # nothing here, nor there
        proc = git.run(["push", "--porcelain", "--", remote, f"{NOTES_REF}:{NOTES_REF}"], check=False)
        if proc.returncode == 0:
            return Exchange(remote, came_in, went_out, len(ours), theirs is not None)
        if not _raced(proc.stdout):
            raise _unreachable(remote, proc.stderr, "push")
    raise RepoError(
        f"{remote} took other pushes of {NOTES_REF} {_PUSH_ATTEMPTS} times while we merged them",
        "run backport notes push again",
    )


def _raced(porcelain: bytes) -> bool:
    """Whether `git push --porcelain` says someone else pushed first: refused
    before sending (fetch first, non-fast-forward), or by the remote when
    the ref moved while we sent (failed to update ref)."""
    return any(
        row.startswith(b"!") and (b"[rejected]" in row or b"(failed to update ref)" in row)
        for row in porcelain.splitlines()
    )


def _fetch(git: Git, remote: str) -> str | None:
    """The remote's notes commit, fetched to FETCHED_REF; None when it has no notes."""
    proc = git.run(
        ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", remote, f"+{NOTES_REF}:{FETCHED_REF}"],
        check=False,
    )
    if proc.returncode != 0:
        if b"couldn't find remote ref" in proc.stderr:
            return None
        raise _unreachable(remote, proc.stderr, "fetch")
    return git.resolve_many([FETCHED_REF]).get(FETCHED_REF)


def _merge(git: Git) -> None:
    """Merge the fetched notes into ours (a fast forward when ours are older or none)."""
    proc = git.run(["notes", f"--ref={NOTES_REF}", "merge", "--quiet", "-s", STRATEGY, FETCHED_REF], check=False)
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace")
        if "identity" in stderr or "tell me who you are" in stderr:
            raise ConfigError(
                "merging the notes needs your name and address for the merge commit",
                "set git config user.name and user.email, then run again",
            )
        raise GitError(["notes", "merge", FETCHED_REF], proc.returncode, stderr)


def _drop_fetched(git: Git) -> None:
    git.run(["update-ref", "-d", FETCHED_REF], check=False)


def _unreachable(remote: str, stderr: bytes, verb: str) -> RepoError:
    lines = [row for row in stderr.decode("utf-8", "replace").splitlines() if row.strip()]
    # git's first fatal/error line says what; what follows is advice ("Please make sure ...")
    said = [row for row in lines if row.startswith(("fatal: ", "error: "))] or lines[-1:]
    why = said[0].removeprefix("fatal: ").removeprefix("error: ") if said else "git said nothing"
    hint = "check the remote (git remote -v) and try again"
    return RepoError(f"cannot {verb} {NOTES_REF} with {remote}: {why}", hint)


def summary(exchange: Exchange, verb: str) -> str:
    """One line on what came in or went out."""
    held = f"{NOTES_REF} holds {plural(exchange.held, 'decision')}"
    if verb == "fetch":
        if not exchange.remote_had_notes:
            return f"{exchange.remote} has no decisions yet (no {NOTES_REF} there); {held}"
        return f"fetched decisions from {exchange.remote}: {_news(exchange.came_in, 'here')}; {held}"
    if not exchange.held:
        return f"nothing to push: no decisions here or on {exchange.remote}"
    came = len(exchange.came_in)
    merged = f" ({plural(came, 'decision')} came in first and {'was' if came == 1 else 'were'} merged)" if came else ""
    return f"pushed decisions to {exchange.remote}: {_news(exchange.went_out, 'there')}{merged}; {held}"


def _news(items: Iterable[Decision], where: str) -> str:
    found = set(items)
    if not found:
        return "nothing new"
    commits = {commit for commit, _ in found}
    return f"{len(found)} new {where}, on {plural(len(commits), 'commit')}"


