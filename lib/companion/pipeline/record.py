"""What a chapter run leaves behind: figures, their data, claims and provenance.

A chapter notebook calls :func:`start` once, then ``run.figure(...)`` and ``run.claim(...)`` as it
computes, ``run.show_claims()`` to print the table, and ``run.finish()`` last. Everything lands in
one results folder (``build/results/<chapter>/``, or the staging folder the pipeline names
through ``COMPANION_RESULTS``) so that a failed run never touches the last good outputs.

torch and pyplot are imported inside the functions that use them, so that the command line,
which imports the pipeline only to validate and launch, starts in about a second.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from ..checks import Check
from ..numerics import fingerprint, pin_torch
from . import registry
from .paths import BASELINE_MODE, DOWNLOADS_FROM_CHAPTER_PAGE, RESULTS_ENV, Paths
from .style import COLUMN_PX, PNG_METADATA, apply_style, illegible
from .tables import claims_tables, configuration_table, verdict_badge
from .tolerance import resolve, write_declarations

SCIENCE_PACKAGES = ("torch", "numpy", "scipy", "matplotlib")  # named in the rerun box
PACKAGES = (*SCIENCE_PACKAGES, "jupyter-book", "papermill", "jupytext")
FIGURE_KEY = "companion_figure"  # output metadata of a figure: its name, caption and alt text


def _display(obj, metadata: dict | None = None) -> None:
    """Show ``obj`` in a notebook (with output ``metadata``); print it when run as a plain
    script."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(obj, metadata=metadata)
    else:
        print(metadata or getattr(obj, "data", obj))


def _markdown(text: str):
    from IPython.display import Markdown

    return Markdown(text)


def reproduce_command(chapter: str, mode: str, overrides: dict) -> str:
    """The shell command that reruns a chapter with exactly these settings."""
    parts = ["python -m companion run", chapter, "--mode", mode]
    for name, value in overrides.items():
        parts += ["-p", f"{name}={parameter_text(value)}"]
    return " ".join(parts)


def alt_text(caption: str) -> str:
    """The first sentence of a Markdown caption as plain text: TeX's ``$``, braces and font
    commands dropped, other commands spelled out (``$\\alpha\\to0$`` reads ``alpha to 0``)."""
    sentence = re.split(r"(?<=[.!?])\s+(?=[A-Z(])", caption.strip(), maxsplit=1)[0]
    text = re.sub(r"\\(rm|mathrm|mathcal|mathbf|operatorname|text)\b\s*", "", sentence)
    text = re.sub(r"(?<=[a-zA-Z0-9])\\(?=[a-zA-Z])", " \\\\", text)
    text = re.sub(r"\\([a-zA-Z]+)(?=\d)", r"\1 ", text)
    text = re.sub(r"[${}\\]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def figure_cells(notebook) -> None:
    """Make each figure a numbered figure of the page: copy the name, caption and alt text
    that :meth:`Run.figure` left in its output's metadata into the cell's metadata, where
    myst-nb reads them (``mystnb.figure`` and ``mystnb.image``). A cell shows one figure."""
    for cell in notebook.cells:
        shown = [output.metadata[FIGURE_KEY] for output in cell.get("outputs", [])
                 if FIGURE_KEY in output.get("metadata", {})]
        if len(shown) > 1:
            raise ValueError(f"one cell shows the figures {[f['name'] for f in shown]}: "
                             "draw each figure in a cell of its own")
        if shown:
            figure = shown[0]
            cell.metadata["mystnb"] = {
                "figure": {"name": figure["name"], "caption": figure["caption"]},
                "image": {"alt": figure["alt"]}}


def parameter_text(value) -> str:
    """A parameter's value as ``-p name=value`` takes it (a tuple comma-separated)."""
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def git_state() -> dict:
    """The commit the run was made from and whether the working tree had changes."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    commit = git("rev-parse", "HEAD") or "unknown"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    return {"commit": commit, "dirty": dirty}


def versions() -> dict:
    """The installed version of each package a chapter's numbers depend on (None if absent)."""
    found = {}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def device_name() -> str:
    import torch

    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu: {platform.processor() or platform.machine()}, {os.cpu_count()} cores"


@dataclasses.dataclass
class Claim:
    """One named check: ``value op bound``, e.g. ``min dist_1 <= 0.01``."""

    claim_id: str
    name: str
    statement: str
    value: float
    op: str
    bound: float
    passed: bool
    known_failure: str = ""  # why this check is known not to reproduce here ("" if it should)
    values: dict | None = None  # {seed (or spike, ...): value} when the value is their worst
    over: str = ""  # what the keys of values are: "seeds", "spikes", ...
    kind: str = "claim"  # or "consistency" (see companion.checks)
    scope: str = ""  # the region the paper's statement covers
    in_scope: bool = True  # whether this run's configuration lies inside it
    why: str = ""  # why this bound


class Run:
    """One execution of one chapter; see the module docstring for the call sequence."""

    def __init__(self, chapter: registry.Chapter, mode: str, overrides: dict, results_dir: Path):
        self.chapter = chapter
        self.mode = mode
        self.config = registry.make_config(chapter, mode, overrides)
        # as the configuration typed them: a tuple stays a tuple, however the kernel got it
        self.overrides = {name: getattr(self.config, name) for name in overrides}
        self.results_dir = results_dir
        self.command = reproduce_command(chapter.name, mode, self.overrides)
        import torch

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.claims: list[Claim] = []
        self.exploratory_results: list[dict] = []
        self.figures: list[str] = []
        self._started = time.perf_counter()
        self.executed_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        self._git = git_state()
        results_dir.mkdir(parents=True, exist_ok=True)

    @property
    def makes_baselines(self) -> bool:
        """Whether this is a run the figure baselines are blessed from and compared with: plain
        quick mode. Only such a run must give every array a tolerance class."""
        return self.mode == BASELINE_MODE and not self.overrides

    # -- figures -------------------------------------------------------------------------
    def figure(self, name: str, fig, data: dict, tolerance: dict, caption: str) -> None:
        """Save ``fig`` as ``name.png`` and the arrays it plots as ``name.npz``, then show the
        saved image as a numbered figure with its caption.

        ``data`` holds the numbers behind the figure: the regression tests compare them with
        the stored baselines, so put in it every array a reader would need to redraw the plot.
        ``tolerance`` gives each array its tolerance class (``companion.pipeline.tolerance``;
        keys may be patterns, see ``tolerance.resolve``): what it must keep on a machine whose
        rounding differs from the baselines'. It is saved as ``name.tolerance.json``. The
        classes describe the quick-mode arrays: a paper-mode or overridden run, which may plot
        other arrays (more depths), keeps the classes of those that have one.
        ``caption`` is Markdown; its first sentence is also the image's alt text, so make it
        say what the figure shows. The figure must be legible in the site's column
        (``style.illegible``).

        The page shows the saved PNG itself, so what a reader sees is exactly what the
        regression tests compare; the pipeline turns the caption into the figure's number,
        caption and alt text when it publishes the notebook (:func:`figure_cells`), and the
        prose refers to it as ``{numref}`name```.
        """
        arrays = {key: np.asarray(value) for key, value in data.items()}
        if not arrays:
            raise ValueError(f"figure '{name}' has no data: pass the arrays it plots")
        try:
            classes = resolve(tolerance, arrays, complete=self.makes_baselines)
        except ValueError as error:
            raise ValueError(f"figure '{name}': {error}") from None
        png = self.results_dir / f"{name}.png"
        png_metadata = {**PNG_METADATA, "Title": f"{self.chapter.name}/{name}",
                        "Description": self.command, "Source": self._git["commit"]}
        fig.savefig(png, metadata=png_metadata)
        problems = illegible(fig)
        if problems:
            raise ValueError(f"figure '{name}' would not be legible on the page: "
                             + "; ".join(problems))
        write_declarations(self.results_dir / f"{name}.tolerance.json", classes)
        np.savez_compressed(self.results_dir / f"{name}.npz", **arrays)
        self.figures.append(name)
        from IPython.display import Image

        _display(Image(data=png.read_bytes(), format="png", width=COLUMN_PX),
                 {FIGURE_KEY: {"name": name, "caption": self._caption(name, caption),
                               "alt": alt_text(caption)}})

    def _caption(self, name: str, caption: str) -> str:
        """The caption, then where its data is and the command that redraws it (a code span,
        so that it pastes as typed)."""
        data = f"{DOWNLOADS_FROM_CHAPTER_PAGE}/{self.chapter.name}/{name}.npz"
        dirty = ", uncommitted changes" if self._git["dirty"] else ""
        return (f"{caption.strip()}\n\nData: <a href=\"{data}\">{name}.npz</a>. Reproduce: "
                f"`{self.command}` (seed {self.config.seed}, commit "
                f"{self._git['commit'][:10]}{dirty}).")

    # -- claims --------------------------------------------------------------------------
    def claim(self, claim_id: str, name: str, quantity: str, value, op: str, bound: float,
              over: str = "seeds", known_failure: str = "") -> None:
        """Record the claim ``value op bound`` under ``claim_id`` (e.g. "A1") and ``name``: a
        shorthand for :meth:`check` with a :class:`~companion.checks.Check` of kind "claim".

        ``value`` is a number, or a dict with one value per seed (or per spike, ...: ``over``
        names what the keys are), reduced to its worst key. Nothing is returned, so a claim
        cell shows no output; the outcome is ``run.claims[-1].passed``.
        """
        values = value if isinstance(value, dict) else {"": value}
        self.check(Check(claim_id, name, quantity, op, float(bound), values, over=over,
                         known_failure=known_failure))

    def check(self, check: Check) -> None:
        """Record a measured claim or consistency check.

        A check keyed by seeds (or spikes, ...) is shown as its worst key, its statement says
        "worst of N seeds", and every key's value is stored with it. A claim with several parts
        records one row per part; it passes only if every row does. A NaN value fails.
        Recording the same check twice is an error.

        ``known_failure`` says why a claim is known not to reproduce in this book's
        configuration. It is still evaluated and shown as failing, and the chapter's verdict
        says so; the tests then require it to keep failing (like a strict xfail), so that both a
        new failure and an unnoticed recovery stop the build.
        """
        keyed = list(check.values) != [""]
        values = {str(key): float(v) for key, v in check.values.items()} if keyed else None
        statement = check.quantity
        if keyed:
            noun = (check.over[:-1] if len(values) == 1 and check.over.endswith("s")
                    else check.over)
            statement = f"worst of {len(values)} {noun} ({', '.join(values)}): {check.quantity}"
        same = (check.id, statement, check.op, float(check.bound))
        if any((c.claim_id, c.statement, c.op, c.bound) == same for c in self.claims):
            raise ValueError(f"claim {check.id}: the check '{statement} {check.op} "
                             f"{check.bound}' is already recorded; record each check once")
        self.claims.append(Claim(check.id, check.name, statement, float(check.worst),
                                 check.op, float(check.bound), bool(check.passed),
                                 check.known_failure, values, check.over if keyed else "",
                                 check.kind, check.scope, bool(check.in_scope), check.why))

    def exploratory(self, name: str, statement: str, value: float) -> None:
        """Record a measured quantity that the chapter shows but deliberately does not assert."""
        self.exploratory_results.append(
            {"name": name, "statement": statement, "value": float(value)})

    def show_claims(self) -> None:
        """Display every claim recorded so far as a table with its measured value."""
        claims = [dataclasses.asdict(c) for c in self.claims]
        n_failed = sum(not c.passed for c in self.claims)
        summary = (f"All {len(claims)} checks pass." if n_failed == 0 else
                   f"**{n_failed} of {len(claims)} checks fail**: this run does not "
                   "reproduce those claims.")
        rows = claims_tables(claims, self.exploratory_results)
        _display(_markdown("\n".join([f"{verdict_badge(claims)} {summary}", "", *rows])))

    def show_configuration(self) -> None:
        """Display every configuration field: its quick and paper values and why."""
        rows = configuration_table(self.chapter.quick, self.chapter.paper, self.mode,
                                   self.overrides)
        title = (f"Configuration: {len(rows) - 2} parameters, quick and paper mode, and why "
                 f"(this run: {self.mode} mode, values in bold)")
        _display(_markdown("\n".join([f":::{{dropdown}} {title}", *rows, ":::"])))

    # -- provenance ----------------------------------------------------------------------
    def provenance(self) -> dict:
        import matplotlib
        import torch

        return {
            "chapter": self.chapter.name,
            "mode": self.mode,
            "overrides": self.overrides,
            "config": dataclasses.asdict(self.config),
            "seed": self.config.seed,
            "command": self.command,
            **self._git,
            "executed_at": self.executed_at,
            "python": sys.version.split()[0],
            "versions": versions(),
            "matplotlib_backend": matplotlib.get_backend(),
            "device": device_name(),
            "torch_threads": torch.get_num_threads(),
            "fingerprint": fingerprint(),
            "wall_s": round(time.perf_counter() - self._started, 2),
            "figures": self.figures,
        }

    def finish(self) -> None:
        """Write ``claims.json`` and ``provenance.json``; call it in the chapter's last cell."""
        claims = {"chapter": self.chapter.name, "mode": self.mode, "seed": self.config.seed,
                  "claims": [dataclasses.asdict(c) for c in self.claims],
                  "exploratory": self.exploratory_results}
        (self.results_dir / "claims.json").write_text(json.dumps(claims, indent=1))
        (self.results_dir / "provenance.json").write_text(
            json.dumps(self.provenance(), indent=1))


def start(chapter_name: str, mode: str = "quick", overrides: dict | None = None) -> Run:
    """Begin a chapter run: validate parameters, fix threads and style, print the settings."""
    pin_torch()
    apply_style()
    chapter = registry.get_chapter(chapter_name)
    results_dir = Path(os.environ.get(RESULTS_ENV) or Paths(Path.cwd()).results(chapter_name))
    run = Run(chapter, mode, overrides or {}, results_dir)
    _display(_markdown(rerun_box(run)))
    return run


def rerun_box(run: Run) -> str:
    """The box at the top of a chapter: when, where and with what this run was made, how to
    rerun it, and its downloads (the verdict and wall time go under the title at publish)."""
    name = run.chapter.name
    folder = f"{DOWNLOADS_FROM_CHAPTER_PAGE}/{name}"
    installed = versions()
    stack = ", ".join(f"{package} {installed[package]}" for package in SCIENCE_PACKAGES
                      if installed[package])
    dirty = " (uncommitted changes)" if run._git["dirty"] else ""
    return "\n".join([
        ":::{admonition} Rerun this chapter",
        ":class: note",
        f"Executed on {run.executed_at} in **{run.mode}** mode on {device_name()}, seed "
        f"{run.config.seed}, from commit `{run._git['commit'][:10]}`{dirty}, with Python "
        f"{sys.version.split()[0]}, {stack}. Rerun it from the repository root (quick mode is "
        f"budgeted at {run.chapter.budget_s:g} s on 2 CPU cores):",
        "",
        "```bash",
        run.command,
        "```",
        "",
        "Add `--mode paper` for the paper-sized configuration or `-p name=value` to change one "
        "parameter (`python -m companion list` shows them). Download this chapter as "
        f'<a href="{DOWNLOADS_FROM_CHAPTER_PAGE}/{name}.ipynb">notebook (.ipynb)</a> or as '
        f'its <a href="{DOWNLOADS_FROM_CHAPTER_PAGE}/{name}.py">jupytext source (.py)</a>, '
        f'and its results: <a href="{folder}/claims.json">claims.json</a> (every check and '
        f'value) and <a href="{folder}/provenance.json">provenance.json</a> (parameters, '
        "versions, device, wall time).",
        ":::"])
