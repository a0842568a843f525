"""Writing results: to stdout or a file, and the JSON shapes SPEC fixes (schema 1)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any

import click

from backport.errors import UsageError
from backport.models import Candidate, Nomination, Problem

SCHEMA = 1


def emit(text: str, output: str | None) -> None:
    """Print, or write a file atomically (a reader never sees half a report)."""
    if not text.endswith("\n"):
        text += "\n"
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    directory = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(directory):
        raise UsageError(f"cannot write {output}: no such directory", "create it or choose another --output")
    fd, tmp = tempfile.mkstemp(prefix=".backport-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, output)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def dumps(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def nomination_json(nomination: Nomination) -> dict[str, Any]:
    return {"source": nomination.source, "text": nomination.text}


def candidate_json(candidate: Candidate) -> dict[str, Any]:
    return {
        "commit": candidate.commit,
        "subject": candidate.subject,
        "author": candidate.author,
        "date": candidate.date,
        "nominations": [nomination_json(n) for n in candidate.nominations],
    }


def problem_json(problem: Problem) -> dict[str, Any]:
    return {"commit": problem.commit, "text": problem.text, "error": problem.error}


def is_terminal() -> bool:
    return sys.stdout.isatty()
