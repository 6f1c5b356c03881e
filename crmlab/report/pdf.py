"""PDF beside the HTML: the report printed by a locally installed headless chromium.

Printing goes through chromium's DevTools protocol over a pipe
(``--remote-debugging-pipe``: commands on file descriptor 3, replies on 4, no network
port, no extra package), so the page gets a footer with the client's name (or the
report title) and "page N of M" - ``--print-to-pdf`` alone prints either chromium's
default header (date, file URL) or nothing, and CSS ``@page`` margin boxes are not
supported by Chromium. Page breaks follow the report's print style sheet (no table row,
figure or summary item split across pages). Offline: nothing is downloaded.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from crmlab.report.errors import ReportError

CHROMIUM_HINT = (
    "PDF needs a headless chromium on the PATH (Debian/Ubuntu: `apt-get install chromium`); "
    "the HTML report has been written and can be printed from any browser."
)


def find_chromium() -> str | None:
    """Path of a chromium/chrome executable, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def chromium(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run headless chromium with offline-friendly flags and a throwaway profile."""
    exe = find_chromium()
    if exe is None:
        raise ReportError(CHROMIUM_HINT)
    with tempfile.TemporaryDirectory(prefix="crmlab-chromium-") as profile:
        return subprocess.run(
            [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


FOOTER = (
    '<div style="font: 8px system-ui, Arial, sans-serif; color: #52606d; width: 100%; '
    'margin: 0 14mm; display: flex; justify-content: space-between;">'
    "<span>{label}</span>"
    '<span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span>'
    "</div>"
)


class _DevTools:
    """A minimal client of chromium's DevTools protocol over ``--remote-debugging-pipe``."""

    def __init__(self, exe: str, profile: str) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def fds() -> None:  # in the child: commands on fd 3, replies on fd 4
            hi_r, hi_w = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        self.proc = subprocess.Popen(
            [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=fds,  # only dup2 in the child
            pass_fds=(3, 4),  # kept open after preexec_fn moved the pipes there
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next = 0

    def _read_message(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise ConnectionError("chromium closed the DevTools pipe")
                self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def call(
        self,
        method: str,
        params: dict | None = None,
        *,
        session: str | None = None,
        timeout: float = 60,
    ) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == ident:
                if "error" in reply:
                    raise ReportError(f"chromium: {method}: {reply['error'].get('message')}")
                return reply.get("result", {})

    def close(self) -> None:
        try:
            os.write(
                self._to_child, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0"
            )
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass


@contextlib.contextmanager
def open_page(url: str, *, width: int = 1280, height: int = 900, timeout: float = 120):
    """A loaded page in headless chromium: yields ``(browser, session)`` for DevTools calls.

    The viewport is ``width`` x ``height`` CSS pixels; the page has finished loading
    (embedded figures included) when the block starts.
    """
    exe = find_chromium()
    if exe is None:
        raise ReportError(CHROMIUM_HINT)
    with tempfile.TemporaryDirectory(prefix="crmlab-chromium-") as profile:
        browser = _DevTools(exe, profile)
        try:
            target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            browser.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                session=session,
            )
            browser.call("Page.navigate", {"url": url}, session=session, timeout=timeout)
            deadline = time.monotonic() + timeout
            while True:  # wait until the page (embedded figures included) is loaded
                state = browser.call(
                    "Runtime.evaluate",
                    {"expression": "document.readyState", "returnByValue": True},
                    session=session,
                )
                if state.get("result", {}).get("value") == "complete":
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError("the page did not finish loading")
                time.sleep(0.1)
            yield browser, session
        finally:
            browser.close()


def evaluate(html_path: str | Path, expression: str, *, width: int = 1280) -> Any:
    """The JSON value of a JavaScript ``expression`` on the page at ``width`` px.

    DevTools evaluation runs outside the page's Content-Security-Policy, so the
    report itself stays free of scripts (used by the tests to measure layouts).
    """
    with open_page(Path(html_path).resolve().as_uri(), width=width) as (browser, session):
        reply = browser.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session
        )
    if "exceptionDetails" in reply:
        raise ReportError(f"script failed: {reply['exceptionDetails'].get('text')}")
    return reply.get("result", {}).get("value")


def _print_devtools(url: str, footer: str, timeout: float) -> bytes:
    with open_page(url, timeout=timeout) as (browser, session):
        result = browser.call(
            "Page.printToPDF",
            {
                "printBackground": True,
                "preferCSSPageSize": True,
                "displayHeaderFooter": True,
                "headerTemplate": "<span></span>",
                "footerTemplate": FOOTER.format(label=html.escape(footer)),
                "marginTop": 0.6,
                "marginBottom": 0.7,
            },
            session=session,
            timeout=timeout,
        )
    return base64.b64decode(result["data"])


def print_pdf(html_path: str | Path, *, footer: str = "", timeout: float = 180) -> Path:
    """Print an HTML report to PDF with headless chromium (offline), footer on every page.

    Parameters
    ----------
    html_path : path
        The report page; the PDF is written beside it with the suffix ``.pdf``.
    footer : str
        Left of the footer (the client's name in the client edition, else the title);
        the right says "Page N of M".

    Falls back to ``--print-to-pdf`` (chromium's own header and footer: date, title,
    page numbers) if the DevTools pipe fails.
    """
    html_path = Path(html_path).resolve()
    pdf = html_path.with_suffix(".pdf")
    exe = find_chromium()
    if exe is None:
        raise ReportError(CHROMIUM_HINT)
    try:
        pdf.write_bytes(_print_devtools(html_path.as_uri(), footer, timeout))
    except (OSError, TimeoutError, ConnectionError, ReportError, KeyError, ValueError):
        result = chromium([f"--print-to-pdf={pdf}", html_path.as_uri()], timeout=timeout)
        if not pdf.exists() or pdf.stat().st_size == 0:
            raise ReportError(
                f"chromium could not print {html_path} to PDF: {result.stderr[-500:]}"
            ) from None
    return pdf
