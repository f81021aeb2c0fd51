"""Open a rendered report in a real headless Chromium (Debian's, driven by Playwright's Python package).

`open_report(html, screenshot)` loads the file from file://, records console errors, page errors and every
network request, waits for Plotly to draw, and reports what it saw. Also a command:

    .venv/bin/python tests/browser.py REPORT.html SCREENSHOT.png   # full-page screenshot, prints the findings
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING = f"{CHROMIUM} is missing: run scripts/install_browser.sh (installs Debian's chromium) and retry."

# Per Plotly chart div: did it draw its SVG?
_CHARTS_JS = """() => Array.from(document.querySelectorAll('.plotly-graph-div')).map(
    d => d.classList.contains('js-plotly-plot') && d.querySelector('.main-svg') !== null)"""


@dataclass
class BrowserReport:
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)  # alert()/confirm() a payload would open
    charts_drawn: list[bool] = field(default_factory=list)
    svg_charts: int = 0
    xss_flag: object = None
    script_alert_elements: int = 0
    img_onerror_elements: int = 0
    payload_text_visible: bool = False
    title: str = ""

    @property
    def foreign_requests(self) -> list[str]:
        """Requests other than the report file itself and inline data: URLs."""
        return [u for u in self.requests if not u.startswith(("file://", "data:", "blob:"))]


@contextmanager
def chromium_context(width: int = 1280, height: int = 900) -> Iterator:
    """A fresh headless Debian chromium (Playwright), launched with the flags this machine needs."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="tp-chromium-") as profile, sync_playwright() as pw:
        yield pw.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
            offline=False,
        )


def open_report(
    html: Path, screenshot: Path | None = None, width: int = 1280, timeout_ms: int = 30_000
) -> BrowserReport:
    if not CHROMIUM.exists():
        raise FileNotFoundError(MISSING)

    found = BrowserReport()
    with chromium_context(width) as context:
        try:
            page = context.new_page()
            page.on("console", lambda m: found.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: found.page_errors.append(str(e)))
            page.on("request", lambda r: found.requests.append(r.url))
            page.on("dialog", lambda d: (found.dialogs.append(d.message), d.dismiss()))
            page.goto(html.resolve().as_uri(), wait_until="load", timeout=timeout_ms)
            page.wait_for_function(f"() => ({_CHARTS_JS})().every(Boolean)", timeout=timeout_ms)
            page.wait_for_timeout(500)  # let late handlers (an injected onerror) fire
            found.charts_drawn = page.evaluate(_CHARTS_JS)
            found.svg_charts = page.evaluate("() => document.querySelectorAll('.js-plotly-plot .main-svg').length")
            found.xss_flag = page.evaluate("() => window.__xss === undefined ? null : window.__xss")
            found.script_alert_elements = page.evaluate(
                "() => Array.from(document.scripts).filter(s => s.textContent.includes('alert(')).length"
            )
            found.img_onerror_elements = page.evaluate(
                "() => Array.from(document.querySelectorAll('img')).filter(i => i.hasAttribute('onerror')).length"
            )
            found.payload_text_visible = page.evaluate("() => document.body.innerText.includes('<script>')")
            found.title = page.title()
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            context.close()
    return found


if __name__ == "__main__":
    report = open_report(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    print(report)
    print("foreign requests:", report.foreign_requests)
