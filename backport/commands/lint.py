"""`backport lint REVISION_RANGE`: CI's check of a series."""

from __future__ import annotations

from typing import Any

import click

from backport import completion
from backport.commands import Globals, format_options, pass_globals
from backport.maintainer.lint import LintResult, lint
from backport.models import plural
from backport.output import SCHEMA, dumps, emit


@click.command("lint")
@click.argument("revisions", nargs=-1, required=True, metavar="REVISION_RANGE...", shell_complete=completion.refs)
@format_options(("text", "json"))
@click.option("--strict", is_flag=True, help="Fail on hints (fix-like messages) too.")
@pass_globals
def cli_command(g: Globals, revisions: tuple[str, ...], fmt: str, output: str | None, strict: bool) -> int:
    """Check every commit in a range: exit 1 on untagged fixes or bad nominations."""
    result = lint(g.session(), revisions)
    emit(dumps(to_json(result)) if fmt == "json" else to_text(result), output)
    return 1 if result.failed(strict) else 0


def to_json(result: LintResult) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "range": list(result.revisions),
        "commits": result.commits,
        "findings": [
            {
                "commit": item.commit,
                "subject": item.subject,
                "kind": finding.kind,
                "severity": finding.severity,
                "text": finding.text,
                "message": finding.message,
            }
            for item in result.flagged
            for finding in item.findings
        ],
    }


def to_text(result: LintResult) -> str:
    out = []
    for item in result.flagged:
        out.append(f"{item.commit[:12]}  {item.subject}")
        out.extend(f"    {finding.severity}: {finding.message}" for finding in item.findings)
    count = sum(len(item.findings) for item in result.flagged)
    summary = f"{plural(result.commits, 'commit')} checked"
    if count:
        commits = len(result.flagged)
        summary += f", {count} finding{'' if count == 1 else 's'} in {commits} commit{'' if commits == 1 else 's'}"
    else:
        summary += ", no findings"
    out.append(("\n" if out else "") + summary)
    return "\n".join(out)
