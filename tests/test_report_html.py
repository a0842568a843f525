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
    report = root / "report.html"
    from backport.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--repo", str(demo), "report", "--format", "html", "--now", xen_demo.NOW, "--output", str(report)])
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
    age = f"{READY_420} thead th:nth-child(5)"
    before = numeric(column(page, READY_420, 4))
    assert before != sorted(before)  # unstable order is oldest first: ages descend
    page.click(age)
    assert numeric(column(page, READY_420, 4)) == sorted(before)
    assert page.js(f"document.querySelector({json.dumps(age)}).getAttribute('aria-sort')") == "ascending"
    page.click(age)
    assert numeric(column(page, READY_420, 4)) == sorted(before, reverse=True)
    subject = f"{READY_420} thead th:nth-child(3)"
    page.click(subject)
    subjects = column(page, READY_420, 2)
    assert subjects == sorted(subjects, key=str.lower)
    assert page.errors() == []


def test_the_filter_box_hides_other_rows(page: Browser) -> None:
    total = page.js("document.querySelectorAll('table.sortable tbody tr').length")
    page.type("#filter", "vlapic")
    visible = page.js(
        "Array.from(document.querySelectorAll('table.sortable tbody tr')).filter(r => !r.hidden).map(r => r.textContent)"
    )
    assert visible and all("vlapic" in row.lower() for row in visible)
    assert page.js("document.getElementById('filter-count').textContent") == f"{len(visible)} of {total} rows"
    page.js("const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input'))")
    assert page.js("document.querySelectorAll('table.sortable tbody tr[hidden]').length") == 0


def test_screenshot(page: Browser, tmp_path: Path) -> None:
    """Keep a picture of the page for a person to look at (BACKPORT_SCREENSHOT=path)."""
    page.js("window.scrollTo(0, 0)")
    shot = page.send("Page.captureScreenshot", {"format": "png"})["data"]
    assert len(shot) > 10_000
    target = os.environ.get("BACKPORT_SCREENSHOT")
    if target:
        import base64

        Path(target).write_bytes(base64.b64decode(shot))
