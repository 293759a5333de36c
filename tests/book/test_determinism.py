"""Same seed, same machine: a second execution of each chapter gives identical figure data.

Each chapter is re-executed in a scratch copy of the repository (so the published outputs are
not touched) and every array behind every figure must equal the published one exactly.
"""

import numpy as np
import pytest

from companion.pipeline.registry import CHAPTERS
from companion.pipeline.execute import run_chapter
from companion.pipeline.paths import Paths
from conftest import ROOT, chapter_results


@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_second_run_gives_identical_figure_data(chapter, tmp_path):
    published = chapter_results(chapter)
    scratch = Paths.scratch(ROOT, tmp_path)
    assert run_chapter(CHAPTERS[chapter], paths=scratch).status == "executed"
    rerun = scratch.results(chapter)
    names = sorted(p.name for p in published.glob("*.npz"))
    assert names == sorted(p.name for p in rerun.glob("*.npz"))
    for name in names:
        with np.load(published / name) as first, np.load(rerun / name) as second:
            assert sorted(first) == sorted(second)
            for key in first:
                assert np.array_equal(first[key], second[key], equal_nan=True), \
                    f"{chapter}/{name}: '{key}' differs between two runs with the same seed"
