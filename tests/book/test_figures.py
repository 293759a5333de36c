"""The quick run's figures: legible on the page, shown as saved, and regressed against
tests/baselines/quick/ in two tiers.

The portable tier runs on every machine: each array by the tolerance class its chapter declared
beside the figure (an array without one fails). The exact tier runs only where the run's
numerical fingerprint equals the baselines'; elsewhere it is skipped, and the skip says which
entries of the fingerprint differ. A failing image leaves a diff PNG under
build/regression/<chapter>/. Baselines change only through
`python -m companion bless CHAPTER --reason ...`.
"""

import base64
import re
import shlex

import nbformat
import pytest
from PIL import Image

from companion.__main__ import build_parser
from companion.pipeline import regress
from companion.pipeline.paths import Paths
from companion.pipeline.registry import CHAPTERS
from companion.pipeline.style import COLUMN_PX, CSS_PX_PER_INCH, MIN_FONT_PT, PIXEL_RATIO
from conftest import ROOT, chapter_results

PATHS = Paths(ROOT)


def baseline_figures():
    return [(chapter, name) for chapter in CHAPTERS
            for name in regress.figure_names(PATHS.baselines(chapter))]


@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_figures_and_baselines_match_one_to_one(chapter):
    run = regress.figure_names(chapter_results(chapter))
    stored = regress.figure_names(PATHS.baselines(chapter))
    assert run, f"chapter '{chapter}' produced no figures"
    assert run == stored, (
        f"{chapter}: figures without a baseline {sorted(set(run) - set(stored))}, baselines "
        f"without a figure {sorted(set(stored) - set(run))}; if intended, run "
        f"`python -m companion bless {chapter} --reason ...` and commit the baselines")


@pytest.mark.parametrize("chapter,name", baseline_figures())
def test_figure_keeps_its_tolerance_classes(chapter, name):
    """Portable tier: what the science fixes, on any machine."""
    problems = regress.compare_portable(name, chapter_results(chapter),
                                        PATHS.baselines(chapter))
    assert not problems, (f"{chapter}/{name} fails the portable tier:\n"
                          + "\n".join(problems))


@pytest.mark.parametrize("chapter,name", baseline_figures())
def test_figure_matches_baseline_exactly(chapter, name):
    """Exact tier: same fingerprint, same figures."""
    results, baselines = chapter_results(chapter), PATHS.baselines(chapter)
    tier = regress.select_tier(results, baselines)
    if not tier.exact:
        pytest.skip(f"exact tier skipped for {chapter}: {tier.reason}")
    problems = regress.compare_exact(name, results, baselines, PATHS.regression(chapter))
    assert not problems, (f"{chapter}/{name} drifted from its baseline ({tier.reason}):\n"
                          + "\n".join(problems))


@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_figures_are_drawn_at_the_column_width_with_legible_text(chapter):
    """Each PNG is the site's column wide at twice its resolution. Shown in the column (at most
    its own width in CSS px), its smallest text (the style's, which `Run.figure` enforces) must
    measure at least 9 CSS px on a desktop."""
    for png in sorted(chapter_results(chapter).glob("*.png")):
        image = Image.open(png)
        width_px, dpi = image.size[0], image.info["dpi"][0]
        assert width_px == COLUMN_PX * PIXEL_RATIO, f"{png.name}: {width_px} px wide"
        assert abs(dpi - CSS_PX_PER_INCH * PIXEL_RATIO) < 0.01, f"{png.name}: {dpi} dpi"
        shown_css_px = min(COLUMN_PX, width_px / PIXEL_RATIO)
        css_px_per_pt = shown_css_px / (width_px / dpi) / 72
        assert MIN_FONT_PT * css_px_per_pt >= 9, f"{png.name}: text of {MIN_FONT_PT} pt " \
            f"is {MIN_FONT_PT * css_px_per_pt:.1f} CSS px"


@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_each_figure_is_a_numbered_captioned_figure_that_shows_the_saved_png(chapter):
    """The page shows exactly the PNG the regression compares; the figure has a name the prose
    refers to, a caption, alt text and a reproduce command the CLI accepts; its code is folded."""
    notebook = nbformat.read(PATHS.executed(chapter), as_version=4)
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    figures = [cell for cell in notebook.cells if "mystnb" in cell.metadata]
    names = [cell.metadata["mystnb"]["figure"]["name"] for cell in figures]
    assert sorted(names) == regress.figure_names(chapter_results(chapter))
    for name, cell in zip(names, figures):
        (shown,) = [output for output in cell.outputs if "image/png" in output.get("data", {})]
        saved = (chapter_results(chapter) / f"{name}.png").read_bytes()
        assert base64.b64decode(shown["data"]["image/png"]) == saved, f"{name}: not the PNG"
        assert "hide-input" in cell.metadata.get("tags", []), f"{name}: its code is not folded"
        assert f"{{numref}}`{name}`" in prose, f"{name}: the prose never refers to it"
        caption = cell.metadata["mystnb"]["figure"]["caption"]
        assert cell.metadata["mystnb"]["image"]["alt"], f"{name}: no alt text"
        command = re.search(r"Reproduce: `([^`]+)`", caption).group(1)
        args = build_parser().parse_args(shlex.split(command)[3:])
        assert (args.command, args.chapter) == ("run", chapter), command
