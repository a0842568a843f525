"""Writing nominations and refusals after the fact, as notes on refs/notes/backport.

Notes are appended to, never replaced: the note may already carry other
people's decisions.
"""

from __future__ import annotations

from backport.config import NOTES_REF
from backport.git import Git


def read_note(git: Git, commit: str) -> str:
    proc = git.run(["notes", f"--ref={NOTES_REF}", "show", commit], check=False)
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else ""


def append_lines(git: Git, commit: str, lines: list[str]) -> list[str]:
    """Append the lines the note does not already hold; return those added."""
    existing = {line.strip() for line in read_note(git, commit).splitlines()}
    new = [line for line in lines if line.strip() not in existing]
    if new:
        # `append` separates paragraphs with a blank line and never drops the old text
        git.run(["notes", f"--ref={NOTES_REF}", "append", "-m", "\n".join(new), commit])
    return new
