"""Build the whole book: run every chapter, write the status and execution pages, build the site.

A chapter that fails, or that in quick mode took more than twice its declared time budget
(when it was executed, or when the run the cache serves was), fails the build: the site is never
published with a page that is not current. Every chapter is run even when one fails, and the
build reports every failure; the execution report shows each failed chapter with its reason
(its failure record, ``build/failures/<chapter>.json``).

The chapter list has one source, the registry: the table of contents (``_toc.yml``) and the
chapter tables of the intro and the README are generated from it (:func:`write_chapter_lists`),
and a test fails when the committed files disagree with what it would write.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from .execute import (BUDGET_FACTOR, ChapterFailed, Execution, Limits, RunRefused, read_failure,
                      run_chapter, say)
from .parallel import default_jobs, run_jobs
from .paths import Paths
from .publish import InvalidPublish
from .registry import CHAPTERS, Chapter
from .tables import claims_tables

VERDICTS = {"all": "reproduced", "some": "partly reproduced", "none": "not reproduced"}


class BookFailed(RuntimeError):
    """One or more chapters failed or ran over budget; the site was not built."""


def verdict(claims: list[dict]) -> str:
    """Reproduced if every check passes, partly if some do, not reproduced if none do."""
    passed = [c["passed"] for c in claims]
    if not passed:
        return "no claims recorded"
    return VERDICTS["all" if all(passed) else "some" if any(passed) else "none"]


def load_results(chapter: Chapter, paths: Paths) -> tuple[dict, dict] | None:
    """The published claims and provenance of a chapter, or None if it has not run;
    :class:`InvalidPublish` naming the file if one cannot be read."""
    folder = paths.results(chapter.name)
    if not (folder / "claims.json").exists():
        return None
    loaded = []
    for name in ("claims.json", "provenance.json"):
        try:
            loaded.append(json.loads((folder / name).read_text()))
        except (OSError, ValueError) as error:
            raise InvalidPublish(f"{paths.relative(folder / name)} is unreadable "
                                 f"({error})") from None
    return loaded[0], loaded[1]


def status_page(paths: Paths) -> str:
    """Markdown of the reproduction status: every claim of every chapter, a verdict each."""
    lines = ["# Reproduction status", "",
             "Every claim each chapter checks, measured by the run that built this site. "
             "A claim is a named check with a bound; *reproduced* means every check passes. "
             "The claims and figures are the papers'; the configurations are this book's "
             "reconstructions, as each chapter says.", ""]
    for chapter in CHAPTERS.values():
        lines += [f"## [{chapter.title}](../chapters/{chapter.name}.ipynb)", ""]
        try:
            loaded = load_results(chapter, paths)
        except InvalidPublish as problem:
            lines += [f"The published results cannot be shown: {problem}.", ""]
            continue
        if loaded is None:
            lines += ["Not run yet.", ""]
            continue
        claims, provenance = loaded
        lines += [f"**Verdict: {verdict(claims['claims'])}** "
                  f"({sum(c['passed'] for c in claims['claims'])} of "
                  f"{len(claims['claims'])} checks pass). Mode {claims['mode']}, seed "
                  f"{claims['seed']}, commit `{provenance['commit'][:10]}`"
                  f"{' (dirty tree)' if provenance['dirty'] else ''}. "
                  f"Both configurations are this book's reconstructions, not the paper's "
                  f"constants (paper mode: {chapter.paper_note}).", "",
                  *claims_tables(claims["claims"], claims["exploratory"])]
        lines.append("")
    return "\n".join(lines)


def report_page(executions: list[Execution], paths: Paths) -> str:
    """Markdown of the execution report: mode, device, wall time against budget, status, and
    for a failed chapter the reason (from its failure record)."""
    lines = ["# Execution report", "",
             f"How each chapter was executed for this build. In quick mode a chapter that takes "
             f"more than {BUDGET_FACTOR:g}× its declared budget fails the build. *cached* means "
             "nothing the chapter depends on changed since the run shown, so no kernel started.",
             "", "| chapter | mode | device | status | wall time (s) | budget (s) | "
             "within budget |", "|---|---|---|---|---|---|---|"]
    failures = []
    for e in executions:
        failure = (read_failure(e.chapter, paths) or e.error) if e.status == "failed" else ""
        device = _device(e.chapter, paths) if not failure else "–"
        within = "–" if failure else "yes" if e.wall_s <= e.budget_s else (
            "over, within 2×" if e.wall_s <= BUDGET_FACTOR * e.budget_s else "**no**")
        wall = "–" if failure else f"{e.wall_s:.1f}"
        lines.append(f"| {e.chapter} | {e.mode} | {device} | {e.status} | {wall} | "
                     f"{e.budget_s:g} | {within} |")
        if failure:
            failures += ["", f"**{e.chapter} failed:** {failure.splitlines()[0]}"]
    return "\n".join(lines + failures) + "\n"


def _device(chapter: str, paths: Paths) -> str:
    """The device of the chapter's published run, as its provenance records it."""
    try:
        loaded = load_results(CHAPTERS[chapter], paths) if chapter in CHAPTERS else None
    except InvalidPublish:
        loaded = None
    return loaded[1].get("device", "–") if loaded else "–"


def run_all(mode: str, force: bool, paths: Paths, limits: Limits = Limits(),
            jobs: int | None = None) -> list[Execution]:
    """Run every chapter, ``jobs`` at a time (default: one per core), the longest estimated
    first; collect failures instead of stopping at the first."""
    outcomes: dict[str, Execution] = {}
    errors: dict[str, str] = {}  # reported in the registry's order, whatever finished first

    def started(job: tuple) -> None:
        say(f"{job[0]} ({mode}) ...")

    def finished(job: tuple, outcome) -> None:
        name, chapter = job[0], CHAPTERS[job[0]]
        if isinstance(outcome, (ChapterFailed, RunRefused)):
            errors[name] = str(outcome)
            outcomes[name] = Execution(name, mode, "failed", 0.0, chapter.budget_s, "",
                                       str(outcome))
            say(f"{name}: failed")
            return
        if isinstance(outcome, BaseException):
            raise outcome
        say(f"{name}: {outcome.status}, {outcome.wall_s:.1f} s")
        if mode == "quick" and outcome.wall_s > BUDGET_FACTOR * chapter.budget_s:
            when = ("" if outcome.status == "executed" else
                    " when the run the cache serves was executed (--force measures again)")
            errors[name] = (f"chapter '{name}' took {outcome.wall_s:.0f} s in quick "
                            f"mode{when}, over {BUDGET_FACTOR:g}× its budget of "
                            f"{chapter.budget_s:g} s")
        outcomes[name] = outcome

    longest_first = sorted(CHAPTERS,
                           key=lambda name: -CHAPTERS[name].modes[mode].estimate().seconds)
    run_jobs(_run_one, [(name, mode, force, paths, limits) for name in longest_first],
             default_jobs() if jobs is None else jobs, started, finished)
    executions = [outcomes[name] for name in CHAPTERS]
    write_pages(executions, paths)
    if errors:
        raise BookFailed(f"{len(errors)} of {len(CHAPTERS)} chapters failed:\n"
                         + "\n".join(errors[name] for name in CHAPTERS if name in errors))
    return executions


def _run_one(name: str, mode: str, force: bool, paths: Paths, limits: Limits) -> Execution:
    """One job of :func:`run_all` (module level, so that a worker process can be handed it)."""
    return run_chapter(CHAPTERS[name], mode, force=force, paths=paths, limits=limits)


def write_pages(executions: list[Execution], paths: Paths) -> None:
    folder = paths.generated
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "status.md").write_text(status_page(paths))
    (folder / "report.md").write_text(report_page(executions, paths))


def stage_downloads(paths: Paths) -> None:
    """Copy each chapter's source and executed notebook where the site serves them."""
    folder = paths.downloads
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for chapter in CHAPTERS.values():
        for source in (paths.source(chapter.name), paths.executed(chapter.name)):
            if source.exists():
                shutil.copyfile(source, folder / source.name)


def build_site(paths: Paths) -> None:
    """jupyter-book 1.x, warnings as errors; the executed notebooks are published as they are."""
    for path in write_chapter_lists(paths):
        print(f"[companion] rewrote {paths.relative(path)} from the chapter registry: commit it")
    stage_downloads(paths)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")  # the one installed beside us
    command = [str(jupyter_book), "build", "--warningiserror",
               "--nitpick", "--keep-going", str(paths.root)]
    if subprocess.run(command, cwd=paths.root).returncode != 0:
        raise BookFailed("jupyter-book build failed (warnings are errors): see the log above")


# --------------------------------------------------------------------------------------------
# The chapter list, generated from the registry
# --------------------------------------------------------------------------------------------
TRUST_PAGES = ("book/generated/status", "book/generated/report", "book/rerun", "book/references")
TABLE_START = "<!-- chapter table: generated from the registry by `python -m companion book` -->"
TABLE_END = "<!-- end of chapter table -->"


def table_of_contents() -> str:
    """``_toc.yml``: the intro, the chapters in registry order, then the trust pages."""
    lines = ["# Generated from the chapter registry (lib/companion/pipeline/registry.py) by",
             "# `python -m companion book`: edit the registry, not this file. The book publishes",
             "# the executed notebooks in book/chapters/ (pointing at the jupytext sources would",
             "# build pages with no figures and no warning).",
             "format: jb-book", "root: book/intro", "parts:",
             "  - caption: Chapters", "    chapters:"]
    lines += [f"      - file: book/chapters/{name}" for name in CHAPTERS]
    lines += ["  - caption: Can it be trusted?", "    chapters:"]
    lines += [f"      - file: {page}" for page in TRUST_PAGES]
    return "\n".join(lines) + "\n"


def intro_table() -> list[str]:
    """The intro's chapter table (links relative to book/intro.md)."""
    rows = ["| Chapter | Result | Papers |", "|---|---|---|"]
    rows += [f"| [{c.title}](chapters/{c.name}.ipynb) | {c.result} | {c.papers} |"
             for c in CHAPTERS.values()]
    return rows


def readme_table() -> list[str]:
    """The README's chapter table: the names the command line takes."""
    rows = ["| Chapter | Reproduces |", "|---|---|"]
    rows += [f"| `{c.name}` | **{c.title}.** {c.result} {c.papers}. |" for c in CHAPTERS.values()]
    return rows


def _with_table(text: str, rows: list[str], path: Path) -> str:
    """``text`` with the rows between its chapter-table markers replaced."""
    if TABLE_START not in text or TABLE_END not in text:
        raise BookFailed(f"{path} lacks the chapter-table markers {TABLE_START!r} ... "
                         f"{TABLE_END!r}")
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    return "\n".join([head + TABLE_START, *rows, TABLE_END + tail])


def chapter_lists(paths: Paths) -> dict[Path, str]:
    """Every file that lists the chapters, with the content the registry implies."""
    intro, readme = paths.root / "book" / "intro.md", paths.root / "README.md"
    return {paths.root / "_toc.yml": table_of_contents(),
            intro: _with_table(intro.read_text(), intro_table(), intro),
            readme: _with_table(readme.read_text(), readme_table(), readme)}


def write_chapter_lists(paths: Paths) -> list[Path]:
    """Bring ``_toc.yml``, the intro and the README in line with the registry; return the files
    that changed (commit them)."""
    changed = []
    for path, text in chapter_lists(paths).items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(path)
    return changed
