"""Where everything lives, relative to a repository root: the one owner of the book's layout.

    notebooks/<chapter>.py                 the jupytext source
    build/notebooks/<chapter>.ipynb        converted for papermill
    build/staging/<chapter>-XXXX/          one run in progress (notebook + results)
    book/chapters/<chapter>.ipynb          the published executed notebook
    build/results/<chapter>/               its figures, figure data, claims and provenance
    tests/baselines/quick/<chapter>/       the stored figures the tests compare with
    book/generated/                        status and report pages written by the build
    build/downloads/downloads/             copied to the site's /downloads/
    _build/html/                           the site

Tests and benchmarks use another root (:meth:`Paths.scratch`) so they never touch these.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

RESULTS_ENV = "COMPANION_RESULTS"  # the pipeline tells a kernel its staging results folder here
BASELINE_MODE = "quick"
DOWNLOADS_FROM_CHAPTER_PAGE = "../../downloads"  # book/chapters/x.html -> /downloads/


@dataclass(frozen=True)
class Paths:
    """Every path of the book's layout under ``root``; chapter arguments are chapter names."""

    root: Path

    def source(self, chapter: str) -> Path:
        return self.root / "notebooks" / f"{chapter}.py"

    def converted(self, chapter: str) -> Path:
        return self.root / "build" / "notebooks" / f"{chapter}.ipynb"

    @property
    def staging_root(self) -> Path:
        return self.root / "build" / "staging"

    def results(self, chapter: str) -> Path:
        return self.root / "build" / "results" / chapter

    def executed(self, chapter: str) -> Path:
        return self.root / "book" / "chapters" / f"{chapter}.ipynb"

    def failure(self, chapter: str) -> Path:
        return self.root / "build" / "failures" / f"{chapter}.json"

    def baselines(self, chapter: str) -> Path:
        return self.root / "tests" / "baselines" / BASELINE_MODE / chapter

    def regression(self, chapter: str) -> Path:
        """Where a failed image comparison leaves its diff."""
        return self.root / "build" / "regression" / chapter

    @property
    def library(self) -> Path:
        return self.root / "lib" / "companion"

    @property
    def lock_file(self) -> Path:
        return self.root / "requirements.txt"

    @property
    def generated(self) -> Path:
        return self.root / "book" / "generated"

    @property
    def downloads(self) -> Path:
        return self.root / "build" / "downloads" / "downloads"

    @property
    def site(self) -> Path:
        return self.root / "_build" / "html"

    @property
    def screenshots(self) -> Path:
        return self.root / "build" / "screenshots"

    def relative(self, path: Path) -> Path:
        """``path`` relative to the root, for messages."""
        return path.relative_to(self.root)

    @classmethod
    def scratch(cls, source: Path, scratch: Path) -> Paths:
        """Paths under ``scratch`` for runs that must leave ``source``'s published outputs
        alone (determinism test, benchmarks): copies of the chapters and the lock file, and a
        link to the library, so a run there imports exactly the code it would run here."""
        shutil.copytree(source / "notebooks", scratch / "notebooks")
        (scratch / "lib").symlink_to(source / "lib")
        shutil.copyfile(source / "requirements.txt", scratch / "requirements.txt")
        return cls(scratch)
