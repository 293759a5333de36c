"""The whole book as one PDF (printed by `make book` with Chromium): every chapter and trust page
is in it, with its math typeset and its figures in place."""

import re

import pytest

from companion.pipeline.paths import Paths
from companion.pipeline.registry import CHAPTERS
from conftest import ROOT, require

pytestmark = pytest.mark.slow  # reads the PDF Chromium printed

PDF = Paths(ROOT).site / "downloads" / Paths(ROOT).pdf.name


def image_count(resources) -> int:
    """Images drawn by a page (or by a form it draws), counted without decoding them."""
    count = 0
    for drawn in resources.get("/XObject", {}).values():
        drawn = drawn.get_object()
        if drawn.get("/Subtype") == "/Image":
            count += 1
        elif drawn.get("/Subtype") == "/Form":
            count += image_count(drawn.get("/Resources", {}))
    return count


@pytest.fixture(scope="module")
def pdf():
    require(PDF.exists(), f"no {PDF}: run `make book` (it needs Chromium)")
    from pypdf import PdfReader

    return PdfReader(PDF)


@pytest.fixture(scope="module")
def text(pdf) -> str:
    return "\n".join(page.extract_text() for page in pdf.pages)


def test_every_chapter_and_trust_page_is_in_the_pdf(pdf, text):
    assert len(pdf.pages) >= 40, f"{len(pdf.pages)} pages"
    flat = " ".join(text.split())
    titles = [chapter.title for chapter in CHAPTERS.values()]
    titles += ["Reproduction status", "Execution report", "How to rerun a chapter", "References"]
    missing = [title for title in titles if title not in flat]
    assert not missing, f"not in the PDF: {missing}"


def test_the_pdf_has_its_math_typeset_and_its_figures(pdf, text):
    """Math delimiters in the text (``\\(``, ``\\[``, as Sphinx writes math for MathJax) would
    mean MathJax had not typeset the page when it was printed."""
    raw = re.findall(r".{0,40}\\[(\[].{0,40}", text)
    assert not raw, f"untypeset math in the PDF: {raw[:5]}"
    figures = sum(len(list((Paths(ROOT).results(name)).glob("*.png"))) for name in CHAPTERS)
    images = sum(image_count(page.get("/Resources", {})) for page in pdf.pages)
    assert images >= figures, f"{images} images in the PDF, {figures} figures in the book"
