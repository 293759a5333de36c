"""Tolerance classes: what each array behind a figure must keep where rounding differs.

Where a run's numerical fingerprint equals its baselines', every array is compared at tight
tolerances and the images pixel by pixel (``regress``). Elsewhere (another CPU, another BLAS,
Apple silicon, a GPU) rounding differs, and how far that carries depends on what the array is.
A chapter says so next to each figure, ``run.figure(name, fig, data, tolerance={key: class})``
(a key may be a shell-style pattern, ``"loss_*"``, that covers several arrays: see
:func:`resolve`), with one of three classes:

* :class:`Exact`: a deterministic closed form (a formula, a count, an index, the spectrum of a
  fixed matrix, a recursion of exactly rounded operations): compared elementwise at a tight
  relative tolerance.
* :class:`Rounding`: a quantity that is rounding noise by construction (the gradient at an
  exact critical point, the residual of an identity): its size depends on the instruction set,
  so it is checked against a bound and never against the stored value.
* :class:`Trajectory`: sensitive or chaotic dynamics (training through loss spikes, escapes
  from saddles): a rounding difference grows until single values mean nothing, so the array is
  compared through summary statistics whose tolerances the science fixes: :class:`Close` (the
  stretch before the dynamics become sensitive), :class:`LogEnvelope` (a curve, or the lowest
  value it has reached by each step, within some decades), :class:`Level` (a plateau, a final
  value or a peak within a relative band), :class:`Events` (event steps within a few steps,
  their number within a range) and :class:`Count` (counts within a range).

Steps run along the last axis of an array (a (seeds, steps) array is compared seed by seed).
Every check returns readable problems that name the statistic, the worst entry and both values.
"""

from __future__ import annotations

import dataclasses
import json
from fnmatch import fnmatchcase
from pathlib import Path
from typing import ClassVar

import numpy as np

LEVELS = {"first": lambda a: a[..., 0], "last": lambda a: a[..., -1],
          "min": lambda a: a.min(axis=-1), "max": lambda a: a.max(axis=-1),
          "median": lambda a: np.median(a, axis=-1), "mean": lambda a: a.mean(axis=-1)}


def _worst(excess: np.ndarray) -> tuple | None:
    """The index of the largest excess over a tolerance (NaN counts as infinite), or None if
    every entry is within it."""
    excess = np.where(np.isnan(excess), np.inf, excess)
    if not (excess > 0).any():
        return None
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), excess.shape))


def _shape_problem(name: str, expected: np.ndarray, actual: np.ndarray) -> list[str]:
    if expected.shape == actual.shape:
        return []
    return [f"{name}: shape {actual.shape}, baseline {expected.shape}"]


def _outside(name: str, expected: np.ndarray, actual: np.ndarray, excess: np.ndarray,
             tolerance: str) -> list[str]:
    """One problem naming how many entries exceed the tolerance, and the worst with both values
    (none if every entry is within it)."""
    worst = _worst(excess)
    if worst is None:
        return []
    return [f"{name}: {int(np.sum(~(excess <= 0)))} of {excess.size} values outside "
            f"{tolerance}; worst at index {worst}: run {float(actual[worst]):.10g}, baseline "
            f"{float(expected[worst]):.10g}"]


def _close(name: str, expected: np.ndarray, actual: np.ndarray, rtol: float,
           atol: float) -> list[str]:
    """Elementwise ``|actual - expected| <= atol + rtol |expected|``; NaN only where expected."""
    expected, actual = expected.astype(float), actual.astype(float)
    excess = np.abs(actual - expected) - (atol + rtol * np.abs(expected))
    excess = np.where(np.isnan(expected) & np.isnan(actual), -1.0, excess)
    return _outside(name, expected, actual, excess, f"rtol={rtol:g}, atol={atol:g}")


@dataclasses.dataclass(frozen=True)
class Exact:
    """A deterministic closed form: elementwise within ``rtol`` (and ``atol`` near zero).

    The default ``rtol`` admits the last digits that another instruction set changes in a
    float64 formula; integer arrays (counts, indices) must be equal.
    """

    rtol: float = 1e-9
    atol: float = 0.0
    kind: ClassVar[str] = "exact"

    def check(self, expected: np.ndarray, actual: np.ndarray) -> list[str]:
        return (_shape_problem(self.kind, expected, actual)
                or _close(self.kind, expected, actual, self.rtol, self.atol))


@dataclasses.dataclass(frozen=True)
class Rounding:
    """Rounding noise by construction: every ``|value| <= bound``; the baseline is not read."""

    bound: float
    kind: ClassVar[str] = "rounding"

    def check(self, expected: np.ndarray, actual: np.ndarray) -> list[str]:
        problems = _shape_problem(self.kind, expected, actual)
        magnitude = np.abs(actual.astype(float))
        worst = None if problems else _worst(magnitude - self.bound)
        if worst is not None:
            problems.append(f"{self.kind}: |value| {float(magnitude[worst]):.3g} at index "
                            f"{worst} exceeds the bound {self.bound:g}")
        return problems


@dataclasses.dataclass(frozen=True)
class Close:
    """Elementwise within ``rtol``/``atol`` over the first ``first`` entries of the steps axis
    (all: None): the stretch of a trajectory before rounding differences have grown."""

    rtol: float
    atol: float = 0.0
    first: int | None = None
    kind: ClassVar[str] = "close"

    def check(self, expected: np.ndarray, actual: np.ndarray) -> list[str]:
        name = self.kind if self.first is None else f"{self.kind} (first {self.first} entries)"
        return (_shape_problem(name, expected, actual)
                or _close(name, expected[..., :self.first], actual[..., :self.first],
                          self.rtol, self.atol))


@dataclasses.dataclass(frozen=True)
class LogEnvelope:
    """A positive curve within ``decades`` of the baseline at every step, in log10; with
    ``running_min`` the lowest value reached by each step, which ignores when a spike happens
    but not how low training gets. Values below ``floor`` count as ``floor``."""

    decades: float
    running_min: bool = False
    floor: float = 1e-300
    kind: ClassVar[str] = "log envelope"

    def check(self, expected: np.ndarray, actual: np.ndarray) -> list[str]:
        name = self.kind + (" (running minimum)" if self.running_min else "")
        problems = _shape_problem(name, expected, actual)
        if problems:
            return problems
        curves = [np.maximum(np.nan_to_num(a.astype(float), nan=np.inf), self.floor)
                  for a in (expected, actual)]
        if self.running_min:
            curves = [np.minimum.accumulate(c, axis=-1) for c in curves]
        gap = np.abs(np.log10(curves[1]) - np.log10(curves[0]))
        return _outside(name, curves[0], curves[1], gap - self.decades,
                        f"{self.decades:g} decades")


@dataclasses.dataclass(frozen=True)
class Level:
    """One value per curve (``of``: first, last, min, max, median or mean over the steps) within
    ``rtol`` of the baseline's: a plateau, the loss reached, a peak."""

    rtol: float
    of: str = "last"
    kind: ClassVar[str] = "level"

    def __post_init__(self):
        if self.of not in LEVELS:
            raise ValueError(f"Level(of={self.of!r}): expected one of {list(LEVELS)}")

    def check(self, expected: np.ndarray, actual: np.ndarray) -> list[str]:
        name = f"{self.kind} ({self.of})"
        return (_shape_problem(name, expected, actual)
                or _close(name, LEVELS[self.of](expected.astype(float)),
                          LEVELS[self.of](actual.astype(float)), self.rtol, 0.0))


@dataclasses.dataclass(frozen=True)
class Events:
    """The steps at which events happen (stage transitions, spike peaks): their number within
    ``count`` of the baseline's, and the first ``first`` of them (all: None) each within
    ``steps`` steps. Only this statistic admits arrays of another length than the baseline's."""

    steps: int
    count: int = 0
    first: int | None = None
    kind: ClassVar[str] = "events"

    def check(self, expected: np.ndarray, actual: np.ndarray) -> list[str]:
        expected, actual = expected.reshape(-1), actual.reshape(-1)
        problems = []
        if abs(actual.size - expected.size) > self.count:
            problems.append(f"{self.kind}: {actual.size} events, baseline {expected.size}; "
                            f"allowed ±{self.count}")
        both = min(actual.size, expected.size)
        if self.first is not None and both < self.first:
            problems.append(f"{self.kind}: {actual.size} events, baseline {expected.size}; "
                            f"the first {self.first} are compared")
        compared = min(both, self.first or both)
        run, baseline = actual[:compared].astype(float), expected[:compared].astype(float)
        shift = np.where(np.isnan(run) & np.isnan(baseline), 0.0, np.abs(run - baseline))
        shift = np.where(np.isnan(shift), np.inf, shift)
        if (shift > self.steps).any():
            worst = int(np.argmax(shift))
            problems.append(f"{self.kind}: event {worst} at step {run[worst]:g}, baseline "
                            f"{baseline[worst]:g}; allowed ±{self.steps} steps")
        return problems


@dataclasses.dataclass(frozen=True)
class Count:
    """Counts (spikes per seed, points below a threshold), each within ``within`` of the
    baseline's."""

    within: int
    kind: ClassVar[str] = "count"

    def check(self, expected: np.ndarray, actual: np.ndarray) -> list[str]:
        if expected.shape != actual.shape:
            return _shape_problem(self.kind, expected, actual)
        excess = np.abs(actual.astype(float) - expected.astype(float)) - self.within
        return _outside(self.kind, expected, actual, excess, f"±{self.within}")


STATISTICS = {cls.kind: cls for cls in (Close, LogEnvelope, Level, Events, Count)}


@dataclasses.dataclass(frozen=True, init=False)
class Trajectory:
    """Sensitive dynamics: the array passes if every one of its statistics does."""

    statistics: tuple
    kind: ClassVar[str] = "trajectory"

    def __init__(self, *statistics):
        if not statistics or not all(type(s) in STATISTICS.values() for s in statistics):
            raise ValueError("Trajectory(...) takes one or more of Close, LogEnvelope, Level, "
                             "Events, Count")
        object.__setattr__(self, "statistics", statistics)

    def check(self, expected: np.ndarray, actual: np.ndarray) -> list[str]:
        return [problem for statistic in self.statistics
                for problem in statistic.check(expected, actual)]


CLASSES = {cls.kind: cls for cls in (Exact, Rounding, Trajectory)}


def to_json(tolerance) -> dict:
    """A tolerance class as plain JSON: its kind and its fields."""
    if isinstance(tolerance, Trajectory):
        return {"class": tolerance.kind,
                "statistics": [{"statistic": s.kind, **dataclasses.asdict(s)}
                               for s in tolerance.statistics]}
    return {"class": tolerance.kind, **dataclasses.asdict(tolerance)}


def from_json(record: dict):
    """The tolerance class that :func:`to_json` wrote."""
    fields = dict(record)
    kind = fields.pop("class")
    if kind == Trajectory.kind:
        return Trajectory(*(STATISTICS[s.pop("statistic")](**s)
                            for s in map(dict, fields["statistics"])))
    return CLASSES[kind](**fields)


def resolve(declared: dict, keys, complete: bool = True) -> dict:
    """Each array key's tolerance class: that of the first pattern of ``declared`` (in order)
    that matches it, where a pattern is a key or a shell-style pattern (``"loss_*"``).

    With ``complete`` (a run the baselines are made from), raises ValueError naming the arrays
    no pattern covers, and the patterns that match no array (a stale declaration): every array
    must be declared, and nothing else. Without it (paper mode, overrides: runs never compared
    with the baselines, whose arrays may differ, e.g. more depths), the arrays no pattern
    covers are left out.
    """
    classes = {key: next((tolerance for pattern, tolerance in declared.items()
                          if fnmatchcase(key, pattern)), None) for key in keys}
    undeclared = sorted(key for key, tolerance in classes.items() if tolerance is None)
    unused = [pattern for pattern in declared
              if not any(fnmatchcase(key, pattern) for key in keys)]
    if complete and (undeclared or unused):
        raise ValueError("tolerance classes: " + "; ".join(
            [f"arrays without a class {undeclared}"] * bool(undeclared)
            + [f"patterns that match no array {unused}"] * bool(unused)))
    return {key: tolerance for key, tolerance in classes.items() if tolerance is not None}


def write_declarations(path: Path, declared: dict) -> None:
    """Store a figure's declarations, ``{array key: tolerance class}``, as JSON."""
    path.write_text(json.dumps({key: to_json(value) for key, value in declared.items()},
                               indent=1))


def read_declarations(path: Path) -> dict:
    """The declarations :func:`write_declarations` stored."""
    return {key: from_json(value) for key, value in json.loads(path.read_text()).items()}
