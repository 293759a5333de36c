"""The book's figures re-executed: on another CPU, with a changed learning rate, and again here.

One module-scoped fixture, :func:`reruns`, executes in scratch copies of the repository (so the
published outputs are untouched), two kernels at a time:

* every chapter once with torch's CPU kernels restricted to its portable default
  (``ATEN_CPU_CAPABILITY=default``: what a CPU without AVX2 runs). Its numerical fingerprint
  differs from the baselines', so the exact tier must be skipped and say why, while the
  portable tier (each array by its declared tolerance class) and every claim must pass;
* the cheapest chapter with its learning rate 1% higher: a real change of the science, which
  the portable tier must catch, naming the figure, the array and the statistic;
* the cheapest chapter again as published (pinned, same seed): same machine, same numbers,
  bit for bit.
"""

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from companion.pipeline import regress
from companion.pipeline.paths import Paths
from companion.pipeline.registry import CHAPTERS
from conftest import ROOT, chapter_results

pytestmark = pytest.mark.slow  # re-executes every chapter

OTHER_CPU = {"ATEN_CPU_CAPABILITY": "default"}
CHEAPEST = "incremental_rank"  # about 20 s of CPU: the chapter rerun twice more
LONGEST_FIRST = ["embedding_depth", "adam_spikes", "incremental_rank", "connectivity"]
WORKERS = 2
# The budgets are the book's business; here a loaded machine only has to finish.
RUN = """
import sys
from pathlib import Path
from companion.pipeline.execute import Limits, run_chapter
from companion.pipeline.paths import Paths
from companion.pipeline.registry import CHAPTERS
chapter, root = sys.argv[1], Path(sys.argv[2])
overrides = dict(assignment.split("=", 1) for assignment in sys.argv[3:])
run_chapter(CHAPTERS[chapter], overrides=overrides, force=True, paths=Paths(root),
            limits=Limits(timeout_s=20 * CHAPTERS[chapter].budget_s))
"""


def execute(jobs: list[tuple[str, Paths, dict, dict]]) -> None:
    """Run ``(chapter, paths, overrides, environment)`` jobs, :data:`WORKERS` at a time, each in
    its own Python process (its kernel inherits the environment); fail naming any that fails."""
    def run(job) -> str:
        chapter, paths, overrides, environment = job
        command = [sys.executable, "-c", RUN, chapter, str(paths.root),
                   *(f"{name}={value}" for name, value in overrides.items())]
        done = subprocess.run(command, env={**os.environ, **environment}, capture_output=True,
                              text=True)
        return "" if done.returncode == 0 else f"{chapter}: {done.stderr.strip()[-500:]}"

    with ThreadPoolExecutor(WORKERS) as pool:
        failed = [error for error in pool.map(run, jobs) if error]
    assert not failed, "re-executions failed:\n" + "\n".join(failed)


@pytest.fixture(scope="module")
def reruns(tmp_path_factory) -> dict[str, Paths]:
    """Scratch roots of the three re-executions: ``other_cpu``, ``learning_rate``, ``again``."""
    roots = {name: Paths.scratch(ROOT, tmp_path_factory.mktemp(name))
             for name in ("other_cpu", "learning_rate", "again")}
    faster = {"learning_rate": f"{CHAPTERS[CHEAPEST].quick.learning_rate * 1.01!r}"}
    execute([*((chapter, roots["other_cpu"], {}, OTHER_CPU) for chapter in LONGEST_FIRST),
             (CHEAPEST, roots["learning_rate"], faster, {}),
             (CHEAPEST, roots["again"], {}, {})])
    return roots


def portable_problems(results, chapter: str) -> list[str]:
    baselines = Paths(ROOT).baselines(chapter)
    return [f"{chapter}/{problem}" for name in regress.figure_names(baselines)
            for problem in regress.compare_portable(name, results, baselines)]


def test_every_chapter_is_rerun():
    assert sorted(LONGEST_FIRST) == sorted(CHAPTERS)


@pytest.mark.parametrize("chapter", LONGEST_FIRST)
def test_on_another_cpu_the_exact_tier_is_skipped_and_says_why(reruns, chapter):
    published = json.loads((chapter_results(chapter) / "provenance.json").read_text())
    if published["fingerprint"]["torch_cpu_capability"] == "DEFAULT":
        pytest.skip("this CPU already runs torch's default kernels: no other capability")
    tier = regress.select_tier(reruns["other_cpu"].results(chapter),
                               Paths(ROOT).baselines(chapter))
    assert not tier.exact
    assert "torch_cpu_capability: run DEFAULT, baseline" in tier.reason, tier.reason


@pytest.mark.parametrize("chapter", LONGEST_FIRST)
def test_on_another_cpu_the_portable_tier_passes(reruns, chapter):
    problems = portable_problems(reruns["other_cpu"].results(chapter), chapter)
    assert not problems, "the portable tier fails on another CPU:\n" + "\n".join(problems)


@pytest.mark.parametrize("chapter", LONGEST_FIRST)
def test_on_another_cpu_every_claim_passes(reruns, chapter):
    claims = json.loads((reruns["other_cpu"].results(chapter) / "claims.json").read_text())
    failed = [f"{c['claim_id']} {c['statement']} = {c['value']:.4g}, required {c['op']} "
              f"{c['bound']:.4g}" for c in claims["claims"]
              if not c["passed"] and not c["known_failure"]]
    assert not failed, f"{chapter} on another CPU:\n" + "\n".join(failed)


def test_a_one_percent_learning_rate_fails_the_portable_tier_naming_what(reruns):
    problems = portable_problems(reruns["learning_rate"].results(CHEAPEST), CHEAPEST)
    print("\n".join(problems))
    assert problems, "a 1% change of the learning rate went unnoticed"
    for problem in problems:  # e.g. "connectivity/fig4_saddles: array 'losses', log envelope:"
        assert re.match(rf"{CHEAPEST}/fig\w+: array '\w+', "
                        r"(exact|close|log envelope|level|events|count)\b", problem), problem


def test_same_machine_same_seed_same_numbers(reruns):
    published, again = chapter_results(CHEAPEST), reruns["again"].results(CHEAPEST)
    names = sorted(p.name for p in published.glob("*.npz"))
    assert names == sorted(p.name for p in again.glob("*.npz"))
    for name in names:
        with np.load(published / name) as first, np.load(again / name) as second:
            assert sorted(first) == sorted(second)
            for key in first:
                assert np.array_equal(first[key], second[key], equal_nan=True), \
                    f"{CHEAPEST}/{name}: '{key}' differs between two runs with the same seed"
