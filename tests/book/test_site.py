"""The built site in a real browser: every page opens, every image loads, math is typeset, and
no request leaves 127.0.0.1 (MathJax is bundled, not fetched from a CDN).

Needs Chromium (Debian's `chromium`; .ci/run installs it). It skips only outside CI; under CI
(CI=true) a missing browser or site is a failure.
"""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import ROOT

SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "build" / "screenshots"
# sphinx-thebe 0.3.1 under jupyter-book 1.0.4 adds its one-line config script to every page
# twice; the second `const THEBE_JS_URL` throws. Harmless here (thebe is off; launch buttons
# go to Binder and Colab), and not ours to fix, so it is the one page error tolerated.
KNOWN_UPSTREAM_ERRORS = {"Identifier 'THEBE_JS_URL' has already been declared"}
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]


def find_chromium() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which(
        "google-chrome")


def require(condition: bool, reason: str) -> None:
    """Skip without ``condition``; fail instead under CI (``CI`` true, 1 or yes, as CI services
    set it; ``CI=false`` or unset is a developer's machine)."""
    if not condition:
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(reason + " (under CI the browser test must run)")
        pytest.skip(reason)


def site_pages() -> list[str]:
    """Every HTML page of the book: the intro, the chapters and the trust pages."""
    pages = ["index.html", "book/intro.html", "book/rerun.html", "book/references.html",
             "book/generated/status.html", "book/generated/report.html"]
    pages += [f"book/chapters/{p.stem}.html" for p in sorted((ROOT / "notebooks").glob("*.py"))]
    return pages


@pytest.fixture(scope="module")
def server():
    require(SITE.joinpath("index.html").exists(), f"no site in {SITE}: run `make book`")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    require(executable is not None, "Chromium not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        yield browser
        browser.close()


@pytest.mark.parametrize("page_path", site_pages())
def test_page_loads_offline_with_images_and_math(server, browser, page_path):
    assert (SITE / page_path).exists(), f"{page_path} was not built"
    outside = []
    page = browser.new_page()

    def guard(route):
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", None) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(f"{server}/{page_path}", wait_until="networkidle")
    assert response is not None and response.ok, f"{page_path}: HTTP {response and response.status}"

    broken = page.eval_on_selector_all(
        "img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert not broken, f"{page_path}: images that did not load: {broken}"
    if page.locator(".math").count() > 0:
        page.wait_for_selector("mjx-container", state="attached", timeout=15_000)
        raw = page.locator(".math:not(:has(mjx-container))").count()
        assert raw == 0, f"{page_path}: {raw} math elements left as raw TeX"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / (page_path.replace("/", "_") + ".png")),
                    full_page=False)
    page.close()
    assert not outside, f"{page_path}: requests left 127.0.0.1: {outside}"
    errors = [e for e in errors if e not in KNOWN_UPSTREAM_ERRORS]
    assert not errors, f"{page_path}: JavaScript errors: {errors}"


def test_chapter_pages_show_their_figures(server, browser):
    for path in site_pages():
        if "/chapters/" not in path:
            continue
        page = browser.new_page()
        page.goto(f"{server}/{path}")
        n_images = page.locator("img").count()
        page.close()
        assert n_images >= 1, f"{path} shows no figure"
