"""Timing helpers shared by the benchmarks (scan, cherry-pick simulation,
hook latency).

Stdlib only. The pattern every benchmark follows:

    raw = Command("raw git", ["git", "-C", repo, "log", ...])
    tool = Command("backport scan", backport_argv(repo, "scan"))
    failure = probe(tool)               # None, or why it cannot run
    samples = alternate([raw, tool], rounds=5)
    print_samples(samples)
    ok = print_ratio("scan / raw-git", median(samples[tool.name]),
                     median(samples[raw.name]), target=1.2)

Commands are alternated (and their order rotated every round) rather than run
in two blocks, so that page cache warm-up, CPU frequency changes and load
from other processes on a shared machine hit both sides alike.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CHUNK = 1 << 20


class CommandFailed(Exception):
    """A measured command exited non-zero."""

    def __init__(self, name: str, argv: Sequence[str], returncode: int, stderr: str) -> None:
        self.name = name
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr
        tail = stderr.strip().splitlines()[-5:]
        super().__init__(f"{name}: exit code {returncode}: " + (" | ".join(tail) or "(no stderr)"))


class Measurable(Protocol):
    """Anything `alternate` can time: a name and one run returning seconds."""

    name: str

    def run(self) -> float: ...


@dataclass(frozen=True)
class Command:
    """An external command; its whole stdout is read (like a real consumer
    would) and discarded, so output formatting and pipe costs are counted."""

    name: str
    argv: Sequence[str]
    cwd: str | None = None
    env: Mapping[str, str] | None = None
    stdin: bytes | None = None
    # run before every run, untimed: e.g. drop a tool's cache for cold runs
    prepare: Callable[[], None] | None = field(default=None, compare=False)

    def run(self) -> float:
        return self.run_once()[0]

    def run_once(self) -> tuple[float, int]:
        """(seconds, bytes of stdout). Raises CommandFailed."""
        if self.prepare is not None:
            self.prepare()
        env = {**os.environ, **(self.env or {})}
        # stderr to a file: a pipe could fill up and block the child while we
        # are still reading stdout
        with tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            proc = subprocess.Popen(
                list(self.argv),
                cwd=self.cwd,
                env=env,
                stdin=subprocess.PIPE if self.stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
            )
            assert proc.stdout is not None
            if self.stdin is not None:
                assert proc.stdin is not None
                proc.stdin.write(self.stdin)
                proc.stdin.close()
            size = 0
            while chunk := proc.stdout.read(_CHUNK):
                size += len(chunk)
            proc.stdout.close()
            rc = proc.wait()
            elapsed = time.perf_counter() - start
            if rc:
                err.seek(0)
                raise CommandFailed(self.name, self.argv, rc, err.read().decode(errors="replace"))
        return elapsed, size


@dataclass(frozen=True)
class Call:
    """An in-process callable, for benchmarks that time a Python function."""

    name: str
    fn: Callable[[], object] = field(compare=False)

    def run(self) -> float:
        start = time.perf_counter()
        self.fn()
        return time.perf_counter() - start


def backport_argv(repo: str, *args: str, python: str | None = None, unstable: str = "master") -> list[str]:
    """argv for `python -m backport --repo REPO --unstable REF ARGS...`."""
    return [python or sys.executable, "-m", "backport", "--repo", repo, "--unstable", unstable, *args]


def backport_cache_dir(repo: str) -> str:
    """Where `backport` keeps its result cache for repo (see backport/cache.py)."""
    common_dir = git(repo, "rev-parse", "--path-format=absolute", "--git-common-dir")
    return os.path.join(common_dir, "backport-cache")


def drop_dir(path: str) -> Callable[[], None]:
    """A `prepare` hook that removes path (if present) before each run."""

    def drop() -> None:
        shutil.rmtree(path, ignore_errors=True)

    return drop


def backport_env() -> dict[str, str]:
    """Make `python -m backport` import this checkout even when the venv
    does not have it installed."""
    path = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": ROOT + (os.pathsep + path if path else "")}


def probe(cmd: Command) -> str | None:
    """Run once; None if it works, else a one-paragraph reason."""
    try:
        cmd.run_once()
    except CommandFailed as exc:
        tail = "\n    ".join(exc.stderr.strip().splitlines()[-8:]) or "(no stderr)"
        return f"{cmd.name} failed (exit code {exc.returncode}):\n    {' '.join(exc.argv)}\n    {tail}"
    except OSError as exc:
        return f"{cmd.name} could not start: {exc}"
    return None


def alternate(
    items: Sequence[Measurable | tuple[Measurable, ...]], rounds: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Seconds per run for each item, `rounds` runs each, interleaved.

    Each round runs every element once, starting one later than the round
    before, so no item always runs first (cold) or right after a given other
    one. An element may be a tuple of items: a chain that always runs in that
    order, for runs that depend on the one before (a warm-cache run right
    after the cold run that filled the cache). `warmup` untimed rounds fill
    the page cache first.
    """
    if rounds < 1:
        raise ValueError("rounds must be >= 1")
    chains = [tuple(it) if isinstance(it, tuple) else (it,) for it in items]
    names = [m.name for chain in chains for m in chain]
    if len(set(names)) != len(names):
        raise ValueError("measured items need distinct names")
    for _ in range(warmup):
        for chain in chains:
            for m in chain:
                m.run()
    out: dict[str, list[float]] = {name: [] for name in names}
    n = len(chains)
    for r in range(rounds):
        for k in range(n):
            for m in chains[(r + k) % n]:
                out[m.name].append(m.run())
    return out


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def fmt_seconds(seconds: float) -> str:
    if seconds < 1.0:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.3f} s"


def print_samples(samples: Mapping[str, Sequence[float]], out: Callable[[str], None] = print) -> None:
    """One line per item: median, min, max, number of runs."""
    width = max(len(n) for n in samples)
    for name, xs in samples.items():
        out(
            f"  {name:<{width}}  median {fmt_seconds(median(xs)):>10}  "
            f"min {fmt_seconds(min(xs)):>10}  max {fmt_seconds(max(xs)):>10}  ({len(xs)} runs)"
        )


def print_ratio(
    label: str,
    numerator: float,
    denominator: float,
    target: float,
    out: Callable[[str], None] = print,
    *,
    informational: bool = False,
) -> bool:
    """Print `label = x.xx (target <= t): PASS|FAIL`; True when it passes.

    Lower is better (a tool time over a reference time). With `informational`
    the line says "info" instead of PASS/FAIL (a figure shown for context)."""
    ratio = numerator / denominator if denominator > 0 else float("inf")
    ok = ratio <= target
    verdict = ("PASS" if ok else "FAIL") if not informational else "info"
    delta = numerator - denominator
    out(
        f"{label} = {ratio:.2f} (target <= {target:g}): {verdict} "
        f"({fmt_seconds(numerator)} vs {fmt_seconds(denominator)}, {'+' if delta >= 0 else '-'}"
        f"{fmt_seconds(abs(delta))} per run)"
    )
    return ok


def print_threshold(label: str, value: float, limit: float, out: Callable[[str], None] = print) -> bool:
    """Print `label = 12.3 ms (target <= 50 ms): PASS|FAIL`, for absolute
    budgets such as hook latency."""
    ok = value <= limit
    out(f"{label} = {fmt_seconds(value)} (target <= {fmt_seconds(limit)}): {'PASS' if ok else 'FAIL'}")
    return ok


def git(repo: str, *args: str) -> str:
    """stdout of a short git query in repo; raises CommandFailed."""
    res = subprocess.run(["git", "-C", repo, *args], capture_output=True, check=False)
    if res.returncode:
        raise CommandFailed(
            "git " + " ".join(args),
            ["git", "-C", repo, *args],
            res.returncode,
            res.stderr.decode(errors="replace"),
        )
    return res.stdout.decode().strip()


# The answer key's reading of a stable commit's reference lines: which
# unstable commit it names (Xen's `master commit:`, git's `(cherry picked
# from commit …)`, Linux's `commit <sha> upstream.`). Written here rather
# than taken from backport, so the benchmarks do not grade the tool by its
# own rules.
REFERENCE = re.compile(
    r"^[ \t]*(?:master commit:[ \t]*|\(cherry picked from commit |commit (?=[0-9a-f]{40}\s+upstream))([0-9a-f]{7,40})",
    re.M | re.I,
)


def resolve_commits(repo: str, written: Sequence[str]) -> dict[str, str]:
    """Each id as written -> the full id of the commit it names, in one
    `git cat-file --batch-check`; ids that name no commit are left out."""
    names = list(dict.fromkeys(written))
    if not names:
        return {}
    query = "".join(f"{n}^{{commit}}\n" for n in names)
    rows = subprocess.run(["git", "-C", repo, "cat-file", "--batch-check=%(objectname) %(objecttype)"],
                          input=query, capture_output=True, text=True, check=True).stdout.splitlines()
    return {n: row.split()[0] for n, row in zip(names, rows, strict=True) if row.endswith(" commit")}


def on_branch(repo: str, commits: Sequence[str], tip: str) -> list[str]:
    """Those of `commits` that `tip` reaches, in order, without repeats: one rev-list."""
    wanted = list(dict.fromkeys(commits))
    if not wanted:
        return []
    query = "".join(f"{c}\n" for c in [*wanted, f"^{tip}"])
    off = set(subprocess.run(["git", "-C", repo, "rev-list", "--stdin"], input=query,
                             capture_output=True, text=True, check=True).stdout.split())
    return [c for c in wanted if c not in off]


def version_key(text: str) -> tuple[int, ...]:
    """Numeric sort key for "4.9" < "4.10"."""
    return tuple(int(x) for x in text.split(".") if x.isdigit())


def stable_branches(repo: str, prefix: str = "stable-") -> list[tuple[str, str]]:
    """[(version, branch)] for local branches named <prefix><version>,
    oldest first."""
    refs = git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/")
    out = []
    for ref in refs.splitlines():
        if ref.startswith(prefix) and version_key(ref[len(prefix) :]):
            out.append((ref[len(prefix) :], ref))
    return sorted(out, key=lambda vb: version_key(vb[0]))


def environment() -> str:
    """One line describing where the numbers came from."""
    gitv = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{gitv}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {load:.2f}"
