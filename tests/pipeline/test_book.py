"""The trust pages: reproduction status and execution report, and the time-budget rule."""

import json

import pytest

from companion.pipeline import site as book
from companion.pipeline.registry import CHAPTERS
from companion.pipeline.execute import Execution
from companion.pipeline.paths import Paths
from companion.pipeline.tables import claims_tables


def write_claims(paths: Paths, chapter: str, passed: list[bool]) -> None:
    folder = paths.results(chapter)
    folder.mkdir(parents=True)
    claims = [{"claim_id": f"A{i}", "name": f"claim_{i}", "statement": "s", "value": 0.5,
               "op": "<=", "bound": 1.0, "passed": ok} for i, ok in enumerate(passed, 1)]
    (folder / "claims.json").write_text(json.dumps(
        {"chapter": chapter, "mode": "quick", "seed": 0, "claims": claims,
         "exploratory": [{"name": "tail", "statement": "not asserted", "value": 0.9}]}))
    (folder / "provenance.json").write_text(json.dumps(
        {"commit": "0123456789abcdef", "dirty": True, "device": "cpu: test"}))


def test_status_page_reports_each_verdict_and_every_failed_claim(tmp_path):
    paths = Paths(tmp_path)
    assert book.status_page(paths).count("Not run yet.") == len(CHAPTERS)
    first, last = list(CHAPTERS)[0], list(CHAPTERS)[-1]
    write_claims(paths, first, [True, True])
    write_claims(paths, last, [True, False])
    sections = book.status_page(paths).split("\n## ")
    assert "**Verdict: reproduced** (2 of 2 checks pass)" in sections[1]
    assert "**Verdict: partly reproduced** (1 of 2 checks pass)" in sections[-1]
    assert sections[-1].count("**FAIL**") == 1 and "**FAIL**" not in sections[1]
    assert "(dirty tree)" in sections[1] and "deliberately not asserted" in sections[1]


def test_a_pipe_in_a_statement_stays_inside_its_table_cell():
    """|x - y| in a statement must not split the row: every row keeps the header's cells."""
    claims = [{"claim_id": "A1", "name": "n", "statement": "max |f - g| over lifts",
               "value": 1e-15, "op": "<", "bound": 1e-12, "passed": True}]
    rows = claims_tables(claims, [{"name": "e", "statement": "|t_s / t^_s - 1|", "value": 0.1}])
    claims_table, exploratory_table = rows[:rows.index("")], rows[rows.index("") + 3:]
    for header, _, *body in (claims_table, exploratory_table):
        assert len(body) == 1
        assert body[0].replace("\\|", "").count("|") == header.count("|")


@pytest.mark.parametrize("passed,expected", [
    ([True], "reproduced"), ([True, False], "partly reproduced"),
    ([False, False], "not reproduced"), ([], "no claims recorded")])
def test_verdict(passed, expected):
    assert book.verdict([{"passed": p} for p in passed]) == expected


def test_report_page_compares_wall_time_with_budget(tmp_path):
    executions = [Execution("incremental_rank", "quick", "executed", 30.0, 60, "k"),
                  Execution("embedding_depth", "quick", "cached", 90.0, 60, "k"),
                  Execution("adam_spikes", "quick", "failed", 0.0, 60, "", "boom")]
    page = book.report_page(executions, Paths(tmp_path))
    assert "| incremental_rank | quick | – | executed | 30.0 | 60 | yes |" in page
    assert "| embedding_depth | quick | – | cached | 90.0 | 60 | over, within 2× |" in page
    assert "| adam_spikes | quick | – | failed |" in page


def test_quick_chapter_over_twice_its_budget_fails_the_build(tmp_path, monkeypatch):
    slow = Execution("incremental_rank", "quick", "executed", 500.0, 60, "k")
    fine = Execution("x", "quick", "cached", 1.0, 60, "k")
    monkeypatch.setattr(book, "run_chapter",
                        lambda chapter, *a, **k: slow if chapter.name == slow.chapter else fine)
    with pytest.raises(book.BookFailed, match="took 500 s in quick mode, over 2× its budget"):
        book.run_all("quick", force=False, paths=Paths(tmp_path))
    assert (tmp_path / "book" / "generated" / "report.md").exists()
    book.run_all("paper", force=False, paths=Paths(tmp_path))  # paper mode has no budget
