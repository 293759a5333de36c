"""One figure style for the whole book: drawn at the width the site shows, legible there, and
byte-reproducible.

The site's chapter column is :data:`COLUMN_PX` CSS pixels wide on a desktop (sphinx-book-theme
at 1366 px). A figure is drawn at exactly that width at 96 CSS pixels per inch, so that its
text is shown at the size it was set in: 1 pt is 4/3 CSS px, and the smallest text allowed,
:data:`MIN_FONT_PT`, is 12 CSS px (tick labels, legends) while labels and titles are 10 pt.
The PNG is saved at :data:`PIXEL_RATIO` times that resolution, sharp on high-density screens
and when zoomed. A narrower screen (a phone) shrinks the whole figure with the column.

Matplotlib is pinned exactly (requirements.txt) and text uses its bundled DejaVu Sans, so the
same data gives the same pixels on every machine with the same lock file.
"""

import matplotlib

COLUMN_PX = 757  # the chapter column of the site on a 1366 px desktop, in CSS px
CSS_PX_PER_INCH = 96  # CSS's definition: an image at 96 dpi is shown at its CSS size
CSS_PX_PER_PT = CSS_PX_PER_INCH / 72
PIXEL_RATIO = 2  # PNG pixels per CSS pixel
FIGURE_WIDTH = COLUMN_PX / CSS_PX_PER_INCH  # inches: every figure of the book
MIN_FONT_PT = 9.0  # the smallest text a figure may have: 12 CSS px on a desktop

PNG_METADATA = {"Software": None}  # drop the version string so PNGs are byte-stable

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": MIN_FONT_PT,
    "ytick.labelsize": MIN_FONT_PT,
    "legend.fontsize": MIN_FONT_PT,
    "legend.title_fontsize": MIN_FONT_PT,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": CSS_PX_PER_INCH,
    "savefig.dpi": CSS_PX_PER_INCH * PIXEL_RATIO,
    "figure.figsize": (FIGURE_WIDTH, 3.6),
    "figure.constrained_layout.use": True,
    "legend.frameon": False,
    "lines.linewidth": 1.4,
    "svg.hashsalt": "training-dynamics-reproduced",
    "svg.fonttype": "path",
}


def apply_style() -> None:
    """Apply the book's rcParams (call once per chapter, before any figure is made)."""
    matplotlib.rcParams.update(STYLE)


def illegible(fig) -> list[str]:
    """Why ``fig`` would not be legible in the site's column (empty if it would): it must be
    :data:`FIGURE_WIDTH` wide, and no visible text may be smaller than :data:`MIN_FONT_PT`."""
    from matplotlib.text import Text

    problems = []
    if abs(fig.get_figwidth() - FIGURE_WIDTH) > 1e-6:
        problems.append(f"it is {fig.get_figwidth():.3g} in wide, not the column's "
                        f"{FIGURE_WIDTH:.4g} in: make it with plotting.figure(...)")
    small = sorted({(text.get_fontsize(), text.get_text()) for text in fig.findobj(Text)
                    if text.get_visible() and text.get_text().strip()
                    and text.get_fontsize() < MIN_FONT_PT})
    if small:
        problems.append(f"text below {MIN_FONT_PT:g} pt ({MIN_FONT_PT * CSS_PX_PER_PT:g} CSS "
                        "px): " + "; ".join(f"{size:g} pt {label!r}" for size, label in small))
    return problems
