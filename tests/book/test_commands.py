"""Every command the site and the README show can be pasted: the CLI's own parser accepts it.

A command is taken as a reader would copy it: the text of a code element or code block of the
built HTML (the rerun box, figure captions, the intro, the rerun page) or a code block of the
README, one line at a time, without its trailing comment. Typography must not touch it: an
en dash where ``--`` was typed, or curly quotes, make the parser refuse it. Chapter names and
parameters are checked too, unless they are placeholders in capitals (``CHAPTER``).
"""

import contextlib
import io
import re
import shlex

import pytest
from bs4 import BeautifulSoup

from companion.__main__ import build_parser, overrides_of
from companion.pipeline.registry import get_chapter, make_config
from conftest import ROOT, require

from .test_site import SITE

# a python (any path) running the CLI with arguments, or make with a target
COMMAND = re.compile(r"(?:^|\s)((?:\S*/)?python[\d.]*\s+-m\s+companion\s+\S.*)|^(make\s+\S.*)")
MAKE_TARGETS = set(re.findall(r"^([a-z][\w.-]*):", (ROOT / "Makefile").read_text(), re.M))


def commands_in(text: str) -> list[str]:
    """Each line of ``text`` that runs the CLI or make, without its comment."""
    found = []
    for line in text.splitlines():
        match = COMMAND.search(line.strip())
        if match:
            command = match.group(1) or match.group(2)
            found.append(re.sub(r"\s+#.*$", "", command).strip())
    return found


def site_commands() -> dict[str, list[str]]:
    """The commands of every page of the built site, by page."""
    found = {}
    for page in sorted(SITE.rglob("*.html")):
        if "_static" in page.parts:
            continue
        soup = BeautifulSoup(page.read_text(), "html.parser")
        texts = [element.get_text() for element in soup.select("article pre, article code")]
        found[str(page.relative_to(SITE))] = [c for text in texts for c in commands_in(text)]
    return found


def readme_commands() -> list[str]:
    blocks = re.findall(r"```(?:bash)?\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [command for block in blocks for command in commands_in(block)]


def problem(command: str) -> str | None:
    """Why ``command`` would fail if pasted, or None."""
    try:
        words = shlex.split(command)
    except ValueError as error:
        return f"cannot be split as the shell would: {error}"
    if words[0] == "make":
        unknown = [word for word in words[1:] if "=" not in word and word not in MAKE_TARGETS]
        return f"no make target {unknown}" if unknown else None
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # argparse prints its usage
            args = build_parser().parse_args(words[words.index("companion") + 1:])
    except SystemExit:
        return "the command line's parser refuses it"
    if args.command == "run" and not args.chapter.isupper():
        try:
            make_config(get_chapter(args.chapter), args.mode, overrides_of(args.param))
        except Exception as error:  # ParameterError, UnknownChapterError
            return str(error)
    return None


@pytest.fixture(scope="module")
def shown() -> dict[str, list[str]]:
    require(SITE.joinpath("index.html").exists(), f"no site in {SITE}: run `make book`")
    return site_commands()


def test_every_command_on_the_site_parses(shown):
    failures = [f"{page}: {command!r}: {why}" for page, commands in shown.items()
                for command in commands if (why := problem(command))]
    assert not failures, "\n".join(failures)


def test_every_chapter_page_shows_its_rerun_command_and_the_rerun_page_its_examples(shown):
    chapters = sorted(p.stem for p in (ROOT / "notebooks").glob("*.py"))
    for chapter in chapters:
        commands = shown[f"book/chapters/{chapter}.html"]
        assert f"python -m companion run {chapter} --mode quick" in commands, commands
    assert len(shown["book/rerun.html"]) >= 5


def test_every_command_in_the_readme_parses():
    commands = readme_commands()
    assert len(commands) >= 8
    failures = [f"{command!r}: {why}" for command in commands if (why := problem(command))]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("command,expected", [
    ("python -m companion run incremental_rank –mode paper", "parser refuses"),
    ("python -m companion run incremental_rank -p alpha=1e-8", None),
    ("python -m companion run nowhere", "unknown chapter"),
    ("python -m companion run adam_spikes -p no_such=1", "no_such"),
    ("python -m companion bless CHAPTER --reason “typographic quotes”", "parser refuses"),
    ("make bok", "no make target"),
])
def test_a_typographic_dash_or_an_unknown_name_is_caught(command, expected):
    why = problem(command)
    assert (why is None) if expected is None else (expected in why), why
