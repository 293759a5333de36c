"""The trust pages: reproduction status, execution report and the intro's chapter table; the
claims tables and verdicts they share; the time-budget rule."""

import json
import re

import pytest

from companion.pipeline import site as book
from companion.pipeline import tables
from companion.pipeline.registry import CHAPTERS
from companion.pipeline.execute import Execution
from companion.pipeline.paths import Paths


def write_claims(paths: Paths, chapter: str, passed: list[bool]) -> None:
    folder = paths.results(chapter)
    folder.mkdir(parents=True)
    claims = [{"claim_id": f"A{i}", "name": f"claim_{i}", "statement": "s", "value": 0.5,
               "op": "<=", "bound": 1.0, "passed": ok} for i, ok in enumerate(passed, 1)]
    (folder / "claims.json").write_text(json.dumps(
        {"chapter": chapter, "mode": "quick", "seed": 0, "claims": claims,
         "exploratory": [{"name": "tail", "statement": "not asserted", "value": 0.9}]}))
    (folder / "provenance.json").write_text(json.dumps(
        {"commit": "0123456789abcdef", "dirty": True, "device": "cpu: test",
         "executed_at": "2026-01-02 03:04 UTC", "python": "3.11.7",
         "versions": {"torch": "2.13.0", "numpy": "2.4.6"}}))


def test_status_page_opens_with_a_summary_and_reports_every_failed_claim(tmp_path):
    paths = Paths(tmp_path)
    assert book.status_page(paths).count("Not run yet.") == len(CHAPTERS)
    first, last = list(CHAPTERS)[0], list(CHAPTERS)[-1]
    write_claims(paths, first, [True, True])
    write_claims(paths, last, [True, False])
    summary, *sections = book.status_page(paths).split("\n## ")
    assert summary.count("<tr>") == len(CHAPTERS) + 1  # the header and one row per chapter
    assert ">reproduced</span>" in summary and ">partly reproduced</span>" in summary
    assert '<td data-label="Failing claims">A2</td>' in summary
    assert "**Verdict: reproduced** (2 of 2 checks pass)" in sections[0]
    assert "**Verdict: partly reproduced** (1 of 2 checks pass)" in sections[-1]
    assert "Failing checks (1):" in sections[-1] and "Failing checks" not in sections[0]
    assert sections[-1].count(">FAIL</span>") == 2  # among the failing, and among all checks
    assert "(dirty tree)" in sections[0] and "deliberately not asserted" in sections[0]


def test_claims_tables_escape_statements_and_put_claims_in_order():
    """``_``, ``*``, ``|`` and ``<`` in a statement stay literal text; rows follow the claim
    ids (A2 before A10), each with its four labelled cells."""
    claims = [{"claim_id": cid, "name": "snake_name", "statement": "max_t |x_t - x*| < y",
               "value": 1e-15, "op": "<=", "bound": 1e-12, "passed": cid != "A2"}
              for cid in ("A10", "C1", "A2")]
    table = tables.claims_table(claims)
    rows = table.split("<tr")[2:]
    assert [re.search(r"<strong>(\w+)</strong>", row).group(1) for row in rows] == \
        ["A2", "A10", "C1"]
    assert all(row.count("<td data-label=") == 4 for row in rows)
    assert "<code>max_t |x_t - x*| &lt; y</code>" in table
    assert '<span class="number">1e-15</span> ≤ <span class="number">1e-12</span>' in table
    assert "snake_<wbr>name" in table
    assert 'class="claim-fail"' in rows[0] and ">FAIL</span>" in rows[0]


def test_exploratory_values_are_folded_under_the_claims():
    lines = tables.claims_tables([], [{"name": "e", "statement": "|t_s / t^_s - 1|",
                                       "value": 0.1}])
    assert lines[2].startswith(":::{dropdown} Exploratory: 1 quantities")
    assert "<code>|t_s / t^_s - 1|</code>" in lines[3] and lines[4] == ":::"


def test_the_verdict_box_says_what_fails_and_how_the_run_was_made():
    claims = {"mode": "quick", "claims": [{"claim_id": "A1", "passed": True},
                                          {"claim_id": "A3", "passed": False}]}
    provenance = {"executed_at": "2026-01-02 03:04 UTC", "device": "cpu: test",
                  "commit": "0123456789abcdef", "dirty": False}
    box = tables.verdict_admonition(claims, provenance, 41.6, "../../downloads/x")
    assert box.splitlines()[:2] == [":::{admonition} Verdict: partly reproduced",
                                    ":class: warning"]
    assert "1 of 2 checks pass (A3 fail): quick mode, executed 2026-01-02 03:04 UTC in 42 s" \
        in box
    assert 'href="../../downloads/x/claims.json"' in box and box.endswith(":::")


def test_the_intro_table_cites_each_chapters_papers_and_shows_its_verdict(tmp_path):
    paths = Paths(tmp_path)
    (tmp_path / "references.bib").write_text(
        "@misc{a2020, title={A}, keywords={%s}}\n@misc{b2021, title={B}}\n" % list(CHAPTERS)[0])
    write_claims(paths, list(CHAPTERS)[0], [True])
    _, _, header, _, first, *others, _ = book.chapter_table(paths)
    assert header.startswith("| Chapter | Verdict |")
    assert ">reproduced</span>" in first and "{cite:t}`a2020`" in first
    assert all(">not run yet</span>" in row and "cite" not in row for row in others)


def test_report_page_compares_wall_time_with_budget(tmp_path):
    executions = [Execution("incremental_rank", "quick", "executed", 30.0, 60, "k"),
                  Execution("embedding_depth", "quick", "cached", 90.0, 60, "k"),
                  Execution("adam_spikes", "quick", "failed", 0.0, 60, "", "boom")]
    page = book.report_page(executions, Paths(tmp_path))
    assert "| incremental_rank | quick | – | executed | 30.0 | 60 | yes |" in page
    assert "| embedding_depth | quick | – | cached | 90.0 | 60 | over, within 2× |" in page
    assert "| adam_spikes | quick | – | failed |" in page


def test_report_page_gives_date_commit_versions_and_files_of_each_published_run(tmp_path):
    paths = Paths(tmp_path)
    write_claims(paths, "incremental_rank", [True])
    page = book.report_page([Execution("incremental_rank", "quick", "cached", 30.0, 60, "k")],
                            paths)
    assert "| incremental_rank | quick | cpu: test | cached | 30.0 | 60 | yes |" in page
    assert ("| incremental_rank | 2026-01-02 03:04 UTC | `0123456789` | Python 3.11.7, "
            "torch 2.13.0, numpy 2.4.6 | ") in page
    assert '<a href="../../downloads/incremental_rank/provenance.json">' in page


def test_downloads_hold_each_chapters_notebook_source_and_results(tmp_path):
    paths = Paths(tmp_path)
    chapter = list(CHAPTERS)[0]
    write_claims(paths, chapter, [True])
    paths.execution_record(chapter).write_text("{}")
    paths.source(chapter).parent.mkdir(parents=True)
    paths.source(chapter).write_text("# source")
    book.stage_downloads(paths)
    staged = sorted(str(p.relative_to(paths.downloads)) for p in paths.downloads.rglob("*.*"))
    assert staged == [f"{chapter}.py", f"{chapter}/claims.json", f"{chapter}/provenance.json"]


def test_quick_chapter_over_twice_its_budget_fails_the_build(tmp_path, monkeypatch):
    slow = Execution("incremental_rank", "quick", "executed", 500.0, 60, "k")
    fine = Execution("x", "quick", "cached", 1.0, 60, "k")
    monkeypatch.setattr(book, "run_chapter",
                        lambda chapter, *a, **k: slow if chapter.name == slow.chapter else fine)
    with pytest.raises(book.BookFailed, match="took 500 s in quick mode, over 2× its budget"):
        book.run_all("quick", force=False, paths=Paths(tmp_path))
    assert (tmp_path / "book" / "generated" / "report.md").exists()
    book.run_all("paper", force=False, paths=Paths(tmp_path))  # paper mode has no budget


def paper_run(chapter: str, device: str, cpu_s: float, wall_s: float, failed: list[str],
              overrides: dict | None = None) -> dict:
    return {"chapter": chapter, "overrides": overrides or {}, "device": device, "cpu_s": cpu_s,
            "wall_s": wall_s, "estimate_s": 4620, "claims_passed": 19 - len(failed),
            "claims": 19, "claims_failed": failed, "date": "2026-12-01",
            "commit": "0123456789abcdef"}


def test_report_page_shows_measured_paper_mode_against_ten_minutes(tmp_path):
    """A CPU run over ten minutes points to the chapter's GPU path; a GPU run is judged by its
    wall time and compared, claim by claim, with the CPU run; unmeasured chapters say so."""
    paths = Paths(tmp_path)
    paths.paper_times.parent.mkdir(parents=True)
    failed = ["A3 plateau: max gap = 0.2 (<= 0.1)"]
    paths.paper_times.write_text(json.dumps({
        "embedding_depth": paper_run("embedding_depth", "cpu: x86_64, 2 cores", 6912.4, 7000,
                                     failed),
        "embedding_depth -p device=cuda": paper_run("embedding_depth", "cuda: H200", 500, 420,
                                                    [], {"device": "cuda"}),
        "adam_spikes": paper_run("adam_spikes", "cpu: x86_64, 2 cores", 59, 59.1, [])}))
    section = book.report_page([], paths).split("## Paper mode, measured")[1]
    section = section.replace("\u00a0", " ")  # a number and its unit never part
    assert "against a target of 10 min on a two-core machine" in section
    rows = [re.findall(r'<td data-label="[^"]+">(.*?)</td>', row)
            for row in re.findall(r"<tr>(.*?)</tr>", section)][1:]  # after the header
    assert rows[0] == ["<code>incremental_rank</code>", "not measured", *["–"] * 5]
    assert rows[1] == ["<code>embedding_depth</code>", "cpu: x86_64, 2 cores", "1 h 55 min",
                       "1 h 17 min", "no: run it on a GPU (<code>-p device=cuda</code>)",
                       "18 of 19", "2026-12-01<br><code>0123456789</code>"]
    assert rows[2][:6] == ["<code>embedding_depth -p device=cuda</code>", "cuda: H200", "7 min",
                           "1 h 17 min", "yes", "19 of 19; <strong>not</strong> as on the CPU"]
    assert rows[3][:5] == ["<code>adam_spikes</code>", "cpu: x86_64, 2 cores", "59 s",
                           "1 h 17 min", "yes"]
    assert "- embedding_depth: `A3 plateau: max gap = 0.2 (<= 0.1)`" in section


def test_report_page_says_when_no_paper_mode_run_was_measured(tmp_path):
    section = book.report_page([], Paths(tmp_path)).split("## Paper mode, measured")[1]
    assert section.count('<td data-label="device">not measured</td>') == len(CHAPTERS)
