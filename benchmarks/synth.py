#!/usr/bin/env python3
"""Large synthetic Xen-shaped repositories for the benchmarks.

Stdlib only. One `git fast-import` stream builds the whole repository:

- `master`: a linear history of N commits over ~2,000 files (xen/arch/x86,
  xen/arch/arm, xen/common, tools/libs/..., docs/...), dates rising from 2015
  to mid-2025, several dozen (fictional) authors, Xen-style messages with
  Signed-off-by / Reviewed-by / Acked-by, `Fixes:` lines, reverts and
  `Backport-to:` / `Backport:` nominations (some misplaced, some malformed);
- `stable-4.<k>` lines forked in the last ~30% of history, carrying backports
  (`cherry picked from`, Xen's `master commit:`, or no reference at all),
  stable-only changes that make some pending nominations conflict,
  version bumps and `RELEASE-4.<k>.<n>` annotated tags;
- a few notes on `refs/notes/backport`.

Use `ensure_repo(...)` from Python or run
`python benchmarks/synth.py --commits 200000 --lines 3`; repositories are
cached under `benchmarks/.cache/<params>/repo` with a `COMPLETE` marker
written last.

How it stays fast and small:

1. Plan: the whole history is simulated on lists of integer line ids (one id
   per distinct line of text). Every change is a hunk `(pos, old ids, new
   ids, anchor id)`, so backports and reverts can re-apply a change by
   finding the same lines in another version of the file, as a cherry-pick
   would.
2. Blobs: every version of a file is emitted consecutively, file after file.
   fast-import only deltifies a blob against the blob written just before it,
   so this ordering is what keeps the pack small (a commit-ordered stream
   stores every version whole: ~20x bigger). Text is rendered from the line
   ids by a hash, never stored.
3. Commits: object ids are computed here as well (blob, tree and commit
   hashing is cheap), so messages can quote real ids (`Fixes:`, `This reverts
   commit`, `cherry picked from commit`) without asking fast-import. The
   computed branch tips are checked against git's at the end, which checks
   every id quoted in a message.

After fast-import we run `git pack-refs --all` and `git commit-graph write
--reachable` but no `git gc`/repack. A real long-lived clone has packed refs
and, after its first auto-gc, a commit-graph; timing `git log` without one
would flatter nothing and penalise everything. A full repack of 200k commits
would cost minutes on two cores and buys little, because the stream is
already delta-ordered.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import math
import os
import random
import shutil
import string
import subprocess
import sys
import time
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

# Bump when the output for the same parameters changes, so caches are rebuilt.
GENERATOR_VERSION = 1
CACHE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache")
MARKER = "COMPLETE"
TRUTH = "truth.json"  # expected verdicts, next to the marker

START_TS = 1420448400  # 2015-01-05 09:00 UTC
END_TS = 1751274000  # 2025-06-30 09:00 UTC
DAY = 86400
NEWEST_MINOR = 20  # lines are 4.(21-lines) .. 4.20; master is 4.21-unstable
M64 = (1 << 64) - 1

# Deterministic environment for every git we run: no user or system config
# (autocrlf, hooks paths, signing) may change the bytes we compute ids for.
_GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}


# --------------------------------------------------------------------------
# Parameters and results


@dataclass(frozen=True)
class Params:
    commits: int
    lines: int = 3
    seed: int = 1
    nominate_rate: float = 0.03
    files: int = 2000
    bare: bool = False
    commit_graph: bool = True

    def key(self) -> str:
        parts = [
            f"xen-v{GENERATOR_VERSION}",
            f"c{self.commits}",
            f"l{self.lines}",
            f"s{self.seed}",
            f"n{self.nominate_rate:g}",
            f"f{self.files}",
        ]
        if self.bare:
            parts.append("bare")
        if not self.commit_graph:
            parts.append("nocg")
        return "-".join(parts)

    def check(self) -> None:
        if self.commits < 50 * max(1, self.lines):
            raise ValueError("need at least 50 commits per stable line")
        if not 0 <= self.lines <= NEWEST_MINOR:
            raise ValueError(f"lines must be between 0 and {NEWEST_MINOR}")
        if not 0.0 <= self.nominate_rate <= 1.0:
            raise ValueError("nominate_rate must be between 0 and 1")
        if self.files < 200:
            raise ValueError("need at least 200 files")


@dataclass
class LineInfo:
    version: str
    branch: str
    fork_index: int  # master commit index the branch starts from
    fork: str = ""
    tip: str = ""
    backports: int = 0
    backports_by_style: dict[str, int] = field(default_factory=dict)
    approximate_backports: int = 0
    pending: int = 0
    reverted: int = 0
    conflict_seeds: int = 0
    not_needed: int = 0
    releases: list[str] = field(default_factory=list)


@dataclass
class Stats:
    params: dict[str, object]
    repo: str
    master: str = ""
    commits_total: int = 0
    nominated: int = 0
    malformed: int = 0
    misplaced: int = 0
    fixes: int = 0
    reverts: int = 0
    notes: int = 0
    lines: list[LineInfo] = field(default_factory=list)
    pack_bytes: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------
# Vocabulary. Everything is invented; author names are fictional.

_A = (
    "p2m vcpu domain gfn mfn irq evtchn grant hvm vmcs vmcb msr cpuid pci "
    "iommu paging shadow sched timer xenstore page mapcache ioreq vpci vlapic "
    "vioapic hpet pirq gnttab xsm cpupool softirq rcu tasklet apic microcode "
    "mce nmi smp acpi efi dt gic vgic smmu mmio altp2m ept npt vmexit emul pv "
    "cpu_policy xstate fpu ldt gdt tlb mem_sharing mem_access vm_event monitor "
    "hypfs livepatch kexec argo trace console serial dom0 hwdom bitmap"
).split()
_B = (
    "set_entry get_entry init destroy lookup flush map unmap alloc free "
    "handler update read write check enable disable setup teardown populate "
    "release acquire put get bind unbind inject deliver resume suspend save "
    "restore dump reset sync validate translate walk insert remove claim "
    "assign deassign notify wait poll intercept emulate"
).split()
_VARS = (
    "d v rc gfn mfn pg p2m info ctxt val addr size flags nr idx entry ops cfg "
    "state mask order bdf irq port ref offset len count ret err"
).split()
_FIELDS = (
    "arch domain_id vcpu_id lock flags count max_pages tot_pages paging hvm "
    "pv iommu vm_event pause_count is_dying cpupool node_affinity evtchn_ops "
    "grant_table shared_info vcpu_info runstate periodic_period timer "
    "poll_mask ioreq_server msr cpu_policy guest_table monitor_table"
).split()
_ERRNOS = (
    "EINVAL ENOMEM EFAULT EPERM EBUSY ENOENT EOPNOTSUPP ESRCH EEXIST E2BIG "
    "EAGAIN ERESTART ENODEV EACCES EOVERFLOW"
).split()
_FLAGW = "ENABLED PRESENT VALID MASK SHIFT MAX MIN BUSY DIRTY LOCKED PENDING ACTIVE ORDER SIZE BITS".split()
_TYPES = (
    "unsigned int ",
    "unsigned long ",
    "int ",
    "bool ",
    "uint64_t ",
    "uint32_t ",
    "uint16_t ",
    "uint8_t ",
    "paddr_t ",
    "gfn_t ",
    "mfn_t ",
    "struct domain *",
    "struct vcpu *",
    "struct page_info *",
    "const char *",
    "void *",
    "evtchn_port_t ",
    "domid_t ",
    "nodeid_t ",
    "cpumask_t *",
)
_WORDS = (
    "the guest must not be able to this is safe because we hold lock here "
    "avoid racing with other CPUs note that callers expect entry remain valid "
    "until after flush only when domain dying otherwise fall back slow path "
    "needs audit for PV HVM guests ignore stale mapping re-check under RCU "
    "hardware may report bogus values on some older parts keep in sync table "
    "below caller already checked"
).split()

_C_T = (
    "    rc = {f}({v1}, {v2});",
    "    if ( {v1} != {v2} )",
    "    if ( !{f}({v1}) )",
    "        return -{E};",
    "    {v1}->{fld} = {v2};",
    "    {v1} = {v2}->{fld};",
    "    {ty}{v1} = {n};",
    "    {f}({v1}, {v2}, {n});",
    "    ASSERT({v1} <= {M});",
    "    for ( i = 0; i < {M}; i++ )",
    "    spin_lock(&{v1}->{fld}_lock);",
    "    spin_unlock(&{v1}->{fld}_lock);",
    "    /* {cm} */",
    "        {v1} |= {M};",
    "        {v1} &= ~{M};",
    "    BUG_ON(!{v1}->{fld});",
    "        goto out;",
    "    }}",
    "    {{",
    "",
    "",
    "",
    "static int {f}(struct domain *d, unsigned long {v1})",
    '    printk(XENLOG_WARNING "{f}: {v1} %#lx\\n", {v1});',
    '    gdprintk(XENLOG_ERR, "{cm}\\n");',
    "    return {f}({v1}, {n});",
    "    case {M}:",
    "        break;",
    "    else if ( {v1} > {n} )",
    "    {v1} = {f}({v2}->{fld}, {M});",
)
_H_T = (
    "#define {M} {hex}",
    "#define {M}({v1}) ((({v1}) >> {n}) & {hex})",
    "    {ty}{fld}_{v1};",
    "int {f}(struct domain *d, {ty}{v1});",
    "void {f}(struct vcpu *v);",
    "static inline bool {f}(const struct domain *d)",
    "struct {f} {{",
    "}};",
    "",
    "",
    " * {cm}",
    "/* {cm} */",
    "extern {ty}{f}_{fld};",
    "DECLARE_PER_CPU({ty}{f});",
)
_DOC_T = (
    "{Cm}.",
    "{Cm}, {cm2}.",
    "",
    "",
    "## {Title}",
    "*   `{f}`: {cm}.",
    "    {M}={n}",
    "The `{f}` option {cm}.",
)
_MK_T = (
    "obj-y += {f}.o",
    "obj-$(CONFIG_{MU}) += {f}.o",
    "obj-bin-y += {f}.init.o",
    "CFLAGS-$(CONFIG_{MU}) += -D{M}",
    "",
    "{f}-objs := {f}.o {v1}_{fld}.o",
)
_SH_T = (
    '    {v1}="${{{MU}:-{n}}}"',
    'if [ -n "${v1}" ]; then',
    "fi",
    '    {f} "$@" || exit 1',
    'echo "{cm}"',
    "",
    "# {cm}",
)
K_C, K_H, K_DOC, K_MK, K_SH, K_LIT = range(6)
_TEMPLATES = (_C_T, _H_T, _DOC_T, _MK_T, _SH_T)

# (directory, files at 2,000 total, kind, subject prefix)
_DIRS: tuple[tuple[str, int, int, str], ...] = (
    ("xen/arch/x86", 45, K_C, "x86"),
    ("xen/arch/x86/mm", 30, K_C, "x86/mm"),
    ("xen/arch/x86/mm/shadow", 14, K_C, "x86/shadow"),
    ("xen/arch/x86/mm/hap", 8, K_C, "x86/HAP"),
    ("xen/arch/x86/hvm", 45, K_C, "x86/hvm"),
    ("xen/arch/x86/hvm/vmx", 12, K_C, "VMX"),
    ("xen/arch/x86/hvm/svm", 12, K_C, "SVM"),
    ("xen/arch/x86/pv", 28, K_C, "x86/pv"),
    ("xen/arch/x86/cpu", 26, K_C, "x86/cpu"),
    ("xen/arch/x86/cpu/mcheck", 16, K_C, "x86/mce"),
    ("xen/arch/x86/x86_64", 14, K_C, "x86-64"),
    ("xen/arch/x86/guest", 10, K_C, "x86/guest"),
    ("xen/arch/x86/x86_emulate", 8, K_C, "x86emul"),
    ("xen/arch/x86/include/asm", 60, K_H, "x86"),
    ("xen/arch/x86/include/asm/hvm", 30, K_H, "x86/hvm"),
    ("xen/arch/arm", 50, K_C, "xen/arm"),
    ("xen/arch/arm/arm64", 20, K_C, "xen/arm64"),
    ("xen/arch/arm/arm32", 14, K_C, "xen/arm32"),
    ("xen/arch/arm/vgic", 8, K_C, "xen/arm: vgic"),
    ("xen/arch/arm/tee", 6, K_C, "xen/arm: tee"),
    ("xen/arch/arm/include/asm", 60, K_H, "xen/arm"),
    ("xen/common", 60, K_C, "xen"),
    ("xen/common/sched", 14, K_C, "sched"),
    ("xen/common/libelf", 8, K_C, "libelf"),
    ("xen/drivers/passthrough", 18, K_C, "IOMMU"),
    ("xen/drivers/passthrough/vtd", 16, K_C, "VT-d"),
    ("xen/drivers/passthrough/amd", 16, K_C, "AMD/IOMMU"),
    ("xen/drivers/passthrough/arm", 6, K_C, "xen/arm: smmu"),
    ("xen/drivers/char", 24, K_C, "xen/char"),
    ("xen/drivers/vpci", 8, K_C, "vpci"),
    ("xen/drivers/cpufreq", 6, K_C, "cpufreq"),
    ("xen/include/xen", 60, K_H, "xen"),
    ("xen/include/public", 36, K_H, "public"),
    ("xen/include/public/arch-x86", 10, K_H, "public/x86"),
    ("xen/include/public/io", 14, K_H, "public/io"),
    ("xen/xsm", 6, K_C, "xsm"),
    ("xen/xsm/flask", 12, K_C, "flask"),
    ("xen/tools", 6, K_SH, "xen/build"),
    ("tools/libs/ctrl", 36, K_C, "libxc"),
    ("tools/libs/guest", 36, K_C, "libxenguest"),
    ("tools/libs/light", 60, K_C, "libxl"),
    ("tools/libs/store", 6, K_C, "libxenstore"),
    ("tools/libs/evtchn", 8, K_C, "libxenevtchn"),
    ("tools/libs/gnttab", 8, K_C, "libxengnttab"),
    ("tools/libs/call", 8, K_C, "libxencall"),
    ("tools/libs/foreignmemory", 8, K_C, "libxenforeignmemory"),
    ("tools/libs/toolcore", 4, K_C, "libxentoolcore"),
    ("tools/libs/hypfs", 4, K_C, "libxenhypfs"),
    ("tools/libs/stat", 8, K_C, "libxenstat"),
    ("tools/libs/vchan", 6, K_C, "libvchan"),
    ("tools/libs/util", 10, K_C, "libxlutil"),
    ("tools/include", 20, K_H, "tools"),
    ("tools/xl", 24, K_C, "xl"),
    ("tools/xenstored", 26, K_C, "tools/xenstored"),
    ("tools/misc", 40, K_C, "tools/misc"),
    ("tools/firmware/hvmloader", 30, K_C, "hvmloader"),
    ("tools/ocaml/libs/xc", 6, K_C, "tools/ocaml"),
    ("tools/ocaml/xenstored", 20, K_C, "oxenstored"),
    ("tools/tests/x86_emulator", 14, K_C, "tests/x86emul"),
    ("tools/tests/cpu-policy", 4, K_C, "tests/cpu-policy"),
    ("tools/flask/policy/modules", 20, K_DOC, "flask"),
    ("tools/hotplug/Linux", 14, K_SH, "hotplug"),
    ("tools/xentrace", 8, K_C, "xentrace"),
    ("tools/golang/xenlight", 6, K_C, "golang/xenlight"),
    ("docs/man", 30, K_DOC, "docs/man"),
    ("docs/misc", 50, K_DOC, "docs"),
    ("docs/designs", 24, K_DOC, "docs/designs"),
    ("docs/process", 10, K_DOC, "docs/process"),
    ("docs/features", 16, K_DOC, "docs/features"),
    ("docs/hypervisor-guide", 8, K_DOC, "docs/guide"),
    ("stubdom", 8, K_MK, "stubdom"),
    ("automation/scripts", 14, K_SH, "automation"),
    ("automation/gitlab-ci", 6, K_DOC, "CI"),
)
_DOC_EXT = {
    "docs/man": ".pod",
    "docs/misc": ".txt",
    "docs/designs": ".md",
    "docs/process": ".pandoc",
    "docs/features": ".pandoc",
    "docs/hypervisor-guide": ".rst",
    "tools/flask/policy/modules": ".te",
    "automation/gitlab-ci": ".yaml",
}

_FIRST = (
    "Alma Bruno Chiara Dmitri Elif Farid Greta Hiroshi Ines Jonas Kamala Lars "
    "Mei Nils Olga Pavel Quentin Rosa Sven Tomasz Ulla Viktor Wanda Xiu Yannick "
    "Zoë Åsa Björn Céline Dário"
).split()
_LAST = (
    "Abendroth Brennan Castellano Dvořák Eriksen Fontaine Gallardo Halvorsen "
    "Ibáñez Jansen Kowalczyk Lindqvist Moreau Nakamura Okonkwo Petrescu Quist "
    "Rasmussen Szabó Tanaka Urbanek Vasquez Weidmann Yilmaz Zielinski"
).split()
_DOMAINS = ("example.com", "example.org", "example.net", "mail.example", "vendor.example")
_TZS = ("+0000", "+0100", "+0200", "-0500", "-0800", "+0800", "+0530", "+0900", "-0300", "+0300")

_SUBJ = (
    "fix {bug} in {f}()",
    "avoid {bug} in {f}()",
    "correct {fld} handling in {f}()",
    "introduce {f}()",
    "add {f}() helper",
    "rework {f}()",
    "drop unused {f}()",
    "simplify {f}()",
    "constify {f}() parameters",
    "use {g}() in {f}()",
    "don't {act} {fld} in {f}()",
    "make {f}() static",
    "switch {f}() to {g}()",
    "properly {act} {fld} on {f}() error path",
    "tidy {f}()",
    "harden {f}() against {bug}",
    "check {fld} before calling {f}()",
    "limit {fld} in {f}()",
    "move {f}() out of line",
    "split {f}()",
)
_BUGS = (
    "overflow",
    "off-by-one",
    "NULL dereference",
    "use-after-free",
    "double free",
    "memory leak",
    "race",
    "deadlock",
    "integer truncation",
    "uninitialised variable",
    "missing unlock",
    "bogus assertion",
    "wrong error code",
    "stale TLB entry",
    "misaligned access",
)
_ACTS = ("leak", "clobber", "re-read", "ignore", "reset", "flush", "lock", "touch", "truncate", "check")
_BODY = (
    "{F}() {act}s {fld} without holding the lock, which can race with {g}().",
    "When {f}() fails, the error path does not {act} {fld} and leaves the domain in an inconsistent state.",
    "The {fld} field is only valid once {g}() has run, so {f}() must not look at it earlier.",
    "A guest can trigger this by issuing {M} while {fld} is being updated.",
    "Move the check ahead of {g}() and return -{E} instead.",
    "No functional change intended.",
    "This was found by code inspection.",
    "Take the opportunity to {act} {fld} in {g}() as well.",
    "Use {g}() instead, which already copes with a {bug}.",
    "The {bug} was introduced when {f}() was split out of {g}().",
    "Callers of {f}() already hold the relevant lock, so drop the redundant acquisition.",
    "This matters for guests with more than {n} vCPUs.",
    "Coverity reports a {bug} here.",
    "There is no need to keep {fld} around once {f}() has returned.",
    "Make {f}() return -{E} rather than crashing the host.",
    "Spotted while looking at {g}().",
)
_REASONS = (
    "depends on infrastructure not present there",
    "too invasive for a stable branch",
    "the affected code is not built there",
    "needs a prerequisite that is not backported",
)
_NOM_COMMENTS = (
    "maybe older",
    "together with the previous patch",
    "needs the preceding cleanup too",
    "XSA follow-up",
)
_MALFORMED = ("4.2O", "4.l9", "4.19++", "4..19", "4.x")


def _mix(x: int) -> int:
    """splitmix64: cheap, well-spread, and stable across Python versions
    (unlike hash()), so rendered text depends only on the seed."""
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


_FUNCS = [f"{a}_{b}" for a in _A for b in _B]
_MACROS = [f"{a.upper()}_{w}" for a in _A for w in _FLAGW]


def _comment(h: int) -> str:
    x = _mix(h)
    n = 3 + (x & 7) % 6
    return " ".join([_WORDS[(x >> (3 + 7 * k)) % len(_WORDS)] for k in range(n)])


# One getter per template slot, each reading its own bits of the line's hash.
_SLOTS: dict[str, Callable[[int], str]] = {
    "f": lambda h: _FUNCS[(h >> 8) % len(_FUNCS)],
    "v1": lambda h: _VARS[(h >> 20) % len(_VARS)],
    "v2": lambda h: _VARS[(h >> 26) % len(_VARS)],
    "fld": lambda h: _FIELDS[(h >> 32) % len(_FIELDS)],
    "E": lambda h: _ERRNOS[(h >> 38) % len(_ERRNOS)],
    "M": lambda h: _MACROS[(h >> 42) % len(_MACROS)],
    "MU": lambda h: _A[(h >> 42) % len(_A)].upper(),
    "n": lambda h: str((h >> 52) & 63),
    "hex": lambda h: f"{(h >> 40) & 0xFFFF:#x}",
    "ty": lambda h: _TYPES[(h >> 56) % len(_TYPES)],
    "cm": _comment,
    "Cm": lambda h: (c := _comment(h))[:1].upper() + c[1:],
    "cm2": lambda h: _comment(h ^ 0x5555),
    "Title": lambda h: _FUNCS[(h >> 8) % len(_FUNCS)].replace("_", " ").title(),
}


def _compile(template: str) -> Callable[[int], str]:
    """A renderer computing only the slots this template uses: rendering
    is the generator's hottest loop (every line of every file)."""
    names = sorted({f for _, f, _, _ in string.Formatter().parse(template) if f})
    if not names:
        text = template.format()
        return lambda h: text
    getters = [(n, _SLOTS[n]) for n in names]
    fmt = template.format
    return lambda h: fmt(**{n: g(h) for n, g in getters})


class _Renderer:
    """Turns a line id into a line of text for a file of a given kind."""

    def __init__(self, seed: int, literals: list[str]) -> None:
        self.salt = _mix(seed * 0x1F123BB5 + 7)
        self.literals = literals
        self.kinds = [[_compile(t) for t in group] for group in _TEMPLATES]

    def line(self, lid: int, kind: int) -> str:
        if lid < 0:
            return self.literals[-lid - 1]
        h = _mix(lid ^ self.salt)
        templates = self.kinds[kind]
        return templates[h % len(templates)](h)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _wrap(text: str, width: int = 72) -> list[str]:
    lines: list[str] = []
    cur = ""
    for word in text.split(" "):
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    if cur:
        lines.append(cur)
    return lines


# --------------------------------------------------------------------------
# Plan: the history as data, before any bytes are written.

# A hunk: (pos, old ids, new ids, id of the line before pos or -1). `old` and
# `anchor` let another version of the file find the same place.
Hunk = tuple[int, tuple[int, ...], tuple[int, ...], int]


class _MCommit:
    """One master commit, as little as is needed to write it later."""

    __slots__ = ("changes", "fixes", "nom", "revert")

    def __init__(self) -> None:
        self.changes: list[tuple[int, int, tuple[Hunk, ...]]] = []  # (file, blob mark, hunks)
        self.nom: tuple[tuple[str, ...], bool] | None = None  # (lines, misplaced)
        self.fixes = -1
        self.revert = -1


@dataclass
class _SCommit:
    """One stable-branch commit."""

    ts: int
    kind: str  # "backport" | "seed" | "bump"
    source: int = -1  # master index for backports and seeds
    style: str = ""  # backport reference: "x" (cherry-pick -x), "xen", "none"
    changes: list[tuple[int, int]] = field(default_factory=list)  # (file, blob mark)
    version: str = ""  # for bumps: the new Xen version string
    tag: str = ""  # release tag to put on this commit
    exact: bool = True  # backports: every hunk found its lines on the line


@dataclass
class _Author:
    name: str
    email: str
    tz: str

    def ident(self, ts: int, tz: str | None = None) -> bytes:
        return f"{self.name} <{self.email}> {ts} {tz or self.tz}".encode()

    def trailer(self) -> str:
        return f"{self.name} <{self.email}>"


class _Plan:
    """Decides the whole history: files, changes, nominations, backports."""

    def __init__(self, p: Params) -> None:
        self.p = p
        self.rng = random.Random(p.seed)
        self.literals: list[str] = []
        self.next_id = 1
        self.next_mark = 1
        self.paths: list[str] = []
        self.kinds: list[int] = []
        self.modes: list[bytes] = []
        self.file_dir_prefix: list[str] = []
        self.file_group: list[int] = []
        self.group_maintainers: list[list[int]] = []
        self.initial: list[list[int]] = []
        self.initial_marks: list[int] = []
        self.versions: list[list[tuple[int, tuple[Hunk, ...]]]] = []
        self.stable_versions: list[list[tuple[int, tuple[int, ...]]]] = []
        self.commits: list[_MCommit] = []
        self.lines: list[LineInfo] = []
        self.stable: list[list[_SCommit]] = []
        self.notes: list[tuple[int, str]] = []
        self.reverted: set[int] = set()
        # per line: what each nominated commit's verdict should be (indices)
        self.truth: list[dict[str, list[int]]] = []
        # (master index, stable id, style, exact)
        self.backported: list[list[tuple[int, str, str, bool]]] = []
        self.stats = Stats(params=asdict(p), repo="")
        self.truth_json: dict[str, object] = {}
        self.forks = self._fork_points()
        self._authors()
        self._tree()

    # -- setup -------------------------------------------------------------

    def _fork_points(self) -> list[int]:
        n, k = self.p.commits, self.p.lines
        # evenly spaced over the last ~30% of history, newest a year or so
        # before the tip so it has had point releases
        return [int(n * (0.70 + 0.30 * i / k)) for i in range(k)] if k else []

    def _authors(self) -> None:
        rng = self.rng
        seen: set[str] = set()
        self.authors: list[_Author] = []
        while len(self.authors) < 48:
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            name = f"{first} {last}"
            if name in seen:
                continue
            seen.add(name)
            style = rng.randrange(3)
            user = {0: f"{first}.{last}", 1: first, 2: f"{first[0]}{last}"}[style]
            email = f"{_ascii(user).lower()}@{rng.choice(_DOMAINS)}"
            self.authors.append(_Author(name, email, rng.choice(_TZS)))
        # a few people write most patches, as in any real project
        weights = [1.0 / (r + 1) ** 1.1 for r in range(len(self.authors))]
        self.author_cum = _cumulative(weights)
        self.committers = self.authors[:6]
        self.stable_maintainer = self.authors[0]

    def _literal(self, text: str) -> int:
        self.literals.append(text)
        return -len(self.literals)

    def _new_ids(self, n: int) -> tuple[int, ...]:
        first = self.next_id
        self.next_id += n
        return tuple(range(first, first + n))

    def _mark(self) -> int:
        m = self.next_mark
        self.next_mark += 1
        return m

    def _tree(self) -> None:
        rng = self.rng
        total = sum(c for _, c, _, _ in _DIRS)
        scale = self.p.files / total
        groups: dict[str, int] = {}
        for d, count, kind, prefix in _DIRS:
            count = max(2, round(count * scale))
            group = groups.setdefault(prefix, len(groups))
            names: set[str] = set()
            if kind in (K_C, K_MK):
                names.add("Makefile")
            while len(names) < count:
                a, b = rng.choice(_A), rng.choice(_B)
                r = rng.random()
                stem = a if r < 0.3 else (f"{a}-{b}" if r < 0.5 else f"{a}_{b}")
                if kind == K_C:
                    ext = ".h" if rng.random() < 0.08 else ".c"
                elif kind == K_H:
                    ext = ".h"
                elif kind == K_DOC:
                    ext = _DOC_EXT.get(d, ".txt")
                elif kind == K_SH:
                    ext = ".sh" if rng.random() < 0.5 else ""
                else:
                    ext = ".mk"
                names.add(stem + ext)
            for name in sorted(names):
                fkind = K_MK if name == "Makefile" else (K_H if name.endswith(".h") else kind)
                self._add_file(f"{d}/{name}", fkind, prefix, group, rng)
        self.group_names = list(groups)
        self.group_maintainers = [rng.sample(range(len(self.authors)), 1 + rng.randrange(3)) for _ in groups]
        # files only changed by special commits (weight 0 for random changes)
        self._add_literal_file("MAINTAINERS", self._maintainers_text())
        self._add_literal_file("xen/Makefile", self._xen_makefile_text())
        self._add_literal_file(
            "README",
            [
                "############################################################",
                "__  __            ",
                "\\ \\/ /___ _ __    ",
                " \\  // _ \\ '_ \\   ",
                " /  \\  __/ | | |  ",
                "/_/\\_\\___|_| |_|  ",
                "",
                "############################################################",
                "",
                "This is a synthetic repository generated for benchmarks.",
                "It is shaped like the Xen Project hypervisor tree.",
            ],
        )
        # literal files (MAINTAINERS, xen/Makefile) only change on purpose
        self.churn_files = [f for f, kind in enumerate(self.kinds) if kind != K_LIT]
        # hot files: a few get most of the churn
        self.file_cum = _cumulative([1.0 / (1 + rng.random() * 40) ** 1.2 for _ in self.churn_files])
        by_dir: dict[str, list[int]] = {}
        for f, path in enumerate(self.paths):
            if self.kinds[f] != K_LIT:
                by_dir.setdefault(path.rsplit("/", 1)[0], []).append(f)
        self.dir_files = by_dir
        self.bounds = [(max(10, int(len(c) * 0.75)), int(len(c) * 1.3) + 5) for c in self.initial]

    def _add_file(self, path: str, kind: int, prefix: str, group: int, rng: random.Random) -> None:
        if kind == K_MK:
            n = 15 + rng.randrange(45)
        else:
            # log-normal sizes: median ~160 lines, a few files near 900
            n = min(900, max(30, int(math.exp(rng.gauss(5.1, 0.5)))))
        self.paths.append(path)
        self.kinds.append(kind)
        self.modes.append(b"100755" if kind == K_SH and not path.endswith(".txt") else b"100644")
        self.file_dir_prefix.append(prefix)
        self.file_group.append(group)
        self.initial.append(list(self._new_ids(n)))
        self.initial_marks.append(self._mark())
        self.versions.append([])
        self.stable_versions.append([])

    def _add_literal_file(self, path: str, text: list[str]) -> None:
        self.paths.append(path)
        self.kinds.append(K_LIT)
        self.modes.append(b"100644")
        self.file_dir_prefix.append("")
        self.file_group.append(-1)
        self.initial.append([self._literal(t) for t in text])
        self.initial_marks.append(self._mark())
        self.versions.append([])
        self.stable_versions.append([])

    def _maintainers_text(self) -> list[str]:
        out = [
            "",
            "        List of maintainers and how to submit changes",
            "        =============================================",
            "",
            "Descriptions of section entries:",
            "",
            "\tM: Mail patches to: FullName <address@domain>",
            "\tR: Designated reviewer: FullName <address@domain>",
            "\tL: Mailing list that is relevant to this area",
            "\tS: Status, one of Supported, Maintained, Odd Fixes, Orphan",
            "\tF: Files and directories with wildcard patterns.",
            "\tX: Files and directories that are NOT maintained.",
            "",
            "Maintainers List (try to look for most precise areas first)",
            "",
            "\t\t-----------------------------------",
            "",
        ]
        sections: dict[str, list[str]] = {}
        for d, _, _, prefix in _DIRS:
            title = prefix.upper().replace(": ", " ").replace("/", " ")
            sections.setdefault(title, []).append(d)
        group_of = {name: i for i, name in enumerate(self.group_names)}
        for title in sorted(sections):
            prefix = next(p for d, _, _, p in _DIRS if d == sections[title][0])
            out.append(title)
            for a in self.group_maintainers[group_of[prefix]]:
                out.append(f"M:\t{self.authors[a].trailer()}")
            out.append("S:\tSupported")
            for d in sections[title]:
                out.append(f"F:\t{d}/")
            out.append("")
        out += ["THE REST"]
        out += [f"M:\t{c.trailer()}" for c in self.committers[:4]]
        out += [
            "L:\txen-devel@lists.example.org",
            "S:\tSupported",
            "F:\t*",
            "F:\t*/",
            "V:\txen-maintainers-1",
            "",
        ]
        return out

    def _xen_makefile_text(self) -> list[str]:
        return [
            "# $(lastword $(MAKEFILE_LIST)) is the top-level Makefile of the hypervisor",
            "# All other places this is stored (eg. compile.h) should be autogenerated.",
            "export XEN_VERSION       = 4",
            f"export XEN_SUBVERSION    = {NEWEST_MINOR + 1}",
            "export XEN_EXTRAVERSION ?= -unstable$(XEN_VENDORVERSION)",
            "export XEN_FULLVERSION   = $(XEN_VERSION).$(XEN_SUBVERSION)$(XEN_EXTRAVERSION)",
            "-include xen-version",
            "",
            "export XEN_WHOAMI\t?= $(USER)",
            "export XEN_DOMAIN\t?= $(shell ([ -x /bin/dnsdomainname ] && /bin/dnsdomainname) || echo [unknown])",
            "",
            "MAKEFLAGS += -rR",
            "",
            "EFI_MOUNTPOINT ?= $(BOOT_DIR)/efi",
        ]

    # -- master --------------------------------------------------------------

    def ts(self, i: int) -> int:
        """Committer date of master commit i: rising, unique, jittered."""
        span = END_TS - START_TS
        frac = (_mix(i ^ 0xABCDEF) % 900) / 1000.0
        return START_TS + int(span * (i + frac) / self.p.commits)

    def _pick_files(self) -> list[int]:
        rng = self.rng
        n = 1 if (r := rng.random()) < 0.55 else (2 if r < 0.85 else 3)
        first = self.churn_files[_pick(self.file_cum, rng.random())]
        chosen = [first]
        same_dir = self.dir_files[self.paths[first].rsplit("/", 1)[0]]
        for _ in range(8 * n):
            if len(chosen) == n:
                break
            # related changes mostly stay in one directory
            if rng.random() < 0.7:
                f = rng.choice(same_dir)
            else:
                f = self.churn_files[_pick(self.file_cum, rng.random())]
            if f not in chosen:
                chosen.append(f)
        return chosen

    def _hunk(self, lst: list[int], f: int) -> Hunk:
        rng = self.rng
        lo, hi = self.bounds[f]
        size = len(lst)
        r = rng.random()
        # keep each file near its initial size: unbounded growth would make
        # every blob (and the stream) bigger the longer the history
        if size > hi:
            kind = "d" if r < 0.5 else "m"
        elif size < lo:
            kind = "i" if r < 0.5 else "m"
        else:
            kind = "m" if r < 0.6 else ("i" if r < 0.8 else "d")
        if kind == "i":
            nold, nnew = 0, 1 + rng.randrange(4)
        elif kind == "d":
            nold, nnew = rng.choice((1, 1, 1, 2, 2, 3)), 0
        else:
            nold = rng.choice((1, 1, 1, 2, 2, 3))
            nnew = max(1, nold + rng.choice((-1, 0, 0, 0, 1)))
        pos = rng.randrange(size - nold + 1)
        old = tuple(lst[pos : pos + nold])
        new = self._new_ids(nnew)
        anchor = lst[pos - 1] if pos else -1
        lst[pos : pos + nold] = new
        return (pos, old, new, anchor)

    def _change(self, c: _MCommit, f: int, hunks: tuple[Hunk, ...]) -> None:
        mark = self._mark()
        self.versions[f].append((mark, hunks))
        c.changes.append((f, mark, hunks))

    def _revert(self, content: list[list[int]], c: _MCommit, target: int) -> bool:
        """Undo target's hunks where its lines are still intact."""
        any_done = False
        for f, _, hunks in self.commits[target].changes:
            lst = content[f]
            inverse: list[Hunk] = []
            for _pos, old, new, anchor in reversed(hunks):
                p = _find(lst, new, anchor)
                if p < 0:
                    continue
                inverse.append((p, new, old, lst[p - 1] if p else -1))
                lst[p : p + len(new)] = old
            if inverse:
                self._change(c, f, tuple(inverse))
                any_done = True
        return any_done

    def _nomination(self, minors: list[int]) -> tuple[tuple[str, ...], frozenset[int], bool]:
        rng = self.rng

        def pick() -> int:
            # sometimes older than anything maintained: "4.15+" on 4.18..4.20
            if rng.random() < 0.1:
                return minors[0] - 1 - rng.randrange(3)
            return rng.choice(minors)

        def plus(x: int) -> frozenset[int]:
            return frozenset(m for m in minors if m >= x)

        r = rng.random()
        key = "Backport-to"
        extra: tuple[str, ...] = ()
        if r < 0.40:
            x = pick()
            value, targets = f"4.{x}+", plus(x)
        elif r < 0.60:
            x = rng.choice(minors)
            value, targets = f"4.{x}", frozenset((x,))
        elif r < 0.70:
            xs = sorted(rng.sample(minors, min(2, len(minors))))
            value = rng.choice((", ", " ")).join(f"4.{x}" for x in xs)
            targets = frozenset(xs)
        elif r < 0.82:
            key = "Backport"
            x = pick()
            value, targets = f"4.{x}+", plus(x)
            if rng.random() < 0.5:
                value += " # maybe older"
        elif r < 0.88:
            key = "backport-to"
            x = pick()
            value, targets = f"4.{x}+", plus(x)
        elif r < 0.94:
            x = pick()
            value, targets = f"4.{x}+ # {rng.choice(_NOM_COMMENTS)}", plus(x)
        else:
            xs = sorted(rng.sample(minors, min(2, len(minors))))
            value, targets = f"4.{xs[0]}", frozenset(xs)
            extra = tuple(f"Backport-to: 4.{x}" for x in xs[1:])
        malformed = rng.random() < 0.01
        if malformed:
            value, targets, extra = rng.choice(_MALFORMED), frozenset(), ()
        return (f"{key}: {value}",) + extra, targets, malformed

    def plan_master(self) -> None:
        p, rng = self.p, self.rng
        n = p.commits
        content = [list(c) for c in self.initial]
        self.fork_content: list[list[list[int]]] = []
        self.targets: dict[int, frozenset[int]] = {}
        minors_all = [NEWEST_MINOR - p.lines + 1 + k for k in range(p.lines)]
        first_fork = self.forks[0] if self.forks else n
        nominated_recent: list[int] = []
        initial = _MCommit()
        self.commits.append(initial)  # commit 0 imports the initial tree
        forks = set(self.forks)
        if 0 in forks:
            raise ValueError("fork at the root commit")
        for i in range(1, n):
            c = _MCommit()
            self.commits.append(c)
            minors = [m for k, m in enumerate(minors_all) if self.forks[k] < i]
            is_revert = i > 100 and rng.random() < 0.002
            if is_revert:
                if nominated_recent and rng.random() < 0.5:
                    target = rng.choice(nominated_recent[-50:])
                else:
                    target = rng.randrange(max(1, i - 3000), i)
                if (
                    target not in self.reverted
                    and self.commits[target].revert < 0
                    and target > 0
                    and self._revert(content, c, target)
                ):
                    c.revert = target
                    self.reverted.add(target)
                    self.stats.reverts += 1
                else:
                    c.changes.clear()
                    is_revert = False
            if not is_revert:
                for f in self._pick_files():
                    lst = content[f]
                    hunks = [self._hunk(lst, f)]
                    if rng.random() < 0.15:
                        hunks.append(self._hunk(lst, f))
                    self._change(c, f, tuple(hunks))
                if minors and rng.random() < p.nominate_rate:
                    lines, targets, malformed = self._nomination(minors)
                    misplaced = rng.random() < 0.08
                    c.nom = (lines, misplaced)
                    self.targets[i] = targets
                    nominated_recent.append(i)
                    self.stats.nominated += 1
                    self.stats.malformed += malformed
                    self.stats.misplaced += misplaced
                if i > 1 and rng.random() < (0.5 if c.nom else 0.04):
                    if rng.random() < 0.5:
                        c.fixes = rng.randrange(max(1, i - 3000), i)
                    else:
                        c.fixes = rng.randrange(1, i)
                    self.stats.fixes += 1
                elif i > first_fork and not c.nom and rng.random() < 0.002:
                    c.nom = (("Backport-to: none",), False)
            if i in forks:
                self.fork_content.append([list(x) for x in content])

    # -- stable lines ----------------------------------------------------------

    def plan_stable(self) -> None:
        p, rng = self.p, self.rng
        end = self.ts(p.commits - 1)
        minors = [NEWEST_MINOR - p.lines + 1 + k for k in range(p.lines)]
        note_skip_candidates: list[tuple[int, int]] = []
        for k, minor in enumerate(minors):
            fork = self.forks[k]
            info = LineInfo(version=f"4.{minor}", branch=f"stable-4.{minor}", fork_index=fork)
            self.lines.append(info)
            fork_ts = self.ts(fork)
            events: list[tuple[int, int, _SCommit]] = []
            truth: dict[str, list[int]] = {
                "pending": [],
                "conflict_seeded": [],
                "not_needed": [],
                "reverted": [],
                "skipped": [],
                "note_nominated": [],
            }
            self.truth.append(truth)

            def add(ev: _SCommit, events: list[tuple[int, int, _SCommit]] = events) -> None:
                events.append((ev.ts, len(events), ev))

            # releases: x.0 shortly after the branch point, then roughly
            # quarterly, each followed by the "-pre" bump for the next one
            t = fork_ts + min(3 * DAY, max(1, (end - fork_ts) // 3))
            rel = 0
            while True:
                tag = f"RELEASE-4.{minor}.{rel}"
                add(_SCommit(ts=t, kind="bump", version=f"4.{minor}.{rel}", tag=tag))
                info.releases.append(tag)
                if t + 3600 <= end:
                    add(_SCommit(ts=t + 3600, kind="bump", version=f"4.{minor}.{rel + 1}-pre"))
                rel += 1
                t += int((90 + rng.random() * 40) * DAY)
                if t > end:
                    break
            for j in range(fork + 1, p.commits):
                c = self.commits[j]
                nominated = minor in self.targets.get(j, ())
                if not nominated:
                    # fixes whose bug is on the line sometimes go back untagged
                    if c.nom is None and 0 <= c.fixes <= fork and c.revert < 0 and rng.random() < 0.15:
                        when = self.ts(j) + int((2 + rng.expovariate(1 / 20)) * DAY)
                        if when <= end:
                            add(self._backport_event(j, when, rng.choice(("xen", "xen", "x", "none"))))
                    continue
                if c.fixes > fork:
                    info.not_needed += 1  # what it fixes never reached the line
                    truth["not_needed"].append(j)
                    continue
                when = self.ts(j) + int((1 + rng.expovariate(1 / 20)) * DAY)
                if j not in self.reverted and rng.random() < 0.75 and when <= end:
                    style = rng.choices(("x", "xen", "none"), (0.6, 0.3, 0.1))[0]
                    add(self._backport_event(j, when, style))
                    continue
                if j in self.reverted:
                    info.reverted += 1
                    truth["reverted"].append(j)
                    continue
                info.pending += 1
                truth["pending"].append(j)
                if rng.random() < 0.35:
                    seed_ts = fork_ts + 1 + int(rng.random() * (end - fork_ts - 1))
                    add(_SCommit(ts=seed_ts, kind="seed", source=j))
                elif rng.random() < 0.1:
                    note_skip_candidates.append((j, minor))
            events.sort()
            self.stable.append(self._simulate_line(k, info, [ev for _, _, ev in events]))
        self._plan_notes(minors, note_skip_candidates)

    def _backport_event(self, j: int, when: int, style: str) -> _SCommit:
        return _SCommit(ts=when, kind="backport", source=j, style=style)

    def _simulate_line(self, k: int, info: LineInfo, events: list[_SCommit]) -> list[_SCommit]:
        base = self.fork_content[k]
        content: dict[int, list[int]] = {}
        makefile = self.paths.index("xen/Makefile")
        out: list[_SCommit] = []

        def file(f: int) -> list[int]:
            if f not in content:
                content[f] = list(base[f])
            return content[f]

        def record(ev: _SCommit, f: int) -> None:
            mark = self._mark()
            self.stable_versions[f].append((mark, tuple(content[f])))
            ev.changes.append((f, mark))

        for ev in events:
            if ev.kind == "bump":
                lst = file(makefile)
                minor = ev.version.split(".")[1]
                extra = ev.version.split(".", 2)[2]
                for i, lid in enumerate(lst):
                    text = self.literals[-lid - 1] if lid < 0 else ""
                    if text.startswith("export XEN_SUBVERSION"):
                        if text != f"export XEN_SUBVERSION    = {minor}":
                            lst[i] = self._literal(f"export XEN_SUBVERSION    = {minor}")
                    elif text.startswith("export XEN_EXTRAVERSION"):
                        lst[i] = self._literal(f"export XEN_EXTRAVERSION ?= .{extra}$(XEN_VENDORVERSION)")
                record(ev, makefile)
            elif ev.kind == "backport":
                exact = True
                for f, _, hunks in self.commits[ev.source].changes:
                    lst = file(f)
                    for hunk in hunks:
                        exact &= _apply(lst, hunk)
                    record(ev, f)
                info.backports += 1
                info.backports_by_style[ev.style] = info.backports_by_style.get(ev.style, 0) + 1
                info.approximate_backports += not exact
                ev.exact = exact
            else:  # seed: touch the lines a pending nomination changes
                f, _, hunks = self.commits[ev.source].changes[0]
                _, old, _, anchor = hunks[0]
                target = old[0] if old else anchor
                lst = file(f)
                if target < 0 or target not in lst:
                    continue
                lst[lst.index(target)] = self._new_ids(1)[0]
                record(ev, f)
                info.conflict_seeds += 1
                self.truth[k]["conflict_seeded"].append(ev.source)
            out.append(ev)
        return out

    def _plan_notes(self, minors: list[int], skip_candidates: list[tuple[int, int]]) -> None:
        if not minors:
            return
        rng = self.rng
        newest_fork = self.forks[-1]
        # after-the-fact nominations: untagged fixes newer than the newest fork
        # whose bug is on that line
        fixes = [
            j
            for j in range(newest_fork + 1, self.p.commits)
            if 0 < self.commits[j].fixes <= newest_fork and self.commits[j].nom is None
        ]
        notes: dict[int, str] = {}
        for j in rng.sample(fixes, min(4, len(fixes))):
            notes[j] = f"Backport-to: 4.{minors[-1]}\n"
            self.truth[-1]["note_nominated"].append(j)
        # declined after the fact; one commit may be declined for two lines
        for j, minor in rng.sample(skip_candidates, min(4, len(skip_candidates))):
            notes[j] = notes.get(j, "") + f"Backport-skip: 4.{minor} # {rng.choice(_REASONS)}\n"
            k = minors.index(minor)
            self.truth[k]["pending"].remove(j)
            self.truth[k]["skipped"].append(j)
            self.lines[k].pending -= 1
        self.notes = sorted(notes.items())
        self.stats.notes = len(self.notes)


def _cumulative(weights: Sequence[float]) -> list[float]:
    total = sum(weights)
    out, acc = [], 0.0
    for w in weights:
        acc += w / total
        out.append(acc)
    out[-1] = 1.0
    return out


def _pick(cum: list[float], r: float) -> int:
    """Index drawn from cumulative weights for a uniform r in [0, 1)."""
    return min(bisect_right(cum, r), len(cum) - 1)


def _find(lst: list[int], ids: tuple[int, ...], anchor: int) -> int:
    """Where `ids` start in lst (or, for none, the slot after anchor); -1 if lost."""
    if ids:
        try:
            p = lst.index(ids[0])
        except ValueError:
            return -1
        return p if tuple(lst[p : p + len(ids)]) == ids else -1
    if anchor == -1:
        return 0
    try:
        return lst.index(anchor) + 1
    except ValueError:
        return -1


def _apply(lst: list[int], hunk: Hunk) -> bool:
    """Apply a master hunk to another version of the file, as a cherry-pick
    would where the same lines exist; otherwise approximate at the old
    position (the caller counts those). Returns whether it was exact."""
    pos, old, new, anchor = hunk
    p = _find(lst, old, anchor)
    if p >= 0:
        lst[p : p + len(old)] = new
        return True
    p = min(pos, len(lst))
    lst[p : p + len(old)] = new
    return False


# --------------------------------------------------------------------------
# Messages


class _Messages:
    """Commit messages as pure functions of (seed, commit index, plan), so a
    backport can regenerate the original's message instead of storing it."""

    def __init__(self, plan: _Plan, master_sha: bytearray) -> None:
        self.plan = plan
        self.sha = master_sha
        self.salt = _mix(plan.p.seed * 0x51ED27 + 3)

    def hexsha(self, i: int) -> str:
        return self.sha[20 * i : 20 * i + 20].hex()

    def _slots(self, h: int) -> dict[str, str]:
        h, a = divmod(h, len(_A))
        h, b = divmod(h, len(_B))
        h, g = divmod(h, len(_A) * len(_B))
        h, fl = divmod(h, len(_FIELDS))
        h, bug = divmod(h, len(_BUGS))
        h, act = divmod(h, len(_ACTS))
        h, e = divmod(h, len(_ERRNOS))
        h, w = divmod(h, len(_FLAGW))
        f = f"{_A[a]}_{_B[b]}"
        return {
            "f": f,
            "F": f,
            "g": f"{_A[g % len(_A)]}_{_B[g // len(_A)]}",
            "fld": _FIELDS[fl],
            "bug": _BUGS[bug],
            "act": _ACTS[act],
            "E": _ERRNOS[e],
            "M": f"{_A[a].upper()}_{_FLAGW[w]}",
            "n": str(8 << (h % 8)),
        }

    def prefix(self, i: int) -> str:
        c = self.plan.commits[i]
        f = c.changes[0][0]
        prefix = self.plan.file_dir_prefix[f]
        if prefix in ("xen", "xen/char") and _mix(i ^ self.salt) & 1:
            # Xen names common code by file: "page_alloc: ...", "evtchn: ..."
            prefix = self.plan.paths[f].rsplit("/", 1)[1].split(".")[0]
        return prefix

    def subject(self, i: int) -> str:
        if i == 0:
            return "Import the Xen tree"
        c = self.plan.commits[i]
        if c.revert >= 0:
            return f'Revert "{self.subject(c.revert)}"'
        h = _mix(i ^ self.salt)
        h, t = divmod(h, len(_SUBJ))
        return f"{self.prefix(i)}: {_SUBJ[t].format(**self._slots(h))}"

    def _sentence(self, rng: random.Random) -> str:
        h = rng.getrandbits(64)
        h, t = divmod(h, len(_BODY))
        return _BODY[t].format(**self._slots(h))

    def _body(self, rng: random.Random) -> list[str]:
        out: list[str] = []
        # commit objects are the biggest share of the pack (zlib cannot share
        # text between objects), so bodies stay short: ~75% one paragraph
        for para in range(1 if rng.random() < 0.75 else 2):
            if para:
                out.append("")
            n = 1 + (rng.random() < 0.45) + (rng.random() < 0.1)
            out += _wrap(" ".join(self._sentence(rng) for _ in range(n)))
        return out

    def _reviewers(self, rng: random.Random, i: int, author: int) -> list[str]:
        plan = self.plan
        group = plan.file_group[plan.commits[i].changes[0][0]]
        maint = [m for m in plan.group_maintainers[group] if m != author] if group >= 0 else []
        pool = maint or [a for a in range(len(plan.authors)) if a != author]
        out: list[str] = []
        r = rng.random()
        if r < 0.45:
            out.append(f"Reviewed-by: {plan.authors[rng.choice(pool)].trailer()}")
            if rng.random() < 0.1:
                out.append(f"Reviewed-by: {plan.authors[rng.randrange(len(plan.authors))].trailer()}")
        elif r < 0.65:
            out.append(f"Acked-by: {plan.authors[rng.choice(pool)].trailer()}")
        if rng.random() < 0.04:
            out.append(f"Tested-by: {plan.authors[rng.randrange(len(plan.authors))].trailer()}")
        if rng.random() < 0.02:
            out.append(f"Release-Acked-by: {plan.committers[1].trailer()}")
        return out

    def master(self, i: int) -> tuple[bytes, bytes, bytes, int, str]:
        """(author ident, committer ident, message, author ts, author tz)."""
        plan = self.plan
        rng = random.Random(_mix(i ^ self.salt ^ 0x77))
        a = _pick(plan.author_cum, rng.random())
        author = plan.authors[a]
        committer = plan.committers[rng.randrange(len(plan.committers))]
        ts = plan.ts(i)
        a_ts = max(START_TS - 30 * DAY, ts - int(rng.random() * 14 * DAY))
        c = plan.commits[i]
        lines = [self.subject(i), ""]
        if i == 0:
            lines += ["Synthetic history for benchmarks.", "", f"Signed-off-by: {author.trailer()}"]
        elif c.revert >= 0:
            lines += [f"This reverts commit {self.hexsha(c.revert)}.", ""]
            lines += _wrap(self._sentence(rng) + " Revert until a proper fix is available.")
            lines += ["", f"Signed-off-by: {author.trailer()}"]
            lines += self._reviewers(rng, i, a)
        else:
            lines += self._body(rng)
            lines.append("")
            if c.nom and c.nom[1]:
                # own paragraph above the sign-offs, as in Xen 13316827fa
                lines += list(c.nom[0]) + [""]
            if c.fixes >= 0:
                lines.append(f'Fixes: {self.hexsha(c.fixes)[:12]} ("{self.subject(c.fixes)}")')
            if rng.random() < 0.05:
                lines.append(f"Reported-by: {plan.authors[rng.randrange(len(plan.authors))].trailer()}")
            if c.nom and not c.nom[1]:
                lines += list(c.nom[0])
            lines.append(f"Signed-off-by: {author.trailer()}")
            if rng.random() < 0.05:
                lines.append(f"Signed-off-by: {committer.trailer()}")
            lines += self._reviewers(rng, i, a)
        msg = ("\n".join(lines) + "\n").encode()
        return author.ident(a_ts), committer.ident(ts), msg, a_ts, author.tz

    def stable(self, ev: _SCommit, seq: int, line: LineInfo) -> tuple[bytes, bytes, bytes]:
        plan = self.plan
        sm = plan.stable_maintainer
        if ev.kind == "bump":
            msg = f"update Xen version to {ev.version}\n".encode()
            return sm.ident(ev.ts), sm.ident(ev.ts), msg
        if ev.kind == "backport":
            a_ident, _, msg, _, _ = self.master(ev.source)
            src = ev.source
            if ev.style == "x":
                msg += f"(cherry picked from commit {self.hexsha(src)})\n".encode()
            elif ev.style == "xen":
                ts = plan.ts(src)
                date = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))
                msg += f"master commit: {self.hexsha(src)}\nmaster date: {date} +0000\n".encode()
            return a_ident, sm.ident(ev.ts), msg
        # a stable-only change in the same spot as a pending nomination
        rng = random.Random(_mix(seq ^ self.salt ^ 0x99))
        a = _pick(plan.author_cum, rng.random())
        h = rng.getrandbits(64)
        h, t = divmod(h, len(_SUBJ))
        subject = f"{self.prefix(ev.source)}: {_SUBJ[t].format(**self._slots(h))}"
        lines = [subject, ""]
        lines += _wrap(f"Stable-only adjustment for {line.version}. " + self._sentence(rng))
        lines += ["", f"Signed-off-by: {plan.authors[a].trailer()}"]
        msg = ("\n".join(lines) + "\n").encode()
        return plan.authors[a].ident(ev.ts - 3600), sm.ident(ev.ts), msg


# --------------------------------------------------------------------------
# Trees: the same hashing git does, so commit ids are known as we write.


class _Tree:
    def __init__(self, paths: Sequence[str], modes: Sequence[bytes]) -> None:
        dirs: dict[str, int] = {"": 0}
        names: list[str] = [""]
        children: list[dict[str, tuple[bool, int]]] = [{}]
        for f, path in enumerate(paths):
            parts = path.split("/")
            d = 0
            for depth, part in enumerate(parts[:-1]):
                sub = "/".join(parts[: depth + 1])
                if sub not in dirs:
                    dirs[sub] = len(names)
                    names.append(sub)
                    children.append({})
                    children[d][part] = (True, dirs[sub])
                d = dirs[sub]
            children[d][parts[-1]] = (False, f)
        headers_by_dir: list[list[bytes]] = []
        self.parent = [-1] * len(names)
        self.slot = [0] * len(names)
        self.depth = [n.count("/") + (1 if n else 0) for n in names]
        self.file_dir = [0] * len(paths)
        self.file_slot = [0] * len(paths)
        for d, kids in enumerate(children):
            # git sorts tree entries as if directory names ended with "/"
            order = sorted(kids.items(), key=lambda kv: kv[0].encode() + (b"/" if kv[1][0] else b""))
            headers: list[bytes] = []
            for slot, (name, (is_dir, idx)) in enumerate(order):
                if is_dir:
                    headers.append(b"40000 " + name.encode() + b"\0")
                    self.parent[idx] = d
                    self.slot[idx] = slot
                else:
                    headers.append(modes[idx] + b" " + name.encode() + b"\0")
                    self.file_dir[idx] = d
                    self.file_slot[idx] = slot
            headers_by_dir.append(headers)
        # header, sha, header, sha...: a tree body is then one C-level join
        self.parts: list[list[bytes]] = []
        for headers in headers_by_dir:
            parts = [b""] * (2 * len(headers))
            parts[0::2] = headers
            self.parts.append(parts)
        self.ndirs = len(names)

    def set_file(self, f: int, sha: bytes, dirty: set[int]) -> None:
        d = self.file_dir[f]
        self.parts[d][2 * self.file_slot[f] + 1] = sha
        while d >= 0 and d not in dirty:
            dirty.add(d)
            d = self.parent[d]

    def rehash(self, dirty: Iterable[int]) -> bytes:
        depth = self.depth
        for d in sorted(dirty, key=lambda x: -depth[x]):
            body = b"".join(self.parts[d])
            sha = hashlib.sha1(b"tree %d\0" % len(body) + body).digest()
            if d == 0:
                return sha
            self.parts[self.parent[d]][2 * self.slot[d] + 1] = sha
        raise AssertionError("root not rehashed")

    def snapshot(self) -> list[list[bytes]]:
        return [list(s) for s in self.parts]


def _commit_sha(tree: bytes, parent: bytes | None, author: bytes, committer: bytes, msg: bytes) -> bytes:
    body = b"tree " + tree.hex().encode() + b"\n"
    if parent is not None:
        body += b"parent " + parent.hex().encode() + b"\n"
    body += b"author " + author + b"\ncommitter " + committer + b"\n\n" + msg
    return hashlib.sha1(b"commit %d\0" % len(body) + body).digest()


# --------------------------------------------------------------------------
# The stream


def _emit_blob(out: BinaryIO, blob_sha: bytearray, mark: int, lines: list[str]) -> None:
    data = ("\n".join(lines) + "\n").encode()
    blob_sha[20 * mark : 20 * mark + 20] = hashlib.sha1(b"blob %d\0" % len(data) + data).digest()
    out.write(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)))
    out.write(data)
    out.write(b"\n")


def _write_file_blobs(out: BinaryIO, plan: _Plan, render: _Renderer, f: int, blob_sha: bytearray) -> None:
    """Every version of file f, master chain first, then each stable line's."""
    kind = plan.kinds[f]
    cache: dict[int, str] = {}  # ids recur across versions; render each once

    def text(lid: int) -> str:
        s = cache.get(lid)
        if s is None:
            s = cache[lid] = render.line(lid, kind)
        return s

    lines = [text(x) for x in plan.initial[f]]
    _emit_blob(out, blob_sha, plan.initial_marks[f], lines)
    for mark, hunks in plan.versions[f]:
        for pos, old, new, _ in hunks:
            lines[pos : pos + len(old)] = [text(x) for x in new]
        _emit_blob(out, blob_sha, mark, lines)
    for mark, ids in plan.stable_versions[f]:
        _emit_blob(out, blob_sha, mark, [text(x) for x in ids])


def _write_blobs(out: BinaryIO, plan: _Plan, blob_sha: bytearray) -> None:
    render = _Renderer(plan.p.seed, plan.literals)
    for f in range(len(plan.initial)):
        _write_file_blobs(out, plan, render, f, blob_sha)


def _write_commit(
    out: BinaryIO,
    ref: bytes,
    mark: int,
    author: bytes,
    committer: bytes,
    msg: bytes,
    parent_mark: int | None,
    changes: Iterable[tuple[bytes, int, bytes]],
) -> None:
    out.write(
        b"commit %s\nmark :%d\nauthor %s\ncommitter %s\ndata %d\n" % (ref, mark, author, committer, len(msg))
    )
    out.write(msg)
    out.write(b"\n")
    if parent_mark is not None:
        out.write(b"from :%d\n" % parent_mark)
    out.writelines(b"M %s :%d %s\n" % (mode, blob, path) for mode, blob, path in changes)
    out.write(b"\n")


def _write_history(out: BinaryIO, plan: _Plan) -> dict[str, bytes]:
    """Write the whole stream; return the branch tips we computed."""
    p = plan.p
    n = p.commits
    blob_sha = bytearray(20 * plan.next_mark)
    _write_blobs(out, plan, blob_sha)

    def bsha(mark: int) -> bytes:
        return bytes(blob_sha[20 * mark : 20 * mark + 20])

    tree = _Tree(plan.paths, plan.modes)
    paths_b = [x.encode() for x in plan.paths]
    master_sha = bytearray(20 * n)
    msgs = _Messages(plan, master_sha)
    commit_base = plan.next_mark
    fork_set = {f: k for k, f in enumerate(plan.forks)}
    fork_trees: list[list[list[bytes]]] = [[] for _ in plan.forks]
    tips: dict[str, bytes] = {}
    parent: bytes | None = None
    for i in range(n):
        c = plan.commits[i]
        dirty: set[int] = set()
        if i == 0:
            changes = [(plan.modes[f], m, paths_b[f]) for f, m in enumerate(plan.initial_marks)]
            for f, m in enumerate(plan.initial_marks):
                tree.set_file(f, bsha(m), dirty)
            dirty = set(range(tree.ndirs))
        else:
            changes = [(plan.modes[f], m, paths_b[f]) for f, m, _ in c.changes]
            for f, m, _ in c.changes:
                tree.set_file(f, bsha(m), dirty)
        root = tree.rehash(dirty)
        author, committer, msg, _, _ = msgs.master(i)
        sha = _commit_sha(root, parent, author, committer, msg)
        master_sha[20 * i : 20 * i + 20] = sha
        parent = sha
        _write_commit(out, b"refs/heads/master", commit_base + i, author, committer, msg, None, changes)
        if i in fork_set:
            fork_trees[fork_set[i]] = tree.snapshot()
    tips["refs/heads/master"] = parent or b""

    mark = commit_base + n
    seq = 0
    for k, (info, events) in enumerate(zip(plan.lines, plan.stable, strict=True)):
        tree.parts = [list(s) for s in fork_trees[k]]
        parent = bytes(master_sha[20 * info.fork_index : 20 * info.fork_index + 20])
        info.fork = parent.hex()
        parent_mark: int | None = commit_base + info.fork_index
        ref = f"refs/heads/{info.branch}".encode()
        backported: list[tuple[int, str, str, bool]] = []
        plan.backported.append(backported)
        for ev in events:
            dirty = set()
            for f, m in ev.changes:
                tree.set_file(f, bsha(m), dirty)
            root = tree.rehash(dirty | {0})
            author, committer, msg = msgs.stable(ev, seq, info)
            seq += 1
            sha = _commit_sha(root, parent, author, committer, msg)
            changes = [(plan.modes[f], m, paths_b[f]) for f, m in ev.changes]
            _write_commit(out, ref, mark, author, committer, msg, parent_mark, changes)
            parent_mark = None  # fast-import continues the branch from here
            parent = sha
            if ev.kind == "backport":
                backported.append((ev.source, sha.hex(), ev.style, ev.exact))
            if ev.tag:
                tagger = plan.stable_maintainer.ident(ev.ts + 600)
                tmsg = f"Xen {ev.version}\n".encode()
                out.write(
                    b"tag %s\nfrom :%d\ntagger %s\ndata %d\n" % (ev.tag.encode(), mark, tagger, len(tmsg))
                )
                out.write(tmsg + b"\n")
            mark += 1
        info.tip = parent.hex()
        tips[ref.decode()] = parent

    if plan.notes:
        when = plan.ts(n - 1) + 3600
        nmsg = b"Notes added by 'git notes add'\n"
        who = plan.committers[0].ident(when)
        out.write(b"commit refs/notes/backport\nmark :%d\ncommitter %s\ndata %d\n" % (mark, who, len(nmsg)))
        out.write(nmsg + b"\n")
        for j, text in plan.notes:
            data = text.encode()
            out.write(b"N inline :%d\ndata %d\n" % (commit_base + j, len(data)))
            out.write(data + b"\n")
        out.write(b"\n")
    out.write(b"done\n")
    plan.stats.commits_total = n + sum(len(e) for e in plan.stable) + (1 if plan.notes else 0)
    plan.truth_json = _truth(plan, msgs)
    return {k: v for k, v in tips.items()}


def _truth(plan: _Plan, msgs: _Messages) -> dict[str, object]:
    """What a correct `backport check` should say, per line, by commit id."""
    lines = []
    for info, truth, backported in zip(plan.lines, plan.truth, plan.backported, strict=True):
        entry: dict[str, object] = {"version": info.version, "branch": info.branch, "fork": info.fork}
        entry["backported"] = [
            {"master": msgs.hexsha(j), "stable": s, "style": st, "exact": ex} for j, s, st, ex in backported
        ]
        for key, idx in truth.items():
            entry[key] = [msgs.hexsha(j) for j in idx]
        lines.append(entry)
    return {
        "master": plan.stats.master or msgs.hexsha(plan.p.commits - 1),
        "lines": lines,
        "notes": {msgs.hexsha(j): text for j, text in plan.notes},
        "reverts": {
            msgs.hexsha(i): msgs.hexsha(c.revert) for i, c in enumerate(plan.commits) if c.revert >= 0
        },
    }


# --------------------------------------------------------------------------
# Driver


def _git(repo: str, *args: str, capture: bool = False) -> str:
    env = {**os.environ, **_GIT_ENV}
    res = subprocess.run(
        ["git", "-C", repo, *args],
        env=env,
        check=False,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if res.returncode:
        raise RuntimeError(
            f"git {' '.join(args)} failed ({res.returncode}): {res.stderr.decode(errors='replace').strip()}"
        )
    return res.stdout.decode() if capture else ""


def _log(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


def generate(p: Params, repo: str, quiet: bool = False) -> Stats:
    """Build the repository at `repo` (which must not exist)."""
    p.check()
    t0 = time.perf_counter()
    plan = _Plan(p)
    plan.plan_master()
    plan.plan_stable()
    t_plan = time.perf_counter()
    _log(quiet, f"synth: planned {p.commits} master commits in {t_plan - t0:.1f}s")

    os.makedirs(repo)
    init = ["init", "-q", "--initial-branch=master"] + (["--bare"] if p.bare else [])
    _git(repo, *init)
    # benchmarks write objects (simulated cherry-picks); an auto-gc repacking
    # 200k commits in the middle of a timed run would wreck the numbers
    _git(repo, "config", "gc.auto", "0")
    _git(repo, "config", "maintenance.auto", "false")
    env = {**os.environ, **_GIT_ENV}
    # fast-import allocates and frees a delta index per object; glibc's
    # default trimming hands the heap back to the kernel and faults it in
    # again every time, which costs ~40% of its run time (measured: 10.8s
    # -> 6.2s for 20k commits). Ignored where the libc is not glibc.
    env["GLIBC_TUNABLES"] = (
        "glibc.malloc.trim_threshold=1073741824:glibc.malloc.top_pad=67108864:glibc.malloc.mmap_threshold=33554432"
    )
    proc = subprocess.Popen(
        ["git", "-C", repo, "fast-import", "--quiet", "--done"],
        stdin=subprocess.PIPE,
        env=env,
        bufsize=1 << 20,
    )
    assert proc.stdin is not None
    try:
        # a bigger pipe lets the generator and fast-import run side by side
        # on two cores instead of taking turns every 64 KiB
        fcntl.fcntl(proc.stdin.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except OSError:
        pass
    try:
        tips = _write_history(proc.stdin, plan)
        proc.stdin.close()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    t_stream = time.perf_counter()
    if proc.wait():
        raise RuntimeError(f"git fast-import failed with exit code {proc.returncode}")
    t_import = time.perf_counter()
    _log(
        quiet,
        f"synth: stream written in {t_stream - t_plan:.1f}s, fast-import done {t_import - t_stream:.1f}s later",
    )

    # every id quoted in a message was computed here; the tips prove them
    refs = _git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads", capture=True)
    actual = dict(line.split(" ") for line in refs.splitlines())
    for ref, sha in tips.items():
        if actual.get(ref) != sha.hex():
            raise RuntimeError(f"{ref}: computed {sha.hex()} but git has {actual.get(ref)}")

    _git(repo, "pack-refs", "--all")
    t_refs = time.perf_counter()
    if not p.bare:
        _git(repo, "reset", "-q", "--hard", "master")
    t_checkout = time.perf_counter()
    if p.commit_graph:
        _git(repo, "commit-graph", "write", "--reachable")
    t_graph = time.perf_counter()

    with open(os.path.join(os.path.dirname(repo), TRUTH), "w") as fh:
        json.dump(plan.truth_json, fh)
    st = plan.stats
    st.repo = repo
    st.master = tips["refs/heads/master"].hex()
    st.lines = plan.lines
    git_dir = repo if p.bare else os.path.join(repo, ".git")
    pack_dir = os.path.join(git_dir, "objects", "pack")
    st.pack_bytes = sum(os.path.getsize(os.path.join(pack_dir, x)) for x in os.listdir(pack_dir))
    st.seconds = {
        "plan": round(t_plan - t0, 2),
        "stream": round(t_stream - t_plan, 2),
        "fast_import_tail": round(t_import - t_stream, 2),
        "pack_refs": round(t_refs - t_import, 2),
        "checkout": round(t_checkout - t_refs, 2),
        "commit_graph": round(t_graph - t_checkout, 2),
        "total": round(t_graph - t0, 2),
    }
    return st


def ensure_repo(
    commits: int,
    lines: int = 3,
    seed: int = 1,
    nominate_rate: float = 0.03,
    files: int = 2000,
    *,
    bare: bool = False,
    commit_graph: bool = True,
    cache_dir: str = CACHE_DIR,
    force: bool = False,
    quiet: bool = False,
) -> str:
    """Path of a cached synthetic repository with these parameters, built if
    missing or incomplete. Safe to call from several processes at once."""
    p = Params(commits, lines, seed, nominate_rate, files, bare, commit_graph)
    p.check()
    base = os.path.join(cache_dir, p.key())
    repo = os.path.join(base, "repo")
    marker = os.path.join(base, MARKER)
    os.makedirs(cache_dir, exist_ok=True)
    with open(os.path.join(cache_dir, p.key() + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(marker) and not force:
            return repo
        if os.path.exists(base):
            # no marker: a previous run died half-way
            shutil.rmtree(base)
        os.makedirs(base)
        stats = generate(p, repo, quiet=quiet)
        tmp = marker + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(asdict(stats), fh, indent=1)
        os.replace(tmp, marker)
        _log(quiet, f"synth: {commits} commits ready in {stats.seconds['total']:.1f}s at {repo}")
    return repo


def read_stats(repo: str) -> dict[str, object] | None:
    """What the generator recorded about a cached repository, or None."""
    marker = os.path.join(os.path.dirname(os.path.abspath(repo)), MARKER)
    try:
        with open(marker) as fh:
            data: dict[str, object] = json.load(fh)
            return data
    except FileNotFoundError:
        return None


def read_truth(repo: str) -> dict[str, object] | None:
    """The expected verdicts for a cached repository (see `_truth`), or None."""
    path = os.path.join(os.path.dirname(os.path.abspath(repo)), TRUTH)
    try:
        with open(path) as fh:
            data: dict[str, object] = json.load(fh)
            return data
    except FileNotFoundError:
        return None


def _summary(stats: dict[str, object]) -> str:
    out = []
    sec = stats["seconds"]
    assert isinstance(sec, dict)
    out.append(f"repo:        {stats['repo']}")
    out.append(f"master:      {stats['master']}")
    out.append(f"commits:     {stats['commits_total']} (all refs)")
    out.append(
        f"nominated:   {stats['nominated']} (malformed {stats['malformed']}, misplaced {stats['misplaced']}); "
        f"fixes {stats['fixes']}; reverts {stats['reverts']}; notes {stats['notes']}"
    )
    lines = stats["lines"]
    assert isinstance(lines, list)
    for ln in lines:
        out.append(
            f"{ln['branch']:<12} fork #{ln['fork_index']} {ln['fork'][:12]}: backports {ln['backports']} "
            f"{ln['backports_by_style']} (approx. {ln['approximate_backports']}), pending {ln['pending']} "
            f"(conflict seeds {ln['conflict_seeds']}), not-needed {ln['not_needed']}, releases {len(ln['releases'])}"
        )
    pack = stats["pack_bytes"]
    assert isinstance(pack, int)
    out.append(f"pack:        {pack / 2**20:.1f} MiB (objects/pack: .pack + .idx)")
    out.append("time:        " + ", ".join(f"{k} {v:.1f}s" for k, v in sec.items()))
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commits", type=int, default=200000)
    ap.add_argument("--lines", type=int, default=3, help="stable lines (default 3: 4.18, 4.19, 4.20)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--nominate-rate", type=float, default=0.03)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--bare", action="store_true")
    ap.add_argument("--no-commit-graph", action="store_true")
    ap.add_argument("--cache-dir", default=CACHE_DIR)
    ap.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        repo = ensure_repo(
            args.commits,
            args.lines,
            args.seed,
            args.nominate_rate,
            args.files,
            bare=args.bare,
            commit_graph=not args.no_commit_graph,
            cache_dir=args.cache_dir,
            force=args.force,
        )
    except (ValueError, RuntimeError) as exc:
        print(f"synth: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - t0
    stats = read_stats(repo)
    if stats:
        print(_summary(stats))
    print(f"{repo}\n(ensure_repo took {elapsed:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
