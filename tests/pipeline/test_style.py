"""Figures are legible in the site's column, and byte-reproducible only with matplotlib's
bundled font and the pinned version."""

from pathlib import Path

import matplotlib
from matplotlib import font_manager

from companion.pipeline import style
from companion.pipeline.style import apply_style
from conftest import ROOT


def test_text_uses_matplotlib_bundled_dejavu():
    apply_style()
    path = Path(font_manager.findfont("DejaVu Sans", fallback_to_default=False))
    assert path.parent == Path(matplotlib.get_data_path()) / "fonts" / "ttf", path


def test_matplotlib_is_the_locked_version():
    lock = (ROOT / "requirements.txt").read_text().splitlines()
    assert f"matplotlib=={matplotlib.__version__}" in lock


def test_a_figure_is_drawn_at_the_column_width_and_saved_at_twice_its_resolution():
    """Shown at the column's 757 CSS px, a figure's inch is 96 CSS px, so 1 pt of text is 4/3
    CSS px: the smallest text allowed (9 pt) is 12 CSS px on a desktop."""
    assert style.FIGURE_WIDTH * style.CSS_PX_PER_INCH == style.COLUMN_PX
    assert style.STYLE["savefig.dpi"] == style.PIXEL_RATIO * style.CSS_PX_PER_INCH
    assert style.STYLE["figure.figsize"][0] == style.FIGURE_WIDTH
    sizes = [value for key, value in style.STYLE.items()
             if key.endswith(("size", "fontsize")) and key != "figure.figsize"]
    assert sizes and min(sizes) >= style.MIN_FONT_PT
    assert style.MIN_FONT_PT * style.CSS_PX_PER_PT >= 9


def test_illegible_names_a_figure_of_another_width_and_its_small_text():
    from matplotlib.figure import Figure

    apply_style()
    fig = Figure(figsize=(style.FIGURE_WIDTH, 3))
    ax = fig.subplots()
    ax.plot([0, 1], label="fine")
    ax.legend()
    assert style.illegible(fig) == []
    ax.text(0.5, 0.5, "tiny", fontsize=7)
    ax.text(0.5, 0.5, "", fontsize=5)  # empty text is not drawn
    assert style.illegible(fig) == ["text below 9 pt (12 CSS px): 7 pt 'tiny'"]
    wide = Figure(figsize=(11, 3))
    assert style.illegible(wide)[0].startswith("it is 11 in wide, not the column's 7.885 in")
