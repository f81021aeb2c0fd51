"""Serve DATA_ROOT/reports/ read-only on loopback, so the report's link in the Dagster UI opens in a browser.

`trustpulse ui` starts `serve_reports` beside the Dagster webserver (default port: the UI's port + 1) and
exports its address as TRUSTPULSE_REPORTS_URL; the report assets read it (`report_url`) to put a link on
their materialisations. Only GET and HEAD are answered, only for files under reports/. A data root in an object
store is not served: the report's link is its object URL (`s3://...`).
"""

from __future__ import annotations

import functools
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

from trustpulse.storage import StorePath, is_remote

REPORTS_URL_ENV = "TRUSTPULSE_REPORTS_URL"
DEFAULT_UI_PORT = 3000
REPORTS_PORT_OFFSET = 1  # reports are served on the UI's port + 1 unless told otherwise
LOOPBACK = "127.0.0.1"


def default_reports_url(ui_port: int = DEFAULT_UI_PORT, host: str = LOOPBACK) -> str:
    return f"http://{host}:{ui_port + REPORTS_PORT_OFFSET}/"


def report_url(reports_dir: StorePath, path: StorePath) -> str:
    """The browser address of a file under `reports_dir`: on the report server `trustpulse ui` runs
    (TRUSTPULSE_REPORTS_URL, default http://127.0.0.1:3001/); for an object in a store, its URL."""
    if is_remote(path):
        return str(path)
    base = os.environ.get(REPORTS_URL_ENV) or default_reports_url()
    relative = Path(path).resolve().relative_to(Path(reports_dir).resolve())
    return base.rstrip("/") + "/" + quote(relative.as_posix())


class ReadOnlyHandler(SimpleHTTPRequestHandler):
    """Static files only: no directory listing, no writes, no logging to stderr."""

    def list_directory(self, path: str | os.PathLike[str]) -> None:  # type: ignore[override]
        self.send_error(404, "no directory listing")
        return None

    def do_POST(self) -> None:
        self.send_error(405, "read-only")

    do_PUT = do_DELETE = do_PATCH = do_POST

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


class ReportServer:
    """A background HTTP server for one reports directory; `close()` stops it."""

    def __init__(self, reports_dir: Path, host: str = LOOPBACK, port: int = 0) -> None:
        reports_dir.mkdir(parents=True, exist_ok=True)
        handler = functools.partial(ReadOnlyHandler, directory=str(reports_dir))
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="trustpulse-reports", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_reports(reports_dir: Path, host: str = LOOPBACK, port: int = 0) -> ReportServer:
    return ReportServer(reports_dir, host, port)
