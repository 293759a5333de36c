"""The run pipeline on a toy chapter: validation, failure, atomic publishing, cache.

The toy chapter lives in a temporary repository root so that these tests never touch the
book's own outputs; it uses the same recorder API (`companion.pipeline.record.start`) as the
real chapters.
"""

import json
import shutil
import time

import pytest

from companion.params import ParameterError
from companion.pipeline.execute import ChapterFailed, run_chapter
from .toy_chapter import TOY, command_line, executed_toy_root, fingerprint

pytestmark = pytest.mark.slow  # starts real kernels


@pytest.fixture(scope="module")
def toy_root(tmp_path_factory):
    """A repository root with one toy chapter, executed once successfully."""
    return executed_toy_root(tmp_path_factory.mktemp("toy_repo"))


def test_run_publishes_notebook_figure_and_claims(toy_root):
    names = {path.rsplit("/", 1)[-1] for path in fingerprint(toy_root)}
    assert {"toy.ipynb", "line.png", "line.npz", "claims.json", "provenance.json",
            "execution.json"} <= names


def test_unknown_parameter_is_rejected_before_any_kernel(toy_root):
    before = fingerprint(toy_root)
    shutil.rmtree(toy_root.staging_root, ignore_errors=True)
    with pytest.raises(ParameterError, match=r"unknown parameter 'slop'.*seed, slope, fault"):
        run_chapter(TOY, overrides={"slop": "2"}, paths=toy_root)
    with pytest.raises(ParameterError, match=r"'slope' expects float, got 'steep'"):
        run_chapter(TOY, overrides={"slope": "steep"}, paths=toy_root)
    assert not toy_root.staging_root.exists(), "a kernel was started for bad input"
    assert fingerprint(toy_root) == before


def test_failing_chapter_names_cell_and_error_and_keeps_last_good_outputs(toy_root):
    before = fingerprint(toy_root)
    with pytest.raises(ChapterFailed) as failure:
        run_chapter(TOY, overrides={"fault": "raise"}, paths=toy_root)
    message = str(failure.value)
    assert "chapter 'toy'" in message and "RuntimeError: deliberate failure" in message
    assert "fault = run.config.fault" in message, "the failing cell is not named"
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


def test_a_tuple_parameter_from_the_command_line_reaches_the_kernel(toy_root, monkeypatch,
                                                                    capsys):
    """papermill writes parameters into the notebook as Python source: the tuple of
    ``-p sigmas=1,0.7,0.4`` must arrive as that tuple, not as the string of its repr."""
    cli = command_line(toy_root, {TOY.name: TOY}, monkeypatch, capsys)
    code, _, err = cli("run", "toy", "-p", "sigmas=1,0.7,0.4")
    assert code == 0, err
    provenance = json.loads((toy_root.results(TOY.name) / "provenance.json").read_text())
    assert provenance["config"]["sigmas"] == provenance["overrides"]["sigmas"] == [1, 0.7, 0.4]
    assert provenance["command"].endswith("-p sigmas=1.0,0.7,0.4")
    run_chapter(TOY, paths=toy_root)
