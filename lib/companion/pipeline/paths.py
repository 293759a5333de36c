"""Where everything lives, relative to a repository root: the one owner of the book's layout.

    notebooks/<chapter>.py                 the jupytext source
    build/notebooks/<chapter>.ipynb        converted for papermill
    build/staging/<chapter>-XXXX/          one run in progress (notebook + results)
    build/locks/<chapter>.lock             held by the one run of a chapter in progress
    book/chapters/<chapter>.ipynb          the published executed notebook
    build/results/<chapter>/               its figures, figure data, claims and provenance, and
                                           execution.json: cache key and SHA-256 of every file
    build/failures/<chapter>.json|.ipynb   why the last run failed, and its notebook
    tests/baselines/quick/<chapter>/       the stored figures the tests compare with
    build/sweeps/<chapter>/                its claims swept over its grid: table, provenance,
                                           frames of the explorable figure, and the cache
    book/generated/                        status and report pages written by the build
    book/generated/robustness/<chapter>.md where its claims hold, from its sweep
    build/downloads/downloads/             copied to the site's /downloads/: each chapter's
                                           notebook, source and results, and the book's PDF
    _build/html/                           the site
    _build/singlehtml/                     the whole book on one page, printed to the PDF
    build/pdf/                             the last print, with the digest of its page
    benchmarks/paper.json                  paper-mode runs timed by benchmarks/paper.py (the
                                           execution report shows them)

The command line works on the checkout its library was imported from (:meth:`Paths.checkout`),
whatever the working directory. Tests and benchmarks use another root (:meth:`Paths.scratch`) so
they never touch these.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

EXECUTION_RECORD = "execution.json"
RESULTS_ENV = "COMPANION_RESULTS"  # the pipeline tells a kernel its staging results folder here
BASELINE_MODE = "quick"
DOWNLOADS_FROM_CHAPTER_PAGE = "../../downloads"  # book/chapters/x.html -> /downloads/
PDF_NAME = "training-dynamics-reproduced.pdf"


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

    def execution_record(self, chapter: str) -> Path:
        return self.results(chapter) / EXECUTION_RECORD

    def failure(self, chapter: str) -> Path:
        return self.root / "build" / "failures" / f"{chapter}.json"

    def failed_notebook(self, chapter: str) -> Path:
        """The notebook of the last failed run, kept for debugging (one per chapter)."""
        return self.root / "build" / "failures" / f"{chapter}.ipynb"

    def lock(self, chapter: str) -> Path:
        return self.root / "build" / "locks" / f"{chapter}.lock"

    def baselines(self, chapter: str) -> Path:
        return self.root / "tests" / "baselines" / BASELINE_MODE / chapter

    def sweeps(self, chapter: str) -> Path:
        return self.root / "build" / "sweeps" / chapter

    def robustness_page(self, chapter: str) -> Path:
        return self.generated / "robustness" / f"{chapter}.md"

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
    def pdf(self) -> Path:
        return self.downloads / PDF_NAME

    @property
    def printed(self) -> Path:
        """The last print of the book and the digest of the page it was printed from."""
        return self.root / "build" / "pdf"

    @property
    def paper_times(self) -> Path:
        """The measured paper-mode runs: written by ``benchmarks/paper.py``, committed."""
        return self.root / "benchmarks" / "paper.json"

    @property
    def site(self) -> Path:
        return self.root / "_build" / "html"

    @property
    def single_page(self) -> Path:
        return self.root / "_build" / "singlehtml"

    @property
    def screenshots(self) -> Path:
        return self.root / "build" / "screenshots"

    def relative(self, path: Path) -> Path:
        """``path`` relative to the root, for messages."""
        return path.relative_to(self.root)

    @classmethod
    def checkout(cls, caller: Path) -> Paths:
        """The checkout this library was imported from.

        Raises :class:`CheckoutError` if the library is not inside a checkout of the book (an
        installed copy), or if ``caller`` (the working directory) lies in another checkout:
        two clones sharing one virtualenv would otherwise run one clone's library on the
        other's chapters and record the wrong commit.
        """
        root = Path(__file__).resolve().parents[3]  # <root>/lib/companion/pipeline/paths.py
        if not is_checkout(root):
            raise CheckoutError(
                f"the companion library at {root / 'lib' / 'companion'} is not inside a "
                "checkout of the book (no notebooks/ beside lib/): install it from a checkout "
                "with 'pip install -e .'")
        other = next((folder for folder in (caller, *caller.parents) if is_checkout(folder)),
                     None)
        if other is not None and other.resolve() != root:
            raise CheckoutError(
                f"this is the checkout {other}, but python imports the companion library from "
                f"{root / 'lib'}: use that checkout's own virtualenv ('make .venv/.installed' "
                f"there) or 'pip install -e {other}'")
        return cls(root)

    @classmethod
    def scratch(cls, source: Path, scratch: Path) -> Paths:
        """Paths under ``scratch`` for runs that must leave ``source``'s published outputs
        alone (determinism test, benchmarks): copies of the chapters and the lock file, and a
        link to the library, so a run there imports exactly the code it would run here."""
        shutil.copytree(source / "notebooks", scratch / "notebooks")
        (scratch / "lib").symlink_to(source / "lib")
        shutil.copyfile(source / "requirements.txt", scratch / "requirements.txt")
        return cls(scratch)


class CheckoutError(RuntimeError):
    """The library is not in a checkout of the book, or not in the caller's checkout."""


def is_checkout(folder: Path) -> bool:
    """Whether ``folder`` is the root of a checkout of the book."""
    return ((folder / "notebooks").is_dir()
            and (folder / "lib" / "companion" / "__init__.py").is_file())
