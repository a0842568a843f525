"""`suggest` end to end: read, learn, rank, check the top of each line.

The model is trained on the newest lines' history as known at the run's date
and cached by what it read (the unstable and line commits, the date); the
whole result is cached by that and the run's lines and nominations, so a
re-run over unchanged refs reads two cache files.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from backport.config import NOTES_REF
from backport.errors import GitError, UsageError
from backport.lines import discover
from backport.models import Line, Nomination, Version
from backport.nominations import parse
from backport.record import layout, rebuild, record, replace
from backport.session import Session
from backport.suggest import features, prerequisites
from backport.suggest.engine import TRAIN_LINES, Row, Rows, read_knowledge, training_rows
from backport.suggest.features import Commit
from backport.suggest.model import Model, train
from backport.suggest.phase import DAY, phase_at
from backport.suggest.wording import reasons_text, worth_saying

FORGOTTEN = 3 * 365 * DAY  # a line without a commit for this long is not read
Pending = Mapping[Version, Sequence[tuple[str, tuple[str, ...]]]]
REASONS = 3
# conflicting suggestions per line whose prerequisite is looked for, from the
# top: each costs up to prerequisites.TRIES simulations, and `--limit 0`
# lists thousands (on Xen 4.17, 5,345 commits scored)
SEARCHED = 50


@record
class Suggestion:
    commit: str
    subject: str
    version: Version
    score: float
    reasons: tuple[str, ...]
    applies: str | None = None  # "clean" | "conflict" | None when not simulated
    conflicts: tuple[str, ...] = ()
    needed_by: str | None = None  # set on a prerequisite: the commit it makes apply


@record
class LineSuggestions:
    version: Version
    ref: str
    phase: str  # the line's phase in words
    scored: int  # rows scored on this line
    suggestions: tuple[Suggestion, ...]


@record
class SuggestResult:
    as_of: str  # ISO 8601: what the model knew
    trained_rows: int
    trained_taken: int
    lines: tuple[LineSuggestions, ...]
    skipped_lines: tuple[str, ...] = ()  # versions not ranked: not maintained at the date

    def for_line(self, version: Version) -> LineSuggestions | None:
        return next((line for line in self.lines if line.version == version), None)


def suggest(
    session: Session,
    *,
    as_of: datetime | None = None,
    limit: int = 15,
    simulate: bool = True,
    pending: Callable[[], Pending] | None = None,
) -> SuggestResult:
    """Ranked suggestions for each line of the session.

    `pending` gives, per line, the nominated commits that conflict there,
    with their conflicting paths (from `check`): the one earlier commit each
    needs first is suggested too. It is asked late, so that `check` can run
    beside the learning; and not at all when the result is cached (it is a
    function of the refs the key names)."""
    session.require_history()
    git = session.git
    run_lines = list(session.heads)
    when = int(as_of.timestamp()) if as_of else None
    every = _all_lines(session, run_lines, when)
    cache = session.cache
    key = _key(session, every, run_lines, when, limit, simulate)
    key.append(pending is not None)  # whether pending commits' prerequisites were looked for
    stored = cache.get("suggest", key)
    if stored is not None:
        try:
            return rebuild(SuggestResult, stored)
        except (TypeError, ValueError, IndexError):
            pass
    knowledge = read_knowledge(git, session.unstable.commit, every, cache)
    moment = when if when is not None else knowledge.end
    known = knowledge.as_of(moment)
    rows = Rows(known)
    if when is not None:
        run_lines = _lines_then(session, run_lines, every, rows, when, knowledge.end)
    model, trained, taken = _model(cache, key[:3], rows, moment)
    excluded = _declined(session, run_lines, when, rows)
    result_lines: list[LineSuggestions] = []
    skipped: list[str] = []
    for line in run_lines:
        if line.version not in known.labels.lines or not rows.alive(line.version, moment):
            skipped.append(str(line.version))
            continue
        result_lines.append(_rank_line(rows, model, line, moment, excluded.get(line.version, set()), limit))
    if simulate:
        waiting = pending() if pending is not None else {}
        result_lines = _check_picks(session, rows, model, result_lines, moment, waiting, excluded)
    result = SuggestResult(
        as_of=datetime.fromtimestamp(moment, timezone.utc).isoformat(),
        trained_rows=trained,
        trained_taken=taken,
        lines=tuple(result_lines),
        skipped_lines=tuple(skipped),
    )
    cache.put("suggest", key, result)
    return result


def _lines_then(
    session: Session, run_lines: list[Line], every: Sequence[Line], rows: Rows, when: int, newest: int
) -> list[Line]:
    """The lines to rank as of `when`: those named with --line, else every
    line maintained then (forked by then, with a commit of its own in the
    year before), as the project would have ranked them. None to rank is a
    usage error saying why; `newest` is the date of the newest commit read."""
    date = _day(when)
    histories = rows.k.labels.lines
    if not session.known_versions:
        raise UsageError("no stable line found to rank", "name one with --line VERSION=REF")
    if session.line_specs:
        unborn = [str(line.version) for line in run_lines if line.version not in histories]
        if unborn:
            hint = "name lines that existed then, or give a later --as-of"
            raise UsageError(f"not forked by {date}: {', '.join(unborn)}", hint)
        return run_lines
    if not histories and when < newest:
        raise UsageError(f"no stable line had forked by {date}: nothing to learn from", "give a later --as-of")
    then = [line for line in every if line.version in histories and rows.alive(line.version, when)]
    if not then:
        why = f"no line had a commit in the year before {date}; the newest commit read is of {_day(newest)}"
        raise UsageError(why, "give an earlier --as-of")
    return then


def _day(moment: int) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).date().isoformat()


def _all_lines(session: Session, run_lines: Sequence[Line], when: int | None) -> list[Line]:
    """The lines to read: the discovered ones, with the run's own refs where
    the run names them, less those whose last commit is older than
    FORGOTTEN at the run's date. Those are neither ranked (not maintained)
    nor among the newest lines learned from, and reading their history
    back to their fork would cost more than the rest (on Xen, 29,000
    commits instead of 8,500)."""
    found = discover(session.git.branches(), session.config["line-patterns"])
    lines = {v: Line(v, b.ref, b.commit) for v, b in found.items() if b.commit}
    lines.update({line.version: line for line in run_lines})
    dates = {b.commit: b.date for b in found.values() if b.commit and b.date is not None}
    tips = sorted({line.commit for line in lines.values()} - set(dates))
    if tips:
        args = ["log", "--no-walk=unsorted", "-z", "--format=%H%x00%ct", *tips, "--"]
        dates.update({sha.decode(): int(ct) for sha, ct in session.git.records(args, 2)})
    moment = when if when is not None else max([*dates.values(), 0])
    return [lines[v] for v in sorted(lines) if dates.get(lines[v].commit, moment) >= moment - FORGOTTEN]


def _key(
    session: Session, every: Sequence[Line], run_lines: Sequence[Line], when: int | None, limit: int, simulate: bool
) -> list[Any]:
    from backport.scan.scanner import session_inputs

    read = [[str(line.version), line.commit] for line in every]
    model_part = [features.VERSION, session.unstable.commit, read]
    return [
        model_part,
        when,
        TRAIN_LINES,
        [[str(line.version), line.commit] for line in run_lines],
        limit,
        simulate,
        session_inputs(session),
        layout(SuggestResult),
    ]


def _model(cache: Any, key: list[Any], rows: Rows, moment: int) -> tuple[Model, int, int]:
    """The model as of `moment`, from the cache or trained now."""
    stored = cache.get("suggest-model", key)
    if isinstance(stored, dict):
        model = Model.from_json(stored.get("weights"))
        if model is not None:
            return model, int(stored.get("rows", 0)), int(stored.get("taken", 0))
    learn = training_rows(rows, moment)
    data = [(row.tokens, rows.taken(row.commit.id, row.version)) for row in learn]
    model = train(data)
    taken = sum(1 for _, y in data if y)
    cache.put("suggest-model", key, {"weights": model.to_json(), "rows": len(data), "taken": taken})
    return model, len(data), taken


def _declined(session: Session, lines: Sequence[Line], when: int | None, rows: Rows) -> dict[Version, set[str]]:
    """Per line, the commits never to suggest there: requested for the line
    already (the report's business), declined with `none`, or skipped there.
    The scan reaches back to the oldest of `lines` (as of a date, it may be
    older than today's). As of `when`, with the notes as they were then: a
    decision noted later was not known; nor was a request that Linux's
    `# 5.15.x: <sha>` makes for <sha>, written later in a note or in the
    message of a commit that landed later. As in the scan, only a commit of
    the scanned range (unstable since the oldest line's fork) asks so."""
    from backport.scan.scanner import prerequisite_requests, scan

    git, grammar, known = session.git, session.grammar, session.known_versions
    unstable = session.unstable
    scanned = scan(git, unstable.ref, unstable.commit, lines, known, grammar, cache=session.cache, forks=session.forks)
    found: dict[Version, set[str]] = {line.version: set() for line in lines}
    if when is None:
        for candidate in scanned.commits:
            _decline(found, candidate.commit, candidate.nominations, known)
        return found
    then = _notes_then(session, when)

    def noted(notes: Sequence[str]) -> list[Nomination]:
        return [n for note in notes for n in parse(note, grammar, "note").nominations]

    asking: list[tuple[str, Nomination]] = []  # what said then which commits go first
    for candidate in scanned.commits:
        own = [n for n in candidate.nominations if n.source not in ("note", "prerequisite")]
        if datetime.fromisoformat(candidate.committed).timestamp() > when:
            own = []  # its message was not written yet
        nominations = own + noted(then.pop(candidate.commit, ()))  # what its note said then, not now
        _decline(found, candidate.commit, nominations, known)
        asking.extend((candidate.commit, n) for n in nominations)
    oldest = min(line.version for line in lines) if lines else None
    scanned_range = set(rows.by_id) - rows.k.below.get(oldest, frozenset()) if oldest else set()
    for commit, notes in then.items():  # noted then, and no longer
        nominations = noted(notes)
        _decline(found, commit, nominations, known)
        if commit in scanned_range:
            asking.extend((commit, n) for n in nominations)
    for commit, requests in prerequisite_requests(git, asking).items():
        _decline(found, commit, requests, known)
    return found


def _decline(
    found: dict[Version, set[str]], commit: str, nominations: Sequence[Nomination], known: Sequence[Version]
) -> None:
    """`commit` into `found` for the lines its nominations keep it from:
    every line for `none`, the lines named for a request or a skip."""
    for n in nominations:
        if n.kind == "none":
            lines: Iterable[Version] = found
        elif n.kind in ("request", "skip"):
            lines = [v for v in n.versions(known) if v in found]
        else:
            continue
        for version in lines:
            found[version].add(commit)


def _notes_then(session: Session, when: int) -> dict[str, list[str]]:
    """Each commit's note on refs/notes/backport as it was at `when` (the
    notes ref's last commit by then, down its own history: a `git notes
    merge` brings in commits the ref was not at), by commit id."""
    git = session.git
    now = git.resolve_many([NOTES_REF]).get(NOTES_REF)
    if now is None:
        return {}
    moment = datetime.fromtimestamp(when, timezone.utc).isoformat()
    then = git.out(["rev-list", "-1", "--first-parent", f"--before={moment}", now, "--"]).strip()
    if not then:
        return {}
    files = git.tree_files(then)
    texts = git.blobs(oid for _, oid in files.values())
    found: dict[str, list[str]] = {}
    for path, (_, oid) in files.items():
        if oid in texts:
            found.setdefault(path.replace("/", ""), []).append(texts[oid].decode("utf-8", "replace"))
    return found


def _rank_line(
    rows: Rows, model: Model, line: Line, moment: int, excluded: set[str], limit: int
) -> LineSuggestions:
    version = line.version
    scored: list[tuple[float, Row]] = []
    for commit in _pool(rows, version, moment, excluded):
        row = rows.row(commit, version, moment)
        scored.append((model.score(row.tokens), row))
    scored.sort(key=lambda s: (-s[0], s[1].commit.committed))
    shown = scored if limit == 0 else scored[:limit]
    phase = phase_at(rows.paces[version], moment)
    suggestions = tuple(
        Suggestion(
            commit=row.commit.id,
            subject=row.commit.subject,
            version=version,
            score=round(score, 3),
            reasons=reasons_text([t for t, _ in model.reasons(filter(worth_saying, row.tokens), REASONS)]),
        )
        for score, row in shown
    )
    return LineSuggestions(version, line.ref, phase.describe(), len(scored), suggestions)


def _pool(rows: Rows, version: Version, moment: int, excluded: Collection[str]) -> list[Commit]:
    """The commits that may be suggested for the line: since its fork, not on
    it, and neither excluded (_declined), opted out nor reverted."""
    return [
        c
        for c in rows.candidates(version, 0, moment)
        if c.id not in excluded and not c.opt_out and c.id not in rows.reverted and not rows.taken(c.id, version)
    ]


def _check_picks(
    session: Session,
    rows: Rows,
    model: Model,
    found: list[LineSuggestions],
    moment: int,
    pending: Pending,
    excluded: Mapping[Version, set[str]],
) -> list[LineSuggestions]:
    """Whether each suggestion applies on its line, and for one that
    conflicts, the earlier commit that would make it apply: suggested before
    it with the reason "needed first by". The same for the line's pending
    commits that conflict."""
    from backport.verdict.simulate import Simulator

    histories = rows.k.labels.lines
    tips = {line.version: histories[line.version].tip_at(moment) for line in found}
    updated = {line.version: line for line in found}
    with Simulator(session.git, session.repo) as simulator:
        for line in found:
            tip = tips[line.version]
            if tip is None:
                continue
            pool = _pool(rows, line.version, moment, excluded.get(line.version, set()))
            if line.suggestions:
                plan = _plan(simulator, tip, [s.commit for s in line.suggestions])
                line = _with_picks(simulator, rows, line, tip, plan, pool)
            waiting = pending.get(line.version, ())
            if waiting:
                line = _for_pending(simulator, rows, model, line, tip, moment, waiting, pool)
            updated[line.version] = line
    return [updated[line.version] for line in found]


def _for_pending(
    simulator: Any,
    rows: Rows,
    model: Model,
    line: LineSuggestions,
    tip: str,
    moment: int,
    waiting: Sequence[tuple[str, tuple[str, ...]]],
    pool: Sequence[Commit],
) -> LineSuggestions:
    """Prerequisites of the line's conflicting pending commits, first in the list."""
    listed = {s.commit for s in line.suggestions}
    added: list[Suggestion] = []
    for commit, conflicts in waiting:
        original = rows.by_id.get(commit)
        if original is None:
            continue
        try:
            needed = prerequisites.find(simulator, tip, original, conflicts, pool)
        except GitError:
            continue
        if needed is None or needed in listed:
            continue
        listed.add(needed)
        row = rows.row(rows.by_id[needed], line.version, moment)
        added.append(
            Suggestion(
                commit=needed,
                subject=row.commit.subject,
                version=line.version,
                score=round(model.score(row.tokens), 3),
                reasons=(f"needed first by {commit[:12]} (pending)",),
                applies="clean",
                needed_by=commit,
            )
        )
    return replace(line, suggestions=(*added, *line.suggestions)) if added else line


def _plan(simulator: Any, tip: str, commits: list[str]) -> dict[str, Any]:
    """Each commit picked alone onto `tip`; one git cannot merge (a merge-ort
    assertion on some renames in git 2.39) leaves only that one unchecked."""
    try:
        return simulator.picks(commits, tip)  # type: ignore[no-any-return]
    except GitError:
        found = {}
        for commit in commits:
            try:
                found[commit] = simulator.pick(commit, tip)
            except GitError:
                continue
        return found


def _with_picks(
    simulator: Any, rows: Rows, line: LineSuggestions, tip: str, plan: Mapping[str, Any], pool: Sequence[Commit]
) -> LineSuggestions:
    """The line's suggestions with `applies`, and each prerequisite found
    (among `pool`) for a conflicting one: marked where it is listed already, else added."""
    checked: list[Suggestion] = []
    needs: dict[str, Suggestion] = {}  # prerequisite -> the suggestion that needs it
    searched = 0
    for s in line.suggestions:
        alone = plan.get(s.commit)
        if alone is None:
            checked.append(s)
            continue
        s = replace(s, applies="clean" if alone.clean else "conflict", conflicts=tuple(alone.conflicts))
        checked.append(s)
        if not alone.clean and searched < SEARCHED:
            searched += 1
            try:
                needed = prerequisites.find(simulator, tip, rows.by_id[s.commit], alone.conflicts, pool)
            except GitError:
                needed = None
            if needed:
                needs.setdefault(needed, s)
    out: list[Suggestion] = []
    for s in checked:
        if s.commit in needs:
            continue  # listed just before what needs it
        for prior, dependent in needs.items():
            if dependent.commit == s.commit:
                out.append(_prerequisite(rows, prior, dependent, next((c for c in checked if c.commit == prior), None)))
        out.append(s)
    return replace(line, suggestions=tuple(out))


def _prerequisite(rows: Rows, commit: str, dependent: Suggestion, listed: Suggestion | None) -> Suggestion:
    reason = f"needed first by {dependent.commit[:12]}"
    if listed is not None:
        return replace(listed, reasons=(reason, *listed.reasons), needed_by=dependent.commit, applies="clean")
    return Suggestion(
        commit=commit,
        subject=rows.by_id[commit].subject,
        version=dependent.version,
        score=dependent.score,
        reasons=(reason,),
        applies="clean",
        needed_by=dependent.commit,
    )
