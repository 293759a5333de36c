"""The pinned numerical environment: what is pinned where, that a caller's choice wins, and that
the libraries really run what the fingerprint says."""

import json
import os
import subprocess
import sys

import pytest

from companion import numerics
from companion.numerics import (
    CPU_LEVEL_ENV, PINNED_LEVEL, THREADS, X86_64_V3, cpu_level, fingerprint, pinned_environment)

PINNED_HERE = cpu_level() == PINNED_LEVEL


@pytest.fixture
def unpinned(monkeypatch):
    """An environment in which nobody has set any of the pinned variables."""
    for name in [*THREADS, *X86_64_V3, CPU_LEVEL_ENV]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_threads_are_pinned_everywhere_and_the_level_where_the_cpu_has_it(unpinned):
    environment = pinned_environment()
    assert {name: environment[name] for name in THREADS} == THREADS
    assert (set(environment) == set(THREADS) | set(X86_64_V3)) == PINNED_HERE


def test_a_callers_value_wins_and_native_leaves_the_instruction_sets_alone(unpinned):
    unpinned.setenv("OMP_NUM_THREADS", "2")
    assert pinned_environment()["OMP_NUM_THREADS"] == "2"
    unpinned.setenv(CPU_LEVEL_ENV, "native")
    assert set(pinned_environment()) == set(THREADS)


def test_no_level_is_pinned_on_arm_and_an_impossible_one_is_refused(unpinned):
    unpinned.setattr(numerics.platform, "machine", lambda: "arm64")
    assert cpu_level() == "native"
    unpinned.setenv(CPU_LEVEL_ENV, PINNED_LEVEL)
    with pytest.raises(ValueError, match="this arm64 CPU does not have it"):
        cpu_level()
    unpinned.setenv(CPU_LEVEL_ENV, "avx512")
    with pytest.raises(ValueError, match="expected x86-64-v3 or native"):
        cpu_level()


def test_this_process_runs_what_its_fingerprint_says():
    here = fingerprint()
    assert json.loads(json.dumps(here)) == here
    assert here["threads"]["torch"] == 1 and set(here["threads"]["openmp"]) <= {1}
    if PINNED_HERE and os.environ["ATEN_CPU_CAPABILITY"] == "avx2":
        assert here["torch_cpu_capability"] == "AVX2"
        assert here["numpy_simd"] == ["X86_V3"]
        assert all(" Haswell, threads 1" in blas for blas in here["openblas"])


@pytest.mark.skipif(not PINNED_HERE, reason="needs an x86-64-v3 CPU on Linux")
def test_a_kernel_started_with_another_torch_capability_reports_it():
    """What the cross-capability runs of the book rely on: ATEN_CPU_CAPABILITY=default wins
    over the pin, the rest of the pin holds, and the fingerprint tells the difference."""
    environment = {name: value for name, value in os.environ.items()
                   if name not in {**THREADS, **X86_64_V3}}
    script = ("import json, companion; from companion.numerics import fingerprint; "
              "print(json.dumps(fingerprint()))")
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, env={**environment, "ATEN_CPU_CAPABILITY": "default"})
    other = json.loads(output.stdout)
    assert other["torch_cpu_capability"] == "DEFAULT"
    assert other["numpy_simd"] == ["X86_V3"]
