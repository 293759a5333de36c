"""The numerical environment every run of the book pins, and the fingerprint that describes it.

Two things decide the rounding of a CPU run besides the code: how many threads split a
reduction, and which instruction set each library dispatches its kernels to (torch's vectorized
kernels, its MKL and oneDNN, numpy's and scipy's OpenBLAS, numpy's own SIMD loops). Left alone,
each library picks the widest its CPU offers, so an AVX-512 machine and an AVX2 laptop round
differently and a trajectory that passes through a loss spike diverges after a few hundred
steps. The book therefore pins, through environment variables that the libraries read once,
when numpy or torch is first imported:

* one thread per library: the matrices of these chapters are small and on two cores one thread
  is far faster;
* on x86-64 Linux machines that have it, the x86-64-v3 level (AVX2 and FMA: Intel since 2013,
  AMD since 2015) in every library, the widest level most x86-64 machines share. Elsewhere
  (Arm, macOS) the libraries choose; the fingerprint records what they chose.

``companion``'s ``__init__`` applies the pins, so any ``import companion...`` before numpy and
torch sets them; the pipeline passes the same values to every kernel it starts. A variable the
caller has already set wins, so ``ATEN_CPU_CAPABILITY=default python -m companion run ...``
runs a chapter as a CPU without AVX2 would, and ``COMPANION_CPU_LEVEL=native`` leaves the
instruction sets to the libraries (threads stay pinned).

:func:`fingerprint` describes the environment a run actually got; the figure regression
compares a run with its baselines in the exact tier only where the fingerprints are equal.
"""

from __future__ import annotations

import os
import platform
import re
from importlib import metadata
from pathlib import Path

THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

CPU_LEVEL_ENV = "COMPANION_CPU_LEVEL"
PINNED_LEVEL = "x86-64-v3"
NATIVE_LEVEL = "native"
# The /proc/cpuinfo flags of the x86-64-v3 level ("abm" is how Linux names LZCNT).
X86_64_V3_FLAGS = frozenset({"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "movbe", "abm"})
X86_64_V3 = {
    "ATEN_CPU_CAPABILITY": "avx2",  # torch's vectorized kernels (Sleef exp, log, reductions)
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # torch's oneDNN kernels
    "MKL_CBWR": "COMPATIBLE",  # torch's MKL: one code path on Intel and AMD, fixed reductions
    "OPENBLAS_CORETYPE": "Haswell",  # numpy's and scipy's OpenBLAS (the kernels Zen uses too)
    "NPY_ENABLE_CPU_FEATURES": "X86_V3",  # numpy's own SIMD loops (its AVX-512 exp and log)
}

# The branch numbers of MKL's mkl_cbwr.h, for the fingerprint.
MKL_BRANCHES = {0: "OFF", 1: "OFF", 2: "AUTO", 3: "COMPATIBLE", 4: "SSE2", 6: "SSSE3",
                7: "SSE4_1", 8: "SSE4_2", 9: "AVX", 10: "AVX2", 12: "AVX512", 14: "AVX512_E1"}
FINGERPRINT_PACKAGES = ("torch", "numpy", "scipy", "matplotlib")


def cpu_flags() -> frozenset[str]:
    """The instruction-set flags of this CPU as Linux reports them (empty elsewhere)."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return frozenset()
    match = re.search(r"^flags\s*:(.*)$", cpuinfo.read_text(), re.MULTILINE)
    return frozenset(match.group(1).split()) if match else frozenset()


def cpu_level() -> str:
    """The instruction-set level this machine's runs are pinned to, or ``native``.

    ``COMPANION_CPU_LEVEL`` chooses; by default x86-64-v3 where the CPU has it.
    """
    missing = sorted(X86_64_V3_FLAGS - cpu_flags())
    supported = platform.machine() in ("x86_64", "AMD64") and not missing
    requested = os.environ.get(CPU_LEVEL_ENV) or (PINNED_LEVEL if supported else NATIVE_LEVEL)
    if requested not in (PINNED_LEVEL, NATIVE_LEVEL):
        raise ValueError(f"{CPU_LEVEL_ENV}={requested}: expected {PINNED_LEVEL} or "
                         f"{NATIVE_LEVEL}")
    if requested == PINNED_LEVEL and not supported:
        raise ValueError(f"{CPU_LEVEL_ENV}={PINNED_LEVEL}, but this {platform.machine()} CPU "
                         "does not have it" + (f": it lacks {', '.join(missing)}" if missing
                                               else ""))
    return requested


def pinned_environment() -> dict[str, str]:
    """The variables the book pins on this machine, with the values in force (the caller's own
    value of a variable wins over the pinned one)."""
    pins = {**THREADS, **(X86_64_V3 if cpu_level() == PINNED_LEVEL else {})}
    return {name: os.environ.get(name, value) for name, value in pins.items()}


def pin_environment() -> None:
    """Set the pinned variables that the caller has not set."""
    os.environ.update(pinned_environment())


def pin_torch() -> None:
    """One torch thread and deterministic algorithms: how every chapter kernel and every sweep
    worker computes (torch reads its thread count at import, but a caller may have changed it)."""
    import torch

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def fingerprint() -> dict:
    """What decides the rounding of a run, as the libraries report it after loading.

    The processor (architecture, vendor, C library), the instruction set torch dispatches to,
    MKL's code branch, each OpenBLAS and its core type, numpy's enabled SIMD targets, thread
    counts, the accelerator, and the versions of the numerical libraries. Two runs with equal
    fingerprints and the same code give identical figures.
    """
    import numpy  # noqa: F401  (loaded before threadpoolctl looks for its BLAS)
    import scipy.linalg  # noqa: F401
    import torch
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    from threadpoolctl import threadpool_info

    pools = threadpool_info()
    return {
        "machine": platform.machine(),
        "cpu_vendor": _cpu_vendor(),
        "libc": " ".join(platform.libc_ver()).strip() or platform.system(),
        "accelerator": (torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_mkl": _mkl_branch(torch),
        "numpy_simd": [target for target in __cpu_dispatch__ if __cpu_features__[target]],
        "openblas": sorted(f"{pool['version']} {pool['architecture']}, "
                           f"threads {pool['num_threads']}" for pool in pools
                           if pool["internal_api"] == "openblas"),
        "threads": {"torch": torch.get_num_threads(),
                    "openmp": sorted(pool["num_threads"] for pool in pools
                                     if pool["internal_api"] == "openmp")},
        "versions": {name: metadata.version(name) for name in FINGERPRINT_PACKAGES},
    }


def _cpu_vendor() -> str:
    """The CPU vendor (GenuineIntel, AuthenticAMD, ...), or the processor name elsewhere."""
    cpuinfo = Path("/proc/cpuinfo")
    text = cpuinfo.read_text() if cpuinfo.exists() else ""
    match = re.search(r"^(?:vendor_id|CPU implementer)\s*:\s*(\S+)", text, re.MULTILINE)
    return match.group(1) if match else platform.processor() or "unknown"


def _mkl_branch(torch) -> str:
    """The MKL inside torch and the code branch it runs (``none`` for builds without MKL).

    MKL may run another branch than ``MKL_CBWR`` asked for (on AMD it runs AUTO for AVX2), so
    the branch is read back from MKL itself.
    """
    import ctypes

    library = Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"
    try:
        mkl = ctypes.CDLL(str(library))
        mkl.mkl_serv_cbwr_get.restype = ctypes.c_int
        version = ctypes.create_string_buffer(256)
        mkl.MKL_Get_Version_String(version, len(version))
    except (OSError, AttributeError):
        return "none"
    release = re.search(rb"Version ([\d.]+)", version.value)
    mkl.mkl_serv_cbwr_get_auto_branch.restype = ctypes.c_int
    branch = mkl.mkl_serv_cbwr_get(1)  # MKL_CBWR_BRANCH; OFF: MKL dispatches as AUTO would
    if MKL_BRANCHES.get(branch) == "OFF":
        branch = mkl.mkl_serv_cbwr_get_auto_branch()
    return (f"{release.group(1).decode() if release else 'unknown'} "
            f"{MKL_BRANCHES.get(branch, str(branch))}")
