"""The one command-line entry point of the book.

    python -m companion list                           chapters and their parameters
    python -m companion run CHAPTER [--mode paper] [-p name=value ...] [--force] [limits]
    python -m companion sweep CHAPTER [--mode paper] [--scheduler ADDRESS] [--workers N]
    python -m companion book [--mode quick] [--force] [--no-site] [limits]
    python -m companion bless CHAPTER [CHAPTER ...] --reason "why the figures changed"
                              [--drop CHAPTER/FIGURE ...]

It works on the checkout its library was imported from, whatever the working directory, and
refuses to run from inside another checkout (whose library it would not be running).

``sweep`` evaluates a chapter's checks over its grid of parameters and seeds on Dask (a local
cluster by default) and writes one table to build/sweeps/CHAPTER/ (see
``companion.pipeline.sweep``); ``book`` runs every chapter, then every sweep (from the cache)
and writes a page per chapter of where its claims hold.

Limits: each run is checked, before its kernel starts, against its configuration's estimate of
memory and time. A run estimated to need more memory than the machine has available
(``--memory-limit GIB`` to allow more) or more time than its limit is refused. The time limit
is twice the chapter's budget in quick mode and 12 hours in paper mode; ``--timeout SECONDS``
changes it, and a run still going at its limit is stopped and fails.

Exit codes: 0 success, 1 a chapter failed (or the book did, or a sweep task), 2 bad input
(unknown chapter, unknown or repeated parameter, wrong type or value, a run over its limits, a
bless that cannot be done whole, not the caller's checkout, a grid point that is not a valid
configuration, a Dask cluster that cannot be used), 130 interrupted. Bad input is rejected
before any kernel starts, and a failure never touches the last good outputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .params import MODES, ParameterError, parameter_types
from .pipeline import regress
from .pipeline.execute import GIB, ChapterFailed, Limits, run_chapter
from .pipeline.paths import CheckoutError, Paths
from .pipeline.publish import InvalidPublish, check_files, read_record
from .pipeline.registry import CHAPTERS, UnknownChapterError, get_chapter
from .pipeline.robustness import write_robustness_pages
from .pipeline.site import BookFailed, build_site, run_all
from .pipeline.sweep import SweepFailed, sweep_all, sweep_chapter

BAD_INPUT, FAILED, INTERRUPTED = 2, 1, 130


def parse_assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected name=value, got '{text}' (e.g. -p seed=3)")
    return name.strip(), value


def overrides_of(assignments: list[tuple[str, str]]) -> dict[str, str]:
    """The ``-p`` assignments as a dict; a parameter given twice is refused, not overwritten."""
    overrides: dict[str, str] = {}
    for name, value in assignments:
        if name in overrides:
            raise ParameterError(f"parameter '{name}' is given twice (-p {name}="
                                 f"{overrides[name]} and -p {name}={value}): give it once")
        overrides[name] = value
    return overrides


def limits_of(args) -> Limits:
    memory = None if args.memory_limit is None else args.memory_limit * GIB
    return Limits(timeout_s=args.timeout, memory_bytes=memory)


def command_list(_args, _paths: Paths) -> int:
    for chapter in CHAPTERS.values():
        print(f"{chapter.name}: {chapter.title} (quick budget {chapter.budget_s:g} s)")
        quick, paper = chapter.modes["quick"], chapter.modes["paper"]
        for name, declared in parameter_types(chapter.config_class).items():
            q, p = getattr(quick, name), getattr(paper, name)
            type_name = getattr(declared, "__name__", str(declared))
            print(f"    {name} ({type_name}): quick {q}" + (f", paper {p}" if p != q else ""))
    return 0


def command_run(args, paths: Paths) -> int:
    chapter = get_chapter(args.chapter)
    execution = run_chapter(chapter, args.mode, overrides_of(args.param), args.force, paths,
                            limits_of(args))
    print(f"{chapter.name}: {execution.status} in {execution.wall_s:.1f} s ({args.mode} mode); "
          f"outputs in {paths.relative(paths.results(chapter.name))}/ and "
          f"{paths.relative(paths.executed(chapter.name))}")
    return 0


def command_sweep(args, paths: Paths) -> int:
    from .pipeline.cluster import Workers  # Dask: only where a sweep may need it

    chapter = get_chapter(args.chapter)
    with Workers(args.scheduler, args.workers) as workers:
        outcome = sweep_chapter(chapter, args.mode, paths, workers)
    if outcome is None:
        return 0
    print(outcome.summary(paths))
    for line in outcome.in_scope_failures:
        print(f"    fails inside its scope: {line}")
    if outcome.failed:
        raise SweepFailed(f"{len(outcome.failed)} of {outcome.tasks} tasks failed:\n"
                          + "\n".join(outcome.failed))
    return 0


def command_book(args, paths: Paths) -> int:
    run_all(args.mode, args.force, paths, limits_of(args))
    try:
        sweep_all(args.mode, paths, CHAPTERS.values())
    finally:
        write_robustness_pages(paths)
    if not args.no_site:
        build_site(paths)
        print(f"site: {paths.site / 'index.html'}")
    return 0


def command_bless(args, paths: Paths) -> int:
    """Check every named chapter and figure first; write only if all of them can be blessed."""
    chapters = [get_chapter(name) for name in args.chapters]
    drops = _drops_by_chapter(args.drop, args.chapters)
    plans = []
    for chapter in chapters:
        try:
            check_files(read_record(chapter.name, paths), chapter.name, paths)
        except InvalidPublish as problem:
            raise regress.BlessRefused(
                f"chapter '{chapter.name}' has no complete published run to bless ({problem}): "
                f"run 'python -m companion run {chapter.name}' first") from None
        plans.append(regress.plan_bless(paths.results(chapter.name),
                                        paths.baselines(chapter.name), args.reason,
                                        drops[chapter.name]))
    regress.apply_bless(plans)
    for chapter, plan in zip(chapters, plans):
        for note in plan.notes:
            print(f"{chapter.name}: {note}")
        changed = plan.rewrite + [f"{name} (dropped)" for name in plan.drop]
        print(f"{chapter.name}: rewrote {len(plan.rewrite)} figure baselines "
              f"({', '.join(changed) or 'none changed; BLESSED.json kept'}) in "
              f"{paths.relative(plan.baselines)}/"
              + ("; commit them with a message that says why the figures changed"
                 if changed else ""))
    return 0


def _drops_by_chapter(drops: list[str], chapters: list[str]) -> dict[str, list[str]]:
    """``--drop CHAPTER/FIGURE`` values grouped by chapter (each a chapter being blessed)."""
    grouped: dict[str, list[str]] = {name: [] for name in chapters}
    for drop in drops:
        chapter, _, figure = drop.partition("/")
        if chapter not in grouped or not figure:
            raise regress.BlessRefused(f"--drop {drop}: expected CHAPTER/FIGURE with CHAPTER "
                                       f"one of the chapters being blessed ({', '.join(chapters)})")
        grouped[chapter].append(figure)
    return grouped


def add_limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="time limit of each chapter (default: quick 2x its budget, "
                             "paper 12 h)")
    parser.add_argument("--memory-limit", type=float, metavar="GIB",
                        help="memory a chapter may use (default: what is available now)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m companion", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="chapters and their parameters").set_defaults(
        handler=command_list)

    run = commands.add_parser("run", help="execute one chapter")
    run.add_argument("chapter")
    run.add_argument("--mode", default="quick", choices=MODES)
    run.add_argument("-p", "--param", action="append", default=[], type=parse_assignment,
                     metavar="NAME=VALUE", help="override one configuration field")
    run.add_argument("--force", action="store_true", help="execute even if cached")
    add_limits(run)
    run.set_defaults(handler=command_run)

    sweep = commands.add_parser("sweep", help="evaluate a chapter's checks over its grid")
    sweep.add_argument("chapter")
    sweep.add_argument("--mode", default="quick", choices=MODES,
                       help="which grid: GRID (quick) or PAPER_GRID (paper)")
    sweep.add_argument("--scheduler", metavar="ADDRESS",
                       help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a "
                            "local cluster)")
    sweep.add_argument("--workers", type=int, metavar="N",
                       help="workers of the local cluster (default: one per core)")
    sweep.set_defaults(handler=command_sweep)

    book = commands.add_parser("book", help="execute every chapter and build the site")
    book.add_argument("--mode", default="quick", choices=MODES)
    book.add_argument("--force", action="store_true", help="re-execute every chapter")
    book.add_argument("--no-site", action="store_true", help="run chapters, skip jupyter-book")
    add_limits(book)
    book.set_defaults(handler=command_book)

    bless = commands.add_parser("bless", help="replace figure baselines with the latest run")
    bless.add_argument("chapters", nargs="+")
    bless.add_argument("--reason", required=True, help="why the figures changed (recorded)")
    bless.add_argument("--drop", action="append", default=[], metavar="CHAPTER/FIGURE",
                       help="remove the baseline of a figure the chapter no longer draws")
    bless.set_defaults(handler=command_bless)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args, Paths.checkout(Path.cwd()))
    except (ParameterError, UnknownChapterError, CheckoutError, regress.BlessRefused) as error:
        print(f"error: {error}", file=sys.stderr)
        return BAD_INPUT
    except (ChapterFailed, BookFailed, SweepFailed, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt as error:
        print(str(error) or "interrupted", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
