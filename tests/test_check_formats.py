"""`check --format markdown|html`: every verdict one row, escaped, self-contained."""

from __future__ import annotations

import json
from pathlib import Path

from builder import xen_like

NOW = "2025-06-01T12:00:00+00:00"
HOSTILE = 'x86: <script>alert("x")</script> | *bold* fix'


def repo_with_verdicts(tmp: Path):
    repo, ids = xen_like(tmp)
    repo.commit(f"{HOSTILE}\n\nBackport-to: 4.19+\n", {"xen/common/a.c": "a\n" * 9 + "fixed\n"})
    return repo


def test_markdown_has_one_row_per_target_and_escapes(tmp_path: Path, run) -> None:
    repo_with_verdicts(tmp_path)
    document = json.loads(run("check", "--format", "json", "--now", NOW, repo=tmp_path).out)
    targets = [t for c in document["candidates"] for t in c["targets"]]
    result = run("check", "--format", "markdown", "--now", NOW, repo=tmp_path)
    assert result.code == 0, result
    rows = [line for line in result.out.splitlines() if line.startswith("| `")]
    assert len(rows) == len(targets) == 2
    assert "\\<script\\>" in result.out and "\\| \\*bold\\*" in result.out
    assert "<script>" not in result.out


def test_html_is_escaped_and_self_contained(tmp_path: Path, run) -> None:
    repo_with_verdicts(tmp_path)
    out = tmp_path / "check.html"
    result = run("check", "--format", "html", "--now", NOW, "-o", str(out), repo=tmp_path)
    assert result.code == 0, result
    page = out.read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "Content-Security-Policy" in page and "src=" not in page and "href=\"http" not in page
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr") == 2
    assert ">pending<" in body
