"""Figure regression: the quick run's figures against tests/baselines/quick/.

The data behind each figure are the primary gate, the image the secondary one; a failing image
leaves a diff PNG under build/regression/<chapter>/. Baselines change only through
`python -m companion bless CHAPTER --reason ...`.
"""

import pytest

from companion.pipeline import regress
from companion.pipeline.paths import Paths
from companion.pipeline.registry import CHAPTERS
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
def test_figure_matches_baseline(chapter, name):
    problems = regress.compare_figure(name, chapter_results(chapter), PATHS.baselines(chapter),
                                      PATHS.regression(chapter))
    assert not problems, f"{chapter}/{name} drifted from its baseline:\n" + "\n".join(problems)
