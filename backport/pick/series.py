"""`--format-patch DIR`: the run's picks as a mail series with a cover letter."""

from __future__ import annotations

import os

from backport.git import Git
from backport.pick.state import PICKED, State


def write_series(git: Git, s: State) -> tuple[str, ...]:
    """`git format-patch` of the run's picks, with a cover letter that lists
    each original and its line commit; subject prefix `[PATCH <version>]`."""
    os.makedirs(s.format_patch or ".", exist_ok=True)
    last = next(d.picked_as for d in reversed(s.done) if d.picked_as)
    out = git.out(
        [
            "format-patch",
            "--cover-letter",
            f"--subject-prefix=PATCH {s.version}",
            "-o",
            str(s.format_patch),
            f"{s.start}..{last}",
            "--",
        ]
    )
    files = tuple(line for line in out.splitlines() if line)
    cover = next((f for f in files if os.path.basename(f).startswith("0000-")), None)
    if cover is not None:
        picked = [d for d in s.done if d.outcome == PICKED]
        items = {i.commit: i for i in s.items}
        rows = [f"  {d.commit[:12]} -> {str(d.picked_as)[:12]}  {items[d.commit].subject}" for d in picked]
        listing = "\n".join(rows)
        with open(cover, encoding="utf-8", errors="surrogateescape") as handle:
            text = handle.read()
        title = f"{len(picked)} backport{'s' if len(picked) != 1 else ''} for {s.version}"
        text = text.replace("*** SUBJECT HERE ***", title, 1)
        blurb = (
            f"Backports to {s.version} ({s.line_ref}), in unstable order:"
            f" the original commit, then the commit on {s.short_branch}.\n\n{listing}\n"
        )
        text = text.replace("*** BLURB HERE ***", blurb, 1)
        with open(cover, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
    return files
