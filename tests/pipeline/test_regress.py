"""The regression gates: which tier runs and why, a changed number fails readably in both tiers,
blessing restores green and records the fingerprint."""

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest

from companion.numerics import fingerprint
from companion.pipeline import regress
from companion.pipeline.style import PNG_METADATA, apply_style
from companion.pipeline.tolerance import Exact, Rounding, write_declarations

FINGERPRINT = {"machine": "x86_64", "torch_cpu_capability": "AVX2",
               "versions": {"torch": "2.13.0+cpu", "numpy": "2.4.6"}}


def write_figure(folder, name, slope, mode="quick", overrides=None, machine=FINGERPRINT,
                 noise=4e-16):
    """A one-line figure with its data, tolerance classes and provenance, as a chapter run
    writes them; ``noise`` is a rounding-noise array beside the line."""
    apply_style()
    folder.mkdir(parents=True, exist_ok=True)
    x = np.linspace(0.0, 1.0, 50)
    np.savez(folder / f"{name}.npz", x=x, y=slope * x, residual=np.full(3, noise))
    write_declarations(folder / f"{name}.tolerance.json",
                       {"x": Exact(), "y": Exact(), "residual": Rounding(1e-12)})
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(x, slope * x)
    ax.set_ylim(0, 2)
    fig.savefig(folder / f"{name}.png", metadata=PNG_METADATA)
    plt.close(fig)
    (folder / "provenance.json").write_text(json.dumps(
        {"chapter": "toy", "mode": mode, "overrides": overrides or {}, "command": "c",
         "commit": "x", "dirty": False, "versions": {}, "fingerprint": machine}))


def test_identical_run_passes_both_tiers(tmp_path):
    write_figure(tmp_path / "run", "line", 1.0)
    write_figure(tmp_path / "base", "line", 1.0)
    assert regress.compare_exact("line", tmp_path / "run", tmp_path / "base",
                                 tmp_path / "work") == []
    assert regress.compare_portable("line", tmp_path / "run", tmp_path / "base") == []


def test_changed_number_fails_with_readable_report_then_bless_restores(tmp_path):
    write_figure(tmp_path / "base", "line", 1.0)
    write_figure(tmp_path / "run", "line", 1.01)  # e.g. a learning rate changed by 1%
    problems = regress.compare_exact("line", tmp_path / "run", tmp_path / "base",
                                     tmp_path / "work")
    assert len(problems) == 1
    assert "line: 'y' differs" in problems[0] and "worst at index (49,)" in problems[0]
    assert "run 1.01" in problems[0] and problems[0].endswith("baseline 1")
    portable, = regress.compare_portable("line", tmp_path / "run", tmp_path / "base")
    assert portable.startswith("line: array 'y', exact: 49 of 50 values outside rtol=1e-09")

    regress.bless(tmp_path / "run", tmp_path / "base", reason="slope changed on purpose")
    assert regress.compare_exact("line", tmp_path / "run", tmp_path / "base",
                                 tmp_path / "work") == []
    assert json.loads((tmp_path / "base" / "BLESSED.json").read_text())["reason"] == \
        "slope changed on purpose"


def test_the_exact_tier_runs_only_where_the_fingerprint_equals_the_baselines(tmp_path):
    write_figure(tmp_path / "base", "line", 1.0)
    write_figure(tmp_path / "run", "line", 1.0)
    assert regress.select_tier(tmp_path / "run", tmp_path / "base") == regress.Tier(
        False, "the numerical fingerprint differs from the baselines' "
               "(the baselines record no fingerprint)")
    regress.bless(tmp_path / "run", tmp_path / "base", reason="r")
    assert regress.select_tier(tmp_path / "run", tmp_path / "base").exact

    other = {**FINGERPRINT, "torch_cpu_capability": "DEFAULT",
             "versions": {**FINGERPRINT["versions"], "numpy": "2.5.0"}}
    write_figure(tmp_path / "elsewhere", "line", 1.0, machine=other)
    tier = regress.select_tier(tmp_path / "elsewhere", tmp_path / "base")
    assert not tier.exact
    assert tier.reason == ("the numerical fingerprint differs from the baselines' "
                           "(torch_cpu_capability: run DEFAULT, baseline AVX2; "
                           "versions.numpy: run 2.5.0, baseline 2.4.6)")


def test_this_machines_fingerprint_round_trips_through_blessed_json(tmp_path):
    here = fingerprint()
    write_figure(tmp_path / "run", "line", 1.0, machine=here)
    regress.bless(tmp_path / "run", tmp_path / "base", reason="r")
    assert json.loads((tmp_path / "base" / "BLESSED.json").read_text())["fingerprint"] == here
    assert regress.select_tier(tmp_path / "run", tmp_path / "base").exact
    assert here["threads"]["torch"] == 1  # the test process is pinned like every kernel


def test_rounding_noise_passes_the_portable_tier_but_not_its_bound(tmp_path):
    write_figure(tmp_path / "base", "line", 1.0, noise=4.3e-16)
    write_figure(tmp_path / "run", "line", 1.0, noise=1.2e-15)
    assert regress.compare_portable("line", tmp_path / "run", tmp_path / "base") == []
    write_figure(tmp_path / "run", "line", 1.0, noise=3e-9)
    assert regress.compare_portable("line", tmp_path / "run", tmp_path / "base") == [
        "line: array 'residual', rounding: |value| 3e-09 at index (0,) exceeds the bound 1e-12"]


def test_an_array_without_a_tolerance_class_fails_the_portable_tier(tmp_path):
    write_figure(tmp_path / "base", "line", 1.0)
    write_figure(tmp_path / "run", "line", 1.0)
    write_declarations(tmp_path / "run" / "line.tolerance.json", {"x": Exact(), "y": Exact()})
    assert regress.compare_portable("line", tmp_path / "run", tmp_path / "base") == [
        "line: array 'residual' has no tolerance class: declare one in "
        "run.figure('line', ..., tolerance={'residual': ...})"]
    (tmp_path / "run" / "line.tolerance.json").unlink()
    assert regress.compare_portable("line", tmp_path / "run", tmp_path / "base") == [
        "the run did not produce line.tolerance.json"]


def test_image_gate_catches_a_change_the_data_gate_cannot_see(tmp_path):
    write_figure(tmp_path / "base", "line", 1.0)
    write_figure(tmp_path / "run", "line", 1.0)
    fig, ax = plt.subplots(figsize=(3, 2))  # same data, drawn differently
    ax.plot([0, 1], [0, 1], linewidth=6)
    fig.savefig(tmp_path / "run" / "line.png", metadata=PNG_METADATA)
    plt.close(fig)
    problems = regress.compare_exact("line", tmp_path / "run", tmp_path / "base",
                                     tmp_path / "work")
    assert len(problems) == 1 and "RMS" in problems[0]
    assert (tmp_path / "work" / "line-failed-diff.png").exists()
    assert regress.compare_portable("line", tmp_path / "run", tmp_path / "base") == []


def test_a_figure_redrawn_at_another_size_fails_the_image_gate(tmp_path):
    write_figure(tmp_path / "base", "line", 1.0)
    write_figure(tmp_path / "run", "line", 1.0)
    fig, ax = plt.subplots(figsize=(6, 2))
    ax.plot([0, 1], [0, 1])
    fig.savefig(tmp_path / "run" / "line.png", metadata=PNG_METADATA)
    plt.close(fig)
    (problem,) = regress.compare_exact("line", tmp_path / "run", tmp_path / "base",
                                       tmp_path / "work")
    assert problem.startswith("line.png: Image sizes do not match"), problem


def test_shape_and_missing_arrays_are_reported(tmp_path):
    write_figure(tmp_path / "base", "line", 1.0)
    (tmp_path / "run").mkdir()
    np.savez(tmp_path / "run" / "line.npz", x=np.zeros(3))
    problems = regress.compare_data(tmp_path / "base" / "line.npz", tmp_path / "run" / "line.npz")
    assert "array 'residual' is in the baseline but not in the run" in problems[0]
    assert "array 'y' is in the baseline but not in the run" in problems[1]
    assert "'x' has shape (3,), baseline (50,)" in problems[2]


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
        assert regress.compare_exact(name, tmp_path / "run", tmp_path / "base",
                                     tmp_path / "work") == []
