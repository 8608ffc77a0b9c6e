"""Columns of the encroachment table built with numpy and pyarrow instead of per-row Python
objects: the row order and the text columns (zone, status, geometry type)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["measure_at", "row_order", "stable_argsort", "text_column"]


def row_order(
    status: NDArray[np.int64], area: NDArray[np.float64], length: NDArray[np.float64]
) -> NDArray[np.intp]:
    """``np.lexsort((-length, -area, status))``: by status, then by area and length, largest
    first, ties in input order.

    The same stable passes from the least significant key that lexsort makes, but a key equal
    on every row (no lines: every length 0) is skipped, float keys are sorted by
    :func:`stable_argsort`, and the status codes (a handful) as small integers, which numpy
    sorts by radix.
    """
    order = np.arange(status.size)
    for key in (-length, -area):
        if key.size and not (key == key[0]).all():  # NaN != NaN: a key with NaN is sorted
            order = order[stable_argsort(key[order])]
    if status.size and (status.min() < -128 or status.max() > 127):
        return order[np.argsort(status[order], kind="stable")]
    return order[np.argsort(status[order].astype(np.int8), kind="stable")]


def stable_argsort(key: NDArray[np.float64]) -> NDArray[np.intp]:
    """``np.argsort(key, kind="stable")``, faster: numpy's unstable sort (several times faster
    on floats), then the runs of equal keys put back in input order (the only place the two
    can differ). Keys with NaN take the stable sort."""
    order = np.argsort(key)
    ranked = key[order]
    tied = ranked[1:] == ranked[:-1]
    if np.isnan(ranked[-1:]).any():  # NaNs sort last
        return np.argsort(key, kind="stable")
    if not tied.any():
        return order
    at = np.zeros(order.size, dtype=bool)
    at[1:] |= tied
    at[:-1] |= tied
    pos = np.flatnonzero(at)  # positions inside runs of equal keys
    run = np.cumsum(np.r_[True, ~tied[pos[:-1]] | (np.diff(pos) > 1)])
    order[pos] = order[pos][np.lexsort((order[pos], run))]
    return order


def text_column(labels: Sequence[object], codes: NDArray[np.int64]) -> pd.Series:
    """``labels[codes]`` as the column pandas would make of those strings (its default string
    dtype), taken in pyarrow when pandas keeps strings there: no Python string per row."""
    dtype = pd.Series(["x"]).dtype
    if (
        isinstance(dtype, pd.StringDtype)
        and dtype.storage == "pyarrow"
        and all(isinstance(s, str) for s in labels)
    ):
        import pyarrow as pa

        wrapped = np.where(codes < 0, codes + len(labels), codes)  # -1: the last, as numpy
        taken = pa.array(list(labels), pa.large_string()).take(pa.array(wrapped))
        return pd.Series(pd.array(taken, dtype=dtype))
    return pd.Series(np.array(labels, dtype=object)[codes])


def measure_at(
    measure: Callable[[NDArray[np.object_]], NDArray[np.float64]],
    geoms: NDArray[np.object_],
    idx: NDArray[np.int64],
) -> NDArray[np.float64]:
    """``measure(geoms[idx])`` (a shapely measure such as ``shapely.area``); when ``idx`` picks
    more than an eighth of ``geoms``, measured on all of them in order and then taken: GEOS
    reads geometries scattered in memory several times slower than in a run."""
    if 8 * idx.size > geoms.size:
        return np.asarray(measure(geoms), dtype=np.float64)[idx]
    return np.asarray(measure(geoms[idx]), dtype=np.float64)
