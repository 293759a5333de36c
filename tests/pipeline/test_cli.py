"""The command line: bad input gets a clear error and a non-zero exit, and touches nothing."""

import hashlib
import subprocess
import sys

import pytest

from companion.params import ParameterError
from companion.pipeline.registry import CHAPTERS, get_chapter, make_config
from conftest import ROOT


def companion(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "companion", *args], cwd=ROOT,
                          capture_output=True, text=True)


def published_state() -> dict[str, str]:
    """Hashes of every published output of every chapter (empty if none yet)."""
    files = [*(ROOT / "book" / "chapters").glob("*.ipynb"),
             *(ROOT / "build" / "results").glob("*/*")]
    return {str(f.relative_to(ROOT)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(files) if f.is_file()}


@pytest.mark.parametrize("args,expected", [
    (["run", "no_such_chapter"], "unknown chapter 'no_such_chapter'. Chapters: "),
    (["run", "incremental_rank", "-p", "learning_rat=0.2"],
     "unknown parameter 'learning_rat' for chapter 'incremental_rank'. Valid parameters: "),
    (["run", "incremental_rank", "-p", "steps=many"], "parameter 'steps' expects int"),
    (["run", "incremental_rank", "-p", "learning_rate=-1"], "learning_rate must be > 0"),
])
def test_bad_input_exits_2_names_it_and_leaves_outputs_untouched(args, expected):
    before = published_state()
    result = companion(*args)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert published_state() == before


def test_unknown_parameter_message_lists_every_valid_name():
    result = companion("run", "adam_spikes", "-p", "betta2=0.9")
    for name in ("beta2", "seed", "learning_rate"):
        assert name in result.stderr


def test_bad_mode_and_malformed_assignment_are_usage_errors():
    assert companion("run", "incremental_rank", "--mode", "slow").returncode == 2
    result = companion("run", "incremental_rank", "-p", "seed")
    assert result.returncode == 2 and "expected name=value" in result.stderr


def test_list_shows_every_chapter_and_parameter():
    result = companion("list")
    assert result.returncode == 0
    for chapter in CHAPTERS.values():
        assert chapter.name in result.stdout
        for name in chapter.modes["quick"].__dataclass_fields__:
            assert f"    {name} (" in result.stdout


def test_python_values_are_checked_too():
    chapter = get_chapter("incremental_rank")
    assert make_config(chapter, "quick", {"learning_rate": 1}).learning_rate == 1.0
    with pytest.raises(ParameterError, match="'steps' expects int, got bool"):
        make_config(chapter, "quick", {"steps": True})
    with pytest.raises(ParameterError, match="'alpha_sweep' expects float, got 'x'"):
        make_config(chapter, "quick", {"alpha_sweep": "1e-2,x"})
    assert make_config(chapter, "paper", {}).dim > make_config(chapter, "quick", {}).dim
