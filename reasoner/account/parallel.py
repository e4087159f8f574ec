"""Hop searches in groups (one possible answer per group is enough), spread over worker processes
when there are enough of them to pay for the processes (REASONER_WORKERS), through reasoner.fanout's
local process pool. Inside a worker (an audit task on a pool or a Dask cluster) they run in order."""

from __future__ import annotations

from reasoner.errors import InputError
from reasoner.fanout import default_workers, executor, in_worker, map_ordered
from reasoner.search.can import CanAnswer, Query, can

SEARCH_WORKERS = default_workers()


MIN_PARALLEL_SEARCHES = 12
SHARES_PER_WORKER = 4


def _search_in_order(groups: list[list[tuple[int, Query]]]) -> list[tuple[int, CanAnswer | str]]:
    """Search each group's queries in order, stopping a group at its first possible answer."""
    out: list[tuple[int, CanAnswer | str]] = []
    for group in groups:
        for i, q in group:
            try:
                a = can(q)
            except InputError as exc:
                out.append((i, exc.message))
                continue
            out.append((i, a))
            if a.answer == "possible":
                break
    return out


def search_groups(groups: list[list[tuple[int, Query]]]) -> list[tuple[int, CanAnswer | str]]:
    n = sum(len(g) for g in groups)
    if SEARCH_WORKERS < 2 or n < MIN_PARALLEL_SEARCHES or in_worker():
        return _search_in_order(groups)
    # Balance by the number of queries, in a few shares per worker so that one taking longer
    # does not hold the others idle; each share keeps its groups' early stops.
    n_shares = min(len(groups), SEARCH_WORKERS * SHARES_PER_WORKER)
    shares: list[list] = [[] for _ in range(n_shares)]
    sizes = [0] * n_shares
    for g in sorted(groups, key=len, reverse=True):
        k = sizes.index(min(sizes))
        shares[k].append(g)
        sizes[k] += len(g)
    with executor("process", SEARCH_WORKERS) as ex:
        parts = map_ordered(ex, _search_in_order, shares)
    return [x for part in parts for x in part]
