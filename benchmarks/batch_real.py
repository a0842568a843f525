"""Batched picks against one merge-tree per pick, on a real repository.

    python benchmarks/batch_real.py --repo /path/to/xen.git

Takes the newest `--commits` unstable commits and the newest `--lines`
stable branches, and works out every (commit, line tip) pick twice in
fresh scratch directories: one `git merge-tree` per pick (Scratch.merge),
and the batched way the simulator uses (backport.verdict.batch, with the
single merge for what the batch leaves). Prints how many picks the batch
took, whether every one agrees with its single merge (clean, conflicted
paths, and the tree when clean), and the time of both on two workers. The
repository is only read.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from backport.git import Git  # noqa: E402
from backport.verdict.batch import merge_batched  # noqa: E402
from backport.verdict.merge import Commit, Outcome, Scratch, own_changes, read_commits  # noqa: E402


def newest_lines(repo: str, pattern: str, count: int) -> list[str]:
    refs = subprocess.run(
        ["git", "-C", repo, "for-each-ref", "--format=%(refname:short)", pattern],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()

    def version(ref: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", ref))

    return sorted(refs, key=version)[-count:]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", required=True, help="a clone of the project (bare or not); only read")
    ap.add_argument("--unstable", default="master")
    ap.add_argument("--branches", default="refs/heads/stable-*", help="the stable lines' refs (a for-each-ref pattern)")
    ap.add_argument("--lines", type=int, default=6, help="how many of the newest lines")
    ap.add_argument("--commits", type=int, default=300, help="how many of unstable's newest non-merge commits")
    args = ap.parse_args(argv)

    git = Git(args.repo)
    lines = newest_lines(args.repo, args.branches, args.lines)
    ids = git.out(["rev-list", "--no-merges", f"--max-count={args.commits}", args.unstable]).split()
    found = read_commits(git, [*ids, *lines])
    commits = [c for c in found[: len(ids)] if c is not None]
    tips = [c for c in found[len(ids) :] if c is not None]
    pairs = [(c, tip.tree) for tip in tips for c in commits]
    own = own_changes(git, commits)
    print(f"{len(commits)} commits x {len(tips)} lines ({', '.join(lines)}) = {len(pairs)} picks")

    pool = ThreadPoolExecutor(max_workers=2)

    def single(scratch: Scratch, todo: list[tuple[Commit, str]]) -> list[Outcome]:
        return list(pool.map(lambda pair: scratch.merge(*pair), todo))

    scratch = Scratch(git)
    start = time.perf_counter()
    one_by_one = single(scratch, pairs)
    single_time = time.perf_counter() - start
    scratch.close()

    scratch = Scratch(git)
    start = time.perf_counter()
    batched = merge_batched(scratch, pairs, own, lambda f, items: list(pool.map(f, items)))
    rest = [pair for pair, outcome in zip(pairs, batched, strict=True) if outcome is None]
    single(scratch, rest)
    batch_time = time.perf_counter() - start
    # the batch's trees are written when git is to read them: write them now to compare
    scratch.synthetic([(c, o.tree) for (c, _), o in zip(pairs, batched, strict=True) if o is not None and o.clean])
    scratch.close()

    taken = [(b, s, pair) for b, s, pair in zip(batched, one_by_one, pairs, strict=True) if b is not None]
    wrong = [
        (pair[0].id[:12], pair[1][:12])
        for b, s, pair in taken
        if (b.clean, b.conflicts) != (s.clean, s.conflicts) or (s.clean and b.tree != s.tree)
    ]
    clean = sum(1 for _, s, _ in taken if s.clean)
    print(
        f"batched: {len(taken)} of {len(pairs)} ({clean} clean, {len(taken) - clean} conflict); "
        f"{len(pairs) - len(taken)} left to single merges"
    )
    print(f"disagree with the single merge: {len(wrong)}")
    for item in wrong[:20]:
        print("  ", *item)
    print(
        f"time, 2 workers: single merges {single_time:.2f} s, batched {batch_time:.2f} s "
        f"= {batch_time / single_time:.2f}"
    )
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
