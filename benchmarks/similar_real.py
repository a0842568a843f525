"""How `similar` separates backports from look-alikes, on a real repository.

Every (unstable commit U, stable line commit L) pair with the same subject as
`similar` compares it (backport.verdict.detect.compared_subject) is sorted by
what L's own reference lines say (`master commit:`, `(cherry picked from
commit ...)`):

- true: L names U, so L is a backport of U;
- look-alike: L names another commit, so L is not a backport of U (what
  `similar` must not take for one);
- unreferenced: L names nothing (most are backports made without -x).

For each kind, how many pairs share at least SIMILAR_SHARE of their changed
lines, and how many more share SIMILAR_TOKENS of their tokens only. A look-alike
caught by either is a false positive that `similar` could make.

    python benchmarks/similar_real.py --repo /path/to/xen.git [--since 2018-01-01]

Reads the repository only (git log, rev-parse, diff-tree).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections import Counter, defaultdict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import REFERENCE, resolve_commits  # noqa: E402

from backport.git import Git  # noqa: E402
from backport.verdict.detect import (  # noqa: E402
    SIMILAR_SHARE,
    SIMILAR_TOKENS,
    changed_lines,
    compared_subject,
    share,
    tokens,
)


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, errors="replace", check=True).stdout


def log(repo: str, *revisions: str) -> list[tuple[str, list[str], str, str]]:
    """(commit, [first parent], subject, message) of every non-merge commit."""
    fields = git(repo, "log", "--no-merges", "-z", "--format=%H%x00%P%x00%s%x00%B", *revisions).split("\0")
    rows = []
    for i in range(0, len(fields) - 3, 4):
        commit, parents, subject, message = fields[i : i + 4]
        rows.append((commit.strip("\n"), parents.split()[:1], subject, message))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", required=True, help="a clone of the project (bare or not); only read")
    ap.add_argument("--unstable", default="master")
    ap.add_argument("--since", default="2018-01-01", help="unstable commits from this date on")
    ap.add_argument("--branches", default="refs/heads/stable-*", help="the stable lines' refs (a for-each-ref pattern)")
    args = ap.parse_args(argv)
    repo = os.path.abspath(args.repo)
    unstable = log(repo, args.unstable, f"--since={args.since}")
    parents = {commit: first for commit, first, _, _ in unstable}
    by_subject: dict[str, list[str]] = defaultdict(list)
    for commit, _, subject, _ in unstable:
        by_subject[compared_subject(subject)].append(commit)
    branches = git(repo, "for-each-ref", "--format=%(refname)", args.branches).split()
    line_commits = []
    for branch in branches:
        fork = git(repo, "merge-base", args.unstable, branch).strip()
        line_commits += log(repo, f"{fork}..{branch}")
    written = sorted({n for _, _, _, message in line_commits for n in REFERENCE.findall(message)})
    full = resolve_commits(repo, written)
    pairs: list[tuple[str, str, str]] = []  # (U, L, kind)
    for commit, first, subject, message in line_commits:
        parents[commit] = first
        named = {full[n] for n in REFERENCE.findall(message) if n in full}
        for original in by_subject.get(compared_subject(subject), []):
            kind = "true" if original in named else "look-alike" if named else "unreferenced"
            pairs.append((original, commit, kind))
    ids = list(dict.fromkeys(x for u, line, _ in pairs for x in (u, line)))
    changed: dict[str, Counter[str]] = {}
    for start in range(0, len(ids), 500):
        changed.update(changed_lines(Git(repo), ids[start : start + 500], parents))
    counts: Counter[tuple[str, str]] = Counter()
    for original, commit, kind in pairs:
        ours, theirs = changed.get(original), changed.get(commit)
        lines = share(ours, theirs) if ours and theirs else 0.0
        words = share(tokens(ours), tokens(theirs)) if ours and theirs else 0.0
        counts[(kind, "pairs")] += 1
        if lines >= SIMILAR_SHARE:
            counts[(kind, f"lines >= {SIMILAR_SHARE}")] += 1
        elif words >= SIMILAR_TOKENS:
            counts[(kind, f"tokens >= {SIMILAR_TOKENS} only")] += 1
        if kind == "look-alike" and (lines >= SIMILAR_SHARE or words >= SIMILAR_TOKENS):
            print(f"  look-alike caught: {original[:12]} ~ {commit[:12]} lines {lines:.2f} tokens {words:.2f}")
    print(f"{repo}: {len(branches)} lines, {len(unstable)} unstable commits since {args.since}")
    for kind in ("true", "look-alike", "unreferenced"):
        found = {what: n for (k, what), n in counts.items() if k == kind}
        print(f"  {kind:<13} " + ", ".join(f"{what}: {n}" for what, n in sorted(found.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
