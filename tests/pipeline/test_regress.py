"""The regression gates themselves: a changed number fails readably; blessing restores green."""

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest

from companion.pipeline import regress
from companion.pipeline.style import PNG_METADATA, apply_style


def write_figure(folder, name, slope, mode="quick", overrides=None):
    """A one-line figure with its data and a provenance record, as a chapter run writes them."""
    apply_style()
    folder.mkdir(parents=True, exist_ok=True)
    x = np.linspace(0.0, 1.0, 50)
    np.savez(folder / f"{name}.npz", x=x, y=slope * x)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(x, slope * x)
    ax.set_ylim(0, 2)
    fig.savefig(folder / f"{name}.png", metadata=PNG_METADATA)
    plt.close(fig)
    (folder / "provenance.json").write_text(json.dumps(
        {"chapter": "toy", "mode": mode, "overrides": overrides or {}, "command": "c",
         "commit": "x", "dirty": False, "versions": {}}))


def test_identical_run_passes(tmp_path):
    write_figure(tmp_path / "run", "line", 1.0)
    write_figure(tmp_path / "base", "line", 1.0)
    assert regress.compare_figure("line", tmp_path / "run", tmp_path / "base",
                                  tmp_path / "work") == []


def test_changed_number_fails_with_readable_report_then_bless_restores(tmp_path):
    write_figure(tmp_path / "base", "line", 1.0)
    write_figure(tmp_path / "run", "line", 1.01)  # e.g. a learning rate changed by 1%
    problems = regress.compare_figure("line", tmp_path / "run", tmp_path / "base",
                                      tmp_path / "work")
    assert len(problems) == 1
    assert "line: 'y' differs" in problems[0] and "worst at index (49,)" in problems[0]
    assert "run 1.01" in problems[0] and problems[0].endswith("baseline 1")

    regress.bless(tmp_path / "run", tmp_path / "base", reason="slope changed on purpose")
    assert regress.compare_figure("line", tmp_path / "run", tmp_path / "base",
                                  tmp_path / "work") == []
    assert json.loads((tmp_path / "base" / "BLESSED.json").read_text())["reason"] == \
        "slope changed on purpose"


def test_image_gate_catches_a_change_the_data_gate_cannot_see(tmp_path):
    write_figure(tmp_path / "base", "line", 1.0)
    write_figure(tmp_path / "run", "line", 1.0)
    fig, ax = plt.subplots(figsize=(3, 2))  # same data, drawn differently
    ax.plot([0, 1], [0, 1], linewidth=6)
    fig.savefig(tmp_path / "run" / "line.png", metadata=PNG_METADATA)
    plt.close(fig)
    problems = regress.compare_figure("line", tmp_path / "run", tmp_path / "base",
                                      tmp_path / "work")
    assert len(problems) == 1 and "RMS" in problems[0]
    assert (tmp_path / "work" / "line-failed-diff.png").exists()


def test_shape_and_missing_arrays_are_reported(tmp_path):
    write_figure(tmp_path / "base", "line", 1.0)
    (tmp_path / "run").mkdir()
    np.savez(tmp_path / "run" / "line.npz", x=np.zeros(3))
    problems = regress.compare_data(tmp_path / "base" / "line.npz", tmp_path / "run" / "line.npz")
    assert "array 'y' is in the baseline but not in the run" in problems[0]
    assert "'x' has shape (3,), baseline (50,)" in problems[1]


def test_bless_refuses_a_paper_mode_or_overridden_run(tmp_path):
    write_figure(tmp_path / "run", "line", 1.0, mode="paper")
    with pytest.raises(ValueError, match="only from a plain quick run"):
        regress.bless(tmp_path / "run", tmp_path / "base", reason="r")
    write_figure(tmp_path / "run", "line", 1.0, overrides={"seed": 3})
    with pytest.raises(ValueError, match="only from a plain quick run"):
        regress.bless(tmp_path / "run", tmp_path / "base", reason="r")


def test_bless_rewrites_only_the_figures_that_changed(tmp_path):
    write_figure(tmp_path / "base", "kept", 1.0)
    write_figure(tmp_path / "base", "moved", 1.0)
    write_figure(tmp_path / "base", "dropped", 1.0)
    kept_bytes = (tmp_path / "base" / "kept.png").read_bytes()
    write_figure(tmp_path / "run", "kept", 1.0)
    write_figure(tmp_path / "run", "moved", 2.0)
    write_figure(tmp_path / "run", "added", 1.0)
    fig, ax = plt.subplots(figsize=(3, 2))  # same pixels, other metadata (a new commit)
    ax.plot(np.linspace(0.0, 1.0, 50), np.linspace(0.0, 1.0, 50))
    ax.set_ylim(0, 2)
    fig.savefig(tmp_path / "run" / "kept.png", metadata={**PNG_METADATA, "Source": "new"})
    plt.close(fig)
    assert (tmp_path / "run" / "kept.png").read_bytes() != kept_bytes
    assert regress.bless(tmp_path / "run", tmp_path / "base", reason="r",
                         drop=["dropped"]) == ["added", "moved"]
    assert regress.figure_names(tmp_path / "base") == ["added", "kept", "moved"]
    assert not (tmp_path / "base" / "dropped.png").exists()
    assert (tmp_path / "base" / "kept.png").read_bytes() == kept_bytes
    assert json.loads((tmp_path / "base" / "BLESSED.json").read_text())[
        "figures_rewritten"] == ["added", "moved"]
    for name in ("added", "moved"):
        assert regress.compare_figure(name, tmp_path / "run", tmp_path / "base",
                                      tmp_path / "work") == []
