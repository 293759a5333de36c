"""Shared fixtures. The chapter-level tests read what `python -m companion book` produced."""

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
