"""The verdict engine: for each nominated commit and each line of the run, what
state it is in (applied, pending, not-needed, skipped, reverted) and why.

Decisions per (candidate, line), first match wins:
  applied     the line carries it (backport.verdict.detect names the evidence);
  reverted    a revert on unstable still stands;
  skipped     a `Backport-skip` decision for that line;
  not-needed  every Fixes:/Amends: target is absent from the line, and none is
              on its way there (pending itself);
  pending     everything else: simulated onto the line tip, all lines in one
              Simulator.plan_lines call, aged and checked for staleness.

`applied` comes first because it is a fact about the line: a commit that is
already there needs nothing, whatever was decided about it later.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from backport.errors import MISSING_HINT, missing_text
from backport.escape import shown_path
from backport.git import Git
from backport.models import (
    APPLIED,
    NOT_NEEDED,
    PENDING,
    REVERTED,
    SKIPPED,
    UNKNOWN,
    Candidate,
    CheckResult,
    Line,
    Nomination,
    Problem,
    Request,
    ScanResult,
    Target,
    UntaggedFix,
    Verdict,
    Version,
    listing,
)
from backport.record import record, replace
from backport.verdict.detect import Detection, Detector, effective_reverts

if TYPE_CHECKING:
    from backport.cache import Cache
    from backport.session import Session
    from backport.verdict.simulate import LinePlan

# An empty pick (clean, and the result is the line's tree) means the change is
# already there in substance, typically folded into another backport or fixed
# differently on the line. We report it as `applied` so nobody is chased for a
# cherry-pick git would refuse as empty; the evidence says how we know, and
# applied_as stays null because no single line commit is known to carry it.
EMPTY_PICK = "empty-pick"
INFERRED = "inferred"  # Nomination.kind of a Fixes:-derived nomination: shown, never a request


@record
class _Plan:
    """What the candidate asks of each line, before simulation."""

    candidate: Candidate
    nominations: tuple[Nomination, ...]
    targets: dict[Version, Target]


def evaluate(
    session: Session,
    scan_result: ScanResult,
    *,
    now: datetime,
    only: Collection[str] | None = None,
    cache: Cache | None = None,
    progress: Callable[[str], None] | None = None,
) -> CheckResult:
    """Verdicts for every nominated commit of `scan_result` on the run's lines.

    `only` (full ids) limits the verdicts and untagged fixes returned; the
    rest is still judged where it matters to them (reverts, `after`).
    """
    lines = list(session.lines)
    versions = [line.version for line in lines]
    commits = _without_broken_nominations(scan_result, session.known_versions)
    by_id = {c.commit: c for c in commits}
    links = _links(session.git, commits)
    detector = Detector(
        session.git,
        scan_result.unstable_commit,
        lines,
        base=scan_result.base,
        cache=cache,
        forks=session.forks,
        above_base=by_id,  # what the scan read lies above its base
    )
    detection, bug_on, interesting = _detect(detector, commits, links.fix_targets, versions)
    as_request = bool(session.config["fixes-as-request"])
    plans, pending, untagged = _judge_all(
        interesting, versions, detection, bug_on, links.reverted_by, links.fix_targets, as_request
    )
    if only is not None:
        plans = [p for p in plans if p.candidate.commit in only]
        untagged = [u for u in untagged if u.candidate.commit in only]
    plans, untagged = _simulate(session, lines, plans, untagged, pending, by_id, now, progress, cache)
    plans = _prerequisites_first(plans, links.needs, pending, by_id)
    verdicts = tuple(_verdict(p) for p in plans)
    missing = _missing_problems(verdicts, detector, lines)
    return CheckResult(
        unstable_ref=scan_result.unstable_ref,
        unstable_commit=scan_result.unstable_commit,
        lines=tuple(lines),
        verdicts=verdicts,
        untagged_fixes=tuple(untagged),
        problems=scan_result.problems + missing,
        now=now.isoformat(),
        incomplete=bool(missing),
    )


@record
class _Links:
    """What the candidates' messages name, resolved in one batch."""

    reverted_by: Mapping[str, str]  # reverted commit -> the revert that stands
    fix_targets: Mapping[str, Sequence[str]]  # fix -> the commits its Fixes: name
    needs: Mapping[str, Sequence[str]]  # commit -> the prerequisites its message names (Linux)


def _links(git: Git, commits: Sequence[Candidate]) -> _Links:
    resolved = _resolve(git, [w for c in commits for w in (*c.fixes, *c.reverts, *_needs(c))])

    def ids(written: Iterable[str]) -> list[str]:
        return [resolved[w] for w in written if w in resolved]

    return _Links(
        reverted_by=effective_reverts({c.commit: ids(c.reverts) for c in commits if c.reverts}),
        fix_targets={c.commit: ids(c.fixes) for c in commits if c.fixes},
        needs={c.commit: tuple(ids(_needs(c))) for c in commits if _needs(c)},
    )


def _verdict(plan: _Plan) -> Verdict:
    targets = tuple(plan.targets[v] for v in sorted(plan.targets))
    return Verdict(plan.candidate, plan.nominations, targets, merge=len(plan.candidate.parents) > 1)


def _detect(
    detector: Detector,
    commits: Sequence[Candidate],
    fix_targets: Mapping[str, Sequence[str]],
    versions: Sequence[Version],
) -> tuple[Detection, dict[str, dict[str, tuple[Version, ...]]], list[Candidate]]:
    """Where the fixed commits are (the lines the bugs are on), then where
    the candidates are: the nominated ones and the fixes of bugs on a line.
    One Detection answers both, as _decide asks about candidates and about
    what they fix."""
    by_id = {c.commit: c for c in commits}
    fixed = sorted({t for ts in fix_targets.values() for t in ts})
    known = {t: by_id[t] for t in fixed if t in by_id}
    # what the second detection may ask about: the nominated and the fixes
    # (on Xen 977 commits, of which 972 are asked), their patch-ids worked
    # out while the first runs; the fixed ones the first works out itself
    likely = [c for c in commits if (c.nominations or c.commit in fix_targets) and c.commit not in known]
    with detector.ahead([c.commit for c in likely], {c.commit: c.parents for c in likely}):
        fixed_detection = detector.detect(fixed, {t: c.parents for t, c in known.items()}, _subjects(known.values()))
        bug_on = _bug_lines(fixed_detection, fix_targets, versions)
        interesting = [c for c in commits if c.nominations or bug_on.get(c.commit)]
        found = detector.detect(
            [c.commit for c in interesting], {c.commit: c.parents for c in interesting}, _subjects(interesting)
        )
    detection = Detection(
        {**fixed_detection.applied, **found.applied}, {**fixed_detection.missing, **found.missing}
    )
    return detection, bug_on, interesting


def _needs(candidate: Candidate) -> list[str]:
    """The commits its message asks to pick first, as written (Linux: `# 5.15.x: <sha>: subject`)."""
    return [w for n in candidate.nominations if n.kind == "prerequisite" for w in n.needs]


def _prerequisites_first(
    plans: list[_Plan],
    needs: Mapping[str, Sequence[str]],
    pending: Collection[tuple[str, Version]],
    by_id: Mapping[str, Candidate],
) -> list[_Plan]:
    """A commit whose message names prerequisites has them in `after` on
    every line where they are pending, whatever the simulation needed:
    the maintainer said they go first."""
    updated = []
    for plan in plans:
        first = needs.get(plan.candidate.commit, ())
        targets = dict(plan.targets)
        for version, target in plan.targets.items():
            declared = [p for p in first if (p, version) in pending]
            if target.state == PENDING and declared:
                after = sorted({*target.after, *declared}, key=lambda sha: by_id[sha].order if sha in by_id else -1)
                targets[version] = replace(target, after=tuple(after))
        updated.append(replace(plan, targets=targets) if targets != plan.targets else plan)
    return updated


def _subjects(candidates: Iterable[Candidate]) -> dict[str, str]:
    return {c.commit: c.subject for c in candidates}


def _judge_all(
    interesting: Sequence[Candidate],
    versions: Sequence[Version],
    detection: Detection,
    bug_on: Mapping[str, Mapping[str, tuple[Version, ...]]],
    reverted_by: Mapping[str, str],
    fix_targets: Mapping[str, Sequence[str]],
    fixes_as_request: bool,
) -> tuple[list[_Plan], set[tuple[str, Version]], list[UntaggedFix]]:
    """Every candidate decided before simulation, oldest first (a fix is
    needed on a line where what it fixes is pending), and the untagged fixes.

    `fixes_as_request` (Linux, Mesa): a Fixes: whose bug is on a line asks
    for that line, unless the commit opts out."""
    plans: list[_Plan] = []
    pending: set[tuple[str, Version]] = set()
    untagged: list[UntaggedFix] = []
    for candidate in interesting:
        inferred = _inferred(candidate, bug_on.get(candidate.commit, {}))
        asking = fixes_as_request and bool(inferred) and not candidate.declined
        if asking:
            inferred = tuple(replace(n, kind="request") for n in inferred)
        if candidate.nominations or asking:
            plan = _decide(candidate, inferred, versions, detection, reverted_by, fix_targets, pending)
            pending.update((candidate.commit, v) for v, t in plan.targets.items() if t.state == PENDING)
            plans.append(plan)
        if not candidate.nominated and not asking and candidate.commit not in reverted_by:
            fix = _untagged(candidate, bug_on.get(candidate.commit, {}), detection, versions)
            if fix is not None:
                untagged.append(fix)
    return plans, pending, untagged


def _missing_problems(verdicts: Sequence[Verdict], detector: Detector, lines: Sequence[Line]) -> tuple[Problem, ...]:
    """What a missing object cost, said where problems are listed: each
    unknown verdict, and each line whose own commits could not all be read
    (a backport there would be missed by patch-id)."""
    found = []
    for verdict in verdicts:
        unknown = [t for t in verdict.targets if t.state == UNKNOWN]
        if unknown:
            where = listing(t.version for t in unknown)
            found.append(Problem(verdict.candidate.commit, f"unknown on {where}", str(unknown[0].reason)))
    for line in lines:
        for commit, object_id in detector.line_missing.get(line.version, {}).items():
            error = (
                f"object {object_id} is missing, so this {line.version} commit's diff could not be compared: "
                f"a backport it carries without a reference line is not seen; {MISSING_HINT}"
            )
            found.append(Problem(commit, f"line {line.version}", error))
    return tuple(found)




# -- before simulation ----------------------------------------------------------


def _without_broken_nominations(scan_result: ScanResult, known: Sequence[Version]) -> tuple[Candidate, ...]:
    """Drop a request that names no stable line that exists (`Backport-to: 4.2`
    where there is no 4.2): the scanner reports it under problems, and a
    candidate made only of such is not a candidate. Derived from the lines,
    not by matching problem texts back to nominations."""
    kept = []
    for candidate in scan_result.commits:
        nominations = tuple(n for n in candidate.nominations if n.kind != "request" or n.versions(known))
        kept.append(replace(candidate, nominations=nominations) if nominations != candidate.nominations else candidate)
    return tuple(kept)


def _resolve(git: Git, written: Iterable[str]) -> dict[str, str]:
    """Abbreviated ids from messages -> full ids, in one batch."""
    return git.resolve_many(sorted(set(written)))


def _bug_lines(
    detection: Detection,
    fix_targets: Mapping[str, Sequence[str]],
    versions: Sequence[Version],
) -> dict[str, dict[str, tuple[Version, ...]]]:
    """Fix commit -> {fixed commit -> lines that have the bug}.

    The bug is on a line when the fixed commit is there: by ancestry, or
    because it was itself backported (detect.py finds it like any commit).
    """
    found: dict[str, dict[str, tuple[Version, ...]]] = {}
    for fix, fixed in fix_targets.items():
        per_target = {}
        for target in fixed:
            on = tuple(v for v in versions if detection.on_line(target, v))
            if on:
                per_target[target] = on
        if per_target:
            found[fix] = per_target
    return found


def _inferred(candidate: Candidate, bug_on: Mapping[str, tuple[Version, ...]]) -> tuple[Nomination, ...]:
    """A Fixes:-derived nomination per fixed commit that is on a line: shown with
    the others, never taken as a request (SPEC "Nominations" 3)."""
    found = []
    for target, on in bug_on.items():
        shown = next((w for w in candidate.fixes if target.startswith(w)), target[:12])
        found.append(
            Nomination(
                source="fixes",
                text=f"Fixes: {shown} (in {listing(on)})",
                kind=INFERRED,
                requests=tuple(Request(v) for v in on),
            )
        )
    return tuple(found)


def _untagged(
    candidate: Candidate,
    bug_on: Mapping[str, tuple[Version, ...]],
    detection: Detection,
    versions: Sequence[Version],
) -> UntaggedFix | None:
    """A fix whose bug is on lines, with no request and no `none`.

    Lines where the fix already is, or that were explicitly skipped, need no
    chasing; one entry per commit names the first fixed commit that is on a line.
    """
    if not bug_on:
        return None
    skipped = {v for n in candidate.nominations if n.kind == "skip" for v in n.versions(versions)}
    lines: set[Version] = set()
    for on in bug_on.values():
        lines.update(v for v in on if v not in skipped and not detection.on_line(candidate.commit, v))
    if not lines:
        return None
    return UntaggedFix(candidate, next(iter(bug_on)), tuple(sorted(lines)))


def _decide(
    candidate: Candidate,
    inferred: tuple[Nomination, ...],
    versions: Sequence[Version],
    detection: Detection,
    reverted_by: Mapping[str, str],
    fix_targets: Mapping[str, Sequence[str]],
    pending: Collection[tuple[str, Version]],
) -> _Plan:
    requested, explicit, skipped = _asked(candidate.nominations + inferred, versions)
    # `none` alone means no targets; a later request (e.g. a note) overrides it
    targets: dict[Version, Target] = {}
    fixed = fix_targets.get(candidate.commit, ())
    # an unresolvable Fixes: target (typo, another tree) leaves the question open
    all_fixes_known = len(fixed) == len(candidate.fixes)
    for version in sorted({*requested, *skipped}):
        bug_absent = (
            bool(fixed)
            and all_fixes_known
            and not any(detection.on_line(t, version) or (t, version) in pending for t in fixed)
        )
        applied = detection.find(candidate.commit, version)
        if applied is not None:
            target = Target(version, APPLIED, applied_as=applied.commit, evidence=applied.evidence)
        elif candidate.commit in reverted_by:
            target = Target(version, REVERTED, reason=f"reverted by {reverted_by[candidate.commit]}")
        elif version in skipped:
            decision = skipped[version]
            evidence = "note" if decision.source == "note" else None
            target = Target(version, SKIPPED, evidence=evidence, reason=decision.comment)
        elif bug_absent and version not in explicit:
            target = Target(version, NOT_NEEDED, evidence="fixes", reason=_not_there(fixed, version))
        elif candidate.commit in detection.missing:
            target = Target(version, UNKNOWN, reason=missing_text(detection.missing[candidate.commit]))
        else:
            warning = _named_anyway(fixed, version) if bug_absent else None
            target = Target(version, PENDING, reason=requested.get(version), warning=warning)
        targets[version] = target
    return _Plan(candidate, candidate.nominations + inferred, targets)


def _asked(
    nominations: Sequence[Nomination], versions: Sequence[Version]
) -> tuple[dict[Version, str | None], set[Version], dict[Version, Nomination]]:
    """What a candidate's nominations ask of the lines: each requested
    line with the comment of the request that named it first, the lines
    named explicitly (`4.20`, not reached by a range `4.18+`), and the
    declined lines with their decision.

    An explicit request wins over what `Fixes:` infers: the line stays
    pending even where the fixed commit is not on it (real backports
    rewrite an inexact `Fixes:`). Only a range and a versionless request
    (`Cc: stable@vger.kernel.org`) expand by the bug's presence; a request
    a Fixes: makes (fixes-as-request) names the lines the bug is on."""
    requested: dict[Version, str | None] = {}
    explicit: set[Version] = set()
    skipped: dict[Version, Nomination] = {}
    for nomination in nominations:
        if nomination.kind == "request":
            for version in nomination.versions(versions):
                requested.setdefault(version, nomination.comment)
            if nomination.source != "fixes":
                explicit.update(r.version for r in nomination.requests if not r.plus)
        elif nomination.kind == "skip":
            for version in nomination.versions(versions):
                skipped.setdefault(version, nomination)
    return requested, explicit, skipped


def _not_there(fixed: Sequence[str], version: Version) -> str:
    names = ", ".join(t[:12] for t in fixed)
    return f"fixes {names}, not in {version}"


def _named_anyway(fixed: Sequence[str], version: Version) -> str:
    names = ", ".join(t[:12] for t in fixed)
    return f"its Fixes: target {names} is not on {version}; kept because {version} was asked for by name"


# -- simulation, age, owners ------------------------------------------------------


def _simulate(
    session: Session,
    lines: Sequence[Line],
    plans: list[_Plan],
    untagged: list[UntaggedFix],
    pending: Collection[tuple[str, Version]],
    by_id: Mapping[str, Candidate],
    now: datetime,
    progress: Callable[[str], None] | None,
    cache: Cache | None,
) -> tuple[list[_Plan], list[UntaggedFix]]:
    """Pending targets and untagged fixes simulated onto their lines, aged,
    checked for staleness and given owners. An untagged fix is tried after
    the line's pending commits, so its `after` may name them, and theirs
    never name it (a request is not made to wait for what nobody asked);
    nor does it wait for other untagged fixes: each is one question to the
    coordinator, and trying each on the others' picks cost, on real Xen, a
    merge for most of 429 fixes on six lines."""
    work = _chains(lines, plans, untagged, pending, by_id)
    if not work:
        return plans, untagged
    outcome = _simulated(session, work, progress)
    asked = [p.candidate for p in plans if any(t.state == PENDING for t in p.targets.values())]
    owners = _owners(session, [*asked, *(u.candidate for u in untagged)], cache)
    stale_after = int(session.config["stale-after"])
    by_version = {line.version: line for line in lines}

    def settle(target: Target, candidate: Candidate) -> Target:
        plan = outcome[target.version][candidate.commit]
        return _pending(target, plan, candidate, by_version[target.version], now, stale_after, owners)

    return _settle_all(plans, untagged, settle)


def _simulated(
    session: Session, work: Sequence[tuple[Line, list[str], list[str]]], progress: Callable[[str], None] | None
) -> dict[Version, dict[str, LinePlan]]:
    """Each line's plan: its chain of pending commits, then its untagged fixes tried."""
    if progress:
        progress(f"simulating {sum(len(c) + len(f) for _, c, f in work)} picks on {len(work)} lines")
    from backport.verdict.simulate import Simulator

    with Simulator(session.git, session.repo) as simulator:
        results = simulator.plan_lines([(line.commit, chain) for line, chain, _ in work], [f for _, _, f in work])
    return {line.version: result for (line, _, _), result in zip(work, results, strict=True)}


def _settle_all(
    plans: Sequence[_Plan], untagged: Sequence[UntaggedFix], settle: Callable[[Target, Candidate], Target]
) -> tuple[list[_Plan], list[UntaggedFix]]:
    """The pending targets settled; the untagged fixes with the lines still
    to take them, the oldest first."""
    updated = []
    for plan in plans:
        targets = {v: settle(t, plan.candidate) if t.state == PENDING else t for v, t in plan.targets.items()}
        updated.append(replace(plan, targets=targets))
    fixes = []
    for fix in untagged:
        settled = [settle(Target(v, PENDING), fix.candidate) for v in fix.lines]
        still = tuple(t for t in settled if t.state != APPLIED)  # an empty pick: it is there in substance
        if still:
            fixes.append(replace(fix, lines=tuple(t.version for t in still), targets=still))
    fixes.sort(key=lambda f: (_when(f.candidate.committed), f.candidate.order))  # the oldest first
    return updated, fixes


def _chains(
    lines: Sequence[Line],
    plans: Sequence[_Plan],
    untagged: Sequence[UntaggedFix],
    pending: Collection[tuple[str, Version]],
    by_id: Mapping[str, Candidate],
) -> list[tuple[Line, list[str], list[str]]]:
    """Per line, what to simulate: its pending commits in unstable order,
    then its untagged fixes, tried after them but not taken (Simulator's
    trials)."""
    shown = {p.candidate.commit for p in plans}
    work: list[tuple[Line, list[str], list[str]]] = []
    for line in lines:
        chain = sorted((c for c, v in pending if v == line.version), key=lambda sha: by_id[sha].order)
        on_line = [u.candidate for u in untagged if line.version in u.lines]
        fixes = [c.commit for c in sorted(on_line, key=lambda c: c.order)]
        if not fixes:
            # the chain only needs to reach the last candidate we show: later ones cannot come `after`-before it
            last = max((i for i, sha in enumerate(chain) if sha in shown), default=-1)
            chain = chain[: last + 1]
        fixes = [c for c in fixes if c not in chain]
        if chain or fixes:
            work.append((line, chain, fixes))
    return work


def _pending(
    target: Target,
    plan: LinePlan,
    candidate: Candidate,
    line: Line,
    now: datetime,
    stale_after: int,
    owners: Mapping[str, tuple[str, ...]],
) -> Target:
    alone, chained = plan.alone, plan.chained
    if alone.failure is not None:
        return replace(target, state=UNKNOWN, reason=alone.failure, warning=None)
    conflicts: tuple[str, ...]
    after: tuple[str, ...]
    if alone.clean and alone.empty:
        return replace(target, state=APPLIED, evidence=EMPTY_PICK, reason=None, empty=True)
    if alone.clean:
        applies, conflicts, after = "clean", (), ()
    elif plan.after and chained.clean:
        applies, conflicts, after = "clean", (), tuple(plan.after)
    else:
        applies, conflicts, after = "conflict", tuple(shown_path(p) for p in alone.conflicts), tuple(plan.after)
    settled = replace(
        target,
        applies=applies,
        conflicts=conflicts,
        after=after,
        owners=owners.get(candidate.commit) or (candidate.author,),
    )
    return aged(settled, candidate, line, now, stale_after)


def aged(target: Target, candidate: Candidate, line: Line, now: datetime, stale_after: int) -> Target:
    """A pending target's age at `now`, and whether that makes it stale."""
    landed = _when(candidate.committed)
    age = max(0, (now - landed).days)
    stale_reason = _stale_reason(line, landed, now, age, stale_after)
    return replace(target, age_days=age, stale=stale_reason is not None, stale_reason=stale_reason)


def _stale_reason(line: Line, landed: datetime, now: datetime, age: int, stale_after: int) -> str | None:
    """A release it missed says more than its age, so it wins; the first missed
    release is named: that is the one it should have been in."""
    for release in line.releases:  # oldest first
        tagged = _when(release.date)
        if landed < tagged <= now:
            return f"missed {release.tag}"
    if age > stale_after:
        return f"waiting {age} days"
    return None


@lru_cache(maxsize=4096)  # release dates come up once per pending target
def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _owners(
    session: Session, candidates: Sequence[Candidate], cache: Cache | None
) -> dict[str, tuple[str, ...]]:
    """MAINTAINERS owners of what each candidate touches, read at the unstable tip.

    Cached by the MAINTAINERS blob: who owns a commit's paths only changes
    when the file does.
    """
    if not candidates:
        return {}
    path = session.config["maintainers"]
    found = session.git.run(["rev-parse", "--verify", "--quiet", f"{session.unstable.commit}:{path}"], check=False)
    if found.returncode != 0:
        return {}  # no MAINTAINERS file: authors own their commits
    blob = found.stdout.decode().strip()
    known = _cached_owners(cache.get("owners", [blob, path]) if cache is not None else None)
    todo = [c for c in candidates if c.commit not in known]
    if todo:
        from backport.verdict.owners import Maintainers

        maintainers = Maintainers.load(session.git, session.unstable.commit, path)
        paths = changed_paths(session.git, [c.commit for c in todo], {c.commit: c.parents for c in todo})
        known.update({sha: maintainers.owners_for(files) for sha, files in paths.items()})
        if cache is not None:
            cache.put("owners", [blob, path], {sha: list(people) for sha, people in known.items()})
    return {c.commit: known[c.commit] for c in candidates}


def _cached_owners(entry: object) -> dict[str, tuple[str, ...]]:
    """The owners cache entry read back (commit -> people); empty if it is not one."""
    if not isinstance(entry, dict):
        return {}
    return {str(k): tuple(str(p) for p in v) for k, v in entry.items() if isinstance(v, list)}


def changed_paths(git: Git, commits: Sequence[str], parents: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """commit -> paths it changes (a merge against its first parent), one diff-tree."""
    from backport.verdict.merge import Commit, own_changes

    changes = own_changes(git, [Commit(c, "", tuple(parents.get(c, ())), "") for c in commits])
    return {c: [change.path for change in changes.get(c, ())] for c in commits}
