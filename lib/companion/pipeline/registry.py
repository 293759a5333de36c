"""The chapters of the book: one line each, in reading order.

Everything else about a chapter lives in its own folder, ``companion/<name>/config.py``: its
title, the result and papers it reproduces, its quick-mode time budget, its ``QUICK`` and
``PAPER`` configurations and the grids its claims are swept over (``GRID``, ``PAPER_GRID``).
That module is the only part of a chapter the pipeline imports, and it imports neither torch
nor matplotlib; a sweep imports the chapter's experiment module on its workers only. The table
of contents, the intro's chapter table and the README's are generated from this list
(``companion.pipeline.site.write_chapter_lists``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from ..params import configure, differences

CHAPTER_NAMES = (
    "incremental_rank",
    "embedding_depth",
    "adam_spikes",
    "connectivity",
)


GRID_VARIABLES = {"quick": "GRID", "paper": "PAPER_GRID"}  # in a chapter's config.py, by mode


class UnknownChapterError(KeyError):
    """A chapter name that is not in the book."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]


@dataclass(frozen=True)
class Chapter:
    """One chapter: its notebook, its configurations and its quick-mode time budget."""

    name: str
    title: str
    result: str  # what the chapter reproduces, for the intro and README tables
    papers: str  # the papers it reproduces, short form
    budget_s: float  # declared wall time of quick mode on 2 CPU cores, kernel included
    quick: object = field(compare=False)
    paper: object = field(compare=False)
    grids: dict = field(default_factory=dict, compare=False)  # {mode: Grid}, if it declares any
    experiment: str = ""  # the module whose checks, explore_frame and draw_frame a sweep calls

    @property
    def notebook(self) -> Path:
        return Path("notebooks") / f"{self.name}.py"

    @property
    def modes(self) -> dict:
        return {"quick": self.quick, "paper": self.paper}

    @property
    def config_class(self) -> type:
        return type(self.quick)

    @property
    def paper_note(self) -> str:
        """How paper mode differs from quick mode, derived from the two configurations."""
        return ", ".join(f"{name} {paper}" for name, (_, paper)
                         in differences(self.quick, self.paper).items())


def load_chapter(name: str) -> Chapter:
    """A chapter as its ``config.py`` declares it."""
    config = importlib.import_module(f"companion.{name}.config")
    grids = {mode: getattr(config, variable) for mode, variable in GRID_VARIABLES.items()
             if hasattr(config, variable)}
    return Chapter(name, config.TITLE, config.RESULT, config.PAPERS, config.BUDGET_S,
                   config.QUICK, config.PAPER, grids, f"companion.{name}.experiment")


CHAPTERS: dict[str, Chapter] = {name: load_chapter(name) for name in CHAPTER_NAMES}


def get_chapter(name: str) -> Chapter:
    """Look a chapter up by name; an unknown name lists the chapters there are."""
    if name not in CHAPTERS:
        raise UnknownChapterError(
            f"unknown chapter '{name}'. Chapters: {', '.join(CHAPTERS)}. "
            "Run 'python -m companion list' to see them with their parameters.")
    return CHAPTERS[name]


def make_config(chapter: Chapter, mode: str, overrides: dict | None = None):
    """The validated configuration of ``chapter`` (see :func:`companion.params.configure`)."""
    return configure(chapter.name, chapter.modes, mode, overrides)

