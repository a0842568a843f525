#!/usr/bin/env python3
"""`backport scan` against raw `git log` on the same range, same run.

The range is what `backport scan` reads: from the oldest stable line's fork
point (`git merge-base master stable-<oldest>`) to master. The reference is
the cheapest way git can hand over the same information:

    git log -z --format=%H%x00%B <fork>..master

Both commands' output is read fully through a pipe and discarded. They are
alternated for --rounds rounds after one warm-up round; the medians and the
ratio scan / raw-git are printed against the target (<= 1.2).

`backport` keeps a result cache in `<git common dir>/backport-cache/`, keyed
by everything the scan depends on, so a repeated scan of an unchanged
history is a cache hit. The PASS/FAIL ratio uses cold runs: the cache
directory is removed (untimed) before each one, so the tool really reads and
parses the range, as on the first run after a fetch. Warm runs (cache left
from the previous run) are timed alongside and shown for information.

Exit status: 0 PASS, 1 FAIL, 2 `python -m backport ... scan` does not run
(raw git is still measured and printed), 3 setup error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common
import synth

TARGET = 1.2


def scan_range(repo: str, unstable: str) -> tuple[str, str, int]:
    """(oldest line's branch, fork commit, commits in fork..unstable)."""
    lines = common.stable_branches(repo)
    if not lines:
        raise SystemExit(f"bench_scan: no stable-<version> branches in {repo}")
    _, oldest = lines[0]
    fork = common.git(repo, "merge-base", unstable, oldest)
    count = int(common.git(repo, "rev-list", "--count", f"{fork}..{unstable}"))
    return oldest, fork, count


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Time `backport scan` against raw git log on the same range.")
    ap.add_argument("--commits", type=int, default=200000, help="synthetic master commits (default 200000)")
    ap.add_argument("--lines", type=int, default=3, help="synthetic stable lines (default 3)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5, help="timed runs of each command (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    ap.add_argument("--repo", help="use this repository instead of a synthetic one")
    ap.add_argument("--unstable", default="master")
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs `-m backport`")
    ap.add_argument("--target", type=float, default=TARGET)
    args = ap.parse_args(argv)

    try:
        repo = args.repo or synth.ensure_repo(args.commits, args.lines, args.seed)
        oldest, fork, count = scan_range(repo, args.unstable)
    except (common.CommandFailed, ValueError, RuntimeError) as exc:
        print(f"bench_scan: {exc}", file=sys.stderr)
        return 3

    rev_range = f"{fork}..{args.unstable}"
    raw = common.Command("raw git log", ["git", "-C", repo, "log", "-z", "--format=%H%x00%B", rev_range])
    argv = common.backport_argv(repo, "scan", "--format", "json", python=args.python, unstable=args.unstable)
    cache_dir = common.backport_cache_dir(repo)
    cold = common.Command(
        "backport scan (cold)",
        argv,
        cwd=common.ROOT,
        env=common.backport_env(),
        prepare=common.drop_dir(cache_dir),
    )
    warm = common.Command("backport scan (warm cache)", argv, cwd=common.ROOT, env=common.backport_env())

    print(f"bench_scan: {repo}")
    print(f"  range {rev_range[:12]}..{args.unstable} (fork of {oldest}): {count} commits")
    print(f"  {common.environment()}")
    print(f"  {args.rounds} rounds, alternated, after {args.warmup} warm-up round(s)")

    failure = common.probe(cold)
    if failure:
        print()
        print("backport scan is not measurable yet; timing raw git alone.")
        print(f"  {failure}")
        samples = common.alternate([raw], args.rounds, args.warmup)
        common.print_samples(samples)
        print(f"scan / raw-git: not measured (target <= {args.target:g})")
        return 2

    if not os.path.isdir(cache_dir):
        print(f"  note: no cache at {cache_dir}; cold and warm runs are the same thing")
    _, raw_bytes = raw.run_once()
    _, tool_bytes = cold.run_once()
    print(f"  output: raw git {raw_bytes / 2**20:.1f} MiB, scan {tool_bytes / 2**20:.1f} MiB")
    # the warm run must directly follow the cold run that filled the cache
    samples = common.alternate([raw, (cold, warm)], args.rounds, args.warmup)
    common.print_samples(samples)
    raw_median = common.median(samples[raw.name])
    ok = common.print_ratio("scan / raw-git", common.median(samples[cold.name]), raw_median, args.target)
    common.print_ratio(
        "scan (warm cache) / raw-git",
        common.median(samples[warm.name]),
        raw_median,
        args.target,
        informational=True,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
