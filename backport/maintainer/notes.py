"""Writing nominations and refusals after the fact, as notes on refs/notes/backport.

Notes are appended to, never replaced: the note may already carry other
people's decisions. Only a line asked to be fixed (`--fix`) is rewritten,
and everything else in the note stays as it was.
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


def replace_lines(git: Git, commit: str, wrong: set[str], lines: list[str]) -> None:
    """Take the lines of the note that are in `wrong` (compared stripped)
    out, and add `lines` where the first of them was."""
    kept: list[str] = []
    placed = False
    for line in read_note(git, commit).splitlines():
        if line.strip() not in wrong:
            kept.append(line)
        elif not placed:
            kept.extend(lines)
            placed = True
    if not placed:
        kept.extend(lines)
    text = "\n".join(kept).strip("\n") + "\n"
    git.run(["notes", f"--ref={NOTES_REF}", "add", "-f", "-F", "-", commit], input=text.encode("utf-8"))
