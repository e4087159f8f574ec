"""Independent questions (per account, per resource, per principal group, per audit rule) fanned
out behind one `concurrent.futures.Executor` interface:

* `serial`: in this process, one after the other (what every other executor must equal);
* `process`: a local process pool (the default; forked on POSIX, so what this process has loaded
  is shared with the workers);
* `dask`: a `dask.distributed` cluster, the optional extra `dask` (`pip install
  'iam-reasoner[dask]'`): a scheduler address (`tcp://host:8786`) or, without one, a
  `LocalCluster` of worker processes on this machine.

Tasks are plain functions of the reasoner and small arguments (file paths, names), never a loaded
snapshot: each worker loads what the tasks share once, through `worker_value(key, load)`, and
keeps it for the next task. On a real cluster every worker needs the reasoner installed (the same
version) and the snapshot files at the same path (a shared file system or a copy on each host).

Public API: `executor(kind, workers, scheduler)`, `map_ordered(ex, fn, items)`, `worker_value`,
`sharing`, `in_worker`, `SerialExecutor`, `EXECUTORS`, `default_workers()`.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from reasoner.errors import InputError

T = TypeVar("T")
R = TypeVar("R")
EXECUTORS = ("serial", "process", "dask")


def default_workers() -> int:
    """REASONER_WORKERS, else the number of cores (at most 2 unless set)."""
    value = os.environ.get("REASONER_WORKERS")
    if value is None:
        return min(2, os.cpu_count() or 1)
    try:
        return max(1, int(value))
    except ValueError:
        raise InputError(f"REASONER_WORKERS={value!r}: expected a whole number", source="<environment>") from None


class SerialExecutor(Executor):
    """Runs each task when it is submitted, in this process."""

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        future: Future[R] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the caller sees it from result(), as with a pool
            future.set_exception(exc)
        return future


class _DaskExecutor(Executor):
    """A dask.distributed client's executor that closes the client (and its local cluster)."""

    def __init__(self, client: Any, cluster: Any = None) -> None:
        self.client = client
        self._cluster = cluster
        self._inner = client.get_executor(pure=False)

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        return self._inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait)
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def _dask(workers: int, scheduler: str | None) -> Executor:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError(
            "--executor dask needs dask.distributed: pip install 'iam-reasoner[dask]'", source="<command line>"
        ) from None
    if scheduler:
        try:
            return _DaskExecutor(Client(scheduler, timeout=30))
        except OSError as exc:
            raise InputError(f"no Dask scheduler at {scheduler}: {exc}", source="<command line>") from None
    # One thread per worker process: the solver holds the GIL, so threads would not add cores.
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return _DaskExecutor(Client(cluster), cluster)


def executor(kind: str = "process", workers: int | None = None, scheduler: str | None = None) -> Executor:
    """A concurrent.futures executor of that kind (a `with` block shuts it down)."""
    if kind not in EXECUTORS:
        raise InputError(f"--executor {kind!r}: expected one of {', '.join(EXECUTORS)}", source="<command line>")
    n = workers or default_workers()
    if kind == "serial":
        return SerialExecutor()
    if kind == "dask":
        return _dask(n, scheduler)
    # fork shares what this process loaded (the catalogue, the encodings); spawn elsewhere.
    method = "fork" if sys.platform != "win32" and "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context(method), initializer=_mark_worker)


def map_ordered(ex: Executor, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """fn over the items on the executor, the answers in the items' order (the first error raised)."""
    futures = [ex.submit(fn, item) for item in items]
    return [f.result() for f in futures]


_values: dict[Hashable, Any] = {}
_lock = threading.Lock()


def worker_value(key: Hashable, load: Callable[[], T]) -> T:
    """What `load()` returns, loaded once per worker process (and once here when serial)."""
    with _lock:
        if key not in _values:
            _values[key] = load()
        return _values[key]


@contextmanager
def sharing(key: Hashable, value: Any) -> Iterator[None]:
    """Within the block, worker_value(key, ...) is `value` here and in the processes forked from
    here (a local pool's workers then start with it, loading nothing); forgotten afterwards."""
    with _lock:
        _values[key] = value
    try:
        yield
    finally:
        with _lock:
            _values.pop(key, None)


_worker = False


def _mark_worker() -> None:
    global _worker
    _worker = True


def in_worker() -> bool:
    """Is this a worker of a pool or a Dask cluster (which must not start pools of its own)?"""
    if _worker or multiprocessing.current_process().daemon:
        return True
    if "distributed" in sys.modules:
        try:
            sys.modules["distributed"].get_worker()
            return True
        except ValueError:  # not in a Dask worker
            return False
    return False
