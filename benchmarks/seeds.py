"""Robustness of a chapter's claims across seeds: each check's value on seeds 0 .. N-1.

    .venv/bin/python benchmarks/seeds.py CHAPTER [--seeds 5]

The chapter runs in quick mode with ``-p seed=S`` for each seed, in a scratch copy of the
repository (the book's published outputs are not touched). CI checks the claims on the fixed
seeds of the quick config; this shows how much margin they have on others. The table is printed
and written to ``benchmarks/seeds-CHAPTER.md`` with the commit it was measured at.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from companion.pipeline.registry import get_chapter
from companion.pipeline.execute import ChapterFailed, Paths, run_chapter
from companion.pipeline.record import git_state

ROOT = Path(__file__).resolve().parents[1]


def claims_on_seed(chapter, seed: int, paths: Paths) -> list[dict]:
    run_chapter(chapter, overrides={"seed": seed}, force=True, paths=paths)
    return json.loads((paths.results(chapter) / "claims.json").read_text())["claims"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("chapter")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    chapter = get_chapter(args.chapter)
    seeds = range(args.seeds)
    per_seed = {}
    with tempfile.TemporaryDirectory() as scratch:
        paths = Paths.scratch(ROOT, Path(scratch))
        for seed in seeds:
            try:
                per_seed[seed] = claims_on_seed(chapter, seed, paths)
            except ChapterFailed as error:
                per_seed[seed] = str(error)
    git = git_state()
    lines = [f"# Claims of {chapter.name} over seeds", "",
             f"Quick mode with `-p seed=S`, measured {time.strftime('%Y-%m-%d')} at commit "
             f"{git['commit'][:12]}{' (with uncommitted changes)' if git['dirty'] else ''}. "
             "A value in bold fails its bound.", ""]
    failed = {seed: text for seed, text in per_seed.items() if isinstance(text, str)}
    lines += [f"- seed {seed}: the chapter raised: {text}" for seed, text in failed.items()]
    lines += [""] if failed else []
    completed = [seed for seed in seeds if seed not in failed]
    if completed:
        header = " | ".join(f"seed {s}" for s in completed)
        lines += [f"| claim | check | bound | {header} |",
                  "|---|---|---|" + "---|" * len(completed)]
        first = per_seed[completed[0]]
        assert all(len(per_seed[s]) == len(first) for s in completed), "claims differ by seed"
        for row, claim in enumerate(first):
            values = [per_seed[s][row] for s in completed]
            cells = [f"{v['value']:.3g}" if v["passed"] else f"**{v['value']:.3g}**"
                     for v in values]
            statement = claim["statement"].replace("|", "\\|")  # a table cell cannot hold "|"
            lines.append(f"| {claim['claim_id']} {claim['name']} | {statement} | "
                         f"{claim['op']} {claim['bound']:g} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    (ROOT / "benchmarks" / f"seeds-{chapter.name}.md").write_text(text)


if __name__ == "__main__":
    main()
