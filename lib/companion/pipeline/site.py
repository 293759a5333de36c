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

import html
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .execute import (BUDGET_FACTOR, ChapterFailed, Execution, Limits, RunRefused, read_failure,
                      run_chapter, say)
from .parallel import default_jobs, run_jobs
from .paths import EXECUTION_RECORD, Paths
from .pdf import print_pdf
from .publish import InvalidPublish
from .registry import CHAPTERS, Chapter
from .tables import (badge, claim_order, claims_table, exploratory_table, html_row, html_table,
                     verdict, verdict_badge)


class BookFailed(RuntimeError):
    """One or more chapters failed or ran over budget; the site was not built."""


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
    """Markdown of the reproduction status: a summary table of every chapter's verdict, then
    each chapter's failing checks in the open and every check folded."""
    rows, sections = [], []
    for chapter in CHAPTERS.values():
        link = f"[{chapter.title}](../chapters/{chapter.name}.ipynb)"
        sections += [f"## {link}", ""]
        try:
            loaded = load_results(chapter, paths)
        except InvalidPublish as problem:
            rows.append(_summary_row(chapter, badge("unreadable", "danger")))
            sections += [f"The published results cannot be shown: {problem}.", ""]
            continue
        if loaded is None:
            rows.append(_summary_row(chapter, badge("not run yet", "secondary")))
            sections += ["Not run yet.", ""]
            continue
        claims, provenance = loaded
        rows.append(_summary_row(chapter, verdict_badge(claims["claims"]), claims, provenance))
        sections += _chapter_section(chapter, claims, provenance)
    return "\n".join([
        "# Reproduction status", "",
        "Every claim each chapter checks, measured by the run that built this site. A claim is "
        "a named check with a bound; *reproduced* means every check passes. The claims and "
        "figures are the papers'; the configurations are this book's reconstructions, as each "
        "chapter says.", "",
        html_table("summary", rows, list(SUMMARY_COLUMNS)), "", *sections])


SUMMARY_COLUMNS = ("Chapter", "Verdict", "Checks passed", "Failing claims", "Mode", "Commit",
                   "Executed")


def _summary_row(chapter: Chapter, verdict_cell: str, claims: dict | None = None,
                 provenance: dict | None = None) -> str:
    """One chapter's row of the status summary (HTML, to stack into a card on a phone)."""
    link = f'<a href="../chapters/{chapter.name}.html">{html.escape(chapter.title)}</a>'
    values = ["–"] * 5
    if claims is not None:
        checks = claims["claims"]
        failing = sorted({c["claim_id"] for c in checks if not c["passed"]}, key=claim_order)
        values = [f"{sum(c['passed'] for c in checks)} of {len(checks)}",
                  ", ".join(failing) or "none", claims["mode"],
                  f"<code>{provenance['commit'][:10]}</code>"
                  + (" (dirty)" if provenance["dirty"] else ""),
                  provenance.get("executed_at", "–")]
    return html_row(dict(zip(SUMMARY_COLUMNS, [link, verdict_cell, *values])))


def _chapter_section(chapter: Chapter, claims: dict, provenance: dict) -> list[str]:
    """A chapter's verdict, its failing checks, and every check and exploratory value folded."""
    checks = claims["claims"]
    failing = [c for c in checks if not c["passed"]]
    lines = [f"**Verdict: {verdict(checks)}** ({sum(c['passed'] for c in checks)} of "
             f"{len(checks)} checks pass). Mode {claims['mode']}, seed {claims['seed']}, commit "
             f"`{provenance['commit'][:10]}`{' (dirty tree)' if provenance['dirty'] else ''}. "
             f"Both configurations are this book's reconstructions, not the paper's constants "
             f"(paper mode: {chapter.paper_note}).", ""]
    if failing:
        lines += [f"Failing checks ({len(failing)}):", "", claims_table(failing), ""]
    lines += [f":::{{dropdown}} All {len(checks)} checks", claims_table(checks), ":::", ""]
    if claims["exploratory"]:
        lines += [f":::{{dropdown}} Exploratory: {len(claims['exploratory'])} quantities shown, "
                  "deliberately not asserted", exploratory_table(claims["exploratory"]), ":::",
                  ""]
    return lines


def report_page(executions: list[Execution], paths: Paths) -> str:
    """Markdown of the execution report: mode, device, wall time against budget, status, and
    for a failed chapter the reason (from its failure record); then when, from which commit
    and with which versions each published run was made, and its files."""
    lines = ["# Execution report", "",
             f"How each chapter was executed for this build. In quick mode a chapter that takes "
             f"more than {BUDGET_FACTOR:g}× its declared budget fails the build. *cached* means "
             "nothing the chapter depends on changed since the run shown, so no kernel started.",
             "", "| chapter | mode | device | status | wall time (s) | budget (s) | "
             "within budget |", "|---|---|---|---|---|---|---|"]
    failures = []
    for e in executions:
        failure = (read_failure(e.chapter, paths) or e.error) if e.status == "failed" else ""
        provenance = _provenance(e.chapter, paths)
        device = provenance.get("device", "–") if not failure else "–"
        within = "–" if failure else "yes" if e.wall_s <= e.budget_s else (
            "over, within 2×" if e.wall_s <= BUDGET_FACTOR * e.budget_s else "**no**")
        wall = "–" if failure else f"{e.wall_s:.1f}"
        lines.append(f"| {e.chapter} | {e.mode} | {device} | {e.status} | {wall} | "
                     f"{e.budget_s:g} | {within} |")
        if failure:
            failures += ["", f"**{e.chapter} failed:** {failure.splitlines()[0]}"]
    return "\n".join(lines + failures + ["", *_versions_table(executions, paths), "",
                                         *_paper_mode_section(paths)]) + "\n"


def _versions_table(executions: list[Execution], paths: Paths) -> list[str]:
    """When, from which commit and with which versions each published run was made."""
    lines = ["## Provenance of the published runs", "",
             "Each chapter's `provenance.json` has every parameter, the device and the wall "
             "time from the chapter's first cell to its last.", "",
             "| chapter | executed | commit | versions | results |", "|---|---|---|---|---|"]
    for e in executions:
        provenance = _provenance(e.chapter, paths)
        if not provenance:
            continue
        stack = ", ".join([f"Python {provenance.get('python', '–')}"]
                          + [f"{package} {version}" for package, version
                             in provenance.get("versions", {}).items() if version])
        folder = f"../../downloads/{e.chapter}"
        lines.append(f"| {e.chapter} | {provenance.get('executed_at', '–')} | "
                     f"`{provenance['commit'][:10]}` | {stack} | "
                     f'<a href="{folder}/claims.json">claims.json</a>, '
                     f'<a href="{folder}/provenance.json">provenance.json</a> |')
    return lines


PAPER_TARGET_S = 600
"""What a reader's paper-mode run may take: ten minutes on a two-core machine. Runs are
single-threaded, so on a CPU that is their CPU time; on a GPU, their wall time."""
PAPER_COLUMNS = ("run", "device", "time", "estimate", "within target", "claims passed",
                 "measured")


def _paper_mode_section(paths: Paths) -> list[str]:
    """The paper-mode runs measured by ``benchmarks/paper.py``, read from ``paths.paper_times``."""
    times = json.loads(paths.paper_times.read_text()) if paths.paper_times.exists() else {}
    return ["## Paper mode, measured", "",
            "The build runs quick mode. Paper mode is timed by hand, one forced run per chapter "
            "through the pipeline: `.venv/bin/python benchmarks/paper.py CHAPTER` (add "
            "`-p device=cuda` for a chapter's GPU path). The *time* is a CPU run's CPU time (it "
            "is single-threaded, so that is its wall time on a core of its own) or a GPU run's "
            f"wall time, against a target of {_duration(PAPER_TARGET_S)} on a two-core machine. "
            "The estimate is the chapter's own (`Config.estimate()`), calibrated on one core of "
            "the machine it was written on.", "", *paper_mode_table(times)]


def paper_mode_table(times: dict) -> list[str]:
    """One row per measured run (``times``, keyed by chapter and overrides): its device, its
    time against :data:`PAPER_TARGET_S`, the chapter's own estimate, its claims; a run
    on a GPU says whether the same claims failed as in the chapter's CPU run. An HTML table,
    which wraps on a desktop and stacks on a phone, then the claims that failed."""
    rows, failed = [], []
    for name, chapter in CHAPTERS.items():
        runs = {key: t for key, t in times.items() if t["chapter"] == name}
        if not runs:
            rows.append(html_row(dict(zip(PAPER_COLUMNS, [f"<code>{name}</code>",
                                                           "not measured", *["–"] * 5]))))
        cpu_runs = [t for t in runs.values() if t["device"].startswith("cpu")]
        for key, t in runs.items():
            on_gpu = not t["device"].startswith("cpu")
            taken = t["wall_s"] if on_gpu else t["cpu_s"]
            within = "yes" if taken <= PAPER_TARGET_S else (
                "no: run it on a GPU (<code>-p device=cuda</code>)"
                if hasattr(chapter.paper, "device") and not on_gpu else "<strong>no</strong>")
            claims = f"{t['claims_passed']} of {t['claims']}"
            if on_gpu and cpu_runs:
                same = _failed_ids(t) == _failed_ids(cpu_runs[0])
                claims += ("; the same as on the CPU" if same
                           else "; <strong>not</strong> as on the CPU")
            run = " ".join([name, *(f"-p {k}={v}" for k, v in t["overrides"].items())])
            rows.append(html_row(dict(zip(PAPER_COLUMNS, [
                f"<code>{html.escape(run)}</code>", html.escape(t["device"]), _duration(taken),
                _duration(t["estimate_s"]), within, claims,
                f"{t['date']}<br><code>{t['commit'][:10]}</code>"]))))
            failed += [f"- {key}: `{claim}`" for claim in t["claims_failed"]]
    return [html_table("paper-mode", rows, list(PAPER_COLUMNS))] + (
        ["", "Claims that failed in paper mode:", "", *failed] if failed else [])


def _failed_ids(run: dict) -> set[str]:
    return {claim.split()[0] for claim in run["claims_failed"]}


def _duration(seconds: float) -> str:
    """``42 s``, ``7 min 55 s``, ``10 min``, ``1 h 52 min``; a number stays with its unit
    (no-break space) when a narrow column wraps."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}\u00a0s"
    if seconds < 3600:
        return f"{seconds // 60}\u00a0min" + (f" {seconds % 60}\u00a0s" if seconds % 60 else "")
    return f"{seconds // 3600}\u00a0h {seconds % 3600 // 60}\u00a0min"


def _provenance(chapter: str, paths: Paths) -> dict:
    """The provenance of the chapter's published run ({} if there is none to read)."""
    try:
        loaded = load_results(CHAPTERS[chapter], paths) if chapter in CHAPTERS else None
    except InvalidPublish:
        loaded = None
    return loaded[1] if loaded else {}


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
    (folder / "chapters.md").write_text("\n".join(chapter_table(paths)) + "\n")


def stage_downloads(paths: Paths) -> None:
    """Copy each chapter's source, executed notebook and results where the site serves them:
    ``/downloads/<chapter>.py``, ``/downloads/<chapter>.ipynb`` and
    ``/downloads/<chapter>/<file>`` (figures, their data, claims.json, provenance.json)."""
    folder = paths.downloads
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for chapter in CHAPTERS.values():
        for source in (paths.source(chapter.name), paths.executed(chapter.name)):
            if source.exists():
                shutil.copyfile(source, folder / source.name)
        results = paths.results(chapter.name)
        if results.exists():
            shutil.copytree(results, folder / chapter.name,
                            ignore=shutil.ignore_patterns(EXECUTION_RECORD))


def build_site(paths: Paths) -> None:
    """The site and its PDF: jupyter-book 1.x, warnings as errors; the executed notebooks are
    published as they are. The PDF is printed first, so the site build copies it in."""
    for path in write_chapter_lists(paths):
        print(f"[companion] rewrote {paths.relative(path)} from the chapter registry: commit it")
    stage_downloads(paths)
    jupyter_book("singlehtml", paths.single_page, paths)
    # Sphinx writes the single page as book/intro.html but links its assets from the root
    single_page = paths.single_page / "index.html"
    os.replace(paths.single_page / f"{ROOT_PAGE}.html", single_page)
    print_pdf(single_page, paths.pdf, paths.printed)
    jupyter_book("html", paths.site, paths)


def jupyter_book(builder: str, output: Path, paths: Paths) -> None:
    """Build the book with ``builder`` into ``output``, emptied first so that nothing left by
    an older build is deployed; warnings are errors."""
    shutil.rmtree(output, ignore_errors=True)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")  # the one installed beside us
    command = [str(jupyter_book), "build", "--builder", builder, "--warningiserror",
               "--nitpick", "--keep-going", str(paths.root)]
    if subprocess.run(command, cwd=paths.root).returncode != 0:
        raise BookFailed(f"jupyter-book build --builder {builder} failed (warnings are "
                         "errors): see the log above")


# --------------------------------------------------------------------------------------------
# The chapter list, generated from the registry
# --------------------------------------------------------------------------------------------
ROOT_PAGE = "book/intro"
TRUST_PAGES = ("book/generated/status", "book/generated/report", "book/rerun", "book/references")
TABLE_START = "<!-- chapter table: generated from the registry by `python -m companion book` -->"
TABLE_END = "<!-- end of chapter table -->"
CHAPTER_TABLE = "generated/chapters.md"  # written by each build, relative to book/intro.md


def table_of_contents() -> str:
    """``_toc.yml``: the intro, the chapters in registry order, where each chapter's claims
    hold (its robustness page), then the trust pages."""
    lines = ["# Generated from the chapter registry (lib/companion/pipeline/registry.py) by",
             "# `python -m companion book`: edit the registry, not this file. The book publishes",
             "# the executed notebooks in book/chapters/ (pointing at the jupytext sources would",
             "# build pages with no figures and no warning).",
             "format: jb-book", f"root: {ROOT_PAGE}", "parts:",
             "  - caption: Chapters", "    chapters:"]
    lines += [f"      - file: book/chapters/{name}" for name in CHAPTERS]
    lines += ["  - caption: Where the claims hold", "    chapters:"]
    lines += [f"      - file: book/generated/robustness/{name}" for name in CHAPTERS]
    lines += ["  - caption: Can it be trusted?", "    chapters:"]
    lines += [f"      - file: {page}" for page in TRUST_PAGES]
    return "\n".join(lines) + "\n"


def intro_table() -> list[str]:
    """The intro's chapter table: the page the build writes (:func:`chapter_table`), included,
    since a verdict belongs to one build and cannot live in a committed file."""
    return [f"```{{include}} {CHAPTER_TABLE}", "```"]


def chapter_table(paths: Paths) -> list[str]:
    """Markdown of the chapter table: each chapter's verdict in this build, its result and its
    papers, cited (links relative to book/intro.md, which includes it)."""
    papers = chapter_papers(paths.root / "references.bib")
    rows = [":::{table}", ":class: companion-table chapters",  # the class: cards on a phone
            "| Chapter | Verdict | Result | Papers |", "|---|---|---|---|"]
    for chapter in CHAPTERS.values():
        try:
            loaded = load_results(chapter, paths)
        except InvalidPublish:
            loaded = None
        verdict_cell = (verdict_badge(loaded[0]["claims"]) if loaded
                        else badge("not run yet", "secondary"))
        cited = "; ".join(f"{{cite:t}}`{key}`" for key in papers.get(chapter.name, []))
        rows.append(f"| [{chapter.title}](chapters/{chapter.name}.ipynb) | {verdict_cell} | "
                    f"{chapter.result} | {cited or chapter.papers} |")
    return [*rows, ":::"]


def chapter_papers(bibliography: Path) -> dict[str, list[str]]:
    """The citation keys of each chapter's papers: the entries whose ``keywords`` name it
    (none without a bibliography, as in the pipeline tests' scratch roots)."""
    from pybtex.database import parse_file

    papers: dict[str, list[str]] = {}
    if not bibliography.exists():
        return papers
    for key, entry in parse_file(bibliography).entries.items():
        for chapter in entry.fields.get("keywords", "").split():
            papers.setdefault(chapter, []).append(key)
    return papers


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
