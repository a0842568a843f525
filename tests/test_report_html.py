"""The HTML report in a real browser: headless Chromium driven over the
DevTools protocol on a pipe (--remote-debugging-pipe; standard library only,
no port, no downloads). Skipped, with the reason, when Chromium is missing.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backport.fixtures import xen_demo

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 30.0


def find_browser() -> str | None:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """A headless Chromium and one page, spoken to over fds 3 and 4."""

    def __init__(self, executable: str, profile: str) -> None:
        to_child_r, self._to_child = _high(os.pipe())
        self._from_child, from_child_w = _high(os.pipe())

        def wire() -> None:  # in the child: the protocol's fixed fds
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire,
            close_fds=False,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def send(self, method: str, params: dict[str, Any] | None = None, *, browser: bool = False) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self.session and not browser:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        for index, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(index)
        while True:
            event = self._read()
            if event.get("method") == method:
                return event
            self.events.append(event)

    def resize(self, width: int) -> None:
        """The window `width` CSS pixels wide. Not as a phone: a phone widens
        its layout to fit a page that is too wide, and the overflow would
        not show; a narrow desktop window keeps its width and scrolls."""
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        assert self.js("window.innerWidth") == width

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, browser=True)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, browser=True)["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Log.enable")
        self.send("Emulation.setDeviceMetricsOverride", {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        reply = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in reply:
            raise AssertionError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click (press and release) in the middle of the element."""
        box = self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.scrollIntoView({{block: 'center'}});"
            " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1})

    def type(self, selector: str, text: str) -> None:
        self.js(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", {"text": text})

    def errors(self) -> list[str]:
        """Script exceptions and console errors (a CSP violation is one)."""
        self.js("0")  # flush pending events
        found = []
        for event in self.events:
            if event.get("method") == "Runtime.exceptionThrown":
                found.append(json.dumps(event["params"]["exceptionDetails"])[:300])
            if event.get("method") == "Log.entryAdded" and event["params"]["entry"]["level"] == "error":
                found.append(event["params"]["entry"]["text"])
        return found

    def close(self) -> None:
        try:
            self.send("Browser.close", browser=True)
        except (AssertionError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_child], [], [], max(left, 0))
            if not ready:
                raise AssertionError("Chromium did not answer in time")
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise AssertionError(f"Chromium went away (exit {self.proc.poll()})")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        reply: dict[str, Any] = json.loads(message)
        return reply


def _high(fds: tuple[int, int]) -> tuple[int, int]:
    """Move a pipe above fd 4 so wiring 3 and 4 in the child cannot clobber it."""
    moved = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in fds)
    for fd in fds:
        os.close(fd)
    return moved[0], moved[1]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    executable = find_browser()
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); the HTML report was not tried in a browser")
    root = tmp_path_factory.mktemp("html")
    demo = root / "xen"
    xen_demo.build(str(demo))
    subprocess.run(["git", "-C", str(demo), "config", "backport.webUrl", WEB_URL], check=True)
    report = root / "report.html"
    from backport.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--repo", str(demo), "report", "--format", "html", "--output", str(report)])
    assert done.value.code == 0
    browser = Browser(executable, tempfile.mkdtemp(prefix="chromium-", dir=root))
    try:
        browser.open(report.as_uri())
        yield browser
    finally:
        browser.close()


def column(page: Browser, table: str, index: int) -> list[str]:
    return page.js(
        f"Array.from(document.querySelectorAll({json.dumps(table + ' tbody tr')}))"
        f".map(r => r.cells[{index}].getAttribute('data-sort') ?? r.cells[{index}].textContent.trim())"
    )


READY_420 = "#line-4\\.20 table.ready"
WEB_URL = "https://xenbits.xen.org/gitweb/?p=xen.git;a=commit;h={commit}"


def test_tables_are_there_and_the_script_ran(page: Browser) -> None:
    assert page.js("document.title").startswith("Backport report: staging")
    sections = page.js("Array.from(document.querySelectorAll('section.block')).map(s => s.id)")
    assert sections[:3] == ["line-4.18", "line-4.19", "line-4.20"] and "owners" in sections and "untagged" in sections
    assert page.js("document.querySelectorAll('table.sortable').length") >= 10
    assert page.js(f"document.querySelectorAll({json.dumps(READY_420 + ' tbody tr')}).length") == 10
    # the copy buttons are hidden until the script shows them: it ran, under the page's CSP
    assert page.js("Array.from(document.querySelectorAll('button.copy')).every(b => !b.hidden)")
    assert page.errors() == []


def numeric(values: list[str]) -> list[float]:
    return [float(v) for v in values]


def test_clicking_a_header_sorts_the_rows(page: Browser) -> None:
    age = f"{READY_420} thead th:nth-child(4)"
    before = numeric(column(page, READY_420, 3))
    assert before != sorted(before)  # unstable order is oldest first: ages descend
    page.click(age)
    assert numeric(column(page, READY_420, 3)) == sorted(before)
    assert page.js(f"document.querySelector({json.dumps(age)}).getAttribute('aria-sort')") == "ascending"
    page.click(age)
    assert numeric(column(page, READY_420, 3)) == sorted(before, reverse=True)
    page.click(age)  # a third click: unstable order again, the order to pick in
    assert numeric(column(page, READY_420, 3)) == before
    assert page.js(f"document.querySelector({json.dumps(age)}).hasAttribute('aria-sort')") is False
    subject = f"{READY_420} thead th:nth-child(2)"
    page.click(subject)
    subjects = column(page, READY_420, 1)
    assert subjects == sorted(subjects, key=str.lower)
    page.click(subject)
    page.click(subject)
    assert page.errors() == []


def set_filter(page: Browser, text: str) -> None:
    page.js(f"(() => {{ const f = document.getElementById('filter'); f.value = {json.dumps(text)}; f.dispatchEvent(new Event('input')); }})()")


def test_the_filter_box_hides_other_rows(page: Browser) -> None:
    total = page.js("document.querySelectorAll('table.sortable tbody tr').length")
    page.type("#filter", "vlapic")
    try:
        visible = page.js(
            "Array.from(document.querySelectorAll('table.sortable tbody tr')).filter(r => !r.hidden).map(r => r.textContent)"
        )
        assert visible and all("vlapic" in row.lower() for row in visible)
        assert page.js("document.getElementById('filter-count').textContent") == f"{len(visible)} of {total} rows"
    finally:
        set_filter(page, "")
    assert page.js("document.querySelectorAll('table.sortable tbody tr[hidden], [data-part][hidden], section[hidden]').length") == 0


def shown(page: Browser, selector: str) -> list[str]:
    """The ids of the elements matching `selector` that take room on the page (not hidden, nor inside hidden)."""
    return page.js(
        f"Array.from(document.querySelectorAll({json.dumps(selector)})).filter(e => e.offsetParent !== null).map(e => e.id)"
    )


def test_the_filter_hides_empty_sections_and_narrows_the_pick(page: Browser) -> None:
    full = page.js("document.getElementById('line-4.20-ready-cmd').textContent")
    assert full == "backport pick --line 4.20"  # every clean one
    set_filter(page, "x86/traps")
    try:
        # 4.18 and 4.19 have no x86/traps rows: gone, headings, counts and commands with them
        assert shown(page, "section.block") == ["line-4.20", "owners"]
        assert shown(page, "[data-part]") == ["line-4.20-ready", "team-1"]
        heading = page.js("document.getElementById('line-4.20-ready').querySelector('h3').textContent")
        assert heading == "Ready to pick (2 of 10, in unstable order)"
        # the command picks the two rows left, in unstable order (the second needs the first)
        traps = page.js(
            "Array.from(document.getElementById('line-4.20-ready').querySelectorAll('tbody tr')).filter(r => !r.hidden).map(r => r.dataset.commit)"
        )
        narrowed = page.js("document.getElementById('line-4.20-ready-cmd').textContent")
        assert narrowed == "backport pick --line 4.20 " + " ".join(traps)
        # sorted the other way, the rows turn round; the command keeps unstable order
        page.click(f"{READY_420} thead th:nth-child(4)")
        page.click(f"{READY_420} thead th:nth-child(4)")
        assert page.js("document.getElementById('line-4.20-ready-cmd').textContent") == narrowed
        # the team the rows belong to is found by its people's names too
        set_filter(page, "Roger Pau x86/traps")
        assert shown(page, "[data-part]") == ["line-4.20-ready", "team-1"]
        set_filter(page, "no such thing anywhere")
        assert shown(page, "section.block") == []
        assert page.js("document.getElementById('filter-count').textContent").startswith("0 of ")
    finally:
        set_filter(page, "")
    assert page.js("document.getElementById('line-4.20-ready-cmd').textContent") == full
    assert page.errors() == []


@pytest.mark.parametrize("width", [360, 800, 1400, 1600])
def test_no_horizontal_page_scroll(page: Browser, width: int) -> None:
    page.resize(width)
    try:
        page.js("window.scrollTo(0, 0)")
        overflow = page.js("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than a {width}px window"
        # everything wider than the window scrolls inside its own box instead
        sticking_out = page.js(
            "Array.from(document.querySelectorAll('body *')).filter(e => e.offsetParent !== null && !e.closest('.scroll')"
            " && e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).map(e => e.tagName + '.' + e.className)"
        )
        assert sticking_out == []
        # and the sort and the filter work at this width
        page.click(f"{READY_420} thead th:nth-child(4)")
        ages = numeric(column(page, READY_420, 3))
        assert ages in (sorted(ages), sorted(ages, reverse=True))
        set_filter(page, "vlapic")
        assert shown(page, "[data-part]")[:2] == ["line-4.19-ready", "line-4.20-ready"]
    finally:
        set_filter(page, "")
        page.resize(1400)
    assert page.errors() == []


def test_tables_scroll_inside_their_box_on_a_phone(page: Browser) -> None:
    page.resize(360)
    try:
        boxes = page.js(
            "Array.from(document.querySelectorAll('.scroll')).filter(b => b.offsetParent !== null)"
            ".map(b => [b.scrollWidth, b.clientWidth])"
        )
        assert any(inner > outer for inner, outer in boxes)  # wide tables scroll...
        assert all(outer <= 360 for _, outer in boxes)  # ...inside boxes the window holds
    finally:
        page.resize(1400)


def test_commit_ids_link_to_the_web_viewer(page: Browser) -> None:
    links = page.js(f"Array.from(document.querySelectorAll({json.dumps(READY_420 + ' a.commit')})).map(a => [a.href, a.textContent])")
    assert len(links) == 10
    for href, text in links:
        assert href.startswith("https://xenbits.xen.org/gitweb/?p=xen.git;a=commit;h=" + text) and len(href.rsplit("=", 1)[1]) == 40
    assert page.js("document.querySelector('header a.commit').href").endswith(
        page.js("document.querySelector('header a.commit code').title")
    )


def test_screenshot(page: Browser, tmp_path: Path) -> None:
    """Keep a picture of the page for a person to look at (BACKPORT_SCREENSHOT=path)."""
    page.js("window.scrollTo(0, 0)")
    shot = page.send("Page.captureScreenshot", {"format": "png"})["data"]
    assert len(shot) > 10_000
    target = os.environ.get("BACKPORT_SCREENSHOT")
    if target:
        import base64

        Path(target).write_bytes(base64.b64decode(shot))
