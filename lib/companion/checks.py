"""Claims and consistency checks as data, and the grid over which a chapter's claims are swept.

A leaf shared by the science and the pipeline (standard library only). A chapter's experiment
module measures its checks and returns them as :class:`Check` values; the chapter shows them
(``run.check``), and ``python -m companion sweep`` evaluates the same checks over the chapter's
:class:`Grid` of parameters and seeds.

A *claim* states what a paper says, over the region of parameters its statement covers (its
*scope*); a *consistency* check verifies an identity, a precondition or a solver, and is shown
apart from the claims. A claim's bound follows the theory where the theory says how it scales,
and ``why`` justifies it in one sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

KINDS = ("claim", "consistency")
UPPER, LOWER = ("<", "<="), (">", ">=")


@dataclass(frozen=True)
class Check:
    """One measured check: ``value op bound`` for every key of ``values`` (seeds, spikes...).

    ``in_scope`` says whether the configuration it was measured at lies inside ``scope``, the
    region the paper's statement covers (a consistency check holds everywhere: always in scope).
    """

    id: str  # "A1" for claims, "C1" for consistency checks, numbered in the order shown
    name: str  # snake_case, stable across runs
    quantity: str  # what is measured, e.g. "min_t dist_1(t)"
    op: str  # one of < <= > >=
    bound: float
    values: dict  # {key: value}; a single number is {"": value}
    kind: str = "claim"
    over: str = "seeds"  # what the keys of values are
    scope: str = ""  # the region the paper's statement covers, one sentence
    in_scope: bool = True
    why: str = ""  # why this bound, one sentence
    known_failure: str = ""  # why a claim is known not to reproduce ("" if it should)

    def __post_init__(self) -> None:
        if self.op not in UPPER + LOWER:
            raise ValueError(f"check {self.id}: op must be one of {UPPER + LOWER}")
        if self.kind not in KINDS:
            raise ValueError(f"check {self.id}: kind must be one of {KINDS}")

    @property
    def worst(self) -> float:
        """The worst key's value: the largest for an upper bound, the smallest for a lower one;
        NaN if any value is NaN or there is none."""
        numbers = [float(v) for v in self.values.values()]
        if not numbers or any(math.isnan(v) for v in numbers):
            return math.nan
        return float(max(numbers) if self.op in UPPER else min(numbers))

    @property
    def passed(self) -> bool:
        value = self.worst
        return bool(math.isfinite(value) and holds(value, self.op, float(self.bound)))


def holds(value: float, op: str, bound: float) -> bool:
    """``value op bound`` (a NaN value never holds)."""
    return {"<": value < bound, "<=": value <= bound, ">": value > bound,
            ">=": value >= bound}[op]


@dataclass(frozen=True)
class Grid:
    """The region a chapter's claims are swept over: each axis a configuration field and its
    values (the other fields keep ``base``'s or the mode's values), ``n_seeds`` seeds per point.

    ``base`` shrinks what the swept checks do not need (fewer side experiments), so a point costs
    seconds; ``explore`` names the axis the chapter's explorable figure slides along.
    """

    axes: dict  # {field: (value, ...)}
    n_seeds: int
    base: dict = field(default_factory=dict)  # {field: value} applied at every point
    explore: str = ""

    def points(self) -> list[dict]:
        """Every combination of the axes' values, as override dicts, in a stable order."""
        combos = [{}]
        for name, values in self.axes.items():
            combos = [{**combo, name: value} for combo in combos for value in values]
        return combos
