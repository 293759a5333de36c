"""Sweeps on Dask: a local cluster of two workers, a real scheduler and worker started as
separate processes on 127.0.0.1, and a sweep killed half-way that resumes from its cache.

The swept chapter is the toy of ``toy_chapter`` (its claim holds for slopes of at least one, the
scope it declares), in a temporary repository root. Starting a cluster costs seconds, so the
tests that need no particular cluster share one (:func:`workers`).
"""

import contextlib
import dataclasses
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from companion.checks import Grid
from companion.numerics import fingerprint, pinned_environment
from companion import __main__ as cli_module
from companion.pipeline import registry, robustness, site
from companion.pipeline.paths import Paths
from companion.pipeline.robustness import robustness_page
from companion.pipeline.cluster import Workers
from companion.pipeline.sweep import Progress, library_key, load_sweep, plan, sweep_chapter
from .toy_chapter import GRID, TOY, command_line, make_toy_root

TESTS = Path(__file__).parent
POINTS = 6  # slope x sigmas
ROWS = POINTS * GRID.n_seeds * 2  # two checks: A1 and C1
TASKS = POINTS * GRID.n_seeds + len(GRID.axes["slope"])  # and one frame per slope
HEADER = "slope,sigmas,seed,id,name,kind,value,op,bound,passed,in_scope,known_failure"


@pytest.fixture(scope="module")
def workers():
    with Workers(n_workers=2) as shared:
        yield shared


@pytest.fixture
def toy(tmp_path) -> Paths:
    return make_toy_root(tmp_path / "repo")


@pytest.fixture
def cli(toy, monkeypatch, capsys):
    """``python -m companion ...`` in this process, on the toy root: (exit code, out, err)."""
    return command_line(toy, {TOY.name: TOY}, monkeypatch, capsys)


def same_pins(worker: dict, here: dict) -> bool:
    """Whether a worker computes with the instruction sets and threads this pinned process
    does (on a machine with AVX-512, an unpinned worker would use it)."""
    keys = ("torch_cpu_capability", "torch_mkl", "numpy_simd", "openblas")
    return all(worker[key] == here[key] for key in keys)


def table(paths: Paths) -> str:
    return (paths.sweeps(TOY.name) / "table.csv").read_text()


@pytest.mark.slow  # a Dask cluster
def test_a_sweep_on_a_local_cluster_of_two_workers(toy, cli):
    code, out, err = cli("sweep", "toy", "--workers", "2")
    assert code == 0, err
    assert "starting a local Dask cluster: 2 workers x 1 thread" in err
    assert (f"toy: {TASKS} tasks, {TASKS} computed, 0 from the cache, 0 failed" in out
            and f"{ROWS} checks, 0 failing inside their scope and 6 outside it" in out), out
    rows = table(toy).splitlines()
    assert rows[0] == HEADER and len(rows) == 1 + ROWS
    assert '0.5,"1.0,0.7,0.4",2,A1,toy_slope,claim,0.52,>=,1.0,False,False,False' in rows
    assert "2.0,\"1.0,0.5\",1,A1,toy_slope,claim,2.01,>=,1.0,True,True,False" in rows
    record = load_sweep(TOY.name, toy).record
    assert record["this_run"]["cluster"] == "LocalCluster on 127.0.0.1, 2 workers x 1 thread"
    assert [frame["value"] for frame in record["frames"]] == ["0.5", "1.0", "2.0"]
    assert all((toy.sweeps(TOY.name) / frame["file"]).read_bytes()[:4] == b"\x89PNG"
               for frame in record["frames"])
    (worker,) = record["worker_fingerprints"]
    assert worker["threads"]["torch"] == 1 and set(worker["threads"]["openmp"]) <= {1}
    assert same_pins(worker, fingerprint())

    before = table(toy)
    stale = toy.sweeps(TOY.name) / "cache" / "of-another-library"
    stale.mkdir()
    code, out, err = cli("sweep", "toy")
    assert code == 0 and f"0 computed, {TASKS} from the cache" in out, out
    assert "starting" not in err, "a sweep served from the cache started a cluster"
    assert table(toy) == before
    assert not stale.exists(), "results of another library were kept"


@pytest.mark.slow  # a Dask cluster
def test_a_failing_point_is_named_and_the_others_are_kept(toy, workers):
    faulty = dataclasses.replace(TOY, grids={"quick": Grid({"fault": ("", "raise")}, 2)})
    outcome = sweep_chapter(faulty, "quick", toy, workers)
    assert outcome.failed == [f"fault=raise, seed {seed}: RuntimeError: deliberate failure"
                              for seed in (0, 1)]
    assert outcome.rows == 4 and outcome.computed == 2
    assert len(table(toy).splitlines()) == 1 + 4
    assert load_sweep(TOY.name, toy).record["this_run"]["failed"] == outcome.failed


def test_a_chapter_without_a_grid_is_skipped_with_a_note(toy, cli, monkeypatch):
    monkeypatch.setitem(registry.CHAPTERS, TOY.name, dataclasses.replace(TOY, grids={}))
    code, out, err = cli("sweep", "toy")
    assert (code, out) == (0, "")
    assert err == "[companion] toy: no GRID in its config.py yet: its quick sweep is skipped\n"
    assert not toy.sweeps(TOY.name).exists()


@pytest.mark.parametrize("args,message", [
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "give one of them"),
    (["--workers", "0"], "--workers must be >= 1"),
])
def test_contradictory_cluster_options_are_refused(cli, args, message):
    code, _, err = cli("sweep", "toy", *args)
    assert code == 2 and message in err


def test_a_grid_point_that_is_not_a_valid_configuration_is_named(toy, cli, monkeypatch):
    bad = dataclasses.replace(TOY, grids={"quick": Grid({"fault": ("", "melt")}, 1)})
    monkeypatch.setitem(registry.CHAPTERS, TOY.name, bad)
    code, _, err = cli("sweep", "toy")
    assert code == 2
    assert ("the quick grid of chapter 'toy' has a point that is not a valid configuration "
            "(checks at {'fault': 'melt'}, seed 0)") in err
    assert not toy.sweeps(TOY.name).exists()


def test_each_task_is_keyed_by_its_configuration_and_the_library(toy):
    tasks = plan(TOY, "quick", GRID, library_key(toy))
    assert len(tasks) == TASKS and len({task.key for task in tasks}) == TASKS
    assert tasks[0].config.sigmas == (1.0, 0.5) and tasks[0].config.n_seeds == 1
    assert [task.seed for task in tasks[:3]] == [0, 1, 2]
    (toy.library / "science.py").write_text("RATE = 2\n")
    changed = plan(TOY, "quick", GRID, library_key(toy))
    assert not {task.key for task in tasks} & {task.key for task in changed}


def test_progress_in_a_log_is_a_line_per_tenth_of_the_work():
    stream = io.StringIO()
    progress = Progress("toy", 20, 4, stream)
    for index in range(16):
        progress.advance(failed=index == 3)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 9  # 20% from the cache, then 30% ... 100%
    assert lines[0].endswith("4 done (4 from the cache), 0 failed, 16 remaining, 0 s")
    assert "] 19 done (4 from the cache), 1 failed, 0 remaining" in lines[-1]


@pytest.mark.slow  # a Dask cluster
def test_the_robustness_page_outlines_the_scope_and_says_where_the_law_stops(toy, workers):
    sweep_chapter(TOY, "quick", toy, workers)
    page = robustness_page(TOY, load_sweep(TOY.name, toy))
    claims = page.split("## Claims")[1].split("## Consistency checks")[0]
    assert claims.count('class="holds-all in-scope"') == 4  # slopes 1 and 2
    assert claims.count('class="holds-none"') == 2  # slope 0.5, outside the scope
    assert ("- **A1** fails outside its scope at slope=0.5, sigmas=1.0,0.5 (seeds 0, 1, 2); "
            "slope=0.5, sigmas=1.0,0.7,0.4 (seeds 0, 1, 2)") in page
    assert "- **A1** `toy_slope`: slope of the line. Scope: slope >= 1." in page
    assert page.count("<img src=\"data:image/png;base64,") == 3
    assert page.count(" hidden>") == 2, "all frames but the default one start hidden"
    assert "warning" not in page


@pytest.mark.slow  # a Dask cluster
def test_a_table_altered_after_its_sweep_is_not_read(toy, workers):
    sweep_chapter(TOY, "quick", toy, workers)
    path = toy.sweeps(TOY.name) / "table.csv"
    path.write_text(path.read_text().replace("False", "True"))
    assert load_sweep(TOY.name, toy) is None


@pytest.mark.slow  # a Dask cluster
def test_the_book_sweeps_its_chapters_and_writes_where_their_claims_hold(toy, cli,
                                                                          monkeypatch):
    only_toy = {TOY.name: TOY}
    for module in (cli_module, site, robustness):
        monkeypatch.setattr(module, "CHAPTERS", only_toy)
    code, _, err = cli("book", "--no-site")
    assert code == 0, err
    assert f"[companion] toy: {TASKS} tasks, {TASKS} computed" in err
    page = toy.robustness_page(TOY.name).read_text()
    assert page.startswith("# Toy: where the claims hold") and "companion-explorer" in page
    code, _, err = cli("book", "--no-site")
    assert code == 0 and f"toy: {TASKS} tasks, 0 computed, {TASKS} from the cache" in err


# -- a real scheduler and worker ---------------------------------------------------------------
def start(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dask", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def scheduler_address(scheduler_file: Path, process: subprocess.Popen) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if scheduler_file.exists():
            with contextlib.suppress(ValueError):  # being written
                return json.loads(scheduler_file.read_text())["address"]
        time.sleep(0.2)
    raise AssertionError("the dask scheduler did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.mark.slow  # a Dask cluster
def test_a_sweep_through_a_real_scheduler_and_worker(toy, cli, tmp_path):
    """A worker with two threads is refused; one with one thread, started without the pinned
    environment, is restarted in it, and the sweep's results are those of a local run."""
    unpinned = {name: value for name, value in os.environ.items()
                if name not in pinned_environment()}
    env = {**unpinned, "PYTHONPATH": str(TESTS.parent)}  # both unpickle the toy's tasks
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                      "--scheduler-file", str(scheduler_file), env=env)
    processes = [scheduler]
    try:
        address = scheduler_address(scheduler_file, scheduler)
        processes.append(start("worker", address, "--nthreads", "2", "--no-dashboard",
                               "--host", "127.0.0.1", env=env))
        code, _, err = cli("sweep", "toy", "--scheduler", address)
        assert code == 2 and "must have one thread each" in err and "(2)" in err, err
        stop(processes.pop())
        processes.append(start("worker", address, "--nthreads", "1", "--no-dashboard",
                               "--host", "127.0.0.1", env=env))
        code, out, err = cli("sweep", "toy", "--scheduler", address)
    finally:
        for process in reversed(processes):
            stop(process)
    assert code == 0, err
    assert "restarting the 1 workers of" in err and f"{TASKS} computed" in out
    record = load_sweep(TOY.name, toy).record
    assert record["this_run"]["cluster"] == f"scheduler {address}, 1 workers x 1 thread"
    (worker,) = record["worker_fingerprints"]
    assert same_pins(worker, fingerprint()), "the worker was not restarted in the pinned " \
                                             "environment"
    assert len(table(toy).splitlines()) == 1 + ROWS


# -- resume after a kill -----------------------------------------------------------------------
SLOW_SWEEP = """
import dataclasses, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from companion.__main__ import main
from companion.pipeline import registry
from companion.pipeline.paths import Paths
from pipeline.toy_chapter import GRID, TOY  # as the tests import it: the same cache keys

slow = dataclasses.replace(GRID, base={"work": 150})
registry.CHAPTERS["toy"] = dataclasses.replace(TOY, grids={"quick": slow})
Paths.checkout = classmethod(lambda cls, caller: Paths(Path(sys.argv[2])))
sys.exit(main(["sweep", "toy", "--workers", "2"]))
"""


def stop_half_way(paths: Paths, cache: Path, how: signal.Signals) -> int:
    """Start a slow sweep of the toy in another process, stop it with ``how`` once 4 results
    are cached, and return how many are cached then."""
    process = subprocess.Popen([sys.executable, "-c", SLOW_SWEEP, str(TESTS.parent),
                                str(paths.root)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 180
    while (len(list(cache.glob("*.json"))) < 4 and process.poll() is None
           and time.monotonic() < deadline):
        time.sleep(0.05)
    if how == signal.SIGKILL:
        os.killpg(process.pid, how)  # the sweep and its workers, as an out-of-memory kill
    else:
        process.send_signal(how)  # Ctrl-C reaches the sweep, which stops its workers
    _, err = process.communicate(timeout=120)
    kept = len(list(cache.glob("*.json")))
    if how == signal.SIGINT:
        assert process.returncode == 130 and re.search(
            rf"\ninterrupted: the sweep of 'toy' stopped; \d+ of {TASKS} results are cached: "
            r"run it again to resume\n$", err), err[-2000:]
        time.sleep(2)
        with pytest.raises(ProcessLookupError):
            os.killpg(process.pid, 0)  # no worker of it is left
    assert 4 <= kept < POINTS * GRID.n_seeds, err[-2000:]
    return kept


@pytest.mark.slow  # a Dask cluster
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_a_sweep_stopped_half_way_resumes_from_its_cache(toy, workers, how):
    cache = toy.sweeps(TOY.name) / "cache" / library_key(toy)[:16]
    kept = stop_half_way(toy, cache, how)
    assert not (toy.sweeps(TOY.name) / "sweep.json").exists()

    slow = dataclasses.replace(TOY, grids={"quick": dataclasses.replace(GRID,
                                                                       base={"work": 150})})
    outcome = sweep_chapter(slow, "quick", toy, workers)
    assert outcome.cached >= kept and outcome.computed == TASKS - outcome.cached
    assert not outcome.failed and outcome.rows == ROWS
    assert len(list(cache.glob("*.json"))) == POINTS * GRID.n_seeds
    if how == signal.SIGKILL:
        resumed = table(toy)
        shutil.rmtree(cache)
        assert sweep_chapter(slow, "quick", toy, workers).computed == TASKS
        assert table(toy) == resumed, "a resumed sweep differs from one computed in one go"
