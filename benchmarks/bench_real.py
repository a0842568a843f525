#!/usr/bin/env python3
"""`backport` on a real clone as a coordinator meets it: fresh, no commit-graph,
no configuration; ratios to raw git measured in the same run.

    python benchmarks/bench_real.py --repo /path/to/xen.git [--rounds 3]

--repo is never written to. The script makes a fresh bare clone of it
(`git clone --bare --no-local`: no commit-graph, as every fresh clone) in
--work (default: a temporary directory), with gc.auto=0 so that nothing
writes one during the runs, and measures there:

1. cold `backport scan` / `git log -z --format=%H%x00%B <unstable>`: target <= 1.2;
2. cold `backport report` / the same git log: target <= 4, and which lines
   it covered (the default maintained lines);
3. cold `backport check` of one line with 60+ nominations / the sequential
   raw-git floor: target <= 1.0;
4. warm `backport report` (the run right after a cold one): target <= 0.3 s.

Cold runs have the cache directory removed (untimed) first. Every command
runs --rounds times, alternated with the others (order rotated each round)
after one untimed round; the medians make the ratios, and every run is
printed.

The nominations: real projects rarely carry request trailers (Xen has had no
`Backport:` line since 2023), so the clone gets notes `Backport-to: V` on a
real window: the unstable commits that line V took between two point
releases, found from the reference lines of the line's commits in between
(`master commit:`, `cherry picked from commit`, `commit X upstream.`).
`check` then runs with `--line V=<the earlier release>`, where the window is
pending, as it was on the day of that release. Default: the newest
maintained line and the newest window with at least 60 such commits;
--line and --window choose.

The floor for the check, as in bench_check.py: per pending pair (as `check`
itself finds them) one `git commit-tree` (the line's tree with the commit's
parent) and one `git merge-tree --write-tree`, run one after the other,
scratch objects in a temporary directory where backport's own go (in
memory when they fit, else TMPDIR: the same storage for both); plus one
log per side: the line's
own commits (fork..release) and unstable's (release..unstable), as the
check reads both.

Exit status: 0 every target met, 1 a target missed, 3 setup error.
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
from collections.abc import Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from bench_check import Floor, Line  # noqa: E402

SCAN_TARGET = 1.2
REPORT_TARGET = 4.0
CHECK_TARGET = 1.0
WARM_LIMIT = 0.3  # seconds
WINDOW_MIN = 60
NOTES_REF = "refs/notes/backport"
_QUIET = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
_IDENTITY = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
             "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}


def git(repo: str, *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(
        ["git", "-C", repo, *args], input=stdin, capture_output=True, text=True,
        env={**os.environ, **_QUIET, **_IDENTITY},
    )
    if proc.returncode:
        raise common.CommandFailed("git " + " ".join(args[:2]), ["git", *args], proc.returncode, proc.stderr)
    return proc.stdout.strip()


def fresh_clone(source: str, work: str) -> str:
    """A bare clone of `source` with no commit-graph, made once per --work directory."""
    clone = os.path.join(work, "clone.git")
    done = os.path.join(work, "clone.ready")
    if not os.path.exists(done):
        shutil.rmtree(clone, ignore_errors=True)
        subprocess.run(["git", "clone", "-q", "--bare", "--no-local", source, clone], check=True,
                       env={**os.environ, **_QUIET})
        for key, value in (("gc.auto", "0"), ("maintenance.auto", "false"), ("fetch.writeCommitGraph", "false")):
            git(clone, "config", key, value)
        open(done, "w").close()
    info = os.path.join(clone, "objects", "info")
    if os.path.exists(os.path.join(info, "commit-graph")) or os.path.isdir(os.path.join(info, "commit-graphs")):
        raise SystemExit(f"bench_real: {clone} has a commit-graph; remove --work {work} to start afresh")
    return clone


def tool(clone: str, python: str, *args: str) -> list[str]:
    return [python, "-m", "backport", "--repo", clone, *args]


def tool_json(clone: str, python: str, *args: str) -> dict:
    proc = subprocess.run(tool(clone, python, *args), capture_output=True, env={**os.environ, **common.backport_env()})
    if proc.returncode:
        raise common.CommandFailed("backport " + args[0], tool(clone, python, *args), proc.returncode,
                                   proc.stderr.decode(errors="replace"))
    return json.loads(proc.stdout)


def releases(clone: str, version: str) -> list[str]:
    """The line's point-release tags (RELEASE-4.20.1, v4.20.1, 4.20.1), oldest first."""
    pattern = re.compile(r"(?:RELEASE-|release-|v)?" + re.escape(version) + r"\.(\d+)")
    found: dict[int, str] = {}  # one tag per release (RELEASE-4.20.1 and 4.20.1 may both be there)
    for tag in sorted(git(clone, "for-each-ref", "--format=%(refname:short)", "refs/tags").splitlines()):
        match = pattern.fullmatch(tag)
        if match:
            found.setdefault(int(match.group(1)), tag)
    return [found[n] for n in sorted(found)]


def window_commits(clone: str, unstable: str, older: str, newer: str) -> list[str]:
    """The unstable commits the line took between two releases, oldest first."""
    messages = git(clone, "log", "--reverse", "--format=%B%x00", f"{older}..{newer}")
    written = common.REFERENCE.findall(messages)
    full = common.resolve_commits(clone, written)
    return common.on_branch(clone, [full[w] for w in written if w in full], unstable)


def choose_window(clone: str, unstable: str, versions: Sequence[str], window: str | None) -> tuple[str, str, str, list[str]]:
    """(version, older release, newer release, commits): the newest window with WINDOW_MIN commits."""
    for version in reversed(versions):
        tags = releases(clone, version)
        pairs = [tuple(window.split("..", 1))] if window else list(zip(tags[:-1], tags[1:], strict=True))[::-1]
        for older, newer in pairs:
            commits = window_commits(clone, unstable, older, newer)
            if len(commits) >= WINDOW_MIN or window:
                return version, older, newer, commits
    raise SystemExit(f"bench_real: no window of {WINDOW_MIN}+ backports between point releases; pass --line and --window")


def nominate(clone: str, version: str, commits: Sequence[str]) -> None:
    """Notes `Backport-to: V` on the window's commits (kept when present already)."""
    have = set(row.split()[1] for row in git(clone, "notes", f"--ref={NOTES_REF}", "list").splitlines() if row)
    for commit in commits:
        if commit not in have:
            git(clone, "notes", f"--ref={NOTES_REF}", "add", "-m", f"Backport-to: {version}", commit)


class RealFloor(Floor):
    """bench_check's floor (commit-tree + merge-tree per pair, the line's
    log) plus the log of unstable's side of the check."""

    def __init__(self, repo: str, line: Line, unstable: str) -> None:
        super().__init__(repo, [line], with_log=True)
        self.unstable_log = ["git", "-C", repo, "log", "-z", "--format=%H%x00%B", f"{line.tip}..{unstable}"]
        self.name = "floor: commit-tree + merge-tree per pair, one log per side"

    def _work(self, env: dict[str, str]) -> None:
        subprocess.run(self.unstable_log, env=env, stdout=subprocess.PIPE, check=True)
        super()._work(env)


def pending_line(check: dict, version: str, branch: str, clone: str) -> Line:
    order = [c["commit"] for c in check["candidates"]]
    pending = [c["commit"] for c in check["candidates"] for t in c["targets"]
               if t["version"] == version and t["state"] == "pending"]
    pending.sort(key=order.index)
    tip = git(clone, "rev-parse", f"{branch}^{{commit}}")
    fork = git(clone, "merge-base", check["unstable"]["commit"], tip)
    return Line(version, branch, tip, git(clone, "rev-parse", f"{tip}^{{tree}}"), fork, pending)


def show_runs(samples: dict[str, list[float]]) -> None:
    common.print_samples(samples)
    for name, runs in samples.items():
        print(f"    {name}: " + ", ".join(common.fmt_seconds(r) for r in runs))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", required=True, help="any real clone (never written to)")
    ap.add_argument("--work", help="keep the fresh clone here and reuse it (default: a temporary directory)")
    ap.add_argument("--rounds", type=int, default=3, help="timed runs of each command (default 3, at least 3)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--line", help="the line whose window is nominated (default: the newest with a big enough window)")
    ap.add_argument("--window", metavar="OLDER..NEWER", help="the two releases of that line (default: the newest 60+)")
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs `-m backport`")
    args = ap.parse_args(argv)
    rounds = max(args.rounds, 3)
    work = args.work or tempfile.mkdtemp(prefix="bench-real-")
    os.makedirs(work, exist_ok=True)
    try:
        clone = fresh_clone(os.path.abspath(args.repo), work)
        config = tool_json(clone, args.python, "config", "--format", "json")
        unstable = config["unstable"]["ref"]
        maintained = [line["version"] for line in config["lines"]]
        version, older, newer, window = choose_window(clone, unstable, [args.line] if args.line else maintained, args.window)
        nominate(clone, version, window)
    except (common.CommandFailed, subprocess.CalledProcessError) as exc:
        print(f"bench_real: setup failed: {exc}", file=sys.stderr)
        return 3
    env = common.backport_env()
    cache = os.path.join(clone, "backport-cache")
    raw = common.Command("git log -z --format=%H%x00%B " + unstable,
                         ["git", "-C", clone, "log", "-z", "--format=%H%x00%B", unstable])
    scan = common.Command("backport scan (cold)", tool(clone, args.python, "scan", "--format", "json"),
                          env=env, prepare=common.drop_dir(cache))
    report = common.Command("backport report (cold)", tool(clone, args.python, "report"),
                            env=env, prepare=common.drop_dir(cache))
    warm = common.Command("backport report (warm)", tool(clone, args.python, "report"), env=env)
    check_args = ("--line", f"{version}={older}", "check", "--format", "json")
    check = common.Command(f"backport check {version}={older} (cold)", tool(clone, args.python, *check_args),
                           env=env, prepare=common.drop_dir(cache))

    print(f"bench_real: {args.repo} (fresh bare clone: {clone})")
    print(f"  {common.environment()}")
    print(f"  unstable {unstable}: {git(clone, 'rev-list', '--count', unstable)} commits; "
          f"{len(config['known_lines'])} lines found, maintained by default: {', '.join(maintained)}")
    covered = tool_json(clone, args.python, "report", "--format", "json")["lines"]
    print(f"  report covers: {', '.join(line['version'] for line in covered)}")
    print(f"  window: {len(window)} unstable commits that {version} took in {older}..{newer}, nominated by notes")
    checked = tool_json(clone, args.python, *check_args)
    line = pending_line(checked, version, older, clone)
    print(f"  check --line {version}={older}: {len(line.pending)} pending of {len(checked['candidates'])} candidates")
    floor = RealFloor(clone, line, unstable)
    print(f"  {rounds} rounds, alternated, after {args.warmup} warm-up round(s)\n")

    samples = common.alternate([raw, scan, (report, warm), check, floor], rounds, args.warmup)
    show_runs(samples)
    log = common.median(samples[raw.name])
    ok = common.print_ratio("cold scan / git log", common.median(samples[scan.name]), log, SCAN_TARGET)
    ok &= common.print_ratio("cold report / git log", common.median(samples[report.name]), log, REPORT_TARGET)
    ok &= common.print_ratio("cold check / floor", common.median(samples[check.name]),
                             common.median(samples[floor.name]), CHECK_TARGET)
    ok &= common.print_threshold("warm report", common.median(samples[warm.name]), WARM_LIMIT)
    print(f"  {common.environment()} (at the end)")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
