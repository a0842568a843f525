#!/usr/bin/env python3
"""`backport pick` on a real Xen window, against a plain `git cherry-pick -x` loop, same run.

The window: a stable line at one point release (default stable-4.20 at
RELEASE-4.20.1) and the unstable commits that line really took before its
next release (RELEASE-4.20.2), found from the `master commit:` and
`(cherry picked from commit ...)` lines of the stable commits in between. In
a throwaway bare clone (`git clone --bare --shared`: the repository given is
only read) the line's branch is set back to the first release and each of
those originals is nominated with a note (`Backport-to: 4.20`), as a
maintainer would have after the fact.

Then, rounds alternated:

1. `backport pick --line 4.20` with the check cache warm (what a maintainer
   who ran `backport report` first sees), the run's branch removed before
   each round; `--skip` when a pick stops on a conflict;
2. the floor: the same commits, in the plan's order, picked by a
   `git cherry-pick -x` loop in a worktree made the same way
   (`git worktree add`, then removed), `--skip` on a conflict or an empty pick.

Printed: the window, the plan, the median of each, their ratio; a cold run
(cache removed) once, for context; then, on the branch the last pick left,
`backport check` with the line at that branch: how many picked commits it
reports `applied`, with which evidence; and whether every picked tree equals
the loop's, commit by commit.

Timings on a shared machine are indicative only: the ratio, taken in one
run with the two sides alternated, is the figure to read.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402


def git(repo: str, *args: str, input: str | None = None) -> str:
    proc = subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, input=input)
    if proc.returncode:
        raise SystemExit(f"bench_pick: git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def window(repo: str, start: str, end: str, unstable: str) -> list[str]:
    """The originals of the stable commits in start..end, full ids, as they first appear."""
    log = git(repo, "log", "--reverse", "--no-merges", "--format=%B%x00", f"{start}..{end}")
    written = []
    for body in log.split("\0"):
        match = common.REFERENCE.search(body)
        if match:
            written.append(match.group(1))
    resolved = common.resolve_commits(repo, written)
    full = [resolved[w] for w in written if w in resolved]
    on_unstable = common.on_branch(repo, full, unstable)
    return on_unstable


def throwaway_clone(source: str, into: str, line: str, start: str, version: str, originals: list[str]) -> str:
    clone = os.path.join(into, "xen.git")
    subprocess.run(["git", "clone", "-q", "--bare", "--shared", source, clone], check=True)
    git(clone, "config", "gc.auto", "0")
    git(clone, "branch", "-f", line, f"{start}^{{commit}}")
    for commit in originals:
        git(clone, "notes", "--ref=backport", "add", "-f", "-m", f"Backport-to: {version}", commit)
    return clone


def backport(clone: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **common.backport_env()}
    return subprocess.run([sys.executable, "-m", "backport", "--repo", clone, *args], capture_output=True, text=True,
                          env=env)


class PickRun:
    """`backport pick --line V`, skipping over conflicts, from a fresh branch."""

    def __init__(self, clone: str, version: str, branch: str, *, cold: bool = False) -> None:
        self.clone, self.version, self.branch, self.cold = clone, version, branch, cold
        self.name = "backport pick (cold check)" if cold else "backport pick"
        self.outcomes: Counter[str] = Counter()

    def prepare(self) -> None:
        subprocess.run(["git", "-C", self.clone, "update-ref", "-d", f"refs/heads/{self.branch}"], capture_output=True)
        if self.cold:
            shutil.rmtree(common.backport_cache_dir(self.clone), ignore_errors=True)

    def run(self) -> float:
        self.prepare()
        begin = time.perf_counter()
        proc = backport(self.clone, "pick", "--line", self.version)
        output = proc.stdout
        while proc.returncode == 1:
            proc = backport(self.clone, "pick", "--skip")
            output += proc.stdout
        elapsed = time.perf_counter() - begin
        if proc.returncode:
            raise SystemExit(f"bench_pick: backport pick failed: {proc.stderr.strip()}")
        self.outcomes = Counter(row.split()[0] for row in output.splitlines() if row.startswith("  ")
                                and row.split()[0] in ("picked", "empty", "skipped", "conflict"))
        return elapsed


class GitLoop:
    """The same commits by `git cherry-pick -x`, one process each, in a worktree of their own."""

    name = "git cherry-pick -x loop"

    def __init__(self, clone: str, line: str, plan: list[dict[str, object]], branch: str) -> None:
        self.clone, self.line, self.plan, self.branch = clone, line, plan, branch
        self.outcomes: Counter[str] = Counter()

    def run(self) -> float:
        subprocess.run(["git", "-C", self.clone, "update-ref", "-d", f"refs/heads/{self.branch}"], capture_output=True)
        tree = tempfile.mkdtemp(prefix="bench-pick-loop-")
        os.rmdir(tree)
        outcomes: Counter[str] = Counter()
        begin = time.perf_counter()
        git(self.clone, "worktree", "add", "-q", "--no-track", "-b", self.branch, tree, self.line)
        for item in self.plan:
            merge = ["-m", "1"] if item["merge"] else []
            proc = subprocess.run(["git", "-C", tree, "cherry-pick", "-x", *merge, str(item["commit"])],
                                  capture_output=True)
            if proc.returncode == 0:
                outcomes["picked"] += 1
                continue
            conflicted = subprocess.run(["git", "-C", tree, "ls-files", "-u"], capture_output=True).stdout
            outcomes["conflict" if conflicted else "empty"] += 1
            subprocess.run(["git", "-C", tree, "cherry-pick", "--skip"], capture_output=True, check=True)
        git(self.clone, "worktree", "remove", "--force", tree)
        elapsed = time.perf_counter() - begin
        self.outcomes = outcomes
        return elapsed


def verdicts_after(clone: str, version: str, branch: str, plan: list[dict[str, object]]) -> Counter[str]:
    proc = backport(clone, "--line", f"{version}={branch}", "check", "--format", "json")
    if proc.returncode:
        raise SystemExit(f"bench_pick: check failed: {proc.stderr.strip()}")
    planned = {str(item["commit"]) for item in plan}
    seen: Counter[str] = Counter()
    for candidate in json.loads(proc.stdout)["candidates"]:
        if candidate["commit"] in planned:
            for target in candidate["targets"]:
                seen[f"{target['state']}/{target['evidence'] or target['applies']}"] += 1
    return seen


def window_verdicts(clone: str, version: str, originals: list[str]) -> Counter[str]:
    """What check says of the window's commits with the line at its release, before any pick."""
    proc = backport(clone, "--line", version, "check", "--format", "json")
    if proc.returncode:
        raise SystemExit(f"bench_pick: check failed: {proc.stderr.strip()}")
    wanted = set(originals)
    seen: Counter[str] = Counter()
    for candidate in json.loads(proc.stdout)["candidates"]:
        if candidate["commit"] in wanted:
            for target in candidate["targets"]:
                seen[f"{target['state']}/{target['evidence'] or target['applies']}"] += 1
    return seen


def same_trees(clone: str, line: str, ours: str, theirs: str) -> tuple[int, int]:
    a = git(clone, "log", "--reverse", "--format=%T", f"{line}..{ours}").split()
    b = git(clone, "log", "--reverse", "--format=%T", f"{line}..{theirs}").split()
    return sum(1 for x, y in zip(a, b, strict=False) if x == y), max(len(a), len(b))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", required=True, help="a Xen clone (read only: the work happens in a throwaway clone)")
    ap.add_argument("--version", default="4.20")
    ap.add_argument("--from", dest="start", default="RELEASE-4.20.1", help="point release the line is set to")
    ap.add_argument("--to", dest="end", default="RELEASE-4.20.2", help="next release: the window's end")
    ap.add_argument("--unstable", default="staging")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reference", default="auto", help="pick.reference for the run (default: the line's own)")
    args = ap.parse_args()
    line, branch = f"stable-{args.version}", f"backport/{args.version}"
    print(f"bench_pick: {common.environment()}")
    originals = window(args.repo, args.start, args.end, args.unstable)
    print(f"window: {len(originals)} unstable commits the line took in {args.start}..{args.end}")
    with tempfile.TemporaryDirectory(prefix="bench-pick-") as tmp:
        begin = time.perf_counter()
        clone = throwaway_clone(args.repo, tmp, line, args.start, args.version, originals)
        print(f"throwaway clone with {line} at {args.start} and {len(originals)} notes: "
              f"{time.perf_counter() - begin:.1f} s")
        git(clone, "config", "backport.pick.reference", args.reference)
        cold = PickRun(clone, args.version, branch, cold=True)
        print(f"cold run (cache removed): {common.fmt_seconds(cold.run())}, {dict(cold.outcomes)}")
        git(clone, "update-ref", "-d", f"refs/heads/{branch}")  # the plan of a fresh run
        dry = backport(clone, "pick", "--line", args.version, "--dry-run", "--format", "json")
        document = json.loads(dry.stdout)
        plan = document["picks"]
        in_window = sum(1 for item in plan if item["commit"] in set(originals))
        before = window_verdicts(clone, args.version, originals)
        print("the window's commits, judged with the line at the release: "
              + ", ".join(f"{n} {what}" for what, n in before.most_common()))
        print(f"plan: {len(plan)} picks, {in_window} of them from the window; style {document['reference']} "
              f"({document['reference_source']})")
        pick = PickRun(clone, args.version, branch)
        loop = GitLoop(clone, line, plan, "loop/" + args.version)
        samples = common.alternate([pick, loop], rounds=args.rounds, warmup=0)
        common.print_samples(samples)
        print(f"outcomes: backport pick {dict(pick.outcomes)}; git loop {dict(loop.outcomes)}")
        common.print_ratio("pick / git cherry-pick -x loop", common.median(samples[pick.name]),
                           common.median(samples[loop.name]), target=3.0, informational=True)
        # the last round's pick ran last or first: make sure its branch is there
        if subprocess.run(["git", "-C", clone, "rev-parse", "-q", "--verify", branch], capture_output=True).returncode:
            pick.run()
        equal, total = same_trees(clone, line, branch, "loop/" + args.version)
        print(f"trees equal to the loop's, commit by commit: {equal} of {total}")
        seen = verdicts_after(clone, args.version, branch, plan)
        print(f"check with the line at {branch}, the {len(plan)} planned commits: "
              + ", ".join(f"{n} {what}" for what, n in seen.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
