"""The one command-line entry point of the book.

    python -m companion list                           chapters and their parameters
    python -m companion run CHAPTER [--mode paper] [-p name=value ...] [--force]
    python -m companion book [--mode quick] [--force] [--no-site]
    python -m companion bless CHAPTER [CHAPTER ...] --reason "why the figures changed"

Exit codes: 0 success, 1 a chapter failed (or the book did), 2 bad input (unknown chapter,
unknown parameter, wrong type or value). Bad input is rejected before any kernel starts, and a
failure never touches the last good outputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .params import MODES, ParameterError, parameter_types
from .pipeline import regress
from .pipeline.execute import ChapterFailed, run_chapter
from .pipeline.paths import Paths
from .pipeline.registry import CHAPTERS, UnknownChapterError, get_chapter
from .pipeline.site import BookFailed, build_site, run_all

BAD_INPUT, FAILED = 2, 1


def parse_assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected name=value, got '{text}' (e.g. -p seed=3)")
    return name.strip(), value


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
    execution = run_chapter(chapter, args.mode, dict(args.param), args.force, paths)
    print(f"{chapter.name}: {execution.status} in {execution.wall_s:.1f} s ({args.mode} mode); "
          f"outputs in {paths.relative(paths.results(chapter.name))}/ and "
          f"{paths.relative(paths.executed(chapter.name))}")
    return 0


def command_book(args, paths: Paths) -> int:
    run_all(args.mode, args.force, paths)
    if not args.no_site:
        build_site(paths)
        print(f"site: {paths.site / 'index.html'}")
    return 0


def command_bless(args, paths: Paths) -> int:
    for name in args.chapters:
        chapter = get_chapter(name)
        baselines = paths.baselines(chapter.name)
        changed = regress.bless(paths.results(chapter.name), baselines, args.reason)
        print(f"{chapter.name}: rewrote {len(changed)} figure baselines "
              f"({', '.join(changed) or 'none changed'}) in {paths.relative(baselines)}/; "
              "commit them with a message that says why the figures changed")
    return 0


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
    run.set_defaults(handler=command_run)

    book = commands.add_parser("book", help="execute every chapter and build the site")
    book.add_argument("--mode", default="quick", choices=MODES)
    book.add_argument("--force", action="store_true", help="re-execute every chapter")
    book.add_argument("--no-site", action="store_true", help="run chapters, skip jupyter-book")
    book.set_defaults(handler=command_book)

    bless = commands.add_parser("bless", help="replace figure baselines with the latest run")
    bless.add_argument("chapters", nargs="+")
    bless.add_argument("--reason", required=True, help="why the figures changed (recorded)")
    bless.set_defaults(handler=command_bless)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    paths = Paths(Path.cwd())
    try:
        return args.handler(args, paths)
    except (ParameterError, UnknownChapterError) as error:
        print(f"error: {error}", file=sys.stderr)
        return BAD_INPUT
    except (ChapterFailed, BookFailed, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return FAILED


if __name__ == "__main__":
    sys.exit(main())
