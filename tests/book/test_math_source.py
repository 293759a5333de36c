"""The notebooks' Markdown keeps its math where MyST can find it.

MyST pairs ``$`` signs within a paragraph. A display block (``$$ ... $$``) with text directly
above or below it is read as part of that paragraph, the ``$`` signs after it pair the wrong
way, and the rest of the paragraph is typeset as run-together italic math with raw TeX in it.
MathJax typesets such strings without an error, so the browser test checks the result and this
lint names the line that causes it.
"""

import re

import pytest

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))
CODE_SPAN = re.compile(r"(`+).+?\1")
DOLLAR = re.compile(r"(?<!\\)\$")  # a $ that is not escaped


def markdown_cells(path):
    """(line number of its first line, its lines) for each Markdown cell of a py:percent file."""
    cells, current = [], None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("# %%"):
            current = [] if "[markdown]" in line else None
            if current is not None:
                cells.append((number + 1, current))
        elif current is not None:
            current.append(re.sub(r"^# ?", "", line))
    return cells


def math_problems(first_line: int, lines: list[str]) -> list[str]:
    """Every display block not set apart by blank lines, and every paragraph whose inline $
    signs do not pair (an odd count, or a $ that opens before or closes after a space)."""
    problems, paragraph, in_display = [], [], False
    lines = [CODE_SPAN.sub("code", line) for line in lines]
    for i, line in enumerate([*lines, ""]):
        where = f"line {first_line + i}"
        text = line.strip()
        if text.startswith("$$") and not in_display:
            if i > 0 and lines[i - 1].strip():
                problems.append(f"{where}: no blank line before this $$ block")
            in_display = not (len(text) > 2 and text.endswith("$$"))
            closes_at = i if not in_display else None
        elif in_display and text.endswith("$$"):
            in_display, closes_at = False, i
        elif in_display:
            continue
        else:
            closes_at = None
            if "$$" in text:
                problems.append(f"{where}: $$ inside a line of text; put the block on its own "
                                "lines, with a blank line above and below")
            if text:
                paragraph.append((where, text))
                continue
            problems += _inline_problems(paragraph)
            paragraph = []
            continue
        if closes_at is not None and i + 1 < len(lines) and lines[i + 1].strip():
            problems.append(f"line {first_line + i + 1}: no blank line after this $$ block")
    return problems


def _inline_problems(paragraph: list[tuple[str, str]]) -> list[str]:
    if not paragraph:
        return []
    text = " ".join(line for _, line in paragraph)
    where = paragraph[0][0]
    signs = [m.start() for m in DOLLAR.finditer(text)]
    if len(signs) % 2:
        return [f"paragraph at {where}: an odd number of $ signs"]
    for opening, closing in zip(signs[::2], signs[1::2]):
        if text[opening + 1:opening + 2].isspace() or text[closing - 1:closing].isspace():
            return [f"paragraph at {where}: math '{text[opening:closing + 1]}' has a space "
                    "inside its $ signs, so MyST does not read it as math"]
    return []


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_math_is_delimited_so_myst_pairs_it(notebook):
    problems = [f"{notebook.name} {problem}" for first, lines in markdown_cells(notebook)
                for problem in math_problems(first, lines)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lines,expected", [
    (["Text with", "$$x^2$$", "", "more."], "no blank line before"),
    (["Text.", "", "$$x^2$$", "more $a$ text."], "no blank line after"),
    (["Text.", "", "$$", "x^2", "$$", "then"], "no blank line after"),
    (["a $x$ and $y"], "odd number"),
    (["a $ x$ b"], "space inside"),
    (["inline $$x$$ display"], "inside a line of text"),
])
def test_the_lint_finds_each_pattern_that_breaks_pairing(lines, expected):
    assert any(expected in problem for problem in math_problems(1, lines))


def test_the_lint_accepts_well_set_math():
    lines = ["Text $a_1$ and `$not math`.", "", "$$", "x^2,\\qquad y", "$$", "", "After $b$.",
             "", "$$z$$", "", "Costs \\$5 and $c$."]
    assert math_problems(1, lines) == []
