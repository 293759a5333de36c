"""The Dask cluster a sweep runs on, its workers computing as a chapter kernel does.

A chapter kernel computes in one process with one thread, in the pinned numerical environment
(:mod:`companion.numerics`), and so does every worker of a sweep:

* by default, a ``LocalCluster`` on 127.0.0.1 started from the sweep's own (pinned) process:
  one worker process per core, fewer if the tasks' estimated memory does not fit, each with one
  thread;
* with ``--scheduler``, the workers of an existing cluster: each must have one thread (``dask
  worker ADDRESS --nthreads 1``), and each is restarted by its nanny in the environment the book
  pins on its machine, set before the worker's process starts, since numpy reads it when the
  worker imports Dask, long before any task.

Either way, each worker's numerical fingerprint is read before the first task, and a worker that
computes with more than one thread is refused. The scheduler and the workers must import this
checkout's library (the scheduler unpickles the tasks too).

Dask is imported here only: the command line imports this module when a sweep needs a cluster.
"""

from __future__ import annotations

import contextlib
import logging
import os

import dask
from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import NannyPlugin

from ..numerics import pinned_environment
from ..params import ParameterError
from .execute import KERNEL_MEMORY_BYTES, available_memory, say
from .sweep import worker_fingerprint

SCHEDULER_TIMEOUT_S = 30


class ClusterRefused(ParameterError):
    """A cluster that cannot be reached, or whose workers do not compute as the book pins."""


class PinnedEnvironment(NannyPlugin):
    """Restart a nanny's worker in the numerical environment the book pins on its machine, set
    before the worker's process starts (Dask's own ``Environ`` sets it after the worker has
    imported numpy, too late for numpy's instruction sets and OpenBLAS)."""

    restart = True
    name = "companion-pinned-environment"

    async def setup(self, nanny) -> None:
        pins = pinned_environment()  # the worker's machine decides its instruction-set level
        nanny.pre_spawn_env.update(pins)
        nanny.env.update(pins)


class Workers:
    """The cluster of one sweep command, started or connected on first use, closed on exit.

    Without ``scheduler``: a ``LocalCluster`` of ``n_workers`` single-threaded processes (by
    default :func:`machine_workers`). With ``scheduler``: that cluster's workers.
    """

    def __init__(self, scheduler: str | None = None, n_workers: int | None = None):
        if scheduler and n_workers:
            raise ClusterRefused("--workers sizes the local cluster; with --scheduler the "
                                 "cluster's own workers run the sweep: give one of them")
        if n_workers is not None and n_workers < 1:
            raise ClusterRefused(f"--workers must be >= 1, got {n_workers}")
        self.scheduler, self.n_workers = scheduler, n_workers
        self._cluster = self._client = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def client(self, tasks: list) -> Client:
        """The client, starting or connecting to the cluster if this is its first use; the
        workers' fingerprints are checked before it is returned."""
        if self._client is None:
            logging.getLogger("distributed").setLevel(logging.ERROR)
            self._client = self._connect() if self.scheduler else self._start(tasks)
            for address, fingerprint in self._client.run(worker_fingerprint).items():
                threads, blas = fingerprint["threads"], fingerprint["openblas"]
                if (threads["torch"] != 1 or set(threads["openmp"]) - {1}
                        or any(not pool.endswith("threads 1") for pool in blas)):
                    raise ClusterRefused(f"worker {address} computes with more than one "
                                         f"thread, unlike the book's pinned runs: threads "
                                         f"{threads}, OpenBLAS {blas}")
        return self._client

    def describe(self) -> str:
        if self._client is None:
            return "no cluster (every result from the cache)"
        where = f"scheduler {self.scheduler}" if self.scheduler else "LocalCluster on 127.0.0.1"
        return f"{where}, {len(self._client.nthreads())} workers x 1 thread"

    def _start(self, tasks: list) -> Client:
        size = self.n_workers or machine_workers(tasks)
        say(f"starting a local Dask cluster: {size} workers x 1 thread")
        # no statistical profiler sampling every worker's stack each 10 ms: nobody reads it
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            self._cluster = LocalCluster(
                n_workers=size, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None,  # no dashboard; its health server on a free port
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.CRITICAL)  # the workers' failure logs: ours to report
        return Client(self._cluster)

    def _connect(self) -> Client:
        try:
            client = Client(self.scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
            client.wait_for_workers(1, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError) as error:
            raise ClusterRefused(f"cannot use the Dask scheduler at {self.scheduler} (no "
                                 f"answer, or no worker within {SCHEDULER_TIMEOUT_S} s): "
                                 f"{error}") from None
        self._client = client  # closed by close(), even if refused below
        threaded = {address: n for address, n in client.nthreads().items() if n != 1}
        if threaded:
            raise ClusterRefused(
                f"the workers of {self.scheduler} must have one thread each, as the book's "
                f"runs are pinned (start them with 'dask worker {self.scheduler} --nthreads "
                f"1'); these have more: "
                + ", ".join(f"{address} ({n})" for address, n in threaded.items()))
        n_workers = len(client.nthreads())
        say(f"restarting the {n_workers} workers of {self.scheduler} in the pinned "
            "numerical environment")
        client.register_plugin(PinnedEnvironment())
        client.wait_for_workers(n_workers, timeout=SCHEDULER_TIMEOUT_S)
        return client

    def close(self) -> None:
        for resource in (self._client, self._cluster):
            if resource is not None:
                with contextlib.suppress(Exception):  # a cluster already gone
                    resource.close()
        self._cluster = self._client = None


def machine_workers(tasks: list) -> int:
    """One worker per core this process may use, fewer if that many tasks' estimated memory
    (each with a kernel's worth of libraries) does not fit, never more than the tasks."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    per_task = max(task.config.estimate().memory_bytes for task in tasks) + KERNEL_MEMORY_BYTES
    return max(1, min(cores or 1, int(available_memory() // per_task), len(tasks)))
