"""Figure regression: compare a run's figures with the stored baselines, and bless new ones.

Two tiers. The *exact* tier runs where the run's numerical fingerprint (``provenance.json``,
from ``companion.numerics.fingerprint``) equals the one recorded with the baselines
(``BLESSED.json``): there the figures must be the same, and two gates check it:
1. the arrays behind each figure (``name.npz``) with :data:`RTOL` / :data:`ATOL`;
2. the image (``name.png``) by ``matplotlib.testing.compare.compare_images`` at RMS
   :data:`IMAGE_RMS`, which writes ``name-failed-diff.png`` next to the copy it compared.
The *portable* tier runs everywhere: each array by the tolerance class its chapter declared
beside the figure (``name.tolerance.json``, see ``tolerance``); images are not compared, since
another machine's rounding may legitimately move them.

Baselines (``Paths.baselines``) are written only by :func:`bless`
(``python -m companion bless CHAPTER``), never by a test, and all at once or not at all.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .paths import BASELINE_MODE
from .tolerance import read_declarations

RTOL = 1e-5
ATOL = 1e-8
IMAGE_RMS = 2.0
BLESSED = "BLESSED.json"


@dataclasses.dataclass(frozen=True)
class Tier:
    """Whether the exact tier applies to a run, and why (the fingerprint difference if not)."""

    exact: bool
    reason: str


def _flatten(record: dict, prefix: str = "") -> dict:
    """``{"versions": {"torch": v}}`` as ``{"versions.torch": v}``, for naming differences."""
    flat = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def fingerprint_difference(run: dict, baseline: dict | None) -> list[str]:
    """Each entry of two numerical fingerprints that differs, as 'key: run X, baseline Y'."""
    if baseline is None:
        return ["the baselines record no fingerprint"]
    run, baseline = _flatten(run), _flatten(baseline)
    return [f"{key}: run {run.get(key)}, baseline {baseline.get(key)}"
            for key in sorted(set(run) | set(baseline)) if run.get(key) != baseline.get(key)]


def select_tier(results: Path, baselines: Path) -> Tier:
    """The exact tier if the run's fingerprint equals the baselines', else only the portable."""
    run = json.loads((results / "provenance.json").read_text())["fingerprint"]
    blessed = baselines / BLESSED
    baseline = json.loads(blessed.read_text()).get("fingerprint") if blessed.exists() else None
    differences = fingerprint_difference(run, baseline)
    if not differences:
        return Tier(True, "the run's numerical fingerprint equals the baselines'")
    return Tier(False, "the numerical fingerprint differs from the baselines' ("
                + "; ".join(differences) + ")")


def _array_sets(name: str, old, new) -> list[str]:
    """Arrays that only the baseline or only the run has."""
    return ([f"{name}: array '{k}' is in the baseline but not in the run"
             for k in sorted(set(old) - set(new))]
            + [f"{name}: array '{k}' is new (no baseline for it)"
               for k in sorted(set(new) - set(old))])


def compare_data(expected: Path, actual: Path) -> list[str]:
    """Differences between two figure-data files, one readable line each (empty: equal)."""
    with np.load(expected) as old, np.load(actual) as new:
        problems = _array_sets(actual.stem, old, new)
        for key in sorted(set(old) & set(new)):
            a, b = old[key], new[key]
            if a.shape != b.shape:
                problems.append(f"{actual.stem}: '{key}' has shape {b.shape}, "
                                f"baseline {a.shape}")
            elif not np.allclose(b, a, rtol=RTOL, atol=ATOL, equal_nan=True):
                problems.append(f"{actual.stem}: '{key}' differs: {_worst_difference(a, b)}")
    return problems


def _worst_difference(expected: np.ndarray, actual: np.ndarray) -> str:
    """Where the largest excess over the tolerance is, with both values."""
    expected = expected.astype(float)
    actual = actual.astype(float)
    excess = np.abs(actual - expected) - (ATOL + RTOL * np.abs(expected))
    excess = np.where(np.isnan(excess), np.inf, excess)
    index = np.unravel_index(np.argmax(excess), expected.shape) if expected.ndim else ()
    n_bad = int(np.sum(excess > 0))
    return (f"{n_bad} of {expected.size} values outside rtol={RTOL:g}, atol={ATOL:g}; "
            f"worst at index {tuple(int(i) for i in index)}: run {float(actual[index]):.10g}, "
            f"baseline {float(expected[index]):.10g}")


def compare_image(expected: Path, actual: Path, work_dir: Path) -> str | None:
    """Compare two PNGs at RMS :data:`IMAGE_RMS`; on failure, keep a diff image in work_dir.
    Images of different sizes differ (a figure redrawn at another size or resolution)."""
    from matplotlib.testing.compare import compare_images
    from matplotlib.testing.exceptions import ImageComparisonFailure

    work_dir.mkdir(parents=True, exist_ok=True)
    copy = work_dir / actual.name
    shutil.copyfile(actual, copy)
    try:
        result = compare_images(str(expected), str(copy), tol=IMAGE_RMS, in_decorator=True)
    except ImageComparisonFailure as sizes:
        return f"{actual.stem}.png: {sizes}"
    if result is None:
        return None
    return (f"{actual.stem}.png: RMS {result['rms']:.2f} > {IMAGE_RMS} against the baseline; "
            f"diff image {result['diff']}")


def _missing(name: str, results: Path, extensions: tuple[str, ...]) -> list[str]:
    missing = [f"{name}{ext}" for ext in extensions if not (results / f"{name}{ext}").exists()]
    return [f"the run did not produce {', '.join(missing)}"] if missing else []


def compare_exact(name: str, results: Path, baselines: Path, work_dir: Path) -> list[str]:
    """The exact tier for one figure: the data, then (if they agree) the image."""
    problems = _missing(name, results, (".npz", ".png"))
    if problems:
        return problems
    problems = compare_data(baselines / f"{name}.npz", results / f"{name}.npz")
    if not problems:
        image_problem = compare_image(baselines / f"{name}.png", results / f"{name}.png",
                                      work_dir)
        problems = [image_problem] if image_problem else []
    return problems


def compare_portable(name: str, results: Path, baselines: Path) -> list[str]:
    """The portable tier for one figure: each array by its declared tolerance class.

    Each problem names the figure, the array and the statistic that failed; an array without
    a declared class is a problem too.
    """
    problems = _missing(name, results, (".npz", ".tolerance.json"))
    if problems:
        return problems
    declared = read_declarations(results / f"{name}.tolerance.json")
    with np.load(baselines / f"{name}.npz") as old, np.load(results / f"{name}.npz") as new:
        problems = _array_sets(name, old, new)
        problems += [f"{name}: array '{key}' has no tolerance class: declare one in "
                     f"run.figure('{name}', ..., tolerance={{'{key}': ...}})"
                     for key in sorted(set(new) - set(declared))]
        for key in sorted(set(old) & set(new) & set(declared)):
            problems += [f"{name}: array '{key}', {problem}"
                         for problem in declared[key].check(old[key], new[key])]
    return problems


def figure_names(folder: Path) -> list[str]:
    return sorted(path.stem for path in folder.glob("*.npz"))


class BlessRefused(ValueError):
    """A bless that would leave the baselines wrong or half-written; nothing was written."""


@dataclass(frozen=True)
class BlessPlan:
    """What blessing one chapter will write, checked before anything is written."""

    results: Path
    baselines: Path
    record: dict  # BLESSED.json: the run, the reason and the figures rewritten and dropped
    rewrite: list[str]  # figures whose baseline is missing, unreadable or differs from the run
    drop: list[str]  # baselines of figures the chapter no longer draws, dropped by name
    notes: list[str]  # baselines replaced because they could not be read

    @property
    def changes_record(self) -> bool:
        """Whether BLESSED.json is rewritten: when a figure changes or is dropped, or when the
        run's machine is not the one recorded (the exact tier then belongs to this machine)."""
        return bool(self.rewrite or self.drop
                    or _recorded_fingerprint(self.baselines) != self.record["fingerprint"])


def bless(results: Path, baselines: Path, reason: str, drop=()) -> list[str]:
    """Bring one chapter's baselines in line with its latest quick-mode run; return what changed.

    See :func:`plan_bless` for what is checked first and :func:`apply_bless` for how it is
    written; ``python -m companion bless`` plans every named chapter before writing any.
    """
    plan = plan_bless(results, baselines, reason, drop)
    apply_bless([plan])
    return plan.rewrite


def plan_bless(results: Path, baselines: Path, reason: str, drop=()) -> BlessPlan:
    """Check a bless before anything is written; :class:`BlessRefused` says what is wrong.

    The reason must say something; the run must be a plain quick-mode run whose every figure
    has both its files, readable. Only figures that fail :func:`compare_exact`, have no
    baseline or an unreadable one are rewritten, so a commit of the baselines shows exactly the
    figures whose numbers or pixels moved. A baseline of a figure the run lacks is dropped only
    if ``drop`` names it: a figure that is missing by accident must not lose its baseline.
    """
    if not reason.strip():
        raise BlessRefused("--reason is empty: say why the figures changed (it is recorded)")
    provenance = _provenance(results)
    if provenance["mode"] != BASELINE_MODE or provenance["overrides"]:
        raise BlessRefused(
            f"{results} holds a {provenance['mode']}-mode run with overrides "
            f"{provenance['overrides']}: baselines are blessed only from a plain quick run "
            "('python -m companion run CHAPTER --force' first)")
    names = sorted({path.stem for ext in (".npz", ".png") for path in results.glob(f"*{ext}")})
    for name in names:
        problem = _unreadable(results, name)
        if problem:
            raise BlessRefused(f"figure '{name}' of the run in {results} cannot be read "
                               f"({problem}): run the chapter again")
    gone = sorted(set(figure_names(baselines)) - set(names))
    if set(drop) - set(gone):
        raise BlessRefused(f"--drop {', '.join(sorted(set(drop) - set(gone)))}: no such "
                           f"baseline in {baselines} that the run lacks")
    lost = sorted(set(gone) - set(drop))
    if lost:
        options = " ".join(f"--drop {provenance['chapter']}/{name}" for name in lost)
        raise BlessRefused(f"the run in {results} has no figure {', '.join(lost)}, which has a "
                           f"baseline in {baselines}: run the chapter again, or pass {options} "
                           "if it no longer draws it")
    rewrite, notes = [], []
    with tempfile.TemporaryDirectory() as work_dir:
        for name in names:
            damage = _unreadable(baselines, name)
            if damage and (baselines / f"{name}.npz").exists():
                notes.append(f"replaced the unreadable baseline of {name} ({damage})")
            if damage or compare_exact(name, results, baselines, Path(work_dir)):
                rewrite.append(name)
    record = {key: provenance[key] for key in ("chapter", "command", "commit", "dirty",
                                               "versions", "fingerprint")}
    record.update(reason=reason, figures_rewritten=rewrite, figures_dropped=sorted(drop))
    return BlessPlan(results, baselines, record, rewrite, sorted(drop), notes)


def apply_bless(plans: list[BlessPlan]) -> None:
    """Write every plan, all or nothing as far as the file system allows.

    Every new file is first copied beside its baseline; only when all copies succeeded are they
    renamed into place, so a full disk leaves the baselines as they were. ``BLESSED.json`` is
    rewritten only when something changed, so it keeps the reason of the last real change.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for plan in plans:
            if not plan.changes_record:
                continue
            plan.baselines.mkdir(parents=True, exist_ok=True)
            for name in plan.rewrite:
                for ext in (".npz", ".png"):
                    staged.append(_stage_copy(plan.results / f"{name}{ext}",
                                              plan.baselines / f"{name}{ext}"))
            blessed = plan.baselines / BLESSED
            staged.append((_temporary(blessed), blessed))
            _temporary(blessed).write_text(json.dumps(plan.record, indent=1))
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, target in staged:
        os.replace(temporary, target)
    for plan in plans:
        for name in plan.drop:
            for ext in (".npz", ".png"):
                (plan.baselines / f"{name}{ext}").unlink(missing_ok=True)


def _recorded_fingerprint(baselines: Path) -> dict | None:
    """The fingerprint BLESSED.json records, or None if there is none to read."""
    try:
        return json.loads((baselines / BLESSED).read_text()).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        return None


def _temporary(target: Path) -> Path:
    """Where a new baseline file waits, beside its target, until every file is written."""
    return target.with_name(f".{target.name}.new")


def _stage_copy(source: Path, target: Path) -> tuple[Path, Path]:
    shutil.copyfile(source, _temporary(target))
    return _temporary(target), target


def _provenance(results: Path) -> dict:
    """The run's provenance record; :class:`BlessRefused` if it is missing or unreadable."""
    path = results / "provenance.json"
    try:
        provenance = json.loads(path.read_text())
        return {key: provenance[key] for key in ("chapter", "mode", "overrides", "command",
                                                 "commit", "dirty", "versions", "fingerprint")}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BlessRefused(f"{path} cannot be read ({type(error).__name__}: {error}): "
                           "run the chapter again") from None


def _unreadable(folder: Path, name: str) -> str | None:
    """Why the two files of figure ``name`` in ``folder`` cannot be read; None if they can."""
    import matplotlib.image

    try:
        with np.load(folder / f"{name}.npz") as data:
            for key in data.files:
                data[key]
        matplotlib.image.imread(folder / f"{name}.png")
    except Exception as error:  # every way a file can be missing or damaged
        return f"{type(error).__name__}: {error}"
    return None
