"""The run pipeline on a toy chapter: validation, failure, atomic publishing, cache.

The toy chapter lives in a temporary repository root so that these tests never touch the
book's own outputs; it uses the same recorder API (`companion.pipeline.record.start`) as the real chapters.
"""

import dataclasses
import hashlib
import shutil
import time
from pathlib import Path

import pytest

from companion.params import ParameterError
from companion.pipeline.execute import ChapterFailed, run_chapter
from companion.pipeline.paths import Paths
from companion.pipeline.registry import Chapter

TOY_SOURCE = '''\
# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
mode = "quick"
overrides = {}

# %%
import dataclasses
import matplotlib.pyplot as plt
import numpy as np
from companion.pipeline import registry
from companion.pipeline.record import start

@dataclasses.dataclass(frozen=True)
class ToyConfig:
    seed: int = 0
    slope: float = 1.0
    fail: bool = False

registry.CHAPTERS["toy"] = registry.Chapter("toy", "Toy", "a line", "nobody", 30, ToyConfig(),
                                            ToyConfig())
run = start("toy", mode, overrides)

# %%
if run.config.fail:
    raise RuntimeError("deliberate failure")

# %%
x = np.linspace(0, 1, 11)
fig, ax = plt.subplots()
ax.plot(x, run.config.slope * x)
run.figure("line", fig, {"x": x, "y": run.config.slope * x})
run.claim("T1", "toy_slope", "slope of the line", run.config.slope, ">=", 1.0)
run.finish()
'''


@dataclasses.dataclass(frozen=True)
class ToyConfig:
    seed: int = 0
    slope: float = 1.0
    fail: bool = False


TOY = Chapter("toy", "Toy", "a line", "nobody", 30, ToyConfig(), ToyConfig())


@pytest.fixture(scope="module")
def toy_root(tmp_path_factory) -> Paths:
    """A repository root with one toy chapter, executed once successfully."""
    root = tmp_path_factory.mktemp("toy_repo")
    (root / "notebooks").mkdir()
    (root / "notebooks" / "toy.py").write_text(TOY_SOURCE)
    (root / "lib" / "companion").mkdir(parents=True)
    (root / "lib" / "companion" / "science.py").write_text("RATE = 1\n")
    paths = Paths(root)
    assert run_chapter(TOY, paths=paths).status == "executed"
    return paths


def fingerprint(paths: Paths) -> dict[str, str]:
    """SHA-256 of every published output of the toy chapter."""
    files = [paths.executed(TOY.name), *sorted(paths.results(TOY.name).iterdir())]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def test_run_publishes_notebook_figure_and_claims(toy_root):
    names = set(fingerprint(toy_root))
    assert {"toy.ipynb", "line.png", "line.npz", "claims.json", "provenance.json",
            "execution.json"} <= names


def test_unknown_parameter_is_rejected_before_any_kernel(toy_root):
    before = fingerprint(toy_root)
    shutil.rmtree(toy_root.staging_root, ignore_errors=True)
    with pytest.raises(ParameterError, match=r"unknown parameter 'slop'.*seed, slope, fail"):
        run_chapter(TOY, overrides={"slop": "2"}, paths=toy_root)
    with pytest.raises(ParameterError, match=r"'slope' expects float, got 'steep'"):
        run_chapter(TOY, overrides={"slope": "steep"}, paths=toy_root)
    assert not toy_root.staging_root.exists(), "a kernel was started for bad input"
    assert fingerprint(toy_root) == before


def test_failing_chapter_names_cell_and_error_and_keeps_last_good_outputs(toy_root):
    before = fingerprint(toy_root)
    with pytest.raises(ChapterFailed) as failure:
        run_chapter(TOY, overrides={"fail": True}, paths=toy_root)
    message = str(failure.value)
    assert "chapter 'toy'" in message and "RuntimeError: deliberate failure" in message
    assert "if run.config.fail" in message, "the failing cell is not named"
    assert "untouched" in message
    assert fingerprint(toy_root) == before


def test_unchanged_rerun_starts_no_kernel_and_library_change_reruns(toy_root):
    run_chapter(TOY, paths=toy_root)  # the failure test left the published run current
    started = time.perf_counter()
    assert run_chapter(TOY, paths=toy_root).status == "cached"
    assert time.perf_counter() - started < 1.0, "a cached run should not start a kernel"

    science = toy_root.root / "lib" / "companion" / "science.py"
    science.write_text("RATE = 2\n")
    assert run_chapter(TOY, paths=toy_root).status == "executed"
    assert run_chapter(TOY, paths=toy_root).status == "cached"
    assert run_chapter(TOY, force=True, paths=toy_root).status == "executed"


def test_override_changes_outputs_and_provenance(toy_root):
    run_chapter(TOY, overrides={"slope": "2.5"}, paths=toy_root)
    provenance = (toy_root.results(TOY.name) / "provenance.json").read_text()
    assert '"slope": 2.5' in provenance
    assert "python -m companion run toy --mode quick -p slope=2.5" in provenance
    run_chapter(TOY, paths=toy_root)
