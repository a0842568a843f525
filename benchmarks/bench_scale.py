"""Scale: `backport scan` and `backport report` on a 1,000,000-commit history
with 10 stable lines. Prints wall time and peak memory (target: under 1 GiB).

    python benchmarks/bench_scale.py                 # 1,000,000 commits, 10 lines
    python benchmarks/bench_scale.py --commits 200000 --lines 3

Each command runs once cold (cache removed first) and once warm. Peak memory
is the largest resident set among the command and the git processes it waited
for (getrusage RUSAGE_CHILDREN, measured from a fresh interpreter per run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
import synth  # noqa: E402

MEMORY_LIMIT = 1 << 30  # bytes
NOW = "2025-06-01T00:00:00+00:00"  # the synthetic history ends in 2025


def run_one(label: str, argv: Sequence[str]) -> tuple[float, int, int]:
    # a fresh interpreter per measurement keeps RUSAGE_CHILDREN to this command alone
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "w = time.perf_counter() - t\n"
        "r = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "sys.stderr.write(p.stderr.decode(errors='replace')[-400:])\n"
        "print(w, r * 1024, p.returncode)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **common.backport_env()},
    )
    wall, peak, rc = out.stdout.split()
    print(f"  {label:<28} {common.fmt_seconds(float(wall)):>10}   peak {int(peak) / (1 << 20):7.1f} MiB   exit {rc}")
    if int(rc):
        print("    " + out.stderr.strip().replace("\n", "\n    "))
    return float(wall), int(peak), int(rc)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commits", type=int, default=1_000_000)
    ap.add_argument("--lines", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    started = time.perf_counter()
    repo = synth.ensure_repo(args.commits, args.lines, args.seed)
    print(common.environment())
    print(f"repo: {repo} (ready after {time.perf_counter() - started:.0f} s)")
    print(f"stable lines: {', '.join(name for name, _ in common.stable_branches(repo))}")
    cache = common.backport_cache_dir(repo)
    ok = True
    for command in (["scan", "--format", "json"], ["report", "--format", "json", "--now", NOW]):
        name = " ".join(command[:1])
        common.drop_dir(cache)()
        for state in ("cold", "warm"):
            _, peak, rc = run_one(f"backport {name} ({state})", common.backport_argv(repo, *command))
            ok &= rc == 0 and peak < MEMORY_LIMIT
    print(f"peak memory target: under {MEMORY_LIMIT >> 20} MiB for every run: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
