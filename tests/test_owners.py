from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backport.git import Git
from backport.verdict.owners import Maintainers, Pattern, address

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "MAINTAINERS.sample"

JAN = "Jan Kowalski <jan.kowalski@example.org>"
ANDREA = "Andrea Cooper <andrea.cooper@example.org>"
ROGER = "Roger Pallares <roger.pallares@example.org>"
KEVIN = "Kevin Tanaka <kevin.tanaka@example.org>"
X86 = (JAN, ANDREA, ROGER)
REST = (
    ANDREA,
    "George Dunlap-Reyes <george.dr@example.org>",
    JAN,
    "Julien Marchand <julien.marchand@example.org>",
    "Stefania Bellini <stefania.bellini@example.org>",
)
ARM = ("Stefania Bellini <stefania.bellini@example.org>", "Julien Marchand <julien.marchand@example.org>")
SCHED = ("George Dunlap-Reyes <george.dr@example.org>", "Dario Fontana <dario.fontana@example.org>")


@pytest.fixture(scope="module")
def sample() -> Maintainers:
    return Maintainers.parse(SAMPLE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "path, owners",
    [
        # a directory pattern covers everything below it
        ("xen/arch/x86/traps.c", X86),
        ("xen/arch/x86/cpu/mcheck/mce.c", X86),
        # the deeper X86 MEMORY MANAGEMENT section beats X86 ARCHITECTURE
        ("xen/arch/x86/mm/shadow/common.c", (JAN, ANDREA)),
        # ...but it excludes p2m-ept.c, which VT-x names exactly
        ("xen/arch/x86/mm/p2m-ept.c", (KEVIN,)),
        # X86 excludes hvm/vmx/, VT-x covers it
        ("xen/arch/x86/hvm/vmx/vmcs.c", (KEVIN,)),
        # X86 does not exclude hvm/svm: still X86
        ("xen/arch/x86/hvm/svm/svm.c", X86),
        # ACPI excludes cpufreq/, CPU POWER MANAGEMENT takes it
        ("xen/arch/x86/acpi/cpufreq/powernow.c", (JAN,)),
        ("xen/arch/x86/acpi/boot.c", (JAN,)),
        # nested public headers: arch-arm/ and the arch-arm.h file
        ("xen/include/public/arch-arm/hvm/save.h", ARM),
        ("xen/include/public/arch-arm.h", ARM),
        # {a,b} alternatives
        ("xen/drivers/char/scif-uart.c", ARM),
        ("xen/drivers/char/ns16550.c", REST),
        # a glob does not reach into subdirectories
        ("xen/drivers/passthrough/arm/smmu-v3.c", ("Rahul Sharma <rahul.sharma@example.org>",)),
        ("xen/drivers/passthrough/arm/ipmmu-vmsa.c", REST),
        ("xen/drivers/passthrough/pci.c", (JAN,)),
        # a pattern without a slash that is a directory covers what is below
        ("xen/common/sched/credit2.c", SCHED),
        ("xen/common/sched", SCHED),
        # ...but is not a prefix of other names
        ("xen/common/schedule_old.c", REST),
        # tools/include/libxl*.h
        ("tools/include/libxl_json.h", ("Anthony Perrin <anthony.perrin@example.org>",)),
        ("tools/include/xenctrl.h", REST),
        # the orphaned GDBSX area has no M:, so THE REST owns it
        ("tools/debugger/gdbsx/gx/gx_main.c", REST),
        # N: regex on the name ranks 0: above THE REST, below any F: directory
        ("tools/tests/argo/test-argo.c", ("Christian Lindqvist <christian.lindqvist@example.org>",)),
        ("xen/arch/x86/argo_shim.c", X86),
        # docs/ excludes docs/misc/arm/, which ARM covers
        ("docs/misc/arm/device-tree/booting.txt", ARM),
        ("docs/misc/xen-command-line.pandoc", (ANDREA,)),
        # THE REST: `*` is a top-level file, `*/` anything below a directory
        ("Makefile", REST),
        ("config/Tools.mk.in", REST),
    ],
)
def test_most_specific_section_wins(sample: Maintainers, path: str, owners: tuple[str, ...]) -> None:
    assert sample.owners_for([path]) == owners


def test_owners_are_deduplicated_across_paths_in_order(sample: Maintainers) -> None:
    paths = ["xen/arch/x86/hvm/vmx/vmx.c", "xen/arch/x86/mm/p2m.c", "xen/arch/x86/traps.c"]
    assert sample.owners_for(paths) == (KEVIN, JAN, ANDREA, ROGER)


def test_reviewers_are_listed_separately(sample: Maintainers) -> None:
    assert sample.reviewers_for(["xen/arch/arm/setup.c"]) == (
        "Bertrand Leclerc <bertrand.leclerc@example.org>",
        "Michal Novak <michal.novak@example.org>",
    )
    assert "Bertrand" not in " ".join(sample.owners_for(["xen/arch/arm/setup.c"]))


def test_nothing_matches_without_a_fallback() -> None:
    maintainers = Maintainers.parse("FOO\nM: A <a@x>\nF: foo/\n")
    assert maintainers.owners_for(["bar/baz.c"]) == ()
    assert maintainers.owners_for([]) == ()
    assert Maintainers().owners_for(["foo/x"]) == ()


def test_preamble_and_indented_examples_are_not_sections(sample: Maintainers) -> None:
    titles = [s.title for s in sample.sections]
    assert titles[0] == "ACPI"
    assert titles[-1] == "THE REST"
    # the preamble's "F:	drivers/net/" example is indented, so it is prose
    assert sample.owners_for(["drivers/net/x.c"]) == REST


def test_equal_depth_sections_are_both_owners() -> None:
    maintainers = Maintainers.parse("ONE\nM: A <a@x>\nF: lib/\n\nTWO\nM: B <b@x>\nR: C <c@x>\nF: lib/\n")
    assert maintainers.owners_for(["lib/x.c"]) == ("A <a@x>", "B <b@x>")


def test_same_person_spelled_differently_is_one_owner() -> None:
    maintainers = Maintainers.parse("ONE\nM: Ann <ANN@x.org>\nM: Ann B. <ann@x.org>\nF: lib/\n")
    assert maintainers.owners_for(["lib/x.c"]) == ("Ann <ANN@x.org>",)
    assert address("Ann <ANN@x.org>") == "ann@x.org"
    assert address("ann@x.org") == "ann@x.org"


@pytest.mark.parametrize(
    "pattern, path, expected",
    [
        ("xen/arch/x86/*.c", "xen/arch/x86/traps.c", True),
        ("xen/arch/x86/*.c", "xen/arch/x86/mm/p2m.c", False),
        ("xen/arch/x86/*.c", "xen/arch/x86/traps.cc", False),
        ("xen/arch/*/", "xen/arch/x86/mm/p2m.c", True),
        ("xen/arch/*/", "xen/arch/Kconfig", False),
        ("xen/?ommon/", "xen/common/x.c", True),
        ("*", "README", True),
        ("*", "xen/README", False),
        ("*/", "xen/README", True),
        ("a.c", "a_c", False),  # `.` is literal
        ("x(y)+", "x(y)+", True),  # regex characters are literal
    ],
)
def test_pattern(pattern: str, path: str, expected: bool) -> None:
    assert Pattern.compile(pattern).matches(path) is expected


def test_depth_follows_get_maintainer() -> None:
    assert Pattern.compile("xen/arch/x86/").depth == 3
    assert Pattern.compile("xen/include/xen/sched.h").depth == 4
    assert Pattern.compile("xen/common/sched").depth == 3
    assert Pattern.compile("*").depth == -1
    assert Pattern.compile("*/").depth == -1


def test_bad_n_regex_is_ignored() -> None:
    maintainers = Maintainers.parse("ONE\nM: A <a@x>\nN: (unclosed\nF: lib/\n")
    assert maintainers.owners_for(["lib/x"]) == ("A <a@x>",)


def test_load_reads_the_file_at_a_revision(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo()
    first = repo.commit("one", {"MAINTAINERS": "OLD\nM: Old <old@x>\nF: *\n"})
    repo.commit("two", {"MAINTAINERS": "NEW\nM: New <new@x>\nF: *\n"})
    git = Git(str(repo.path))
    assert Maintainers.load(git, first, "MAINTAINERS").owners_for(["a"]) == ("Old <old@x>",)
    assert Maintainers.load(git, "HEAD", "MAINTAINERS").owners_for(["a"]) == ("New <new@x>",)
    assert Maintainers.load(git, "HEAD", "NO-SUCH-FILE") == Maintainers()


@settings(max_examples=300, deadline=None)
@given(text=st.text(), paths=st.lists(st.text(), max_size=5))
def test_never_raises_on_arbitrary_text(text: str, paths: list[str]) -> None:
    maintainers = Maintainers.parse(text)
    assert isinstance(maintainers.owners_for(paths), tuple)


entry = st.sampled_from(["M", "R", "F", "X", "N", "S", "K", "L"])
value = st.text(alphabet="ab/*?{},.[]()\\ <>@", max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.one_of(st.builds(lambda k, v: f"{k}:\t{v}", entry, value), st.text(max_size=8)), max_size=20),
    paths=st.lists(st.text(alphabet="ab/.c", max_size=10), max_size=4),
)
def test_never_raises_on_maintainers_shaped_text(lines: list[str], paths: list[str]) -> None:
    maintainers = Maintainers.parse("\n".join(lines))
    owners = maintainers.owners_for(paths)
    assert len({address(o) for o in owners}) == len(owners)


def brute_force(maintainers: Maintainers, path: str) -> tuple[str, ...]:
    """The ranking rule read straight off the module docstring, without the index."""
    found = {}
    for number, section in enumerate(maintainers.sections):
        if not section.maintainers or any(x.matches(path) for x in section.excludes):
            continue
        depths = [p.depth for p in section.files if p.matches(path)] + [0 for n in section.names if n.search(path)]
        if depths:
            found[number] = max(depths)
    best = max(found.values(), default=None)
    return tuple(m for n, d in sorted(found.items()) if d == best for m in maintainers.sections[n].maintainers)


component = st.sampled_from(["xen", "arch", "x86", "mm", "a.c", "b.h", "sched", "*", "?.c", "{a,b}.c"])


@settings(max_examples=300, deadline=None)
@given(
    sections=st.lists(
        st.tuples(
            st.lists(st.tuples(st.lists(component, min_size=1, max_size=4), st.booleans()), min_size=1, max_size=4),
            st.lists(st.lists(component, min_size=1, max_size=3), max_size=2),
        ),
        max_size=6,
    ),
    path=st.lists(st.sampled_from(["xen", "arch", "x86", "mm", "a.c", "b.h", "sched"]), min_size=1, max_size=5),
)
def test_the_index_agrees_with_the_rule(sections: list, path: list[str]) -> None:  # type: ignore[type-arg]
    text = "\n\n".join(
        f"S{i}\nM: P{i} <p{i}@x>\n"
        + "\n".join(f"F: {'/'.join(f)}{'/' if slash else ''}" for f, slash in files)
        + "".join(f"\nX: {'/'.join(x)}" for x in excludes)
        for i, (files, excludes) in enumerate(sections)
    )
    maintainers = Maintainers.parse(text)
    joined = "/".join(path)
    assert maintainers.owners_for([joined]) == tuple(dict.fromkeys(brute_force(maintainers, joined)))


def test_a_name_pattern_python_warns_about_is_read_quietly() -> None:
    """`N:` patterns come from the repository; Python's FutureWarning on one
    ("Possible nested set") is not the user's to see."""
    import warnings

    from backport.verdict.owners import _name_regex

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pattern = _name_regex("[[]x")
    assert pattern is not None and pattern.search("[x")
