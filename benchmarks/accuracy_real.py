"""How right the verdicts are on real history, against an answer key git gives.

    python benchmarks/accuracy_real.py --repo /path/to/xen.git [--window 4.20:1] ...

For each point-release window of a stable line (RELEASE-4.20.0 .. RELEASE-4.20.1
is `--window 4.20:0`), the answer key is what a release manager would read:
the line's commits in the window that carry `master commit: X` (or `(cherry
picked from commit X)`) name the unstable commits X the line took. In a
throwaway clone (objects shared, nothing written to --repo), every X is
nominated for the line with a note, and:

1. at the window's start (the line at its first release), every X should be
   pending; its simulated clean/conflict, and the conflicting paths, are held
   to a real `git cherry-pick` of X onto that release in a throwaway worktree;
2. every "clean after these" is replayed with real git: the `after` commits
   in order, then X, each picked clean?
3. at the window's end (the next release), every X should be applied, and by
   the very line commit that names it;
4. with the window's reference lines removed (the line rewritten with the
   same trees, messages without `master commit:`/`master date:`/`(cherry
   picked ...)`), how many X are still found, and by which evidence
   (patch-id, similar), and how many are missed;
5. false positives of `similar` and patch-id: unstable commits of the same
   months that no stable line took (by any reference line), nominated as
   well, must never be reported applied on the rewritten line.

It prints the counts per window and in total; nothing is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REFERENCE, backport_env, git, resolve_commits  # noqa: E402

STRIPPED = re.compile(r"^(?:master commit:|master date:|\(cherry picked from commit ).*\n?", re.M)
NEGATIVES = 150


@dataclass
class Window:
    version: str
    start: str  # tag
    end: str  # tag
    originals: dict[str, str] = field(default_factory=dict)  # unstable commit -> the line commit naming it


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", required=True, help="a clone of xen.git (bare or not); only read")
    parser.add_argument("--unstable", default="master")
    parser.add_argument(
        "--window", action="append", metavar="VERSION:N",
        help="RELEASE-VERSION.N .. RELEASE-VERSION.N+1 (default: 4.19:1 4.19:2 4.20:0 4.20:1)",
    )
    parser.add_argument("--python", default=sys.executable, help="the Python that runs backport")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway clones (printed)")
    args = parser.parse_args()
    repo = os.path.abspath(args.repo)
    windows = [_window(repo, text) for text in (args.window or ["4.19:1", "4.19:2", "4.20:0", "4.20:1"])]
    taken = _everything_taken(repo)
    totals: Counter[str] = Counter()
    for window in windows:
        counts = _measure(repo, args.unstable, window, taken, args.python, args.keep)
        totals.update(counts)
        _print(f"{window.version} {window.start}..{window.end}", counts)
    _print("total", totals)
    return 0


def _window(repo: str, text: str) -> Window:
    version, _, number = text.partition(":")
    start, end = f"RELEASE-{version}.{number}", f"RELEASE-{version}.{int(number) + 1}"
    window = Window(version, start, end)
    log = git(repo, "log", "-z", "--format=%H%x00%B", f"{start}..{end}")
    fields = log.split("\0")
    pairs = [(sha.strip(), written) for sha, body in zip(fields[0::2], fields[1::2], strict=False)
             for written in REFERENCE.findall(body)]
    full = resolve_commits(repo, [written for _, written in pairs])
    for sha, written in pairs:
        if written in full:
            window.originals.setdefault(full[written], sha)
    return window


def _everything_taken(repo: str) -> set[str]:
    """Every unstable commit any stable line names by a reference line (as written: full or abbreviated)."""
    log = git(repo, "log", "--format=%B", "--branches=stable-*")
    return set(REFERENCE.findall(log))


def _measure(repo: str, unstable: str, window: Window, taken: set[str], python: str, keep: bool) -> Counter[str]:
    counts: Counter[str] = Counter()
    work = tempfile.mkdtemp(prefix=f"accuracy-{window.version}-")
    clone = os.path.join(work, "xen.git")
    try:
        subprocess.run(["git", "clone", "-q", "--bare", "--shared", repo, clone], check=True)
        negatives = _negatives(clone, unstable, window, taken)
        for commit in [*window.originals, *negatives]:
            _note(clone, commit, f"Backport-to: {window.version}")
        counts["backports in the window"] = len(window.originals)
        counts["negatives nominated"] = len(negatives)

        at_start = _check(python, clone, unstable, window.version, window.start)
        _at_start(clone, window, at_start, counts)
        at_end = _check(python, clone, unstable, window.version, window.end)
        for commit, line_commit in window.originals.items():
            t = at_end.get(commit)
            if t and t["state"] == "applied" and t["applied_as"] == line_commit:
                counts["end: applied as the line commit naming it"] += 1
            elif t and t["state"] == "applied":
                counts[f"end: applied otherwise ({t['evidence']})"] += 1
            else:
                counts[f"end: {t['state'] if t else 'no verdict'}"] += 1

        stripped, mapped = _strip(clone, window)
        without = _check(python, clone, unstable, window.version, stripped)
        for commit, line_commit in window.originals.items():
            t = without.get(commit)
            state = t["state"] if t else "no verdict"
            how = ""
            if state == "applied" and t["applied_as"]:
                right = t["applied_as"] == mapped.get(line_commit)
                how = f" by {t['evidence']}" + (", the right line commit" if right else ", ANOTHER LINE COMMIT")
            elif state == "applied":
                how = f" by {t['evidence']}"
            counts[f"no reference lines: {state}{how}"] += 1
            if state == "pending":
                print(f"  missed without reference lines: {commit[:12]} (on the line as {line_commit[:12]})",
                      file=sys.stderr)
        for commit in negatives:
            t = without.get(commit)
            if t and t["state"] == "applied" and t["evidence"] in ("similar", "patch-id"):
                counts[f"FALSE POSITIVE: a commit never backported reported applied by {t['evidence']}"] += 1
                print(f"  false positive: {commit[:12]} {t['evidence']} as {t['applied_as']}", file=sys.stderr)
    finally:
        if keep:
            print(f"kept {clone}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return counts


def _negatives(clone: str, unstable: str, window: Window, taken: set[str]) -> list[str]:
    """Unstable commits that landed between the window's releases and that no
    stable line names: never backported (as far as reference lines tell)."""
    since = git(clone, "log", "-1", "--format=%cI", window.start).strip()
    until = git(clone, "log", "-1", "--format=%cI", window.end).strip()
    rows = git(clone, "log", "--no-merges", "--format=%H", f"--since={since}", f"--until={until}", unstable).split()
    found = []
    for sha in rows:
        if sha not in window.originals and not any(sha.startswith(t) for t in taken if len(t) >= 7):
            found.append(sha)
        if len(found) >= NEGATIVES:
            break
    return found


def _note(clone: str, commit: str, text: str) -> None:
    subprocess.run(["git", "-C", clone, "notes", "--ref=backport", "append", "-m", text, commit],
                   check=True, capture_output=True)


def _check(python: str, clone: str, unstable: str, version: str, ref: str) -> dict[str, dict]:
    """backport check --format json for one line at `ref`: commit -> that line's target."""
    argv = [python, "-m", "backport", "--repo", clone, "--unstable", unstable, "--line", f"{version}={ref}",
            "check", "--format", "json"]
    proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **backport_env()})
    if proc.returncode != 0:
        raise SystemExit(f"backport check failed: {proc.stderr.strip()}")
    document = json.loads(proc.stdout)
    return {c["commit"]: t for c in document["candidates"] for t in c["targets"] if t["version"] == version}


def _at_start(clone: str, window: Window, verdicts: dict[str, dict], counts: Counter[str]) -> None:
    """Items 1 and 2: the window's backports before any of them was picked."""
    tree = os.path.join(os.path.dirname(clone), "worktree")
    subprocess.run(["git", "-C", clone, "worktree", "add", "-q", "--detach", tree, window.start], check=True)
    env = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b", "GIT_COMMITTER_NAME": "a",
           "GIT_COMMITTER_EMAIL": "a@b"}

    def pick(commits: list[str]) -> tuple[bool, list[str]]:
        git(tree, "reset", "-q", "--hard", window.start)
        for commit in commits:
            proc = subprocess.run(["git", "-C", tree, "cherry-pick", "--allow-empty", "--keep-redundant-commits",
                                   "-m", "1", commit] if _is_merge(clone, commit) else
                                  ["git", "-C", tree, "cherry-pick", "--allow-empty", "--keep-redundant-commits",
                                   commit], capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                paths = sorted({row.split("\t", 1)[1] for row in git(tree, "ls-files", "-u").splitlines()})
                subprocess.run(["git", "-C", tree, "cherry-pick", "--abort"], capture_output=True)
                return False, paths
        return True, []

    for commit in window.originals:
        t = verdicts.get(commit)
        state = t["state"] if t else "no verdict"
        counts[f"start: {state}" + (f" by {t['evidence']}" if state == "applied" else "")] += 1
        if state != "pending":
            continue
        clean, paths = pick([commit])
        simulated_clean = t["applies"] == "clean" and not t["after"]
        if clean == simulated_clean and (clean or paths == sorted(t["conflicts"])):
            counts["start: simulation agrees with git cherry-pick"] += 1
        elif not clean and t["applies"] == "clean" and t["after"]:
            counts["start: conflicts alone, clean after prerequisites (checked below)"] += 1
        else:
            counts["START: SIMULATION DISAGREES WITH GIT"] += 1
            print(f"  disagree: {commit[:12]} simulated {t['applies']} {t['conflicts']}, git {clean} {paths}",
                  file=sys.stderr)
        if t["applies"] == "clean" and t["after"]:
            counts["start: clean after these"] += 1
            ok, _ = pick([*t["after"], commit])
            counts["start: after replayed with git: clean" if ok else "START: AFTER REPLAYED WITH GIT CONFLICTS"] += 1
            needed = [not pick([c for c in t["after"] if c != left_out] + [commit])[0] for left_out in t["after"]]
            counts["start: after is minimal (each one left out, git conflicts)" if all(needed)
                   else "start: after NOT minimal"] += 1
            if not all(needed):
                spare = [c[:12] for c, n in zip(t["after"], needed, strict=True) if not n]
                print(f"  not minimal: {commit[:12]} after {len(t['after'])}, git does without {spare}",
                      file=sys.stderr)
        if (t.get("reason") or "").startswith("warning:"):
            counts["start: pending with a warning (named explicitly, Fixes: target absent)"] += 1
    subprocess.run(["git", "-C", clone, "worktree", "remove", "--force", tree], capture_output=True)


def _is_merge(clone: str, commit: str) -> bool:
    return len(git(clone, "rev-list", "--parents", "-n", "1", commit).split()) > 2


def _strip(clone: str, window: Window) -> tuple[str, dict[str, str]]:
    """The window's line commits again, with the same trees and authors but
    no reference lines: a branch whose backports only patch-id and
    `similar` can find."""
    mapped: dict[str, str] = {}
    rows = git(clone, "rev-list", "--reverse", "--topo-order", "--parents", f"{window.start}..{window.end}").splitlines()
    for row in rows:
        sha, *parents = row.split()
        info = git(clone, "log", "-1", "--format=%an%x00%ae%x00%ad%x00%cn%x00%ce%x00%cd%x00%T", "--date=raw", sha)
        an, ae, ad, cn, ce, cd, tree = info.rstrip("\n").split("\0")
        body = git(clone, "log", "-1", "--format=%B", sha)
        env = {**os.environ, "GIT_AUTHOR_NAME": an, "GIT_AUTHOR_EMAIL": ae, "GIT_AUTHOR_DATE": ad,
               "GIT_COMMITTER_NAME": cn, "GIT_COMMITTER_EMAIL": ce, "GIT_COMMITTER_DATE": cd}
        argv = ["git", "-C", clone, "commit-tree", tree]
        for parent in parents:
            argv += ["-p", mapped.get(parent, parent)]
        proc = subprocess.run(argv, input=STRIPPED.sub("", body), capture_output=True, text=True, env=env, check=True)
        mapped[sha] = proc.stdout.strip()
    tip = mapped[git(clone, "rev-parse", f"{window.end}^{{commit}}").strip()]
    git(clone, "update-ref", f"refs/heads/stripped-{window.version}", tip)
    return f"stripped-{window.version}", mapped


def _print(title: str, counts: Counter[str]) -> None:
    print(f"\n== {title}")
    for key in sorted(counts):
        print(f"  {counts[key]:5d}  {key}")


if __name__ == "__main__":
    sys.exit(main())
