"""The whole book as one PDF, printed offline by the Chromium the browser test uses.

Jupyter Book builds every page into one HTML page (the ``singlehtml`` builder); Chromium opens
it from a server on 127.0.0.1, waits until MathJax has typeset every equation and every figure
has loaded, unfolds every dropdown (the configuration and exploratory tables), and prints it.
No LaTeX, nothing downloaded. Without Chromium the build says so and skips the PDF; under CI the
tests require it. Printing takes about 50 s on 2 cores, so a print is kept with the digest of the
page it was printed from, and a build whose page is byte for byte the same reuses it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import os
import shutil
import threading
from pathlib import Path

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]
PAGE_TIMEOUT_MS = 120_000
FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#666">'
          'Training Dynamics, Reproduced · <span class="pageNumber"></span> / '
          '<span class="totalPages"></span></div>')
READY = """async () => {
  document.querySelectorAll("details").forEach((details) => { details.open = true; });
  const images = [...document.images];
  images.forEach((image) => { image.loading = "eager"; });
  await Promise.all(images.filter((image) => !image.complete).map(
      (image) => new Promise((done) => { image.onload = image.onerror = done; })));
  if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
}"""


def find_chromium() -> str | None:
    """The Chromium to use: $CHROMIUM, else Debian's ``chromium``, else ``google-chrome``."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which(
        "google-chrome")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        """No line per request."""


@contextlib.contextmanager
def serve(folder: Path):
    """An HTTP server on 127.0.0.1 for ``folder``; yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def page_digest(page: Path, chromium: str) -> str:
    """SHA-256 of every file of the folder that serves ``page``, and of the Chromium printing
    it: what the PDF depends on."""
    digest = hashlib.sha256(chromium.encode())
    for path in sorted(p for p in page.parent.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(page.parent)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def print_pdf(page: Path, target: Path, kept: Path) -> bool:
    """Print ``page`` (the whole book on one page, with its assets beside it) to ``target``,
    or copy the print kept in ``kept`` when the page has not changed since; False, with a
    message, without Chromium."""
    chromium = find_chromium()
    if chromium is None:
        print("[companion] no Chromium (apt-get install chromium): the book's PDF was not built")
        return False
    digest = page_digest(page, chromium)
    kept_pdf, kept_digest = kept / target.name, kept / f"{target.name}.sha256"
    if kept_pdf.exists() and kept_digest.exists() and kept_digest.read_text() == digest:
        print("[companion] the book's PDF: its page is unchanged, the last print is kept")
    else:
        kept.mkdir(parents=True, exist_ok=True)
        kept_digest.unlink(missing_ok=True)
        render_pdf(chromium, page, kept_pdf)
        kept_digest.write_text(digest)
        print(f"[companion] printed the book to {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(kept_pdf, target)
    return True


def render_pdf(chromium: str, page: Path, target: Path) -> None:
    """Chromium's print of ``page`` into ``target``, once MathJax and every figure are ready."""
    from playwright.sync_api import sync_playwright

    with serve(page.parent) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        try:
            tab = browser.new_page()
            tab.goto(f"{base}/{page.name}", wait_until="networkidle", timeout=PAGE_TIMEOUT_MS)
            tab.evaluate(READY)
            tab.pdf(path=str(target), format="A4", print_background=True,
                    margin={"top": "15mm", "bottom": "15mm", "left": "14mm", "right": "14mm"},
                    display_header_footer=True, header_template="<span></span>",
                    footer_template=FOOTER)
        finally:
            browser.close()
