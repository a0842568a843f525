"""Writing results: to stdout or a file, and the JSON shapes SPEC fixes (schema 1)."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from backport.errors import UsageError
from backport.escape import utf8_text
from backport.models import (
    Candidate,
    CheckResult,
    Line,
    Nomination,
    Problem,
    Target,
    UntaggedFix,
    Verdict,
)

SCHEMA = 1
_encoder = json.JSONEncoder(ensure_ascii=False)
_SURROGATE = re.compile("[\ud800-\udfff]")


def emit(text: str, output: str | None, *, pager: Callable[[], str | None] | None = None) -> None:
    """Print, or write a file atomically (a reader never sees half a report).

    `pager` says which pager to print through (backport.pager), asked only
    when stdout is a terminal; None, or a None answer, prints directly."""
    text = utf8_text(text)
    if not text.endswith("\n"):
        text += "\n"
    if output is None or output == "-":
        if pager is not None and is_terminal():
            from backport.pager import page

            command = pager()
            if command and page(command, text):
                return
        click.echo(text, nl=False)
        return
    directory = os.path.dirname(os.path.abspath(output))
    if not output or not os.path.isdir(directory):
        raise UsageError(f"cannot write {output!r}: no such directory", "create it or choose another --output")
    try:
        write_atomically(output, text.encode("utf-8"))
    except OSError as err:
        raise UsageError(f"cannot write {output}: {err.strerror}", "choose another --output") from None



def write_atomically(path: str, data: bytes) -> None:
    """Write through a temporary file in the same directory and rename it, so
    a reader (or a mailer) never sees half a file."""
    import tempfile  # here: only --output needs it, and it costs every run 9 ms

    fd, tmp = tempfile.mkstemp(prefix=".backport-", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        # mkstemp makes the file private (0600); a report gets the mode any
        # new file would get, or keeps the one it replaces
        os.chmod(tmp, _mode_of(path))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _mode_of(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def dumps(document: Any) -> str:
    """JSON with one top-level key, and one element of a top-level list, per line.

    Readable, diff-friendly per candidate, and fast: json.dumps with indent=
    runs the pure-Python encoder (0.4 s for a large check document); without
    it every piece goes through the C encoder.
    """
    encode = _encoder.encode
    if not isinstance(document, dict) or not document:
        text = encode(document) + "\n"
    else:
        fields = []
        for key, value in document.items():
            if isinstance(value, list) and value:
                items = ",\n    ".join(map(encode, value))
                fields.append(f"  {encode(key)}: [\n    {items}\n  ]")
            else:
                fields.append(f"  {encode(key)}: {encode(value)}")
        text = "{\n" + ",\n".join(fields) + "\n}\n"
    # A lone surrogate (bytes that were not UTF-8 in a ref name or path)
    # cannot be written as UTF-8: give it as a JSON \\u escape, which every
    # JSON reader accepts, rather than let emit() mangle it. Outside strings
    # the encoder writes none, so the whole text can be searched at once.
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def nomination_json(nomination: Nomination) -> dict[str, Any]:
    return {"source": nomination.source, "text": nomination.text}


def candidate_json(candidate: Candidate) -> dict[str, Any]:
    return {
        "commit": candidate.commit,
        "subject": candidate.subject,
        "author": candidate.author,
        "date": candidate.date,  # the author date, as schema 1 always gave it
        "author_date": candidate.date,
        "commit_date": candidate.committed,  # when it landed on unstable: what ages count from
        "nominations": [nomination_json(n) for n in candidate.nominations],
    }


def problem_json(problem: Problem) -> dict[str, Any]:
    return {"commit": problem.commit, "text": problem.text, "error": problem.error}


def problems_text(problems: Sequence[Problem]) -> list[str]:
    """The "Problems:" block of text output (scan, check), empty when there are none."""
    if not problems:
        return []
    return ["", "Problems:", *(f"  {p.commit[:12]}  {p.text!r}: {p.error}" for p in problems)]


def is_terminal() -> bool:
    return sys.stdout.isatty()


# -- `check` and `report --format json`: SPEC schema 1 ------------------------


def line_json(line: Line) -> dict[str, Any]:
    last = line.last_release
    return {
        "version": str(line.version),
        "ref": line.ref,
        "commit": line.commit,
        "last_release": last.tag if last else None,
    }


def target_json(target: Target) -> dict[str, Any]:
    """SPEC's target object, plus `reason` (why skipped or reverted, or the
    nomination's comment): the reports need it and the field list lacked it."""
    return {
        "version": str(target.version),
        "state": target.state,
        "applies": target.applies,
        "conflicts": list(target.conflicts),
        "after": list(target.after),
        "applied_as": target.applied_as,
        "evidence": target.evidence,
        "age_days": target.age_days,
        "stale": target.stale,
        "stale_reason": target.stale_reason,
        "owners": list(target.owners),
        # the nomination's comment, why it was skipped, reverted or is
        # unknown, and a warning against the request (SPEC: shown in `reason`)
        "reason": "; ".join(p for p in (target.warning and f"warning: {target.warning}", target.reason) if p) or None,
    }


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    document = candidate_json(verdict.candidate)
    document["nominations"] = [nomination_json(n) for n in verdict.nominations]
    document["targets"] = [target_json(t) for t in verdict.targets]
    return document


def untagged_fix_json(fix: UntaggedFix) -> dict[str, Any]:
    """SPEC's untagged fix, with what a coordinator needs to act on it: who,
    how old, and how it would pick on each line (as a pending target)."""
    ages = [t.age_days for t in fix.targets if t.age_days is not None]
    return {
        "commit": fix.candidate.commit,
        "subject": fix.candidate.subject,
        "fixes": fix.fixes,
        "lines": [str(v) for v in fix.lines],
        "author": fix.candidate.author,
        "date": fix.candidate.date,  # the author date, as a candidate's
        "author_date": fix.candidate.date,
        "commit_date": fix.candidate.committed,
        "owners": list(dict.fromkeys(o for t in fix.targets for o in t.owners)),
        "age_days": max(ages) if ages else None,
        "targets": [
            {
                "version": str(t.version),
                "state": t.state,
                "applies": t.applies,
                "conflicts": list(t.conflicts),
                "after": list(t.after),
                "stale": t.stale,
                "stale_reason": t.stale_reason,
                "reason": t.reason,
            }
            for t in fix.targets
        ],
    }


def check_json(result: CheckResult) -> dict[str, Any]:
    """The whole verdict document, as `check --format json` and `report --format json` print it."""
    return {
        "schema": SCHEMA,
        "unstable": {"ref": result.unstable_ref, "commit": result.unstable_commit},
        "lines": [line_json(line) for line in result.lines],
        "candidates": [verdict_json(v) for v in result.verdicts],
        "untagged_fixes": [untagged_fix_json(f) for f in result.untagged_fixes],
        "problems": [problem_json(p) for p in result.problems],
    }
