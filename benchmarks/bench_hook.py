#!/usr/bin/env python3
"""What the commit-msg hook adds to `git commit` on a big repository.

On a shared clone of a synthetic 50,000-commit Xen-shaped repository
(synth.ensure_repo; the cached original is never written to), times
`git commit --allow-empty -F MSG` with our hook installed and without it
(`-c core.hooksPath=<empty dir>`), alternated so load from other processes
hits both alike, and prints the medians and the difference for a message
with a `Fixes:` line (the worst case: one ancestry walk per maintained line,
to a commit older than every fork) and one without. Target: <= 100 ms added.
The repository has a commit-graph, as one that `git gc` has run in does; the
same `Fixes:` commit with git told to ignore it is printed for information.

Wall time is what a committer feels, but on a shared, loaded machine it also
counts time spent waiting for a CPU; the CPU time of the commit and all its
children (git, the hook's python, the git processes it runs) is printed too,
and so is the number of git processes the hook starts (from GIT_TRACE).

    python benchmarks/bench_hook.py [--commits 50000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import alternate, environment, fmt_seconds, median, print_samples, print_threshold  # noqa: E402
from synth import ensure_repo  # noqa: E402

_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
}


class Commit:
    """One `git commit` (a Measurable for common.alternate): wall seconds, and
    the CPU seconds of it and its children kept on the side."""

    def __init__(self, name: str, repo: str, message: str, hooks: str | None, config: tuple[str, ...] = ()) -> None:
        self.name = name
        self.repo = repo
        settings = [*config, *([f"core.hooksPath={hooks}"] if hooks else [])]
        self.argv = ["git", *(arg for setting in settings for arg in ("-c", setting)), "commit", "-q"]
        self.argv += ["--allow-empty", "-F", message]
        self.cpu: list[float] = []
        self.stderr = ""

    def run(self) -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(self.argv, cwd=self.repo, env={**os.environ, **_ENV}, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"{self.name}: git commit failed: {proc.stderr}")
        self.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        self.stderr = proc.stderr
        return elapsed


def git(repo: str, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, env={**os.environ, **_ENV}, check=True, capture_output=True, text=True)
    return proc.stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commits", type=int, default=50000)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    source = ensure_repo(args.commits, quiet=True)
    print(environment())
    with tempfile.TemporaryDirectory(prefix="bench-hook-") as tmp:
        repo = os.path.join(tmp, "clone")
        git(tmp, "clone", "-q", "--shared", source, repo)
        git(repo, "config", "commit.gpgsign", "false")
        # The commits made here are dated just after the synthetic history
        # ends: dated today, unstable's tip would be a year and more past the
        # lines' last activity, no line would be maintained by default
        # (maintained-within), and the hook would have nothing to walk.
        after = int(git(repo, "log", "-1", "--format=%ct", "HEAD")) + 3600
        _ENV.update(GIT_AUTHOR_DATE=f"@{after} +0000", GIT_COMMITTER_DATE=f"@{after} +0000")
        no_hooks = os.path.join(tmp, "no-hooks")
        os.mkdir(no_hooks)
        subprocess.run(
            [sys.executable, "-m", "backport", "--repo", repo, "hook", "install"],
            env={**os.environ, **_ENV},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        lines = [r for r in git(repo, "branch", "-r", "--format=%(refname:short)").split() if "stable-" in r]
        target = git(repo, "rev-list", "--skip", str(args.commits * 3 // 5), "-1", "HEAD")
        messages = {
            "with Fixes:": f"x86: fix a crash in the timer code\n\nFixes: {target[:12]}\nSigned-off-by: B <b@e.org>\n",
            "without": "docs: describe the new option\n\nSigned-off-by: B <b@e.org>\n",
        }
        print(f"repository: {args.commits} commits, lines {', '.join(lines)}; hook python {sys.executable}")
        worst = 0.0
        for label, text in messages.items():
            path = os.path.join(tmp, f"msg-{len(text)}")
            with open(path, "w") as handle:
                handle.write(text)
            hooked = Commit(f"{label} hook", repo, path, None)
            bare = Commit(f"{label} no hook", repo, path, no_hooks)
            samples = alternate([hooked, bare], rounds=args.rounds, warmup=2)
            said = hooked.stderr.strip().splitlines()[0][:90] if hooked.stderr.strip() else "hook silent"
            if "no maintained stable lines" in said:
                raise SystemExit(f"bench_hook: the hook found no maintained line to check ({said})")
            print(f"\n{label} ({said})")
            print_samples(samples)
            print(f"  git processes the hook starts: {' '.join(git_processes(repo, path))}")
            added = median(samples[hooked.name]) - median(samples[bare.name])
            cpu = median(hooked.cpu[2:]) - median(bare.cpu[2:])
            print(f"  CPU time added (commit and children): {fmt_seconds(cpu)}")
            print_threshold(f"  wall time added, {label}", added, 0.100)
            worst = max(worst, added)
        # not the target: how a clone without a commit-graph fares (git -c
        # reaches the hook's git processes through GIT_CONFIG_PARAMETERS)
        path = os.path.join(tmp, "msg-fixes")
        with open(path, "w") as handle:
            handle.write(messages["with Fixes:"])
        graphless = ("core.commitGraph=false",)
        hooked = Commit("no commit-graph, hook", repo, path, None, graphless)
        bare = Commit("no commit-graph, no hook", repo, path, no_hooks, graphless)
        samples = alternate([hooked, bare], rounds=max(3, args.rounds // 3), warmup=1)
        print("\nwith Fixes:, git told to ignore the commit-graph (for information; `backport hook install` says so)")
        print_samples(samples)
        print(f"  wall time added: {fmt_seconds(median(samples[hooked.name]) - median(samples[bare.name]))}")
        print()
        ok = print_threshold("added by the hook, worst case", worst, 0.100)
    print("\nwhere it goes (medians, wall): " + "; ".join(f"{k} {fmt_seconds(v)}" for k, v in python_costs().items()))
    return 0 if ok else 1


def git_processes(repo: str, message: str) -> list[str]:
    """The git subcommands one run of the installed commit-msg hook starts."""
    with tempfile.NamedTemporaryFile(prefix="bench-hook-trace-") as trace:
        hook = os.path.join(git(repo, "rev-parse", "--absolute-git-dir"), "hooks", "commit-msg")
        env = {**os.environ, **_ENV, "GIT_TRACE": trace.name}
        subprocess.run([hook, message], cwd=repo, env=env, check=True, capture_output=True)
        rows = trace.read().decode("utf-8", "replace").splitlines()
    return [row.split("trace: built-in: git ", 1)[1].split()[0] for row in rows if "trace: built-in: git " in row]


def python_costs(rounds: int = 7) -> dict[str, float]:
    """Interpreter start, and what importing the quick look and the full check
    adds to it, run the way the installed hook runs python."""
    from backport.maintainer.hook_install import import_path

    runs = {
        "python start": "pass",
        "+ quick look imports": "import backport.hook",
        "+ full check imports": "import backport.hook, backport.maintainer.message_check",
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, code in runs.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-I", "-S", "-c", f"import sys\nsys.path += sys.argv[1:]\n{code}", *import_path()], check=True)
            times[name].append(time.perf_counter() - start)
    base = median(times["python start"])
    return {name: median(xs) - (base if name != "python start" else 0.0) for name, xs in times.items()}


if __name__ == "__main__":
    sys.exit(main())
