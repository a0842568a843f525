#!/usr/bin/env python3
"""Cherry-pick simulation and `backport check` against the raw git floor, same run.

The pairs are the pending nominations of a synthetic Xen-shaped repository
(`synth.ensure_repo`, its truth.json): every (candidate, line) a correct
`check` has to simulate. The floor is the cheapest way git 2.39 can answer
"does C cherry-pick onto this line, and where does it conflict": per pair, one
`git commit-tree` (the tip's tree with C's parent, dated like C) and one
`git merge-tree --write-tree`, run one after the other by this script. Commit
metadata is read before the clock starts, which flatters the floor.

Printed, each as a ratio or a budget:

1. simulator / floor: `Simulator.plan_lines` over all lines (each candidate
   alone and on its line's virtual branch), cache off, default jobs; also
   with jobs=1, to show what the parallelism buys.
2. cold `backport check --format json` (cache directory removed before each
   run) / (floor + one `git log` of each line's own commits): target <= 1.0.
3. warm `backport check` (cache filled): target < 0.3 s.

Parts that cannot run yet (no `check` command, an error) are named as such.
Exit status: 0 every measured target met, 1 a target missed, 3 setup error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common  # noqa: E402
import synth  # noqa: E402

from backport.git import Git, open_repository  # noqa: E402
from backport.verdict.merge import scratch_parent  # noqa: E402
from backport.verdict.simulate import Simulator  # noqa: E402

COLD_TARGET = 1.0  # cold check / floor
SIM_TARGET = 1.0  # simulator / floor
WARM_LIMIT = 0.3  # seconds


class Line:
    def __init__(self, version: str, branch: str, tip: str, tree: str, fork: str, pending: list[str]) -> None:
        self.version, self.branch, self.tip, self.tree, self.fork, self.pending = version, branch, tip, tree, fork, pending


def pending_lines(repo: str) -> list[Line]:
    """Each line with its pending candidates in unstable order, oldest first."""
    truth = synth.read_truth(repo)
    if not truth:
        raise SystemExit(f"bench_check: {repo} has no truth.json; use a synth repository")
    lines = []
    for entry in truth["lines"]:  # type: ignore[index]
        tip = common.git(repo, "rev-parse", entry["branch"])
        tree = common.git(repo, "rev-parse", f"{tip}^{{tree}}")
        order = common.git(repo, "rev-list", "--reverse", f"{entry['fork']}..master").split()
        rank = {c: n for n, c in enumerate(order)}
        pending = sorted(entry["pending"], key=lambda c: rank.get(c, -1))
        lines.append(Line(entry["version"], entry["branch"], tip, tree, entry["fork"], pending))
    return lines


def metadata(repo: str, commits: Sequence[str]) -> dict[str, tuple[str, str]]:
    """commit -> (first parent, committer date) for the floor, read before timing."""
    out = subprocess.run(
        ["git", "-C", repo, "log", "--no-walk=unsorted", "--stdin", "--format=%H %P%x00%cd", "--date=raw"],
        input="".join(c + "\n" for c in commits).encode(),
        capture_output=True,
        check=True,
    ).stdout.decode()
    found = {}
    for row in out.splitlines():
        ids, _, date = row.partition("\0")
        commit, *parents = ids.split()
        found[commit] = (parents[0], date)
    return found


class Floor:
    """commit-tree + merge-tree per pair, sequentially, objects in a scratch
    directory where backport's own would go (scratch_parent)."""

    def __init__(self, repo: str, lines: list[Line], with_log: bool) -> None:
        self.repo, self.lines, self.with_log = repo, lines, with_log
        self.meta = metadata(repo, [c for line in lines for c in line.pending])
        self.objects = os.path.join(common.git(repo, "rev-parse", "--path-format=absolute", "--git-common-dir"), "objects")
        self.name = "floor: commit-tree + merge-tree per pair" + (" + git log per line" if with_log else "")

    def run(self) -> float:
        # where `backport` would put its own scratch objects for as many
        # picks (in memory when they fit, else TMPDIR): the same storage
        pairs = sum(len(line.pending) for line in self.lines)
        with tempfile.TemporaryDirectory(prefix="bench-floor-", dir=scratch_parent(pairs)) as tmp:
            env = {
                **os.environ,
                "GIT_OBJECT_DIRECTORY": tmp,
                "GIT_ALTERNATE_OBJECT_DIRECTORIES": self.objects,
                "GIT_AUTHOR_NAME": "b",
                "GIT_AUTHOR_EMAIL": "b@b",
                "GIT_COMMITTER_NAME": "b",
                "GIT_COMMITTER_EMAIL": "b@b",
            }
            return common.Call(self.name, lambda: self._work(env)).run()

    def _work(self, env: dict[str, str]) -> None:
        for line in self.lines:
            if self.with_log:
                subprocess.run(
                    ["git", "-C", self.repo, "log", "-z", "--format=%H%x00%P%x00%B", f"{line.fork}..{line.tip}"],
                    env=env, stdout=subprocess.PIPE, check=True,
                )
            for commit in line.pending:
                parent, date = self.meta[commit]
                dated = {**env, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
                synthetic = subprocess.run(
                    ["git", "-C", self.repo, "commit-tree", "--no-gpg-sign", line.tree, "-p", parent, "-m", "s"],
                    env=dated, stdout=subprocess.PIPE, check=True,
                ).stdout.decode().strip()
                proc = subprocess.run(
                    ["git", "-C", self.repo, "merge-tree", "--write-tree", "--name-only", "--no-messages", synthetic, commit],
                    env=env, stdout=subprocess.PIPE,
                )
                if proc.returncode not in (0, 1):
                    raise common.CommandFailed("merge-tree", proc.args, proc.returncode, "")


def simulate(repo: str, lines: list[Line], jobs: int | None) -> dict[str, int]:
    info = open_repository(repo)
    with Simulator(Git(info.path), info, cache=False, jobs=jobs) as sim:
        plans = sim.plan_lines([(line.tip, line.pending) for line in lines])
    counts = {"pairs": 0, "alone conflicts": 0, "chained clean after conflict": 0, "empty": 0}
    for plan in plans:
        for item in plan.values():
            counts["pairs"] += 1
            counts["alone conflicts"] += not item.alone.clean
            counts["chained clean after conflict"] += bool(item.after)
            counts["empty"] += item.alone.empty
    return counts


class ColdCheck:
    """`backport check` with the cache directory removed first."""

    def __init__(self, command: common.Command, cache_dir: str) -> None:
        self.command, self.cache_dir = command, cache_dir
        self.name = "backport check (cold)"

    def run(self) -> float:
        shutil.rmtree(self.cache_dir, ignore_errors=True)
        return self.command.run()


def pending_in_output(check: common.Command, lines: list[Line]) -> list[Line]:
    """The lines with the pairs `check` itself calls pending, in unstable order.

    The floor for the whole run must do the same merges check does: truth.json
    is approximate (it misses, for one, fixes whose fixed commit was itself
    backported, which SPEC says makes the fix needed on that line).
    """
    proc = subprocess.run(list(check.argv), env={**os.environ, **(check.env or {})}, capture_output=True, check=True)
    document = json.loads(proc.stdout)
    order = [c["commit"] for c in document["candidates"]]  # unstable order, oldest first
    found = []
    for line in lines:
        pending = [
            c["commit"]
            for c in document["candidates"]
            for t in c["targets"]
            if t["version"] == line.version and t["state"] == "pending"
        ]
        pending.sort(key=order.index)
        found.append(Line(line.version, line.branch, line.tip, line.tree, line.fork, pending))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Time the cherry-pick simulator and `backport check` against raw git.")
    ap.add_argument("--commits", type=int, default=20000, help="synthetic master commits (default 20000)")
    ap.add_argument("--lines", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--nominate-rate", type=float, default=0.2, help="share of nominated commits (default 0.2)")
    ap.add_argument("--rounds", type=int, default=3, help="timed runs of each command (default 3)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=None, help="simulator workers (default: CPU count)")
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs `-m backport`")
    args = ap.parse_args(argv)

    try:
        repo = synth.ensure_repo(args.commits, args.lines, args.seed, args.nominate_rate)
        lines = pending_lines(repo)
    except (common.CommandFailed, ValueError, RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"bench_check: setup failed: {exc}", file=sys.stderr)
        return 3
    pairs = sum(len(line.pending) for line in lines)
    print(common.environment())
    print(f"repo: {repo}")
    print("pending pairs: " + ", ".join(f"{line.version} {len(line.pending)}" for line in lines) + f" (total {pairs})")
    print(f"outcomes: {simulate(repo, lines, args.jobs)}")
    ok = True

    print("\n1. simulator vs floor (all pending pairs, cache off)")
    floor = Floor(repo, lines, with_log=False)
    jobs = args.jobs or os.cpu_count() or 1
    sim = common.Call(f"Simulator.plan_lines jobs={jobs}", lambda: simulate(repo, lines, args.jobs))
    serial = common.Call("Simulator.plan_lines jobs=1", lambda: simulate(repo, lines, 1))
    samples = common.alternate([floor, sim, serial], rounds=args.rounds, warmup=args.warmup)
    common.print_samples(samples)
    base = common.median(samples[floor.name])
    for name in (sim.name, serial.name):
        print(f"  per pair: {name} {common.fmt_seconds(common.median(samples[name]) / pairs)}, floor {common.fmt_seconds(base / pairs)}")
    ok &= common.print_ratio(f"{sim.name} / floor", common.median(samples[sim.name]), base, SIM_TARGET)
    common.print_ratio("jobs=1 / floor (for reference)", common.median(samples[serial.name]), base, float("inf"))

    print("\n2. cold `backport check` vs floor + one git log per line")
    check = common.Command(
        "backport check",
        common.backport_argv(repo, "check", "--format", "json", python=args.python),
        env=common.backport_env(),
    )
    failure = common.probe(check)
    if failure:
        print(f"  not measurable yet: {failure}")
        print("\n3. warm `backport check`\n  not measurable yet: check does not run")
        return 0 if ok else 1
    check_lines = pending_in_output(check, lines)
    simulated = sum(len(line.pending) for line in check_lines)
    if simulated != pairs:
        print(f"  note: check finds {simulated} pending pairs, truth.json {pairs}; the floor does check's {simulated}")
    cache_dir = os.path.join(open_repository(repo).common_dir, "backport-cache")
    cold = ColdCheck(check, cache_dir)
    floor_log = Floor(repo, check_lines, with_log=True)
    samples = common.alternate([floor_log, cold], rounds=args.rounds, warmup=args.warmup)
    common.print_samples(samples)
    ok &= common.print_ratio(
        "cold check / floor", common.median(samples[cold.name]), common.median(samples[floor_log.name]), COLD_TARGET
    )

    print("\n3. warm `backport check` (cache filled by the run before)")
    check.run()
    warm = common.Command("backport check (warm)", check.argv, env=check.env)
    samples = common.alternate([warm], rounds=max(args.rounds, 3), warmup=1)
    common.print_samples(samples)
    ok &= common.print_threshold("warm check", common.median(samples[warm.name]), WARM_LIMIT)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
