"""All cores for `evals scan`: batches of records checked by a pool of processes, results
handed back in input order, with a bounded number of batches in flight so memory stays flat
however long the input is.

Each worker builds the policy books' guardrails once (on its first batch, through
`evals.scan.check_records`' per-process cache) and dies with the scan: a worker whose parent
is killed (even by `kill -9`) is killed by the kernel too, so no orphan keeps a core busy.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from evals.scan import Checked, RawRecord, ScanSetup, check_records

#: Records per batch sent to a worker: large enough that pickling is a small share of the
#: work, small enough that a batch's answers are a few hundred kilobytes.
BATCH = 100
#: A batch closes early at this many bytes of input lines (a line may hold 16 MiB), so the
#: batches in flight stay within a few hundred megabytes whatever the lines hold.
BATCH_BYTES = 8 * 1024 * 1024
#: Batches in flight per worker (being checked or waiting): bounds memory, keeps cores busy.
IN_FLIGHT = 4

_SETUP: ScanSetup | None = None


def default_workers() -> int:
    return os.cpu_count() or 1


def _die_with_parent() -> None:
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown still applies
        pass


def _start(setup: ScanSetup) -> None:
    global _SETUP
    _die_with_parent()
    _SETUP = setup


def _check(records: list[RawRecord]) -> list[Checked]:
    assert _SETUP is not None, "worker started without a setup"
    return check_records(records, _SETUP)


def batches(records: Iterable[RawRecord], size: int = BATCH) -> Iterator[list[RawRecord]]:
    """Records in batches of `size`, or fewer when their lines reach `BATCH_BYTES`."""
    batch: list[RawRecord] = []
    weight = 0
    for record in records:
        batch.append(record)
        weight += len(record.data) if isinstance(record.data, bytes) else 0
        if len(batch) >= size or weight >= BATCH_BYTES:
            yield batch
            batch, weight = [], 0
    if batch:
        yield batch


def checked_in_order(
    records: Iterable[RawRecord], setup: ScanSetup, workers: int, *, batch: int = BATCH
) -> Iterator[list[Checked]]:
    """Check `records` on `workers` processes (1: in this process); yield each batch's results
    in input order. At most `workers * IN_FLIGHT` batches are read ahead of what was yielded."""
    if workers <= 1:
        for chunk in batches(records, batch):
            yield check_records(chunk, setup)
        return
    import multiprocessing

    # fork: workers start with every module already imported (a second, not ten).
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start, initargs=(setup,)
    )
    pending: deque[Future[list[Checked]]] = deque()
    try:
        for chunk in batches(records, batch):
            pending.append(pool.submit(_check, chunk))
            if len(pending) >= workers * IN_FLIGHT:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
