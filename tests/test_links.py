"""Commit ids linked to the project's web viewer: the `web-url` setting, and
the presets derived from the origin remote's URL."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from builder import RepoBuilder, xen_like

from backport.report.links import preset


@pytest.mark.parametrize(
    "remote, template",
    [
        ("git@github.com:xen-project/xen.git", "https://github.com/xen-project/xen/commit/{commit}"),
        ("https://github.com/xen-project/xen", "https://github.com/xen-project/xen/commit/{commit}"),
        ("ssh://git@github.com/xen-project/xen.git/", "https://github.com/xen-project/xen/commit/{commit}"),
        ("https://gitlab.com/qemu-project/qemu.git", "https://gitlab.com/qemu-project/qemu/-/commit/{commit}"),
        ("git@gitlab.freedesktop.org:mesa/mesa.git", "https://gitlab.freedesktop.org/mesa/mesa/-/commit/{commit}"),
        ("ssh://git@gitlab.example.org:2222/group/sub/project", "https://gitlab.example.org/group/sub/project/-/commit/{commit}"),
        ("git://xenbits.xen.org/xen.git", "https://xenbits.xen.org/gitweb/?p=xen.git;a=commit;h={commit}"),
        ("https://xenbits.xen.org/git-http/xen.git", "https://xenbits.xen.org/gitweb/?p=xen.git;a=commit;h={commit}"),
        ("/srv/git/xen.git", None),
        ("git@example.org:xen.git", None),  # an unknown host: no guess
        ("https://github.com/evil/x\"onmouseover=alert(1)", None),
    ],
)
def test_presets(remote: str, template: str | None) -> None:
    assert preset(remote) == template


@pytest.fixture
def repo(tmp_path: Path) -> RepoBuilder:
    builder, _ = xen_like(tmp_path / "repo")
    builder.commit("x86: fix a leak\n\nBackport-to: 4.19+\n", {"xen/common/a.c": "a\n" * 9 + "fixed\n"})
    return builder


def links(text: str) -> list[str]:
    return re.findall(r"\]\((https?://[^)]+)\)", text)


def test_markdown_links_through_the_origin_remote(run: Callable[..., Any], repo: RepoBuilder) -> None:
    assert links(run("report", "--format", "markdown", repo=repo.path).out) == []  # no remote, no setting: no links
    repo.git("remote", "add", "origin", "git@github.com:xen-project/xen.git")
    text = run("report", "--format", "markdown", repo=repo.path).out
    head = repo.git("rev-parse", "staging")
    assert f"https://github.com/xen-project/xen/commit/{head}" in links(text)
    verdicts = run("check", "--format", "markdown", repo=repo.path).out
    assert f"https://github.com/xen-project/xen/commit/{head}" in links(verdicts)


def test_the_setting_wins_and_reaches_the_html(run: Callable[..., Any], repo: RepoBuilder) -> None:
    repo.git("remote", "add", "origin", "git@github.com:xen-project/xen.git")
    repo.git("config", "backport.webUrl", "https://git.example.org/cgit/xen.git/commit/?id={commit}")
    page = run("report", "--format", "html", repo=repo.path).out
    head = repo.git("rev-parse", "staging")
    assert f'href="https://git.example.org/cgit/xen.git/commit/?id={head}"' in page
    assert "github.com" not in page


@pytest.mark.parametrize("bad", ["javascript:alert(1)//{commit}", "https://example.org/commit/", "https://e.x/{commit}\" x=\""])
def test_a_web_url_that_is_no_commit_page_is_refused(run: Callable[..., Any], repo: RepoBuilder, bad: str) -> None:
    repo.git("config", "backport.webUrl", bad)
    result = run("report", "--format", "html", repo=repo.path)
    assert result.code == 2 and result.out == ""
    assert "git config backport.webUrl: expected an http(s) URL with {commit}" in result.err
