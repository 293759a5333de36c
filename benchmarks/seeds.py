"""Robustness of a chapter's claims across seeds: each claim's value on every seed.

    .venv/bin/python benchmarks/seeds.py CHAPTER [--n-seeds N]

A claim over seeds stores the value of every seed beside its worst one (``Run.claim``), so one
run gives the whole table. Without ``--n-seeds`` the table reads the published quick run
(``build/results/CHAPTER/claims.json``); with it, the chapter runs once in quick mode with
``-p n_seeds=N`` in a scratch copy of the repository (the published outputs are not touched).
The table is printed and written to ``benchmarks/seeds-CHAPTER.md`` with the commit it was
measured at.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from companion.pipeline.execute import run_chapter
from companion.pipeline.paths import Paths
from companion.checks import holds
from companion.pipeline.record import git_state
from companion.pipeline.registry import get_chapter
from companion.pipeline.tables import cell

ROOT = Path(__file__).resolve().parents[1]


def claims_of_run(chapter, n_seeds: int | None) -> tuple[list[dict], str]:
    """The claims of the published run, or of a scratch run with ``n_seeds`` seeds."""
    if n_seeds is None:
        record = Paths(ROOT).results(chapter.name) / "claims.json"
        return json.loads(record.read_text())["claims"], "the published quick run"
    with tempfile.TemporaryDirectory() as scratch:
        paths = Paths.scratch(ROOT, Path(scratch))
        run_chapter(chapter, overrides={"n_seeds": n_seeds}, force=True, paths=paths)
        claims = json.loads((paths.results(chapter.name) / "claims.json").read_text())["claims"]
    return claims, f"a quick run with `-p n_seeds={n_seeds}`"


def seed_table(claims: list[dict]) -> list[str]:
    """One row per claim over seeds, one column per seed; a failing value in bold."""
    over_seeds = [c for c in claims if c.get("over") == "seeds"]
    seeds = sorted({s for c in over_seeds for s in c["values"]}, key=int)
    lines = [f"| claim | check | bound | {' | '.join(f'seed {s}' for s in seeds)} |",
             "|---|---|---|" + "---|" * len(seeds)]
    for c in over_seeds:
        cells = []
        for s in seeds:
            value = c["values"].get(s)
            passed = value is not None and _passes(value, c["op"], c["bound"])
            text = "–" if value is None else f"{value:.3g}"
            cells.append(text if passed or value is None else f"**{text}**")
        lines.append(f"| {c['claim_id']} {c['name']} | {cell(c['statement'])} | "
                     f"{c['op']} {c['bound']:g} | " + " | ".join(cells) + " |")
    return lines


def _passes(value: float, op: str, bound: float) -> bool:
    return value == value and holds(value, op, bound)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("chapter")
    parser.add_argument("--n-seeds", type=int, default=None)
    args = parser.parse_args()
    chapter = get_chapter(args.chapter)
    claims, source = claims_of_run(chapter, args.n_seeds)
    git = git_state()
    lines = [f"# Claims of {chapter.name} over seeds", "",
             f"Every claim over seeds, from {source}, measured {time.strftime('%Y-%m-%d')} at "
             f"commit {git['commit'][:12]}{' (with uncommitted changes)' if git['dirty'] else ''}"
             ". A value in bold fails its bound.", "", *seed_table(claims)]
    text = "\n".join(lines) + "\n"
    print(text)
    (ROOT / "benchmarks" / f"seeds-{chapter.name}.md").write_text(text)


if __name__ == "__main__":
    main()
