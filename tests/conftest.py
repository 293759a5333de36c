"""Shared fixtures. The chapter-level tests read what `python -m companion book` produced."""

import dataclasses
import json
import os
from pathlib import Path

import companion  # noqa: F401  (first: it pins BLAS and OpenMP threads before numpy loads)
import pytest
import torch

from companion.pipeline.paths import Paths

ROOT = Path(__file__).resolve().parents[1]
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def repo() -> Paths:
    return Paths(ROOT)


def under_ci() -> bool:
    """Whether CI runs the tests: ``CI`` true, 1 or yes, as CI services set it (``CI=false`` or
    unset is a developer's machine)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip without ``condition``; fail instead under CI, where nothing may be skipped."""
    if not condition:
        if under_ci():
            pytest.fail(reason + " (under CI this test must run)")
        pytest.skip(reason)


def pytest_configure(config) -> None:
    """CI runs the whole suite: leaving out the slow group there would be a silent skip."""
    if under_ci() and "slow" in (config.option.markexpr or ""):
        raise pytest.UsageError(f"CI runs every test, but -m '{config.option.markexpr}' leaves "
                                "some out: run `make test-all`")


def chapter_results(name: str) -> Path:
    """The published quick-mode results of a chapter; fail (never skip) if there are none."""
    folder = Paths(ROOT).results(name)
    if not (folder / "provenance.json").exists():
        pytest.fail(f"no results for chapter '{name}' in {folder}: run `make book` "
                    "(or `python -m companion book`) before the tests")
    provenance = json.loads((folder / "provenance.json").read_text())
    if provenance["mode"] != "quick" or provenance["overrides"]:
        pytest.fail(f"{folder} holds a {provenance['mode']}-mode run with overrides "
                    f"{provenance['overrides']}; the tests check plain quick mode: run "
                    f"`python -m companion run {name}`")
    return folder


def drawn_frame(chapter: str, config, params: dict) -> dict:
    """A chapter's sweep contract on a small ``config``: every point of its GRID (on QUICK) and
    PAPER_GRID (on PAPER) is a valid configuration at its last seed, and the explorable frame at
    ``config`` draws on an empty figure. Returns the frame."""
    from importlib import import_module

    from matplotlib.figure import Figure

    settings, experiment = (import_module(f"companion.{chapter}.{name}")
                            for name in ("config", "experiment"))
    for grid, mode in ((settings.GRID, settings.QUICK), (settings.PAPER_GRID, settings.PAPER)):
        assert grid.explore in grid.axes and grid.n_seeds >= 20
        for point in grid.points():
            dataclasses.replace(mode, **grid.base, **point, seed=grid.n_seeds - 1, n_seeds=1)
    frame = experiment.explore_frame(config)
    fig = Figure(figsize=(7, 4))
    experiment.draw_frame(fig, frame, params)
    assert fig.axes
    return frame
