#!/usr/bin/env python3
"""What the commit-msg hook adds to `git commit` on a big repository.

On a shared clone of a synthetic 50,000-commit Xen-shaped repository
(synth.ensure_repo; the cached original is never written to), times
`git commit --allow-empty -F MSG` with our hook installed and without it
(`-c core.hooksPath=<empty dir>`), alternating the two so load changes hit
both alike, and prints the medians and the difference for a message with a
`Fixes:` line (the worst case: one ancestry walk per maintained line) and
one without. Target: at most 100 ms added.

    python benchmarks/bench_hook.py [--commits 50000] [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import synth  # noqa: E402

_ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
}


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=_ENV, check=True, capture_output=True, text=True).stdout


def timed_commit(repo: str, message: str, hooks: str | None) -> tuple[float, str]:
    args = ["git", *(["-c", f"core.hooksPath={hooks}"] if hooks else []), "commit", "-q", "--allow-empty", "-F", message]
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=repo, env=_ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"git commit failed: {proc.stderr}")
    return elapsed, proc.stderr


def import_ms() -> float:
    """Median wall time of `python -I -c 'import backport.hook'` minus a bare `python -I -c pass`."""

    def once(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-c", code], check=True)
        return time.perf_counter() - start

    bare = statistics.median(once("pass") for _ in range(7))
    loaded = statistics.median(once("import backport.hook") for _ in range(7))
    return (loaded - bare) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commits", type=int, default=50000)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    source = synth.ensure_repo(args.commits, quiet=True)
    with tempfile.TemporaryDirectory(prefix="bench-hook-") as tmp:
        repo = os.path.join(tmp, "clone")
        subprocess.run(["git", "clone", "-q", "--shared", source, repo], env=_ENV, check=True)
        git(repo, "config", "commit.gpgsign", "false")
        empty_hooks = os.path.join(tmp, "no-hooks")
        os.mkdir(empty_hooks)
        subprocess.run(
            [sys.executable, "-m", "backport", "--repo", repo, "hook", "install"], env=_ENV, check=True, stdout=subprocess.DEVNULL
        )
        # A Fixes: target from before every line forked: the hook walks from each line's tip down to it.
        target = git(repo, "rev-list", "--skip", str(args.commits * 3 // 5), "-1", "HEAD").strip()
        messages = {
            "with Fixes:": f"x86: fix a crash in the timer code\n\nFixes: {target[:12]}\nSigned-off-by: Bench <b@e.org>\n",
            "without": "docs: describe the new option\n\nSigned-off-by: Bench <b@e.org>\n",
        }
        print(f"repository: {args.commits} commits, {len(git(repo, 'branch', '-r').split()) - 3} stable lines ({source})")
        print(f"python: {sys.executable}; import backport.hook: {import_ms():.0f} ms over a bare interpreter")
        worst = 0.0
        for label, text in messages.items():
            path = os.path.join(tmp, "msg")
            with open(path, "w") as handle:
                handle.write(text)
            with_hook: list[float] = []
            without: list[float] = []
            said = ""
            for i in range(args.runs * 2 + 2):
                hooked = i % 2 == 0
                elapsed, err = timed_commit(repo, path, None if hooked else empty_hooks)
                if i < 2:
                    continue  # warm-up pair: page cache, first import compiles
                (with_hook if hooked else without).append(elapsed)
                said = err if hooked else said
            on, off = statistics.median(with_hook) * 1000, statistics.median(without) * 1000
            worst = max(worst, on - off)
            print(
                f"{label:<12} git commit: {off:6.1f} ms without the hook, {on:6.1f} ms with it: "
                f"+{on - off:.1f} ms (median of {args.runs})"
            )
            if said.strip():
                print(f"{'':<12} hook said: {said.strip().splitlines()[0][:110]}")
        print(f"added by the hook, worst case: {worst:.0f} ms (target: <= 100 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
