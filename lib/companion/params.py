"""The rules every chapter configuration follows (a leaf: it imports nothing of the book).

A chapter's ``config.py`` declares one frozen dataclass whose fields are made with :func:`param`,
so each field carries its default and one sentence on why it has that value; ``QUICK`` is the
dataclass with its defaults and ``PAPER`` a ``dataclasses.replace`` of it. The same vocabulary
holds in every chapter: ``seed`` is the first seed and ``n_seeds`` how many seeds the main
experiment runs (``<part>_n_seeds`` for another part), ``learning_rate`` the step size,
``steps`` the main step count and ``<part>_steps`` another part's.

:func:`configure` is the one way to build a run's configuration from the command line (strings)
or from a notebook (Python values): an unknown name, a wrong type, a number that is not finite
or a bad value raises :class:`ParameterError` before any kernel starts. Every ``Config`` also
has ``estimate()``, the memory and time a run needs (:class:`Estimate`), so that the pipeline
refuses a run that cannot fit the machine before it starts one.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import NamedTuple

MODES = ("quick", "paper")


class ParameterError(ValueError):
    """A chapter parameter that is unknown, of the wrong type or out of range."""


class Estimate(NamedTuple):
    """What one run of a configuration needs, from its sizes (each ``Config.estimate()``).

    ``memory_bytes`` is the peak of the arrays the run holds at once, beyond the kernel itself;
    ``seconds`` the wall time on the reference machine (2 CPU cores), kernel start included.
    Both are rough (within a factor of about two): enough to refuse, before a kernel starts, a
    run that cannot fit the machine or would take hours.
    """

    memory_bytes: float
    seconds: float


def require(condition: bool, message: str) -> None:
    """Raise :class:`ParameterError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ParameterError(message)


def param(default, why: str):
    """A configuration field with its default and the reason for it (shown in the chapter)."""
    return dataclasses.field(default=default, metadata={"why": why})


def why(config, name: str) -> str:
    """The reason recorded for field ``name`` of a configuration (class or instance)."""
    return next(f.metadata.get("why", "") for f in dataclasses.fields(config) if f.name == name)


def parameter_types(config_class: type) -> dict[str, type]:
    """The declared type of each field of a chapter's config dataclass."""
    hints = typing.get_type_hints(config_class)
    return {f.name: hints[f.name] for f in dataclasses.fields(config_class)}


def differences(quick, paper) -> dict[str, tuple]:
    """``{field: (quick value, paper value)}`` for the fields where the two modes differ."""
    return {f.name: (getattr(quick, f.name), getattr(paper, f.name))
            for f in dataclasses.fields(quick) if getattr(quick, f.name) != getattr(paper, f.name)}


def _coerce(name: str, declared: type, value):
    """Convert a CLI string or check a Python value against the field's declared type."""
    if typing.get_origin(declared) is tuple:
        (item_type, _) = typing.get_args(declared)
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise ParameterError(f"parameter '{name}' expects a comma-separated list of "
                                 f"{item_type.__name__}, got {value!r}")
        return tuple(_coerce(name, item_type, item) for item in items)
    value = _parse(name, declared, value) if isinstance(value, str) else value
    if declared is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, declared) or (declared is int and isinstance(value, bool)):
        raise ParameterError(f"parameter '{name}' expects {declared.__name__}, "
                             f"got {type(value).__name__} {value!r}")
    if declared is float and not math.isfinite(value):
        raise ParameterError(f"parameter '{name}' must be a finite number, got {value!r}")
    return value


def _parse(name: str, declared: type, text: str):
    """A command-line string as the declared type (bool accepts true/false only)."""
    if declared is str:
        return text
    try:
        if declared is bool:
            if text.strip().lower() not in ("true", "false"):
                raise ValueError
            return text.strip().lower() == "true"
        return declared(text.strip())
    except ValueError:
        raise ParameterError(f"parameter '{name}' expects {declared.__name__}, "
                             f"got {text!r}") from None


def configure(chapter: str, modes: dict, mode: str, overrides: dict | None = None):
    """The validated configuration of ``chapter`` for ``mode`` with ``overrides`` applied.

    ``modes`` maps each mode to its configuration. Values may be Python objects (from a notebook)
    or strings (from the command line). Raises :class:`ParameterError` naming the offending
    parameter and listing the valid ones.
    """
    if mode not in MODES:
        raise ParameterError(f"unknown mode '{mode}'; choose one of {', '.join(MODES)}")
    types = parameter_types(type(modes[mode]))
    changes = {}
    for name, value in (overrides or {}).items():
        if name not in types:
            raise ParameterError(
                f"unknown parameter '{name}' for chapter '{chapter}'. "
                f"Valid parameters: {', '.join(types)}")
        changes[name] = _coerce(name, types[name], value)
    try:
        return dataclasses.replace(modes[mode], **changes)
    except ParameterError as error:
        raise ParameterError(f"bad value for chapter '{chapter}': {error}") from None


def check_seeds(seed: int, n_seeds: int) -> None:
    """The one seed rule of the book: seeds are integers in [0, 2**32), at least one of them."""
    require(n_seeds >= 1, "n_seeds must be >= 1")
    require(0 <= seed and seed + n_seeds <= 2**32,
            f"seeds must lie in [0, 2**32): seed={seed}, n_seeds={n_seeds}")
