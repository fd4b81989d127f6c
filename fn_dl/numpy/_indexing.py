"""NumPy-style indexing: `x[idx]` and the functional updates `x.at[idx].set(...)`.

Basic indexing (ints, slices, None, Ellipsis) becomes slice/rev/reshape;
integer-array and boolean-mask indexing become gather; updates become scatter.
"""
from __future__ import annotations

import numpy as np

from fn_dl.core.array import Array
from fn_dl.core.aval import shape_str
from fn_dl.ops import shape as sh


def _expand(idx, ndim):
    """idx as a tuple with the Ellipsis expanded into full slices."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    n_ell = sum(1 for i in idx if i is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(1 for i in idx if i is not None and i is not Ellipsis and not _is_bool_mask(i))
    used += sum(np.ndim(i) for i in idx if _is_bool_mask(i))
    if used > ndim:
        raise IndexError(f"too many indices: array is {ndim}-dimensional, but {used} were indexed")
    if n_ell:
        k = idx.index(Ellipsis)
        idx = idx[:k] + (slice(None),) * (ndim - used) + idx[k + 1:]
    else:
        idx = idx + (slice(None),) * (ndim - used)
    return idx


def _is_bool_mask(i):
    return (isinstance(i, (np.ndarray, Array)) and i.dtype == np.bool_) or isinstance(i, bool)


def _is_basic(idx):
    return all(i is None or isinstance(i, (slice, int, np.integer)) and not isinstance(i, bool) for i in idx)


def getitem(x, idx):
    """x[idx] with NumPy semantics.

    >>> import fn_dl.numpy as fnp
    >>> x = fnp.arange(6).reshape(2, 3)
    >>> x[1].tolist(), x[:, ::-1].tolist(), x[None, 0, 1:].shape
    ([3, 4, 5], [[2, 1, 0], [5, 4, 3]], (1, 2))
    """
    idx = _expand(idx, x.ndim)
    if not _is_basic(idx):
        raise IndexError(f"index {idx!r} is not supported yet for an array of shape {shape_str(x.shape)}")
    out_shape = []
    starts, limits, strides, flips = [], [], [], []
    dim = 0
    for i in idx:
        if i is None:
            out_shape.append(1)
            continue
        n = x.shape[dim]
        if isinstance(i, slice):
            start, stop, step = i.indices(n)
            length = len(range(start, stop, step))
            if step < 0:
                flips.append(dim)
                start, step = n - 1 - start, -step
            if length == 0:
                start = stop = 0
                step = 1
            starts.append(start)
            limits.append(start + (length - 1) * step + 1 if length else start)
            strides.append(step)
            out_shape.append(length)
        else:
            k = int(i)
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for axis {dim} with size {n}")
            k %= n
            starts.append(k)
            limits.append(k + 1)
            strides.append(1)
        dim += 1
    out = sh.rev(x, flips) if flips else x
    out = sh.slice(out, starts, limits, strides)
    return sh.reshape(out, out_shape)


def index_update(x, idx, values, mode):
    raise IndexError(f"x.at[...].{mode}: not supported yet")


__all__ = []
