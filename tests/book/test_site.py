"""The built site in a real browser, as a reader sees it on a desktop (1366x900) and a phone
(390x844).

Every page: opens offline (no request leaves 127.0.0.1, none fails), shows every image, has no
console error, typesets its math, shows no TeX outside math and no prose inside it, loads MathJax
only if it has math, has a favicon, stays within its weight, and never needs a sideways scroll
on a phone (tables become cards); on a desktop no code line is cut off. Then what a reader does:
opens the navigation drawer on a phone and follows a chapter, hides the sidebar on a desktop,
reads a chapter in dark mode, prints. Screenshots of every page at both sizes (and the chapters
in dark mode) are written to build/screenshots/: look at them.

Needs Chromium (Debian's `chromium`; .ci/run installs it). It skips only outside CI; under CI
(CI=true) a missing browser or site is a failure.
"""

import re
from urllib.parse import urljoin, urlparse

import pytest

from companion.pipeline import tables
from companion.pipeline.paths import Paths
from companion.pipeline.pdf import BROWSER_ARGS, find_chromium, serve
from conftest import ROOT, require

pytestmark = pytest.mark.slow  # every page in Chromium at two sizes

PATHS = Paths(ROOT)
SITE = PATHS.site
SCREENSHOTS = PATHS.screenshots
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
# What a page may weigh, all its requests together except the chapter's figures: the theme's
# scripts, styles and fonts and the page itself (about 1 MB, a chapter up to 1.3 MB), and MathJax
# with its fonts (about 1.3 MB) on a page with math.
WEIGHT_LIMIT_BYTES = {"math": 3_000_000, "no math": 1_200_000}
# A robustness page carries its slider's frames inside the page: figures too, so not weighed.
INLINE_FIGURE_BYTES = """() => Array.from(document.images, image => image.src)
    .filter(source => source.startsWith("data:image/"))
    .reduce((total, source) => total + source.length, 0)"""
TEX_OUTSIDE_MATH = re.compile(r"\\[a-zA-Z]{2,}|(?<![\\$])\$(?!\$)")
# Three words in a row (not TeX commands) in a typeset formula: prose swallowed by a $ that
# paired with the wrong partner.
PROSE_IN_MATH = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{2,}(?:[ ,.;:]+(?<![\\])[a-zA-Z]{2,}){2,}")
# Words a reader cannot follow: the book's internal notes, which readers do not have.
INTERNAL_WORDS = re.compile(r"\b(?:the spec\b|spec's|spec:)|pipeline_notes|\bshared/", re.I)
TEX_TEXT = re.compile(r"\\(?:text|mathrm|operatorname|textrm|mbox|rm|mathit|mathsf)\s*"
                      r"(\{[^{}]*\}|[a-zA-Z]+)")


def site_pages() -> list[str]:
    """Every HTML page of the book: the intro, the chapters, their robustness pages and the
    trust pages."""
    pages = ["book/intro.html", "book/rerun.html", "book/references.html",
             "book/generated/status.html", "book/generated/report.html"]
    chapters = [p.stem for p in sorted((ROOT / "notebooks").glob("*.py"))]
    pages += [f"book/chapters/{chapter}.html" for chapter in chapters]
    pages += [f"book/generated/robustness/{chapter}.html" for chapter in chapters]
    return pages


CHAPTER_PAGES = [page for page in site_pages() if "/chapters/" in page]


@pytest.fixture(scope="module")
def server():
    require(SITE.joinpath("index.html").exists(), f"no site in {SITE}: run `make book`")
    with serve(SITE) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    require(executable is not None, "Chromium not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        yield browser
        browser.close()


class Visit:
    """A page opened in a fresh tab: what it requested, what failed, what it logged."""

    def __init__(self, browser, server: str, page_path: str, size: str, dark: bool = False):
        self.path = page_path
        self.outside, self.failed, self.errors = [], [], []
        self.bytes = 0  # of every response but the figures
        self.context = browser.new_context(viewport=SIZES[size],
                                           color_scheme="dark" if dark else "light")
        self.page = page = self.context.new_page()
        page.route("**/*", self._guard)
        page.on("response", self._response)
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        response = page.goto(f"{server}/{page_path}", wait_until="networkidle")
        assert response is not None and response.ok, f"{page_path}: HTTP {response.status}"
        if page.locator(".math").count():
            page.wait_for_selector("mjx-container", state="attached", timeout=20_000)
            page.evaluate("() => MathJax.startup.promise")

    def _guard(self, route):
        if urlparse(route.request.url).hostname in ("127.0.0.1", None):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def _response(self, response):
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")
        if "/_images/" not in response.url:
            self.bytes += int(response.headers.get("content-length", 0))

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / name), full_page=True)

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, server):
    opened = []

    def open_page(page_path: str, size: str = "desktop", dark: bool = False) -> Visit:
        opened.append(Visit(browser, server, page_path, size, dark))
        return opened[-1]

    yield open_page
    for page in opened:
        page.close()


# -- every page, at both sizes ---------------------------------------------------------------
OUTSIDE_MATH_TEXT = """() => {
  const skip = "mjx-container, script, style, pre, code, .highlight, .MathJax, .math";
  const root = document.querySelector("article.bd-article");
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.parentElement.closest(skip) && node.textContent.trim()) {
      texts.push(node.textContent);
    }
  }
  return texts;
}"""
OVERFLOWING = """(selector) => [...document.querySelectorAll(selector)]
  .filter((e) => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
  .map((e) => e.textContent.trim().slice(0, 80))"""

# A display equation wider than the column must scroll, not be cut off at the column's edge.
CLIPPED_EQUATIONS = """() => [...document.querySelectorAll("mjx-container[display='true']")]
  .filter((e) => e.scrollWidth > e.clientWidth + 1
          && !["auto", "scroll"].includes(getComputedStyle(e).overflowX))
  .map((e) => e.textContent.trim().slice(0, 80))"""


def math_problems(visit: Visit) -> list[str]:
    """TeX or a lone $ outside math, and prose inside a typeset formula."""
    problems = [f"TeX outside math: {text.strip()[:120]!r}"
                for text in visit.page.evaluate(OUTSIDE_MATH_TEXT)
                if TEX_OUTSIDE_MATH.search(text)]
    if visit.page.locator(".math").count():
        for source in visit.page.evaluate(
                "() => Array.from(MathJax.startup.document.math, (item) => item.math)"):
            words = PROSE_IN_MATH.search(TEX_TEXT.sub(" ", source))
            if words:
                problems.append(f"prose inside math ({words.group(0)!r}): {source[:160]!r}")
    return problems


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("page_path", site_pages())
def test_page_reads_well(visit, page_path, size):
    assert (SITE / page_path).exists(), f"{page_path} was not built"
    page = visit(page_path, size)
    page.screenshot(f"{size}_{page_path.replace('/', '_')}.png")
    assert not page.outside, f"{page_path}: requests left 127.0.0.1: {page.outside}"
    assert not page.failed, f"{page_path}: failed requests: {page.failed}"
    assert not page.errors, f"{page_path}: console errors: {page.errors}"
    broken = page.page.eval_on_selector_all(
        "img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert not broken, f"{page_path}: images that did not load: {broken}"

    has_math = page.page.locator(".math").count() > 0
    loads_mathjax = page.page.locator("script[src*='mathjax']").count() > 0
    assert loads_mathjax == has_math, f"{page_path}: MathJax loaded: {loads_mathjax}, math: " \
                                      f"{has_math}"
    if has_math:
        raw = page.page.locator(".math:not(:has(mjx-container))").count()
        assert raw == 0, f"{page_path}: {raw} math elements left as raw TeX"
    problems = math_problems(page)
    assert not problems, f"{page_path}:\n" + "\n".join(problems)
    internal = INTERNAL_WORDS.findall(page.page.locator("article").inner_text())
    assert not internal, f"{page_path}: words from outside the book: {internal}"

    assert page.page.locator("link[rel='icon']").count() == 1, f"{page_path}: no favicon"
    searches = page.page.locator(".search-button-field:visible").count()
    assert searches <= 1, f"{page_path} ({size}): {searches} search bars shown"
    clipped = page.page.evaluate(CLIPPED_EQUATIONS)
    assert not clipped, f"{page_path} ({size}): display equations cut off: {clipped}"
    kind = "math" if has_math else "no math"
    weight = page.bytes - page.page.evaluate(INLINE_FIGURE_BYTES)
    assert weight <= WEIGHT_LIMIT_BYTES[kind], \
        f"{page_path}: {weight / 1e6:.2f} MB, over {WEIGHT_LIMIT_BYTES[kind] / 1e6:g} MB"

    tables = page.page.evaluate(OVERFLOWING, "table.companion-table")
    assert not tables, f"{page_path} ({size}): tables clipped at their edge: {tables}"
    if size == "phone":
        width = page.page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= SIZES["phone"]["width"], f"{page_path}: {width} px wide on a phone"
    else:
        code = page.page.evaluate(OVERFLOWING, "article pre")
        assert not code, f"{page_path}: code cut off at the column's edge: {code}"
        tables = page.page.evaluate(OVERFLOWING, "article .pst-scrollable-table-container")
        assert not tables, f"{page_path}: tables that scroll sideways on a desktop: {tables}"


def test_each_mathjax_request_is_a_deployed_file_and_nothing_else_is_deployed():
    """Only the TeX-to-CHTML bundle and what it loads are deployed (not the 24 MB package)."""
    folder = SITE / "_static" / "mathjax"
    require(folder.exists(), f"no site in {SITE}: run `make book`")
    assert sorted(p.name for p in folder.iterdir()) == ["a11y", "input", "output", "sre",
                                                          "tex-chtml.js", "ui"]
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 8_000_000, f"MathJax deploys {size / 1e6:.1f} MB"


# -- what a reader does ----------------------------------------------------------------------
def test_the_phone_menu_opens_the_drawer_and_a_chapter_link_follows(visit):
    page = visit("book/intro.html", "phone").page
    page.locator(".primary-toggle:visible").click()
    drawer = page.locator("#pst-primary-sidebar-modal")
    drawer.wait_for(state="visible")
    assert drawer.evaluate("d => d.open")
    page.screenshot(path=str(SCREENSHOTS / "phone_navigation_drawer.png"))
    link = drawer.get_by_role("link", name="Connectivity and implicit regularization", exact=True)
    link.click()
    page.wait_for_url("**/book/chapters/connectivity.html")
    assert "Connectivity" in page.locator("h1").first.inner_text()


def test_the_phone_contents_button_opens_the_page_outline(visit):
    page = visit("book/chapters/incremental_rank.html", "phone").page
    page.locator(".secondary-toggle:visible").click()
    outline = page.locator("#pst-secondary-sidebar-modal")
    outline.wait_for(state="visible")
    assert outline.get_by_role("link", name="The staircase").is_visible()


def test_the_desktop_sidebar_toggle_hides_and_shows_the_sidebar(visit):
    page = visit("book/intro.html", "desktop").page
    sidebar = page.locator("#pst-primary-sidebar")
    assert sidebar.is_visible()
    page.locator(".primary-toggle:visible").click()
    page.wait_for_function(
        "() => getComputedStyle(document.getElementById('pst-primary-sidebar')).visibility"
        " === 'hidden'")
    page.screenshot(path=str(SCREENSHOTS / "desktop_sidebar_hidden.png"))
    page.locator(".primary-toggle:visible").click()
    sidebar.wait_for(state="visible")


@pytest.mark.parametrize("page_path", CHAPTER_PAGES)
def test_dark_mode_puts_figures_on_a_light_card(visit, page_path):
    page = visit(page_path, "desktop", dark=True)
    assert page.page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    cards = page.page.eval_on_selector_all(
        ".cell_output img",
        "imgs => imgs.map(i => [getComputedStyle(i).backgroundColor, getComputedStyle(i).filter])")
    assert cards and {tuple(card) for card in cards} == {("rgb(255, 255, 255)", "none")}, cards
    page.screenshot(f"dark_{page_path.replace('/', '_')}.png")


@pytest.mark.parametrize("page_path", CHAPTER_PAGES)
def test_printing_wraps_code_instead_of_cutting_it(visit, page_path):
    page = visit(page_path, "desktop").page
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 700, "height": 900})  # about an A4 page's text width
    cut = page.evaluate(OVERFLOWING, "article pre")
    assert not cut, f"{page_path}: printed code cut off: {cut}"


# -- what a chapter page shows ---------------------------------------------------------------
@pytest.mark.parametrize("page_path", CHAPTER_PAGES)
def test_a_chapter_opens_with_its_verdict_and_hides_its_machinery(visit, page_path):
    page = visit(page_path, "desktop").page
    assert page.evaluate("() => document.querySelector('article h1').nextElementSibling"
                         ".classList.contains('admonition')"), "the verdict is not under the title"
    verdict = page.locator("article section > .admonition").first
    assert verdict.locator(".admonition-title").inner_text().startswith("Verdict: ")
    code = "\n".join(page.locator(".cell_input").all_inner_texts())
    for machinery in ("run = start(", "run.show_claims()", "run.finish()"):
        assert machinery not in code, f"{page_path} shows `{machinery}`"
    outputs = [text.strip() for text in page.locator(".cell_output").all_inner_texts()]
    stray = [text for text in outputs if text in ("True", "False", "None")]
    assert not stray, f"{page_path}: stray outputs {stray}"
    assert page.locator("img").count() >= 1, f"{page_path} shows no figure"
    assert page.locator("a[href*='colab'], a[href*='mybinder']").count() == 0, \
        "launch buttons open notebooks that no repository holds"
    rows = page.locator("table.claims").last.locator("tbody tr").all_inner_texts()
    ids = [re.match(r"\s*([A-Z]+)(\d+)", row).groups() for row in rows]
    assert ids == sorted(ids, key=lambda i: (i[0], int(i[1]))), "claims out of order"
    assert len(set(rows)) == len(rows), "a claim row repeats"


def test_each_chapter_states_when_and_how_fast_it_ran_as_the_report_does(visit):
    report = visit("book/generated/report.html").page.locator("article table").first
    wall = {}
    for row in report.locator("tbody tr").all():
        cells = row.locator("td").all_inner_texts()
        wall[cells[0]] = float(cells[4])
    for page_path in CHAPTER_PAGES:
        page = visit(page_path).page
        verdict = page.locator("article section > .admonition").first.inner_text()
        chapter = page_path.split("/")[-1].removesuffix(".html")
        assert re.search(r"executed \d{4}-\d\d-\d\d \d\d:\d\d UTC", verdict), verdict
        # the report shows tenths of a second, the verdict whole seconds of the same run
        seconds = re.search(r" in (\d+) s ", verdict)
        assert seconds and abs(int(seconds[1]) - wall[chapter]) <= 0.55, (verdict, wall[chapter])
        rerun = page.locator(".admonition", has_text="Rerun this chapter").inner_text()
        assert "Executed on" in rerun and "torch" in rerun, rerun


@pytest.mark.parametrize("size", list(SIZES))
def test_claims_tables_have_badges_and_read_as_cards_on_a_phone(visit, size):
    opened = visit("book/generated/status.html", size)
    page = opened.page
    page.locator("details").evaluate_all("all => all.forEach(d => d.open = true)")
    opened.screenshot(f"{size}_book_generated_status.html_unfolded.png")
    # Every claim may pass: a failing one is drawn in the same table, as the book would draw it.
    failing = tables.claim_result(passed=False, known_failure="")
    page.locator("table.claims td").first.evaluate(
        "(td, badge) => td.insertAdjacentHTML('beforeend', badge)", failing)
    colours = page.eval_on_selector_all(
        "table.claims .sd-badge",
        "badges => badges.map(b => [b.textContent, getComputedStyle(b).backgroundColor])")
    by_text = {text: colour for text, colour in colours}
    assert {"pass", "FAIL"} <= set(by_text) and by_text["pass"] != by_text["FAIL"], by_text
    cells = page.locator("table.claims td").all()[:8]
    for cell in cells:
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size]["width"]
    if size == "phone":
        assert page.locator("table.claims thead").first.is_hidden()
        label = page.locator("table.claims td").first.evaluate(
            "td => getComputedStyle(td, '::before').content")
        assert label == '"claim: "'


def test_the_status_page_opens_with_a_verdict_per_chapter(visit):
    page = visit("book/generated/status.html").page
    table = page.locator("article table").first
    header = table.locator("th").all_inner_texts()
    assert header[:4] == ["Chapter", "Verdict", "Checks passed", "Failing claims"]
    rows = table.locator("tbody tr")
    assert rows.count() == len(CHAPTER_PAGES)
    assert rows.locator(".sd-badge").count() == len(CHAPTER_PAGES)
    top = table.bounding_box()["y"]
    assert top < SIZES["desktop"]["height"], "the summary is below the first screen"


def test_the_intro_gives_each_chapter_its_verdict_and_links_every_paper(visit):
    page = visit("book/intro.html").page
    table = page.locator("article table").first
    assert table.locator("th").all_inner_texts()[:2] == ["Chapter", "Verdict"]
    for row in table.locator("tbody tr").all():
        assert row.locator(".sd-badge").count() == 1
        papers = row.locator("td").nth(3)
        assert papers.locator("a[href*='references.html']").count() >= 1, papers.inner_text()
    references = visit("book/references.html").page
    entries = references.locator(".citation")
    assert entries.count() >= 10
    for entry in entries.all():
        assert entry.locator("a[href^='https://arxiv.org/abs/']").count() == 1, \
            entry.inner_text()


def test_every_link_on_every_page_resolves():
    """Links within the site, downloads included (notebooks, results, the PDF): each names a
    file the site serves."""
    from bs4 import BeautifulSoup

    require(SITE.joinpath("index.html").exists(), f"no site in {SITE}: run `make book`")
    require(find_chromium() is not None, "Chromium not found: the site has no PDF to link")
    broken = []
    for page in sorted(SITE.rglob("*.html")):
        links = BeautifulSoup(page.read_text(), "html.parser").select("a[href]")
        for href in {link["href"] for link in links}:
            url = urlparse(urljoin(f"http://site/{page.relative_to(SITE)}", href))
            if url.hostname != "site":
                continue
            target = SITE / url.path.lstrip("/")
            if not (target.is_file() or (target / "index.html").is_file()):
                broken.append(f"{page.relative_to(SITE)} -> {href}")
    assert not broken, "\n".join(sorted(broken))
