#!/usr/bin/env python3
"""Cold `backport scan` of two checkouts, alternated in one run, against raw git log.

    python benchmarks/compare_scan.py --repo PATH --baseline DIR [--no-pcre]
        [--unstable REF] [--range] [--rounds 7] [-- GLOBAL OPTIONS...]

For a change that must not make the scan slower: DIR is another checkout of
backport (`git worktree add DIR main`, or `git archive main | tar -x -C
DIR`); this checkout is "after". Both scan --repo cold (the cache removed,
untimed, before each run), alternated with `git log -z
--format=%H%x00%B` (of the whole unstable branch, as bench_real.py does, or
with --range of the range the scan reads, as bench_scan.py does), order
rotated every round, after one warm-up round. The ratios to raw git are
printed, so figures from a shared machine compare within the run.

--no-pcre times both again as they run on a git built without PCRE: a
`git` put first on PATH that refuses -P with such a build's message and
exit code, and runs the real git otherwise.

Both checkouts are byte-compiled first (compileall: __pycache__ in each):
with PYTHONDONTWRITEBYTECODE set, a tree that has no .pyc files compiles
every module on every run, some 20 ms that would be counted against it.

--repo is never written to, but for the cache directory backport keeps in
it (removed before each cold run). Options after `--` go to backport before
`scan` (`-- --line 4.0`).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from bench_scan import scan_range  # noqa: E402

NO_PCRE = """#!/bin/sh
# git as built without PCRE: it refuses -P at once, before any output
for arg; do
  case "$arg" in -P|--perl-regexp)
    echo "fatal: cannot use Perl-compatible regexes when not compiled with USE_LIBPCRE" >&2; exit 128;;
  esac
done
exec {git} "$@"
"""


def git_without_pcre(directory: str) -> str:
    """A directory whose `git` is the real one without PCRE (see NO_PCRE)."""
    real = shutil.which("git")
    if real is None:
        raise SystemExit("compare_scan: no git on PATH")
    path = os.path.join(directory, "git")
    with open(path, "w") as script:
        script.write(NO_PCRE.format(git=shlex.quote(real)))
    os.chmod(path, 0o755)
    return directory


def found_unstable(repo: str, python: str, options: Sequence[str]) -> str:
    """The unstable branch backport (this checkout) finds in repo."""
    argv = [python, "-m", "backport", "--repo", repo, *options, "config", "--format", "json"]
    proc = subprocess.run(argv, capture_output=True, cwd=tempfile.gettempdir(), env={**os.environ, **common.backport_env()})
    if proc.returncode:
        raise SystemExit(f"compare_scan: {' '.join(argv)}: {proc.stderr.decode(errors='replace').strip()}")
    return str(json.loads(proc.stdout)["unstable"]["ref"])


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", required=True, help="the repository scanned")
    ap.add_argument("--baseline", required=True, help="the other checkout of backport (before)")
    ap.add_argument("--unstable", help="the unstable branch (default: what backport finds)")
    ap.add_argument("--range", action="store_true", help="raw git logs the range the scan reads, not all of unstable")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--no-pcre", action="store_true", help="also time both on a git without PCRE")
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs `-m backport`")
    ap.add_argument("options", nargs="*", help="global options for backport, after --")
    args = ap.parse_args(argv)

    repo = os.path.abspath(args.repo)
    unstable = args.unstable or found_unstable(repo, args.python, args.options)
    revision = f"{scan_range(repo, unstable)[1]}..{unstable}" if args.range else unstable
    count = common.git(repo, "rev-list", "--count", revision)
    raw = common.Command(f"git log {revision[:24]}", ["git", "-C", repo, "log", "-z", "--format=%H%x00%B", revision])
    scan = [args.python, "-m", "backport", "--repo", repo, *(["--unstable", unstable] if args.unstable else [])]
    scan += [*args.options, "scan", "--format", "json"]
    drop = common.drop_dir(common.backport_cache_dir(repo))
    roots = {"before": os.path.abspath(args.baseline), "after": common.ROOT}
    for root in roots.values():
        subprocess.run([args.python, "-m", "compileall", "-q", os.path.join(root, "backport")], check=True)
    shim = tempfile.mkdtemp(prefix="compare-scan-")
    try:
        commands = [raw]
        for name, root in roots.items():
            commands.append(common.Command(f"{name}: scan (cold)", scan, cwd=shim, env={"PYTHONPATH": root}, prepare=drop))
            if args.no_pcre:
                env = {"PYTHONPATH": root, "PATH": git_without_pcre(shim) + os.pathsep + os.environ["PATH"]}
                commands.append(common.Command(f"{name}: scan, no PCRE (cold)", scan, cwd=shim, env=env, prepare=drop))
        print(f"compare_scan: {repo}, git log {revision}: {count} commits; scan {' '.join(args.options)}")
        print(f"  before: {roots['before']}; after: {roots['after']} (both byte-compiled)")
        print(f"  {common.environment()}")
        print(f"  {args.rounds} rounds, alternated, after {args.warmup} warm-up round(s)")
        for command in commands:
            failure = common.probe(command)
            if failure:
                print(f"compare_scan: {failure}", file=sys.stderr)
                return 3
        samples = common.alternate(commands, args.rounds, args.warmup)
    finally:
        shutil.rmtree(shim, ignore_errors=True)
    common.print_samples(samples)
    raw_median = common.median(samples[raw.name])
    for command in commands[1:]:
        common.print_ratio(f"{command.name} / raw git", common.median(samples[command.name]), raw_median, 1.2,
                           informational=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
