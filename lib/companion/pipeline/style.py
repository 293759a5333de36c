"""One figure style for the whole book, chosen so that figures are byte-reproducible.

Matplotlib is pinned exactly (requirements.txt) and text uses its bundled DejaVu Sans, so the
same data gives the same pixels on every machine with the same lock file.
"""

import matplotlib

PNG_METADATA = {"Software": None}  # drop the version string so PNGs are byte-stable

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.figsize": (8.0, 5.0),
    "figure.constrained_layout.use": True,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.4,
    "svg.hashsalt": "training-dynamics-reproduced",
    "svg.fonttype": "path",
}


def apply_style() -> None:
    """Apply the book's rcParams (call once per chapter, before any figure is made)."""
    matplotlib.rcParams.update(STYLE)
