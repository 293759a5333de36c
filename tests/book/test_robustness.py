"""Where the claims hold: no check fails inside its declared scope in the sweeps that built the
book, and the robustness pages work in a browser: their tables, and the slider of the
explorable figure switching frames offline, with no request leaving 127.0.0.1.

The browser tests need Chromium; they skip without it, except under CI (``CI`` true), where
they fail. The slider is also tested on a page rendered here from a made-up sweep, so that it
is tested before any chapter declares a grid.
"""

import contextlib
import dataclasses
import functools
import http.server
import io
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from companion.pipeline.execute import content_digest
from companion.pipeline.paths import Paths
from companion.pipeline.pdf import find_chromium
from companion.pipeline.registry import CHAPTERS, Chapter
from companion.pipeline.robustness import robustness_page
from companion.pipeline.sweep import Swept, in_scope_failures, load_sweep
from conftest import ROOT, require

SWEPT = [name for name, chapter in CHAPTERS.items() if "quick" in chapter.grids]
SITE = ROOT / "_build" / "html"
# sphinx-thebe's config script is added to every page twice (not ours; thebe is off)
TOLERATED_PAGE_ERRORS = {"Identifier 'THEBE_JS_URL' has already been declared"}


@pytest.mark.parametrize("chapter", SWEPT)
def test_no_check_fails_inside_its_declared_scope(chapter):
    """A failure outside a claim's scope is where the law stops; inside, it is a defect."""
    paths = Paths(ROOT)
    swept = load_sweep(chapter, paths)
    if swept is None or swept.record["mode"] != "quick":
        pytest.fail(f"no quick sweep of '{chapter}' in {paths.sweeps(chapter)}: run `make "
                    f"book` (or `python -m companion sweep {chapter}`) before the tests")
    if swept.record["library"] != content_digest(paths).hexdigest():
        pytest.fail(f"the sweep of '{chapter}' was made with another library or lock file: "
                    f"run `python -m companion sweep {chapter}` again")
    assert not swept.record["this_run"]["failed"], "\n".join(swept.record["this_run"]["failed"])
    failures = in_scope_failures(swept.rows)
    assert not failures, (f"{chapter}: {len(failures)} checks fail inside their declared "
                          "scope:\n" + "\n".join(failures[:30]))


# -- in the browser ----------------------------------------------------------------------------
def browser_or_skip():
    chromium = find_chromium()
    require(chromium is not None, "Chromium not found (apt-get install chromium)")
    return chromium


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # a line per request would bury the test output
        pass


@contextlib.contextmanager
def served(folder: Path):
    """``folder`` over HTTP on 127.0.0.1; yields its base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(QuietHandler, directory=folder))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    chromium = browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu",
                                            "--disable-background-networking"])
        yield launched
        launched.close()


def open_offline(browser, url: str):
    """The page at ``url``, every request to another host refused and recorded; returns the
    page, the refused requests and the script errors (both lists fill as the page runs)."""
    page, refused, errors = browser.new_page(), [], []

    def only_local(route):
        if urlparse(route.request.url).hostname in ("127.0.0.1", None):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(url, wait_until="networkidle")
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    return page, refused, errors


def check_slider(page) -> None:
    """Every position of every slider shows its one frame and names its value."""
    for explorer in page.locator(".companion-explorer").all():
        slider, images = explorer.locator("input[type=range]"), explorer.locator("img")
        assert images.count() >= 2
        for index in range(images.count()):
            slider.fill(str(index))
            visible = [i for i in range(images.count()) if images.nth(i).is_visible()]
            assert visible == [index], f"slider at {index} shows frames {visible}"
            assert (explorer.locator("output").text_content()
                    == images.nth(index).get_attribute("data-value"))
            assert images.nth(index).evaluate("image => image.naturalWidth") > 0


@dataclasses.dataclass(frozen=True)
class MadeUp:
    alpha: float = 0.1


MADE_UP = Chapter("made_up", "Made up", "", "", 1.0, MadeUp(), MadeUp(), {"quick": "a grid"})


def made_up_sweep(folder: Path) -> Swept:
    """A sweep of a chapter with one claim over ``alpha`` (in scope where alpha <= 0.1) and
    three frames, as load_sweep returns it."""
    from PIL import Image

    (folder / "frames").mkdir(parents=True)
    frames = []
    for index, (value, colour) in enumerate([("0.01", "red"), ("0.1", "green"),
                                             ("1.0", "blue")]):
        png = io.BytesIO()
        Image.new("RGB", (70, 36), colour).save(png, format="PNG")
        (folder / "frames" / f"frame-{index:02d}.png").write_bytes(png.getvalue())
        frames.append({"value": value, "file": f"frames/frame-{index:02d}.png"})
    rows = [{"alpha": alpha, "seed": seed, "id": "A1", "name": "small_alpha", "kind": "claim",
             "value": float(alpha), "op": "<=", "bound": 0.1, "passed": float(alpha) <= 0.1,
             "in_scope": float(alpha) <= 0.1, "known_failure": False}
            for alpha in ("0.01", "0.1", "1.0") for seed in (0, 1)]
    record = {"mode": "quick", "command": "python -m companion sweep made_up --mode quick",
              "commit": "0" * 40, "tasks": 9, "checks_cpu_s": 1.0, "frames": frames,
              "grid": {"axes": {"alpha": [0.01, 0.1, 1.0]}, "n_seeds": 2, "base": {},
                       "explore": "alpha"},
              "checks": {"A1": {"name": "small_alpha", "quantity": "alpha", "kind": "claim",
                                "over": "seeds", "scope": "alpha <= 0.1", "why": "made up",
                                "known_failure": ""}}}
    return Swept(record, rows, folder)


@pytest.mark.slow  # Chromium
def test_the_slider_switches_frames_offline(browser, tmp_path):
    """The page MyST makes of a robustness page: the scope outlined, the slider working."""
    from docutils.core import publish_string
    from myst_parser.docutils_ import Parser

    markdown = robustness_page(MADE_UP, made_up_sweep(tmp_path / "sweep"))
    page_html = publish_string(markdown, parser=Parser(), writer_name="html5",
                               settings_overrides={
                                   "myst_enable_extensions": ["colon_fence", "html_image"],
                                   "output_encoding": "unicode", "line_length_limit": 10**8,
                                   "report_level": 5, "halt_level": 5})
    (tmp_path / "page.html").write_text(page_html)
    with served(tmp_path) as url:
        page, refused, errors = open_offline(browser, f"{url}/page.html")
        outlined = page.locator("td.in-scope").evaluate_all(
            "cells => cells.map(c => getComputedStyle(c).outlineStyle)")
        assert outlined == ["solid", "solid"], "the cells inside the scope are not outlined"
        assert page.locator("td.holds-none:not(.in-scope)").count() == 1
        assert page.locator(".companion-explorer img:visible").get_attribute(
            "data-value") == "0.1", "the first frame shown is not the chapter's own alpha"
        check_slider(page)
        page.close()
    assert not refused and not errors


@pytest.mark.slow  # Chromium
@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_the_robustness_pages_of_the_built_site(browser, chapter):
    page_path = SITE / "book" / "generated" / "robustness" / f"{chapter}.html"
    require(page_path.exists(), f"{page_path} was not built: run `make book`")
    with served(SITE) as url:
        page, refused, errors = open_offline(browser, f"{url}/{page_path.relative_to(SITE)}")
        assert "where the claims hold" in page.locator("h1").first.text_content()
        if chapter in SWEPT:
            assert page.locator("table.companion-robustness td").count() > 0
            check_slider(page)
        page.close()
    assert not refused, f"requests left 127.0.0.1: {refused}"
    assert not set(errors) - TOLERATED_PAGE_ERRORS, errors
