"""How well `backport suggest` ranks what a project really backported.

    python benchmarks/eval_suggest.py --repo PATH [--cutoff 2023-07-01] [--train 4.12-4.17] [--test 4.18-4.20]

Two protocols, on real history, with labels only as known at each date:

cutoff   the model learns from the training lines with what was known at the
         cutoff date, then ranks every commit that landed on unstable after it
         on the test lines (features as known when the commit landed);
         positives: what those lines took, at any time.
replay   the way a coordinator uses it: a snapshot every two weeks from the
         cutoff on, refs cut back to that moment, a model trained on what was
         known then, the last two weeks' unstable commits ranked for every line
         maintained then (those already taken left out); positives: what the
         lines took afterwards.

For each, per line and pooled: precision at the top of the ranking (P@15 per
line; in the replay per line and snapshot, averaged), precision at recall 0.6
and 0.8, and average precision (the area under the precision-recall curve);
and the `Fixes:` rule (a Fixes: whose target is on the line) as a point, with
the model's precision at the rule's recall. `--split` also gives the figures
on the rows of some paths or subjects and on the rest. The replay also gives AP and
precision at recall 0.6 and 0.8 per snapshot (one moment's ranking over every
line), averaged over the snapshots with a row taken. Commits of the last 90 days are
not scored: their fate is not known yet.

`--compare` also trains scikit-learn's LogisticRegression on the same rows
(if installed) and prints both, with training times. `--ablate NAME,...`
drops feature groups (by name prefix) to show what each adds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from backport.cache import Cache  # noqa: E402
from backport.lines import discover  # noqa: E402
from backport.models import Line, Version  # noqa: E402
from backport.session import Session  # noqa: E402
from backport.suggest import model as lr  # noqa: E402
from backport.suggest.engine import LAG, Knowledge, Row, Rows, read_knowledge, training_rows  # noqa: E402
from backport.suggest.phase import DAY  # noqa: E402

TOP = 15
SETTLE = 90 * DAY


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", required=True)
    parser.add_argument("--cutoff", default="2023-07-01")
    parser.add_argument("--train", default="4.12-4.17", help="versions learned from in the cutoff protocol")
    parser.add_argument("--test", default="4.18-4.20", help="versions ranked in the cutoff protocol")
    parser.add_argument("--oldest", default="4.12", help="the oldest line read")
    parser.add_argument("--every", type=int, default=14, help="days between replay snapshots")
    parser.add_argument("--retrain", type=int, default=1, help="retrain the replay's model every N snapshots")
    parser.add_argument("--protocol", choices=["cutoff", "replay", "both", "timing"], default="both")
    parser.add_argument("--rounds", type=int, default=3, help="timing: runs of each command")
    parser.add_argument("--compare", action="store_true", help="also scikit-learn's LogisticRegression")
    parser.add_argument("--ablate", default="", help="comma-separated feature prefixes to drop")
    parser.add_argument("--half-life", type=float, default=0, help="days: older training rows count less")
    parser.add_argument("--per-line", action="store_true", help="print every line's figures")
    parser.add_argument(
        "--split",
        default="",
        help="comma-separated path prefixes (ending in /) and subject prefixes: the figures also on the rows "
        "whose commit matches one, and on the rest (e.g. automation/,CI:,automation,cirrus)",
    )
    return parser.parse_args(argv)


def versions_in(text: str) -> tuple[Version, Version]:
    low, _, high = text.partition("-")
    a, b = Version.parse(low), Version.parse(high or low)
    assert a and b, text
    return a, b


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


# -- metrics -------------------------------------------------------------------


def ranking_metrics(scored: Sequence[tuple[float, bool]]) -> dict[str, float]:
    """AP, precision at recall 0.6 and 0.8, over one ranking."""
    ordered = sorted(scored, key=lambda s: -s[0])
    total = sum(1 for _, y in ordered if y)
    out = {"rows": float(len(ordered)), "positives": float(total)}
    if not total:
        return out
    hits, ap = 0, 0.0
    at_recall: dict[float, float] = {}
    for i, (_, y) in enumerate(ordered, 1):
        if y:
            hits += 1
            ap += hits / i
            for goal in (0.45, 0.6, 0.8):
                if goal not in at_recall and hits / total >= goal:
                    at_recall[goal] = hits / i
    out.update(ap=ap / total, p60=at_recall.get(0.6, 0.0), p80=at_recall.get(0.8, 0.0))
    return out


def precision_at_recall(scored: Sequence[tuple[float, bool]], recall: float) -> float:
    ordered = sorted(scored, key=lambda s: -s[0])
    total = sum(1 for _, y in ordered if y)
    hits = 0
    for i, (_, y) in enumerate(ordered, 1):
        hits += y
        if total and hits / total >= recall:
            return hits / i
    return 0.0


def top_precision(scored: Sequence[tuple[float, bool]], k: int = TOP) -> float:
    ordered = sorted(scored, key=lambda s: -s[0])[:k]
    return sum(1 for _, y in ordered if y) / len(ordered) if ordered else 0.0


def rule_point(flags: Sequence[tuple[bool, bool]]) -> tuple[float, float]:
    """(precision, recall) of a yes/no rule."""
    flagged = [y for f, y in flags if f]
    total = sum(1 for _, y in flags if y)
    precision = sum(flagged) / len(flagged) if flagged else 0.0
    return precision, (sum(flagged) / total if total else 0.0)


# -- training --------------------------------------------------------------------


def strip(tokens: Iterable[str], drop: Sequence[str]) -> list[str]:
    if not drop:
        return list(tokens)
    return [t for t in tokens if not any(t.startswith(d) or "&" in t and t.split("&")[0].startswith(d) for d in drop)]


Scorer = Callable[[Sequence[str]], float]


def fit(
    rows: Sequence[tuple[Sequence[str], bool]], kind: str, weights: Sequence[float] | None = None
) -> tuple[Scorer, float]:
    """A scorer trained on rows, and the seconds training took."""
    start = time.perf_counter()
    if kind == "plain":
        model = lr.train(rows, weights=weights)
        return model.margin, time.perf_counter() - start
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    counts: dict[str, int] = {}
    for tokens, _ in rows:
        for t in set(tokens):
            counts[t] = counts.get(t, 0) + 1
    index = {t: i for i, t in enumerate(t for t, n in counts.items() if n >= 3)}

    def matrix(batch: Sequence[Sequence[str]]) -> csr_matrix:
        indptr, indices = [0], []
        for tokens in batch:
            cols = sorted({index[t] for t in tokens if t in index})
            indices.extend(cols)
            indptr.append(len(indices))
        return csr_matrix(([1.0] * len(indices), indices, indptr), shape=(len(batch), len(index)))

    fitted = LogisticRegression(C=0.3, solver="liblinear", max_iter=300)
    fitted.fit(matrix([t for t, _ in rows]), [y for _, y in rows], sample_weight=weights)
    seconds = time.perf_counter() - start
    return (lambda tokens: float(fitted.decision_function(matrix([tokens]))[0])), seconds


# -- protocols --------------------------------------------------------------------


def cutoff(k: Knowledge, args: argparse.Namespace, kinds: Sequence[str], drop: Sequence[str]) -> None:
    when = epoch(args.cutoff)
    train_low, train_high = versions_in(args.train)
    test_low, test_high = versions_in(args.test)
    known = Rows(k.as_of(when))
    train_versions = [v for v in known.k.labels.lines if train_low <= v <= train_high]
    learn = training_rows(known, when, lag=0, versions=train_versions)
    data = [(strip(r.tokens, drop), known.taken(r.commit.id, r.version, when)) for r in learn]
    full = Rows(k)
    test: list[Row] = []
    for version in sorted(v for v in k.labels.lines if test_low <= v <= test_high):
        for commit in full.candidates(version, when, k.end - SETTLE):
            if full.alive(version, commit.committed) and commit.id not in full.reverted:
                test.append(full.row(commit, version, commit.committed))
    labels = [full.taken(r.commit.id, r.version) for r in test]
    print(f"\ncutoff {args.cutoff}: learn {args.train} ({len(data)} rows, {sum(y for _, y in data)} taken), "
          f"rank {args.test} ({len(test)} rows, {sum(labels)} taken)")
    for kind in kinds:
        score, seconds = fit(data, kind)
        scored = [(score(strip(r.tokens, drop)), y) for r, y in zip(test, labels, strict=True)]
        report(f"model ({kind}, trained in {seconds:.1f} s)", test, scored, labels, per_line=True)
        report_rule(test, labels, scored)
        report_split(test, scored, args.split)


def replay(k: Knowledge, args: argparse.Namespace, kinds: Sequence[str], drop: Sequence[str]) -> None:
    start, stop, step = epoch(args.cutoff), k.end - SETTLE, args.every * DAY
    full = Rows(k)
    results: dict[str, list[tuple[Row, float, bool, int]]] = {kind: [] for kind in kinds}
    timing: dict[str, float] = dict.fromkeys(kinds, 0.0)
    snapshots = 0
    scorers: dict[str, Scorer] = {}
    when = start
    while when <= stop:
        known = Rows(k.as_of(when))
        if snapshots % args.retrain == 0:
            learn = training_rows(known, when, lag=LAG)
            data = [(strip(r.tokens, drop), known.taken(r.commit.id, r.version)) for r in learn]
            weights = decay([r.at for r in learn], when, args.half_life)
            for kind in kinds:
                scorers[kind], seconds = fit(data, kind, weights)
                timing[kind] += seconds
        for version in known.k.labels.lines:
            if not known.alive(version, when):
                continue
            for commit in known.candidates(version, when - step, when):
                if known.taken(commit.id, version) or commit.id in known.reverted:
                    continue
                row = known.row(commit, version, when)
                y = full.taken(commit.id, version)
                for kind in kinds:
                    results[kind].append((row, scorers[kind](strip(row.tokens, drop)), y, snapshots))
        snapshots += 1
        when += step
    first = results[kinds[0]]
    rows = [r for r, _, _, _ in first]
    labels = [y for _, _, y, _ in first]
    print(f"\nreplay from {args.cutoff}, every {args.every} days: {snapshots} snapshots, "
          f"{len(rows)} rows, {sum(labels)} taken afterwards")
    for kind in kinds:
        scored = [(s, y) for _, s, y, _ in results[kind]]
        groups: dict[tuple[int, Version], list[tuple[float, bool]]] = {}
        for row, s, y, snap in results[kind]:
            groups.setdefault((snap, row.version), []).append((s, y))
        tops = [top_precision(g) for g in groups.values() if any(y for _, y in g)]
        label = f"model ({kind}, {timing[kind]:.0f} s training in all)"
        report(label, rows, scored, labels, per_line=args.per_line, top=sum(tops) / len(tops) if tops else 0.0)
        report_rule(rows, labels, scored)
        report_moments([(snap, s, y) for _, s, y, snap in results[kind]])
        report_split(rows, scored, args.split)


def report_split(rows: Sequence[Row], scored: Sequence[tuple[float, bool]], split: str) -> None:
    """The figures on the rows whose commit matches `split` and on the rest:
    on Xen, CI changes (`automation/,CI:,automation,cirrus`), which the lines
    began to take in bursts after the cutoff."""
    prefixes = [p.strip() for p in split.split(",") if p.strip()]
    if not prefixes:
        return
    paths = tuple(p for p in prefixes if p.endswith("/"))
    subjects = tuple(p.lower() for p in prefixes if not p.endswith("/"))

    def matches(row: Row) -> bool:
        commit = row.commit
        return commit.subject.lower().startswith(subjects) or any(path.startswith(paths) for path in commit.paths)

    marked = [matches(r) for r in rows]
    for name, side in ((f"matching {split}", True), ("the rest", False)):
        m = ranking_metrics([s for s, hit in zip(scored, marked, strict=True) if hit == side])
        if m.get("positives"):
            print(f"  {name}: {int(m['rows'])} rows, {int(m['positives'])} taken: AP {m['ap']:.3f}  "
                  f"P@R0.6 {m['p60']:.3f}  P@R0.8 {m['p80']:.3f}")


def report_moments(scored: Sequence[tuple[int, float, bool]]) -> None:
    """The same figures per snapshot, averaged over the snapshots with a
    row taken: each is one ranking a coordinator sees at one moment, over
    every line. The pooled figures above also compare scores across
    moments, which no coordinator does: they count each snapshot's share
    of positives (0 to 64 rows on Xen, following the maintainers'
    batches) against the model."""
    moments: dict[int, list[tuple[float, bool]]] = {}
    for snap, s, y in scored:
        moments.setdefault(snap, []).append((s, y))
    found = [m for m in (ranking_metrics(g) for g in moments.values()) if m.get("positives")]
    if not found:
        return
    mean = {key: sum(m[key] for m in found) / len(found) for key in ("ap", "p60", "p80")}
    print(f"  per snapshot, averaged over the {len(found)} of {len(moments)} with a row taken: "
          f"AP {mean['ap']:.3f}  P@R0.6 {mean['p60']:.3f}  P@R0.8 {mean['p80']:.3f}")


def decay(times: Sequence[int], when: int, half_life: float) -> list[float] | None:
    if not half_life:
        return None
    return [0.5 ** ((when - t) / (half_life * DAY)) for t in times]


def report(
    name: str,
    rows: Sequence[Row],
    scored: Sequence[tuple[float, bool]],
    labels: Sequence[bool],
    *,
    per_line: bool,
    top: float | None = None,
) -> None:
    pooled = ranking_metrics(scored)
    shown_top = top if top is not None else top_precision(scored)
    print(f"  {name}: pooled AP {pooled.get('ap', 0):.3f}  P@R0.6 {pooled.get('p60', 0):.3f}  "
          f"P@R0.8 {pooled.get('p80', 0):.3f}  P@{TOP} {shown_top:.3f}")
    if per_line:
        versions = sorted({r.version for r in rows})
        for version in versions:
            mine = [s for r, s in zip(rows, scored, strict=True) if r.version == version]
            m = ranking_metrics(mine)
            if m.get("positives"):
                print(f"    {version}: {int(m['rows'])} rows, {int(m['positives'])} taken: AP {m['ap']:.3f}  "
                      f"P@R0.6 {m['p60']:.3f}  P@R0.8 {m['p80']:.3f}  P@{TOP} {top_precision(mine):.3f}")


def report_rule(rows: Sequence[Row], labels: Sequence[bool], scored: Sequence[tuple[float, bool]]) -> None:
    precision, recall = rule_point([(r.fixes_on_line, y) for r, y in zip(rows, labels, strict=True)])
    model_there = precision_at_recall(scored, recall)
    print(f"  Fixes: rule: precision {precision:.3f} at recall {recall:.3f}; "
          f"the model at that recall: precision {model_there:.3f} ({model_there - precision:+.3f})")


def timing(args: argparse.Namespace) -> None:
    """Cold and warm `backport suggest` against the raw `git log --raw` of
    the range it reads, alternated in the same run."""
    from common import (
        Command,
        alternate,
        backport_argv,
        backport_cache_dir,
        backport_env,
        drop_dir,
        environment,
        median,
        print_ratio,
        print_samples,
        print_threshold,
        probe,
    )

    from backport.suggest.rank import _all_lines  # the lines suggest reads: the same range

    session = Session.open(args.repo)
    git = session.git
    read = _all_lines(session, session.heads, None)
    forks = [git.merge_base(session.unstable.commit, line.commit) for line in read]
    dated = sorted((int(git.out(["log", "-1", "--format=%ct", f])), f) for f in forks if f)
    versions = [line.version for line in read]
    oldest = dated[0][1] if dated else None
    raw = Command(
        "raw git log --raw",
        ["git", "-C", args.repo, "log", "-z", "--raw", "--no-renames", "--no-abbrev", "--no-merges",
         "--format=%H%x00%P%x00%ae%x00%ce%x00%ct%x00%B", session.unstable.commit, *([f"^{oldest}"] if oldest else [])],
    )
    argv = backport_argv(args.repo, "suggest", "--format", "json", unstable=session.unstable.ref)
    cold = Command("backport suggest (cold)", argv, env=backport_env(), prepare=drop_dir(backport_cache_dir(args.repo)))
    warm = Command("backport suggest (warm)", argv, env=backport_env())
    for command in (raw, cold):
        failure = probe(command)
        if failure:
            raise SystemExit(failure)
    print(f"\ntiming on {environment()}; {len(versions)} lines read")
    samples = alternate([raw, cold, warm], rounds=args.rounds)
    print_samples(samples)
    base = median(samples[raw.name])
    print_threshold("cold suggest", median(samples[cold.name]), 20.0)
    print_threshold("warm suggest", median(samples[warm.name]), 2.0)
    print_ratio("cold suggest / raw git log", median(samples[cold.name]), base, 0, informational=True)
    print_ratio("warm suggest / raw git log", median(samples[warm.name]), base, 0, informational=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.protocol == "timing":
        timing(args)
        return 0
    started = time.perf_counter()
    session = Session.open(args.repo)
    oldest = Version.parse(args.oldest)
    assert oldest is not None
    found = discover(session.git.branches(), session.config["line-patterns"])
    lines = [Line(v, b.ref, b.commit) for v, b in sorted(found.items()) if v >= oldest and b.commit]
    k = read_knowledge(session.git, session.unstable.commit, lines, Cache.disabled())
    print(f"read {len(k.commits)} unstable commits, {len(k.labels.backports)} backports on "
          f"{len(lines)} lines in {time.perf_counter() - started:.1f} s")
    kinds = ["plain", "sklearn"] if args.compare else ["plain"]
    drop = [d for d in args.ablate.split(",") if d]
    if drop:
        print(f"without features: {', '.join(drop)}")
    if args.protocol in ("cutoff", "both"):
        cutoff(k, args, kinds, drop)
    if args.protocol in ("replay", "both"):
        replay(k, args, kinds, drop)
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
