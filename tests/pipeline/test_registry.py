"""The chapter registry: one source for the chapter list, one vocabulary, a reason per value."""

import dataclasses
import subprocess
import sys

import pytest

from companion.params import ParameterError, why
from companion.pipeline.paths import Paths
from companion.pipeline.registry import CHAPTERS, get_chapter, make_config
from companion.pipeline.site import chapter_lists
from conftest import ROOT

# Names that used to mean the same thing under other spellings: one vocabulary now.
RETIRED_NAMES = {"lr", "dynamics_seeds", "relu_seeds", "data_seeds", "n_seeds_ablation"}


@pytest.mark.parametrize("path,expected", chapter_lists(Paths(ROOT)).items(),
                         ids=lambda value: getattr(value, "name", ""))
def test_toc_intro_and_readme_list_the_registry_chapters(path, expected):
    assert path.read_text() == expected, (
        f"{path.name} disagrees with the chapter registry: run `python -m companion book` "
        "(it rewrites the chapter lists) and commit the result")


def test_list_loads_neither_torch_nor_pyplot():
    probe = ("import sys; from companion.__main__ import main; main(['list']); "
             "print(sorted(m for m in ('torch', 'matplotlib.pyplot') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("chapter", CHAPTERS.values(), ids=lambda c: c.name)
def test_every_field_says_why(chapter):
    missing = [f.name for f in dataclasses.fields(chapter.quick) if not why(chapter.quick, f.name)]
    assert not missing, f"{chapter.name}: fields without a reason: {missing}"


@pytest.mark.parametrize("chapter", CHAPTERS.values(), ids=lambda c: c.name)
def test_one_vocabulary(chapter):
    names = {f.name for f in dataclasses.fields(chapter.quick)}
    assert {"seed", "learning_rate"} <= names, f"{chapter.name} lacks seed or learning_rate"
    assert not names & RETIRED_NAMES, f"{chapter.name} uses retired names {names & RETIRED_NAMES}"
    seed_counts = {n for n in names if "seeds" in n}
    assert all(n == "n_seeds" or n.endswith("_n_seeds") for n in seed_counts), seed_counts
    step_counts = {n for n in names if "steps" in n}
    assert all(n == "steps" or n.endswith("_steps") for n in step_counts), step_counts


@pytest.mark.parametrize("chapter", CHAPTERS.values(), ids=lambda c: c.name)
def test_learning_rate_override_works_in_every_chapter(chapter):
    config = make_config(chapter, "quick", {"learning_rate": "0.005"})
    assert config.learning_rate == 0.005


@pytest.mark.parametrize("value", ["inf", "nan", "1e400"])
def test_non_finite_numbers_are_refused(value):
    with pytest.raises(ParameterError, match="finite"):
        make_config(get_chapter("incremental_rank"), "quick", {"learning_rate": value})


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_one_seed_rule_for_every_chapter(seed):
    for chapter in CHAPTERS.values():
        with pytest.raises(ParameterError, match=r"seeds must lie in \[0, 2\*\*32\)"):
            make_config(chapter, "quick", {"seed": seed})


def test_paper_note_is_derived_from_the_two_configurations():
    chapter = get_chapter("adam_spikes")
    assert "quartic_steps 100000" in chapter.paper_note
    assert "learning_rate" not in chapter.paper_note  # the same in both modes


@pytest.mark.parametrize("chapter", CHAPTERS.values(), ids=lambda c: c.name)
def test_quick_mode_is_estimated_within_its_budget(chapter):
    """Each config estimates its cost from its sizes; quick mode must fit the chapter's budget
    (a run estimated over twice the budget would be refused before its kernel starts)."""
    estimate = chapter.quick.estimate()
    assert 0 < estimate.seconds <= chapter.budget_s, estimate
    assert estimate.memory_bytes < 2**30, estimate
