"""Fault injection: every fault leaves a consistent state and a message that names it.

Each test reproduces one way a run can go wrong (a publish killed halfway, a damaged record or
output, a dying or hanging kernel, a full disk, a run too big for the machine, a bless that
would half-happen, the wrong working directory, Ctrl-C, two runs at once) and asserts the
message, the exit code and the SHA-256 of every published file. The toy chapters of
``toy_chapter`` run in a temporary repository root, never touching the book's outputs. A kernel
start costs seconds, so most tests stand in for the kernel (:func:`fake_kernel`) with a copy of
the published run; a real kernel runs where the fault is the kernel's own.
"""

import dataclasses
import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from companion import __main__ as cli_module
from companion.pipeline import execute, publish, registry, site
from companion.pipeline import paths as paths_module
from companion.pipeline.execute import PAPER_TIMEOUT_S, Limits, chapter_lock, time_limit
from companion.pipeline.paths import EXECUTION_RECORD, CheckoutError, Paths
from conftest import ROOT, require
from .toy_chapter import TOY, TOYS, command_line, executed_toy_root, fingerprint

TESTS = Path(__file__).parent
UNTOUCHED = ("The last good outputs (book/chapters/toy.ipynb, build/results/toy/) are "
             "untouched; the failed notebook is build/failures/toy.ipynb.")


@pytest.fixture(scope="module")
def toy_repo(tmp_path_factory) -> tuple[Paths, Path]:
    """The toy chapter executed once in a temporary root, and a copy of what it published."""
    folder = tmp_path_factory.mktemp("faults")
    paths = executed_toy_root(folder / "repo")
    pristine = folder / "pristine"
    shutil.copytree(paths.results(TOY.name), pristine / "results")
    shutil.copyfile(paths.executed(TOY.name), pristine / "toy.ipynb")
    return paths, pristine


@pytest.fixture
def toy(toy_repo) -> Paths:
    """The toy root with its published run as first executed, and nothing else under build/."""
    paths, pristine = toy_repo
    for folder in ("build", "book", "tests"):
        shutil.rmtree(paths.root / folder, ignore_errors=True)
    shutil.copytree(pristine / "results", paths.results(TOY.name))
    paths.executed(TOY.name).parent.mkdir(parents=True)
    shutil.copyfile(pristine / "toy.ipynb", paths.executed(TOY.name))
    return paths


@pytest.fixture
def cli(toy, monkeypatch, capsys):
    """``python -m companion ...`` in this process, on the toy root with the toy chapters:
    returns the exit code, stdout and stderr."""
    return command_line(toy, TOYS, monkeypatch, capsys)


@pytest.fixture
def fake_kernel(toy_repo, monkeypatch) -> list[str]:
    """Stand in for the kernel: stage a copy of the first run, its claims marked as a new run
    (seed 1). Returns the chapters it ran."""
    _, pristine = toy_repo
    ran = []

    def run_kernel(chapter, mode, overrides, time_allowed, staging, paths):
        ran.append(chapter.name)
        stage_new_run(pristine, staging)
        return 0.5

    monkeypatch.setattr(execute, "_run_kernel", run_kernel)
    return ran


def stage_new_run(pristine: Path, staging: Path) -> None:
    """A run's staging folder as the kernel leaves it: the first run with seed 1 in its claims."""
    shutil.copytree(pristine / "results", staging / "results",
                    ignore=shutil.ignore_patterns(EXECUTION_RECORD))
    shutil.copyfile(pristine / "toy.ipynb", staging / "toy.ipynb")
    claims = staging / "results" / "claims.json"
    claims.write_text(claims.read_text().replace('"seed": 0', '"seed": 1'))


def published_seed(paths: Paths) -> int:
    return json.loads((paths.results(TOY.name) / "claims.json").read_text())["seed"]


def assert_whole(paths: Paths) -> None:
    """The published run is whole: its record lists exactly the files there, with their hashes."""
    publish.check_files(publish.read_record(TOY.name, paths), TOY.name, paths)


# -- a publish is one unit -------------------------------------------------------------------
KILL_MID_PUBLISH = """
import os, signal, sys
from pathlib import Path
from companion.pipeline.paths import Paths
from companion.pipeline.publish import publish

renames, real_replace = [], os.replace

def replace(source, target):
    real_replace(source, target)
    renames.append(target)
    if len(renames) == 2:  # the new results are in, the old notebook still stands
        os.kill(os.getpid(), signal.SIGKILL)

os.replace = replace
staged, root = Path(sys.argv[1]), Path(sys.argv[2])
publish("toy", staged / "toy.ipynb", staged / "results",
        {"chapter": "toy", "mode": "quick", "status": "executed", "wall_s": 1.0,
         "budget_s": 30, "cache_key": "new", "error": ""}, Paths(root))
"""


@pytest.mark.slow  # starts real kernels or processes
def test_a_publish_killed_between_its_renames_is_never_served(toy, toy_repo, fake_kernel, cli,
                                                              tmp_path):
    stage_new_run(toy_repo[1], tmp_path)
    killed = subprocess.run([sys.executable, "-c", KILL_MID_PUBLISH, str(tmp_path),
                             str(toy.root)], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert published_seed(toy) == 1 and not toy.execution_record(TOY.name).exists()

    code, out, err = cli("run", "toy")
    assert (code, fake_kernel) == (0, ["toy"])
    assert err == ("[companion] toy: executing again: build/results/toy/execution.json is "
                   "missing (the last publish did not complete)\n")
    assert out.startswith("toy: executed in 0.5 s")
    assert_whole(toy)


def test_a_publish_that_cannot_place_the_notebook_is_rolled_back(toy, fake_kernel, cli,
                                                                 monkeypatch):
    """As with ``chattr +i book/chapters``: the results were already swapped in."""
    before = fingerprint(toy)
    notebook = toy.executed(TOY.name)
    real_replace = os.replace

    def replace(source, target):
        if Path(target).parent == notebook.parent:
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), str(target))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    code, out, err = cli("run", "toy", "--force")
    assert code == 1
    assert err == (f"error: chapter 'toy' could not be run or published: [Errno 1] Operation "
                   f"not permitted: '{notebook}.previous'\n{UNTOUCHED}\n")
    assert fingerprint(toy) == before
    assert list(toy.staging_root.iterdir()) == []


# -- records that cannot wedge the pipeline --------------------------------------------------
@pytest.mark.parametrize("damage,problem", [
    (lambda text: text[:17], "is unreadable (Unterminated string starting at"),
    (lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "cache_key"}),
     "is not a complete execution record of chapter 'toy'"),
    (lambda text: text.replace('"chapter": "toy"', '"chapter": "adam_spikes"'),
     "is not a complete execution record of chapter 'toy'"),
    (lambda text: "[]", "is not a complete execution record of chapter 'toy'"),
    (lambda text: "\udcff", "is unreadable ('utf-8' codec can't decode byte 0xff"),
], ids=["truncated", "no_cache_key", "other_chapter", "not_an_object", "not_utf8"])
def test_a_damaged_or_foreign_record_is_named_and_the_chapter_runs_again(toy, fake_kernel, cli,
                                                                         damage, problem):
    record = toy.execution_record(TOY.name)
    record.write_text(damage(record.read_text()), errors="surrogateescape")
    code, out, err = cli("run", "toy")
    assert (code, fake_kernel) == (0, ["toy"])
    assert err.startswith(f"[companion] toy: executing again: build/results/toy/{EXECUTION_RECORD} "
                          f"{problem}")
    assert err.count("\n") == 1
    assert_whole(toy)
    assert published_seed(toy) == 1


def test_force_never_reads_the_record(toy, fake_kernel, cli, monkeypatch):
    toy.execution_record(TOY.name).write_text("{")
    monkeypatch.setattr(execute, "read_record", lambda *args: pytest.fail("record was read"))
    assert cli("run", "toy", "--force") == (0, "toy: executed in 0.5 s (quick mode); outputs in "
                                               "build/results/toy/ and book/chapters/toy.ipynb\n",
                                            "")
    assert_whole(toy)


# -- the cache checks what it serves ---------------------------------------------------------
def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:40])


@pytest.mark.parametrize("damage,problem", [
    (lambda p: (p.results("toy") / "line.png").unlink(), "build/results/toy/line.png is missing"),
    (lambda p: truncate(p.results("toy") / "claims.json"),
     "build/results/toy/claims.json was altered after it was published"),
    (lambda p: truncate(p.results("toy") / "provenance.json"),
     "build/results/toy/provenance.json was altered after it was published"),
    (lambda p: truncate(p.executed("toy")),
     "book/chapters/toy.ipynb was altered after it was published"),
    (lambda p: p.executed("toy").unlink(), "book/chapters/toy.ipynb is missing"),
    (lambda p: (p.results("toy") / "stray.npz").write_bytes(b""),
     "build/results/toy/stray.npz is not part of the published run"),
], ids=["figure_deleted", "claims_truncated", "provenance_truncated", "notebook_truncated",
        "notebook_deleted", "stray_file"])
def test_the_cache_serves_only_what_it_published(toy, fake_kernel, cli, damage, problem):
    damage(toy)
    code, out, err = cli("run", "toy")
    assert (code, fake_kernel, err) == (0, ["toy"], f"[companion] toy: executing again: "
                                                    f"{problem}\n")
    assert_whole(toy)


def test_an_unchanged_whole_run_is_served_without_a_kernel(toy, fake_kernel, cli):
    before = fingerprint(toy)
    code, out, err = cli("run", "toy")
    assert (code, fake_kernel, err) == (0, [], "")
    assert out.startswith("toy: cached in ")
    assert fingerprint(toy) == before


def test_the_status_page_names_an_unreadable_result(toy, monkeypatch):
    monkeypatch.setattr(site, "CHAPTERS", {"toy": TOY})
    (toy.results("toy") / "claims.json").write_text("{")
    assert ("The published results cannot be shown: build/results/toy/claims.json is "
            "unreadable (Expecting property name enclosed in double quotes: line 1 column 2 "
            "(char 1)).") in site.status_page(toy)


# -- kernel death, timeouts and a full disk in a cell; the book goes on ------------------------
@pytest.mark.slow  # starts real kernels or processes
def test_the_book_runs_every_chapter_and_reports_every_failure(toy, cli, monkeypatch):
    """A kernel that dies (``os._exit``, as under the out-of-memory killer), one that hangs past
    its quick-mode limit (twice its budget) and a cell that finds the disk full: each fails its
    chapter with the cell and the cause, leaves no staging folder, keeps its notebook and
    record, and the book still serves the toy chapter and reports all three."""
    monkeypatch.setattr(site, "CHAPTERS", dict(TOYS))
    before = fingerprint(toy)
    code, out, err = cli("book", "--no-site")
    fault_cell = "cell 2 (`fault = run.config.fault`)"
    assert code == 1
    assert f"error: 3 of 4 chapters failed:\nchapter 'toy_exit': its kernel died in {fault_cell}" \
           ": killed (out of memory, or kill -9) or exited\n" in err
    assert (f"chapter 'toy_hang' timed out in {fault_cell}: stopped at its time limit of 14 s "
            "(quick mode: 2x the chapter's budget of 7 s)\n") in err
    assert re.search(rf"chapter 'toy_disk_full' failed in {re.escape(fault_cell)}: OSError: "
                     r"\[Errno 28\] No space left on device: '.*/line.npz'\n", err)
    assert "[companion] toy: cached" in err
    assert fingerprint(toy) == before
    assert list(toy.staging_root.iterdir()) == []
    report = (toy.generated / "report.md").read_text()
    for name in ("toy_exit", "toy_hang", "toy_disk_full"):
        assert toy.failed_notebook(name).exists()
        error = json.loads(toy.failure(name).read_text())["error"]
        assert f"| {name} | quick | – | failed | – |" in report
        assert f"**{name} failed:** {error.splitlines()[0]}" in report
    assert re.search(r"\| toy \| quick \| cpu: .* \| cached \| [\d.]+ \| 30 \| yes \|", report)


def test_a_run_over_budget_fails_the_book_even_when_served_from_the_cache(toy, cli,
                                                                          monkeypatch):
    monkeypatch.setattr(site, "CHAPTERS", {"toy": dataclasses.replace(TOY, budget_s=0.01)})
    before = fingerprint(toy)
    code, out, err = cli("book", "--no-site", "--timeout", "60")
    assert code == 1
    assert re.search(r"error: 1 of 1 chapters failed:\nchapter 'toy' took \d+ s in quick mode "
                     r"when the run the cache serves was executed \(--force measures again\), "
                     r"over 2× its budget of 0.01 s\n", err)
    assert re.search(r"\| toy \| quick \| .* \| cached \| [\d.]+ \| 0.01 \| \*\*no\*\* \|",
                     (toy.generated / "report.md").read_text())
    assert fingerprint(toy) == before


def test_time_limits_come_from_the_budget_in_quick_mode_and_can_be_set():
    assert time_limit(TOY, "quick", Limits()) == (60, "quick mode: 2x the chapter's budget of 30 s")
    assert time_limit(TOY, "paper", Limits()) == (PAPER_TIMEOUT_S, "the paper-mode default")
    assert time_limit(TOY, "paper", Limits(timeout_s=5)) == (5, "set by --timeout")
    assert "12 hours in paper mode" in " ".join(cli_module.__doc__.split())


# -- validation that knows what a value costs --------------------------------------------------
@pytest.fixture
def book_cli(monkeypatch, capsys):
    """``python -m companion ...`` in this process on the book's own chapters; a kernel start
    fails the test (every case here must be refused before one)."""
    monkeypatch.setattr(execute, "_execute", lambda *args: pytest.fail("a kernel was started"))

    def run(*args: str) -> tuple[int, str, str]:
        code = cli_module.main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


FINITE = "must be a finite number, got"
SEEDS = "seeds must lie in [0, 2**32)"
ADAM_SEEDS = registry.CHAPTERS["adam_spikes"].quick.n_seeds


@pytest.mark.parametrize("args,message", [
    (["adam_spikes", "-p", "learning_rate=inf"], f"parameter 'learning_rate' {FINITE} inf"),
    (["incremental_rank", "-p", "rate_alpha=inf"], f"parameter 'rate_alpha' {FINITE} inf"),
    (["embedding_depth", "-p", "learning_rate=1e400"], f"parameter 'learning_rate' {FINITE} inf"),
    (["adam_spikes", "-p", "theta0=nan"], f"parameter 'theta0' {FINITE} nan"),
    (["incremental_rank", "-p", "alpha_sweep=1e-2,nan,1e-6"],
     f"parameter 'alpha_sweep' {FINITE} nan"),
    (["adam_spikes", "-p", f"seed={2**64}"],
     f"bad value for chapter 'adam_spikes': {SEEDS}: seed={2**64}, n_seeds={ADAM_SEEDS}"),
    (["incremental_rank", "-p", "seed=-1"],
     f"bad value for chapter 'incremental_rank': {SEEDS}: seed=-1, n_seeds=3"),
    (["embedding_depth", "-p", "seed=-1"],
     f"bad value for chapter 'embedding_depth': {SEEDS}: seed=-1, n_seeds=2"),
    (["adam_spikes", "-p", "seed=-1"],
     f"bad value for chapter 'adam_spikes': {SEEDS}: seed=-1, n_seeds={ADAM_SEEDS}"),
    (["incremental_rank", "-p", "seed=4294967295"],
     f"bad value for chapter 'incremental_rank': {SEEDS}: seed=4294967295, n_seeds=3"),
    (["incremental_rank", "-p", "learning_rate=1", "-p", "seed=x", "-p", "seed=1"],
     "parameter 'seed' is given twice (-p seed=x and -p seed=1): give it once"),
])
def test_values_that_cannot_work_are_refused_before_any_kernel(book_cli, args, message):
    assert book_cli("run", *args) == (2, "", f"error: {message}\n")


@pytest.mark.parametrize("args,pattern", [
    (["incremental_rank", "-p", "rate_steps=1000000000"],
     r"chapter 'incremental_rank' \(quick mode\) is estimated to take [\d.]+ h, over its time "
     r"limit of 120 s \(quick mode: 2x the chapter's budget of 60 s\): use smaller sizes, or "
     r"pass --timeout \d+ to run it anyway"),
    # too big for any machine and too long: the memory is named, as no time limit would help
    (["incremental_rank", "-p", "n_measurements=1000000000"],
     r"chapter 'incremental_rank' \(quick mode\) is estimated to need [\d.]+ GiB of memory, "),
    (["incremental_rank", "-p", "dim=100000"],
     r"chapter 'incremental_rank' \(quick mode\) is estimated to need [\d.]+ GiB of memory, "),
    (["embedding_depth", "--mode", "paper", "-p", "steps=1000000"],
     r"chapter 'embedding_depth' \(paper mode\) is estimated to take [\d.]+ h, over its time "
     r"limit of 12.0 h \(the paper-mode default\)"),
    (["incremental_rank", "-p", "dim=250", "--timeout", "1e9", "--memory-limit", "16"],
     r"chapter 'incremental_rank' \(quick mode\) is estimated to need [\d.]+ GiB of memory, "
     r"more than the 16.0 GiB allowed by --memory-limit: use smaller sizes, or pass "
     r"--memory-limit \d+ \(GiB\) to run it anyway"),
    (["adam_spikes", "-p", "width=100000", "--timeout", "1e12"],
     r"chapter 'adam_spikes' \(quick mode\) is estimated to need [\d.]+ GiB of memory, more "
     r"than the [\d.]+ GiB available: "),
])
def test_runs_too_big_for_the_machine_are_refused_with_their_estimate(book_cli, args, pattern):
    code, out, err = book_cli("run", *args)
    assert (code, out) == (2, "")
    assert re.fullmatch(f"error: {pattern}.*\n", err), err


def test_every_chapter_fits_its_own_limits_in_both_modes():
    for chapter in registry.CHAPTERS.values():
        for mode in ("quick", "paper"):
            estimate = chapter.modes[mode].estimate()
            assert estimate.seconds <= time_limit(chapter, mode, Limits())[0]
            assert estimate.memory_bytes < 2**30


# -- bless is all or nothing -----------------------------------------------------------------
@pytest.fixture
def blessed(toy, cli) -> Paths:
    """The toy root with baselines blessed from its run."""
    assert cli("bless", "toy", "--reason", "first")[0] == 0
    return toy


@pytest.mark.parametrize("missing", [("line.npz", "line.png"), ("line.png",)],
                         ids=["both_files", "png_only"])
def test_bless_refuses_a_run_with_a_figure_missing_and_writes_nothing(blessed, cli, missing):
    for name in missing:
        (blessed.results("toy") / name).unlink()
    before = fingerprint(blessed)
    assert cli("bless", "toy", "--reason", "second") == (
        2, "", f"error: chapter 'toy' has no complete published run to bless "
               f"(build/results/toy/{missing[0]} is missing): run 'python -m companion run "
               "toy' first\n")
    assert fingerprint(blessed) == before


def test_bless_drops_a_baseline_only_when_told_by_name(blessed, cli):
    for ext in (".npz", ".png"):  # a run of a chapter that no longer draws the figure
        (blessed.results("toy") / f"line{ext}").unlink()
    publish._write_record("toy", publish.read_record("toy", blessed), blessed)
    before = fingerprint(blessed)
    results, baselines = blessed.results("toy"), blessed.baselines("toy")
    assert cli("bless", "toy", "--reason", "gone") == (
        2, "", f"error: the run in {results} has no figure line, which has a baseline in "
               f"{baselines}: run the chapter again, or pass --drop toy/line if it no longer "
               "draws it\n")
    assert fingerprint(blessed) == before
    assert cli("bless", "toy", "--reason", "gone", "--drop", "toy/lines")[0] == 2
    assert cli("bless", "toy", "--reason", "gone", "--drop", "toy/line") == (
        0, "toy: rewrote 0 figure baselines (line (dropped)) in tests/baselines/quick/toy/; "
           "commit them with a message that says why the figures changed\n", "")
    assert sorted(path.name for path in baselines.iterdir()) == ["BLESSED.json"]
    assert json.loads((baselines / "BLESSED.json").read_text())["figures_dropped"] == ["line"]


@pytest.mark.parametrize("corrupt,error", [
    (truncate, "BadZipFile: File is not a zip file"),
    (lambda path: np.savez(path.open("wb"), x=np.array([None], dtype=object)),
     "ValueError: Object arrays cannot be loaded when allow_pickle=False"),
], ids=["truncated", "pickled"])
def test_bless_replaces_a_corrupt_baseline_and_says_so(blessed, cli, corrupt, error):
    baseline = blessed.baselines("toy") / "line.npz"
    corrupt(baseline)
    assert cli("bless", "toy", "--reason", "repair") == (
        0, f"toy: replaced the unreadable baseline of line ({error})\ntoy: rewrote 1 figure "
           "baselines (line) in tests/baselines/quick/toy/; commit them with a message that "
           "says why the figures changed\n", "")
    assert baseline.read_bytes() == (blessed.results("toy") / "line.npz").read_bytes()


def test_bless_checks_every_chapter_and_the_reason_before_writing(toy, cli):
    code, out, err = cli("bless", "toy", "nope", "--reason", "r")
    assert (code, out) == (2, "") and err.startswith("error: unknown chapter 'nope'. Chapters: ")
    assert not toy.baselines("toy").exists()
    for reason in ("", "  "):
        assert cli("bless", "toy", "--reason", reason) == (
            2, "", "error: --reason is empty: say why the figures changed (it is recorded)\n")
    assert not toy.baselines("toy").exists()


def test_bless_that_changes_nothing_keeps_the_last_reason(blessed, cli):
    before = fingerprint(blessed)
    assert cli("bless", "toy", "--reason", "second") == (
        0, "toy: rewrote 0 figure baselines (none changed; BLESSED.json kept) in "
           "tests/baselines/quick/toy/\n", "")
    assert fingerprint(blessed) == before
    assert json.loads((blessed.baselines("toy") / "BLESSED.json").read_text())["reason"] == "first"


def test_make_bless_passes_the_reason_as_text(tmp_path):
    """Quotes, backticks and $(...) in REASON reach the command as they were typed."""
    echo = tmp_path / "python"
    echo.write_text(f"#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    echo.chmod(0o755)
    reason = f"""it's "quoted" `touch {tmp_path}/ran` and $$(touch {tmp_path}/ran)"""
    result = subprocess.run(["make", "-s", "-C", str(ROOT), "-o", ".venv/.installed", "bless",
                             f"PY={echo}", "CHAPTERS=adam_spikes embedding_depth",
                             f"REASON={reason}"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["-m", "companion", "bless", "adam_spikes",
                                         "embedding_depth", "--reason", reason.replace("$$", "$")]
    assert not (tmp_path / "ran").exists()


# -- one repository, whatever the working directory ------------------------------------------
def companion_in(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "companion", *args], cwd=folder,
                          capture_output=True, text=True)


@pytest.mark.slow  # starts real kernels or processes
def test_the_command_line_works_from_any_folder_and_creates_nothing_there(tmp_path):
    for folder in (tmp_path, ROOT / "lib"):
        before = sorted(os.listdir(folder))
        listed = companion_in(folder, "list")
        assert listed.returncode == 0 and "incremental_rank: " in listed.stdout
        refused = companion_in(folder, "run", "incremental_rank", "-p", "seed=-1")
        assert (refused.returncode, refused.stderr) == (
            2, f"error: bad value for chapter 'incremental_rank': {SEEDS}: seed=-1, n_seeds=3\n")
        assert sorted(os.listdir(folder)) == before


@pytest.mark.slow  # starts real kernels or processes
def test_the_command_line_refuses_to_run_another_checkouts_library(tmp_path):
    """Two clones sharing one virtualenv: run from the clone whose library is not imported."""
    clone = tmp_path / "clone"
    (clone / "notebooks").mkdir(parents=True)
    (clone / "lib" / "companion").mkdir(parents=True)
    (clone / "lib" / "companion" / "__init__.py").write_text("")
    result = companion_in(clone / "notebooks", "list")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"error: this is the checkout {clone}, but python imports the "
                             f"companion library from {ROOT / 'lib'}: use that checkout's own "
                             f"virtualenv ('make .venv/.installed' there) or 'pip install -e "
                             f"{clone}'\n")


def test_a_library_outside_any_checkout_is_refused(monkeypatch):
    monkeypatch.setattr(paths_module, "is_checkout", lambda folder: False)
    with pytest.raises(CheckoutError, match=r"^the companion library at .*/lib/companion is not "
                                            r"inside a checkout of the book"):
        Paths.checkout(Path.cwd())


# -- full disk, staging, locks, Ctrl-C, CI ---------------------------------------------------
def test_a_full_disk_fails_in_one_line_and_leaves_no_staging_behind(toy, fake_kernel, cli,
                                                                    monkeypatch):
    killed_earlier = toy.staging_root / "toy-killed"
    killed_earlier.mkdir(parents=True)
    before = fingerprint(toy)
    real_write_text = Path.write_text

    def write_text(path, *args, **kwargs):
        if path.name.endswith(".partial"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_write_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    for _ in range(2):  # the second failure replaces the first one's notebook: one per chapter
        assert cli("run", "toy", "--force") == (
            1, "", "error: chapter 'toy': the disk is full writing build/results/toy/"
                   "execution.json.partial: free some space (build/ holds only outputs that a "
                   f"run rebuilds) and run it again\n{UNTOUCHED}\n")
    assert fingerprint(toy) == before
    assert list(toy.staging_root.iterdir()) == []
    assert sorted(os.listdir(toy.failure("toy").parent)) == ["toy.ipynb", "toy.json"]


@pytest.mark.slow  # starts real kernels or processes
def test_a_second_run_waits_for_the_first_and_says_who_holds_the_lock(toy, cli):
    holding = threading.Event()

    def first_run():
        with chapter_lock("toy", toy):
            holding.set()
            time.sleep(1.0)

    holder = threading.Thread(target=first_run)
    holder.start()
    holding.wait()
    started = time.perf_counter()
    code, out, err = cli("run", "toy")
    holder.join()
    assert code == 0 and out.startswith("toy: cached")
    assert time.perf_counter() - started > 0.8
    assert re.fullmatch(rf"\[companion\] toy: waiting for pid {os.getpid()} \(.*\), since "
                        r"\d\d:\d\d:\d\d, which holds build/locks/toy.lock\n", err), err


INTERRUPTED_RUN = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from companion.__main__ import main
from companion.pipeline import registry
from companion.pipeline.paths import Paths
from toy_chapter import TOYS

registry.CHAPTERS.update(TOYS)
Paths.checkout = classmethod(lambda cls, caller: Paths(Path(sys.argv[2])))
sys.exit(main(["run", "toy", "-p", "fault=hang", "--timeout", "300"]))
"""


@pytest.mark.slow  # starts real kernels or processes
def test_ctrl_c_during_a_run_ends_in_one_line_and_leaves_no_staging(toy):
    before = fingerprint(toy)
    process = subprocess.Popen([sys.executable, "-c", INTERRUPTED_RUN, str(TESTS),
                                str(toy.root)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not hang_started(toy) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert (process.returncode, out, err) == (
        130, "", "interrupted: chapter 'toy' stopped; its published outputs are untouched\n")
    assert fingerprint(toy) == before
    assert list(toy.staging_root.iterdir()) == []


def hang_started(paths: Paths) -> bool:
    """Whether the staged notebook shows the hanging cell running."""
    for notebook in paths.staging_root.glob("toy-*/toy.ipynb"):
        try:
            cells = json.loads(notebook.read_text())["cells"]
        except ValueError:  # being written
            continue
        return any("time.sleep(600)" in "".join(cell["source"])
                   and cell["metadata"].get("papermill", {}).get("start_time")
                   for cell in cells)
    return False


@pytest.mark.parametrize("value,under_ci", [("true", True), ("1", True), ("TRUE", True),
                                            ("false", False), ("0", False), ("", False)])
def test_ci_is_read_as_a_boolean(monkeypatch, value, under_ci):
    monkeypatch.setenv("CI", value)
    outcome = pytest.fail.Exception if under_ci else pytest.skip.Exception
    with pytest.raises(outcome):
        require(False, "no browser")


@pytest.mark.slow  # starts real kernels or processes
@pytest.mark.parametrize("ci,refused", [("true", True), ("false", False)])
def test_ci_refuses_to_leave_the_slow_group_out(ci, refused):
    """`make test` leaves the slow group out; under CI that would be a silent skip."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-m", "not slow", "--collect-only",
                           "-q", "tests/shared/test_plotting.py"], cwd=ROOT, text=True,
                          capture_output=True, env={**os.environ, "CI": ci})
    assert (done.returncode == pytest.ExitCode.USAGE_ERROR) == refused, done.stderr
    assert ("run `make test-all`" in done.stderr) == refused, done.stderr
