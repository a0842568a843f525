"""`backport pick`: do the backports the verdicts say are ready, in the line's style.

    backport pick --line V [COMMIT...] [--dry-run] [--onto-current] [--format-patch DIR]
    backport pick --continue | --skip | --abort | --status

Exit codes: 0 done (or nothing to do), 1 stopped at a conflict, 2 usage,
3 git or repository trouble.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import click

from backport import completion
from backport.commands import Globals, pass_globals
from backport.errors import UsageError
from backport.escape import printable
from backport.git import Git, check_revision, open_repository
from backport.lines import LineSpec
from backport.models import Line
from backport.output import SCHEMA, dumps, emit
from backport.pick import plan as planning
from backport.pick import run as runs
from backport.pick import state as st
from backport.pick import style as styles
from backport.pick.plan import Plan, PlanItem
from backport.pick.state import EMPTY, PICKED, SKIPPED, Done, State
from backport.record import record
from backport.session import Session

if TYPE_CHECKING:
    from backport.verdict.detect import LineIndex

ACTIONS = ("continue", "skip", "abort", "status")


@click.command("pick")
@click.argument("commits", nargs=-1, metavar="[COMMIT]...", shell_complete=completion.refs)
@click.option(
    "--line",
    "line_option",
    metavar="VERSION[=REF]",
    shell_complete=completion.versions,
    help="The stable line to pick onto.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--onto-current", is_flag=True, help="Pick in this checkout (it must be the line's branch, clean).")
@click.option(
    "--format-patch",
    "patch_dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Also write the picked series as patches with a cover letter to DIR.",
)
@click.option("--continue", "action", flag_value="continue", help="Go on after a conflict is resolved (or a stop).")
@click.option("--skip", "action", flag_value="skip", help="Leave the commit git stopped on out; pick the rest.")
@click.option("--abort", "action", flag_value="abort", help="Undo the run: branch and worktree as they were.")
@click.option("--status", "action", flag_value="status", help="Where the run under way is.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format of --dry-run and --status.",
)
@pass_globals
def cli_command(
    g: Globals,
    commits: tuple[str, ...],
    line_option: str | None,
    dry_run: bool,
    onto_current: bool,
    patch_dir: str | None,
    action: str | None,
    fmt: str,
) -> int:
    """Pick the pending commits that apply cleanly (or the COMMITs named) onto a line.

    The picks happen in a private worktree on branch backport/<version>, in the
    line's reference style; your checkout is never touched.
    """
    specs = (*g.lines, *([line_option] if line_option else []))
    if action is not None:
        if commits or dry_run or onto_current or patch_dir:
            raise UsageError(f"--{action} takes no commits or other options", f"run backport pick --{action} alone")
        return _act(g, action, specs, fmt)
    return start(g, specs, commits, dry_run=dry_run, onto_current=onto_current, patch_dir=patch_dir, fmt=fmt)


def _version(specs: Sequence[str]) -> LineSpec:
    parsed = {LineSpec.parse(s).version: LineSpec.parse(s) for s in specs}
    if len(parsed) != 1:
        raise UsageError("backport pick works on one line at a time", "give it as --line VERSION (e.g. --line 4.20)")
    return next(iter(parsed.values()))


# -- a new run ---------------------------------------------------------------------


@record
class Prepared:
    """A new run, decided: where it goes, what it picks, how it names the originals."""

    session: Session
    place: runs.Where
    plan: Plan
    style: styles.Style
    push: str


def prepare(g: Globals, specs: Sequence[str], commits: Sequence[str], *, onto_current: bool) -> Prepared:
    """The plan of a new run from the verdicts `check` computes, nothing written."""
    spec = _version(specs)
    given = [s for s in specs if LineSpec.parse(s).version == spec.version][-1:]
    session = Session.open(g.repo, unstable=g.unstable, line_specs=given, preset=g.preset)
    version = str(spec.version)
    if os.path.exists(st.path(session.repo.common_dir, version)):
        raise st.in_progress(version)
    line = session.heads[0]
    config = session.config
    branch_name = config["pick.branch"].replace("{version}", version)
    refname = _line_refname(session, line)
    line_branch = refname if refname.startswith("refs/heads/") else None
    place = runs.where(session.repo, session.git, version, line.commit, line_branch, branch_name, onto_current)
    judged = session
    if place.start != line.commit:  # an earlier run's branch, continued: judge what it holds
        judged = Session(session.repo, session.git, config, session.unstable, [LineSpec(spec.version, place.start)])
    from backport.verdict.result import check_session, resolve_commits

    found = resolve_commits(session, commits)
    resolved = [found[c] for c in commits]
    result = check_session(judged, datetime.now(timezone.utc))
    plan = Plan(line, planning.build(result, spec.version, resolved).items)
    style = styles.choose(config["pick.reference"], config.source("pick.reference"), _line_index(session, line))
    return Prepared(session, place, plan, style, _push_command(session, line, refname, place))


def start(
    g: Globals,
    specs: Sequence[str],
    commits: Sequence[str],
    *,
    dry_run: bool,
    onto_current: bool,
    patch_dir: str | None,
    fmt: str,
) -> int:
    ready = prepare(g, specs, commits, onto_current=onto_current)
    session, plan, place, style = ready.session, ready.plan, ready.place, ready.style
    if dry_run:
        emit(_plan_json(plan, place, style, ready.push) if fmt == "json" else _plan_text(plan, place, style), None)
        return 0
    version = str(plan.line.version)
    if not plan.items:
        click.echo(f"Nothing to pick on {version}: no pending commit applies cleanly to {printable(plan.line.ref)}.")
        return 0
    patches = _patch_directory(patch_dir) if patch_dir else None
    click.echo(_plan_text(plan, place, style))
    signoff = _identity(session.git) if session.config["pick.signoff"] else None
    outcome = _guarded(
        lambda: runs.Runner.start(
            session.repo,
            session.git,
            plan,
            place,
            reference=style.reference,
            signoff=signoff,
            push=ready.push,
            format_patch=patches,
            progress=_progress,
        ),
        session.repo.common_dir,
        version,
    )
    return _report(outcome)


def _patch_directory(given: str) -> str:
    """--format-patch's directory, made now (it was asked for) and known to
    be writable before anything is picked: the series is written last."""
    path = os.path.abspath(given)
    try:
        os.makedirs(path, exist_ok=True)
        writable = os.access(path, os.W_OK | os.X_OK)
    except OSError as err:
        raise UsageError(f"--format-patch {given}: {err.strerror or err}", "give a directory you can write") from None
    if not writable:
        raise UsageError(f"--format-patch {given}: not writable", "give a directory you can write")
    return path


def _line_refname(session: Session, line: Line) -> str:
    """The line's full ref name (refs/heads/..., refs/remotes/...), or "" when it is no branch."""
    for refname, version in session.line_branches.items():
        if version == line.version:
            return refname
    full = session.git.run(["rev-parse", "--symbolic-full-name", check_revision(line.ref)], check=False)
    name = full.stdout.decode("utf-8", "surrogateescape").strip() if full.returncode == 0 else ""
    return name if name.startswith(("refs/heads/", "refs/remotes/")) else ""


def _line_index(session: Session, line: Line) -> LineIndex:
    """What the line's own commits carry (cached by check's detector)."""
    from backport.verdict.detect import Detector

    detector = Detector(session.git, session.unstable.ref, [line], base=None, cache=session.cache)
    return detector.indexes()[line.version]


def _identity(git: Git) -> str:
    """The picker, as git would record them as committer."""
    ident = git.out(["var", "GIT_COMMITTER_IDENT"])
    return ident.rsplit(" ", 2)[0]


def _push_command(session: Session, line: Line, refname: str, place: runs.Where) -> str:
    """`git push <remote> <branch>:<line's branch>`, from pick.remote and
    pick.target, else from the line's own ref."""
    config = session.config
    remote, target = "origin", line.ref
    if refname.startswith("refs/remotes/"):
        remote, _, target = refname[len("refs/remotes/") :].partition("/")
    elif refname.startswith("refs/heads/"):
        target = refname[len("refs/heads/") :]
        upstream = dict(session.git.config_regexp(rf"^branch\.{re.escape(target)}\.(remote|merge)$"))
        remote = upstream.get(f"branch.{target}.remote", "origin")
        target = upstream.get(f"branch.{target}.merge", target).removeprefix("refs/heads/")
    remote = config["pick.remote"] or remote
    target = (config["pick.target"] or target).replace("{version}", str(line.version))
    branch = place.branch.removeprefix("refs/heads/")
    return f"git push {shlex.quote(remote)} {shlex.quote(f'{branch}:{target}')}"


def _guarded(step: Callable[[], runs.Outcome], common_dir: str, version: str) -> runs.Outcome:
    """Run a step; when something cuts it short, say how to go on: the state is saved."""
    try:
        return step()
    except UsageError:
        raise  # said what to do already
    except BaseException:
        if os.path.exists(st.path(common_dir, version)):
            click.echo(
                f"backport: the pick run for {version} stopped; see backport pick --status, go on with"
                " backport pick --continue, or undo it with backport pick --abort",
                err=True,
            )
        raise


# -- continue, skip, abort, status -------------------------------------------------


def _act(g: Globals, action: str, specs: Sequence[str], fmt: str) -> int:
    repo = open_repository(g.repo)
    git = Git(repo.path)
    if specs:
        version = str(_version(specs).version)
    else:
        under_way = st.in_progress_versions(repo.common_dir)
        if not under_way:
            if action == "status":
                emit(dumps({"schema": SCHEMA, "runs": []}) if fmt == "json" else "No backport pick in progress.", None)
                return 0
            raise UsageError("no backport pick in progress", "start one with backport pick --line VERSION")
        if len(under_way) > 1:
            raise UsageError(
                f"backport pick runs are under way for {', '.join(under_way)}", "say which with --line VERSION"
            )
        version = under_way[0]
    runner = runs.Runner.resume(repo, git, version, progress=_progress)
    if action == "status":
        emit(_status_json(runner) if fmt == "json" else _status_text(runner), None)
        return 0
    if action == "abort":
        runner.abort()
        s = runner.state
        where = "" if s.onto_current else "; its worktree is removed"
        what = "deleted" if s.branch_created else f"back at {str(s.branch_before)[:12]}"
        click.echo(f"Aborted the pick run for {version}: {s.short_branch} {what}{where}.")
        return 0
    step = runner.resume_picks if action == "continue" else runner.skip
    return _report(_guarded(step, repo.common_dir, version))


# -- output ------------------------------------------------------------------------


def _progress(what: str, item: PlanItem, done: Done | None) -> None:
    subject = printable(item.subject)
    if what == PICKED and done is not None:
        click.echo(f"  picked   {item.commit[:12]} -> {str(done.picked_as)[:12]}  {subject}")
    elif what == EMPTY:
        click.echo(f"  empty    {item.commit[:12]}  {subject}  (changes nothing on the line: left out)")
    elif what == SKIPPED:
        click.echo(f"  skipped  {item.commit[:12]}  {subject}")
    elif what == "conflict":
        click.echo(f"  conflict {item.commit[:12]}  {subject}")


def _report(outcome: runs.Outcome) -> int:
    s = outcome.state
    if outcome.stopped is not None:
        stopped = outcome.stopped
        paths = ", ".join(printable(p) for p in stopped.conflicts) or "(see git status)"
        rest = stopped.left
        click.echo(
            "\n".join(
                [
                    "",
                    f"Stopped at {stopped.item.commit[:12]} ({printable(stopped.item.subject)}): conflict in {paths}.",
                    f"{stopped.done} of {len(s.items)} done before it, {rest} more after it."
                    " Resolve it in the run's worktree:",
                    f"  cd {shlex.quote(s.worktree)}",
                    "  (edit the files, then) git add <paths>",
                    "  backport pick --continue     # commits it, picks the rest, writes the line's messages",
                    "  backport pick --skip         # leaves it out, picks the rest",
                    "  backport pick --abort        # everything back as it was before the run",
                ]
            )
        )
        return 1
    counts = {kind: sum(1 for d in s.done if d.outcome == kind) for kind in (PICKED, EMPTY, SKIPPED)}
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n) or "nothing"
    out = ["", f"Done: {summary} on {s.short_branch}."]
    if outcome.branch_removed:
        out.append(f"Nothing was picked: {s.short_branch} is removed again.")
    elif counts[PICKED]:
        out.append(f"Push with: {s.push}")
        out.append(f"Check with: backport --line {s.version}={shlex.quote(s.short_branch)} check")
    if outcome.patches:
        out.append(f"Patches: {len(outcome.patches)} files in {s.format_patch} (cover letter first).")
    if _cwd_gone():
        out.append("Your shell is in the run's worktree, which is removed now: cd back to your checkout.")
    click.echo("\n".join(out))
    return 0


def _cwd_gone() -> bool:
    try:
        os.getcwd()
        return False
    except FileNotFoundError:
        return True


def _plan_text(plan: Plan, place: runs.Where, style: styles.Style) -> str:
    line = plan.line
    branch = place.branch.removeprefix("refs/heads/")
    if place.onto_current:
        onto = f"onto {branch} in this checkout"
    elif place.exists:
        onto = f"onto {branch} (continued, at {place.start[:12]})"
    else:
        onto = f"onto a new {branch} from {printable(line.ref)} {line.commit[:12]}"
    count = len(plan.items)
    out = [
        f"{line.version}: {count} commit{'' if count == 1 else 's'} to pick {onto}",
        f"reference style: {style.reference} ({style.source})",
    ]
    for n, item in enumerate(plan.items, 1):
        notes = []
        if item.needed_by:
            notes.append("prerequisite of " + ", ".join(c[:12] for c in item.needed_by))
        if item.after:
            notes.append("after " + ", ".join(c[:12] for c in item.after))
        if item.merge:
            notes.append("merge: -m 1")
        if item.applies == "conflict":
            notes.append("conflicts: the run will stop here for you to resolve it")
        note = f"  ({'; '.join(notes)})" if notes else ""
        out.append(f"  {n:>3}  {item.commit[:12]}  {printable(item.subject)}{note}")
    return "\n".join(out)


def _item_json(item: PlanItem) -> dict[str, Any]:
    return {
        "commit": item.commit,
        "subject": item.subject,
        "author": item.author,
        "applies": item.applies,
        "after": list(item.after),
        "named": item.named,
        "needed_by": list(item.needed_by),
        "merge": item.merge,
    }


def _plan_json(plan: Plan, place: runs.Where, style: styles.Style, push: str) -> str:
    document = {
        "schema": SCHEMA,
        "version": str(plan.line.version),
        "line": {"ref": plan.line.ref, "commit": plan.line.commit},
        "branch": place.branch.removeprefix("refs/heads/"),
        "branch_exists": place.exists,
        "start": place.start,
        "onto_current": place.onto_current,
        "reference": style.reference,
        "reference_source": style.source,
        "push": push,
        "picks": [_item_json(item) for item in plan.items],
    }
    return dumps(document)


def _status_text(runner: runs.Runner) -> str:
    s: State = runner.state
    rows = runner.status()
    done = sum(1 for what, _, _ in rows if what not in ("conflict", "to do"))
    where = "this checkout" if s.onto_current else s.worktree
    out = [
        f"backport pick for {s.version}: {done} of {len(s.items)} done, on {s.short_branch}"
        f" (from {printable(s.line_ref)} {s.line_commit[:12]}), in {where}",
        f"reference style: {s.reference}",
    ]
    for what, item, picked_as in rows:
        picked = f" -> {picked_as[:12]}" if picked_as else ""
        out.append(f"  {what:<9} {item.commit[:12]}{picked}  {printable(item.subject)}")
    if s.phase == "conflict":
        out.append(f"Resolve the conflict in {where}, git add, then: backport pick --continue (or --skip, --abort)")
    else:
        out.append("Go on with: backport pick --continue (or --abort)")
    return "\n".join(out)


def _status_json(runner: runs.Runner) -> str:
    s = runner.state
    return dumps(
        {
            "schema": SCHEMA,
            "runs": [
                {
                    "version": s.version,
                    "line": {"ref": s.line_ref, "commit": s.line_commit},
                    "branch": s.short_branch,
                    "worktree": s.worktree,
                    "onto_current": s.onto_current,
                    "reference": s.reference,
                    "phase": s.phase,
                    "picks": [
                        {**_item_json(item), "status": what, "picked_as": picked_as}
                        for what, item, picked_as in runner.status()
                    ],
                }
            ],
        }
    )
