"""Figures are byte-reproducible only with matplotlib's bundled font and the pinned version."""

from pathlib import Path

import matplotlib
from matplotlib import font_manager

from companion.pipeline.style import apply_style
from conftest import ROOT


def test_text_uses_matplotlib_bundled_dejavu():
    apply_style()
    path = Path(font_manager.findfont("DejaVu Sans", fallback_to_default=False))
    assert path.parent == Path(matplotlib.get_data_path()) / "fonts" / "ttf", path


def test_matplotlib_is_the_locked_version():
    lock = (ROOT / "requirements.txt").read_text().splitlines()
    assert f"matplotlib=={matplotlib.__version__}" in lock
