"""Figure regression: the quick run's figures against tests/baselines/quick/, in two tiers.

The portable tier runs on every machine: each array by the tolerance class its chapter declared
beside the figure (an array without one fails). The exact tier runs only where the run's
numerical fingerprint equals the baselines'; elsewhere it is skipped, and the skip says which
entries of the fingerprint differ. A failing image leaves a diff PNG under
build/regression/<chapter>/. Baselines change only through
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
