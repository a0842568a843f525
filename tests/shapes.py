"""Repositories shaped like Linux, QEMU and Mesa, each with every request form
its project writes (odd spellings, comments, prerequisites, opt-outs) and
ordinary trailers that must stay silent.

Each builder returns the repository and the ids of its commits by name;
`EXPECTED[shape]` says, for each nominated commit, the state on each line
that only `preset = "<shape>"` should give.
"""

from __future__ import annotations

from pathlib import Path

from builder import RepoBuilder

TEXT = "".join(f"line {n}\n" for n in range(1, 21))
SIGNED = "Signed-off-by: Ada Author <ada@example.org>"


def _fix(repo: RepoBuilder, name: str, trailers: str, ids: dict[str, str], subject: str | None = None) -> None:
    """A commit that touches a file of its own (so every pick is clean), with `trailers`."""
    ids[name] = repo.commit(f"{subject or name}: fix it\n\nWhy it was wrong.\n\n{trailers}\n{SIGNED}\n", {f"{name}.c": TEXT})


def linux_like(path: Path) -> tuple[RepoBuilder, dict[str, str]]:
    """master with linux-6.1.y and linux-6.6.y; `old` is on both lines, `mid` on 6.6 only."""
    repo = RepoBuilder(path, branch="master")
    ids = {"old": repo.commit("mm: add the old thing", {"mm/old.c": TEXT})}
    repo.branch("linux-6.1.y")
    repo.tag("v6.1.1", "linux-6.1.y")
    ids["mid"] = repo.commit("net: add the mid thing", {"net/mid.c": TEXT})
    repo.branch("linux-6.6.y")
    repo.tag("v6.6.1", "linux-6.6.y")
    _fix(repo, "plus66", "Cc: stable@vger.kernel.org # 6.6+", ids)
    _fix(repo, "dotx61", "Cc: <stable@vger.kernel.org> # 6.1.x", ids)
    _fix(repo, "v61", "Cc: Stable <stable@vger.kernel.org> # v6.1", ids)
    _fix(repo, "versionless_mid", f"Fixes: {ids['mid'][:12]} (\"net: add the mid thing\")\nCc: stable@vger.kernel.org", ids)
    _fix(repo, "versionless", "Cc: stable@vger.kernel.org", ids)
    _fix(repo, "comment", "Cc: stable@vger.kernel.org # after -rc3", ids)
    ids["prerequisite"] = repo.commit("sched: check for idle", {"sched/idle.c": TEXT})
    _fix(
        repo,
        "needs",
        f"Cc: stable@vger.kernel.org # 6.1.x: {ids['prerequisite'][:7]}: sched: check for idle\n"
        "Cc: stable@vger.kernel.org # 6.1.x",
        ids,
    )
    _fix(repo, "noautosel", f"Fixes: {ids['old'][:12]}\nCc: stable+noautosel@kernel.org # too risky", ids)
    _fix(repo, "fixes_only", f"Fixes: {ids['old'][:12]} (\"mm: add the old thing\")", ids)
    _fix(repo, "ordinary", "Cc: Someone Else <someone@example.org>\nCc: linux-mm@kvack.org", ids)
    return repo, ids


def qemu_like(path: Path) -> tuple[RepoBuilder, dict[str, str]]:
    """master with stable-9.1 and stable-9.2; `old` is on both."""
    repo = RepoBuilder(path, branch="master")
    ids = {"old": repo.commit("block: add the old thing", {"block/old.c": TEXT})}
    repo.branch("stable-9.1")
    repo.tag("v9.1.1", "stable-9.1")
    ids["mid"] = repo.commit("hw: add the mid thing", {"hw/mid.c": TEXT})
    repo.branch("stable-9.2")
    repo.tag("v9.2.1", "stable-9.2")
    _fix(repo, "plain", "Cc: qemu-stable@nongnu.org", ids)
    _fix(repo, "named", "Cc: qemu-stable <qemu-stable@nongnu.org>", ids)
    _fix(repo, "upper_plus", "CC: qemu-stable@nongnu.org # 9.2+", ids)
    _fix(repo, "lower_short", "cc: qemu-stable", ids)
    _fix(repo, "ordinary", "Cc: Paolo Bonzini <pbonzini@redhat.com>\nCc: qemu-devel@nongnu.org", ids)
    _fix(repo, "fixes_only", f"Fixes: {ids['old'][:12]} (\"block: add the old thing\")", ids)
    return repo, ids


def mesa_like(path: Path) -> tuple[RepoBuilder, dict[str, str]]:
    """main with branches 24.1 and 24.2 and their staging/ branches, where picks land."""
    repo = RepoBuilder(path, branch="main")
    ids = {"old": repo.commit("nir: add the old thing", {"src/old.c": TEXT})}
    repo.branch("24.1")
    repo.branch("staging/24.1")
    repo.tag("mesa-24.1.1", "24.1")
    ids["mid"] = repo.commit("radv: add the mid thing", {"src/mid.c": TEXT})
    repo.branch("24.2")
    repo.branch("staging/24.2")
    repo.tag("mesa-24.2.1", "24.2")
    _fix(repo, "backport_to_241", "Backport-to: 24.1", ids)
    _fix(repo, "backport_to_242", "Backport-to: 24.2", ids)
    _fix(repo, "backport_to_star", "Backport-to: *", ids)
    _fix(repo, "cc", "Cc: mesa-stable", ids)
    _fix(repo, "cc_241", "Cc: 24.1 <mesa-stable>", ids)
    _fix(repo, "cc_both", "CC: 24.1 24.2 <mesa-stable>", ids)
    _fix(repo, "fixes_only", f"Fixes: {ids['mid'][:12]} (\"radv: add the mid thing\")", ids)
    _fix(repo, "ordinary", "Cc: Some One <some.one@example.org>", ids)
    return repo, ids


def xen_shaped(path: Path) -> tuple[RepoBuilder, dict[str, str]]:
    """staging with stable-4.19 and stable-4.20 and RELEASE- tags; `mid` is on 4.20 only."""
    repo = RepoBuilder(path, branch="staging")
    ids = {"old": repo.commit("xen: add the old thing", {"xen/old.c": TEXT})}
    repo.branch("stable-4.19")
    repo.tag("RELEASE-4.19.0", "stable-4.19")
    ids["mid"] = repo.commit("x86: add the mid thing", {"xen/mid.c": TEXT})
    repo.branch("stable-4.20")
    repo.tag("RELEASE-4.20.0", "stable-4.20")
    _fix(repo, "backport_plus", "Backport: 4.19+ # maybe older", ids)
    _fix(repo, "backport_to", "Backport-to: 4.20", ids)
    _fix(repo, "ranged_mid", f"Fixes: {ids['mid'][:12]}\nBackport: 4.19+", ids)
    _fix(repo, "named_mid", f"Fixes: {ids['mid'][:12]}\nBackport: 4.19, 4.20", ids)
    _fix(repo, "none", "Backport: none", ids)
    _fix(repo, "ordinary", "Cc: Jan Beulich <jbeulich@suse.com>", ids)
    return repo, ids


P, N = "pending", "not-needed"
EXPECTED: dict[str, dict[str, dict[str, str]]] = {
    "linux": {
        "plus66": {"6.6": P},
        "dotx61": {"6.1": P, "6.6": P},
        "v61": {"6.1": P, "6.6": P},
        "versionless_mid": {"6.1": N, "6.6": P},
        "versionless": {"6.1": P, "6.6": P},
        "comment": {"6.1": P, "6.6": P},
        "prerequisite": {"6.1": P, "6.6": P},
        "needs": {"6.1": P, "6.6": P},
        "noautosel": {},
        "fixes_only": {"6.1": P, "6.6": P},
    },
    "qemu": {
        "plain": {"9.1": P, "9.2": P},
        "named": {"9.1": P, "9.2": P},
        "upper_plus": {"9.2": P},
        "lower_short": {"9.1": P, "9.2": P},
    },
    "mesa": {
        "backport_to_241": {"24.1": P, "24.2": P},
        "backport_to_242": {"24.2": P},
        "backport_to_star": {"24.1": P, "24.2": P},
        "cc": {"24.1": P, "24.2": P},
        "cc_241": {"24.1": P},
        "cc_both": {"24.1": P, "24.2": P},
        "fixes_only": {"24.2": P},
    },
    "xen": {
        "backport_plus": {"4.19": P, "4.20": P},
        "backport_to": {"4.20": P},
        "ranged_mid": {"4.19": N, "4.20": P},
        "named_mid": {"4.19": P, "4.20": P},  # named: kept, with a warning
        "none": {},
    },
}
BUILDERS = {"linux": linux_like, "qemu": qemu_like, "mesa": mesa_like, "xen": xen_shaped}
