"""Sorting and searching: sort, argsort, lexsort, searchsorted, partition, unique, top_k.

Everything is the one `sort` primitive: argsort sorts an iota along, the
rank of an element (its position once sorted) is the argsort of the argsort,
and unique compacts the first element of each run to the front with one more
stable sort keyed by "is not a run start".
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from fn_dl.core import dtypes
from fn_dl.core.array import Array
from fn_dl.core.aval import shape_str
from fn_dl.core.trace import ConcretizationError
from fn_dl.numpy._util import asarray, broadcast_shapes, broadcast_to_shape, normalize_axis, promote
from fn_dl.ops import elementwise as ew
from fn_dl.ops import reduce as red
from fn_dl.ops import shape as sh
from fn_dl.ops.cumulative import cumsum
from fn_dl.ops.indexing import index_dtype
from fn_dl.ops.sort import sort as _sort
from fn_dl.ops.sort import take_along_axis, top_k


def _arrays(*xs):
    """Python sequences as arrays; arrays and (weakly typed) Python scalars stay as they are for promotion."""
    return [asarray(x) if isinstance(x, (list, tuple)) else x for x in xs]


def _flat_or_axis(name, a, axis):
    """(array, axis) with axis=None meaning the flattened array."""
    a = asarray(a)
    if axis is None:
        return sh.reshape(a, (a.size,)), 0
    if a.ndim == 0:
        raise ValueError(f"{name}: axis {axis} is out of bounds for a 0-d array; use axis=None")
    return a, normalize_axis(name, axis, a.ndim)


def _check_order(name, kind, order):
    if order is not None:
        raise TypeError(f"{name}: order= (sorting structured arrays by field) is not supported")
    if kind not in (None, 'stable', 'mergesort', 'quicksort', 'heapsort'):
        raise ValueError(f"{name}: unknown kind {kind!r}")


def sort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    """A sorted copy of `a` along `axis` (None: the flattened array). NaNs sort to the end.

    >>> import fn_dl.numpy as fnp
    >>> fnp.sort(fnp.asarray([3, 1, 2])).tolist(), fnp.sort(fnp.asarray([3, 1, 2]), descending=True).tolist()
    ([1, 2, 3], [3, 2, 1])
    """
    _check_order('sort', kind, order)
    a, ax = _flat_or_axis('sort', a, axis)
    if descending:
        return sh.rev(_sort(sh.rev(a, (ax,)), ax, stable), (ax,))
    return _sort(a, ax, stable)


def argsort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    """Indices that sort `a` along `axis`; equal elements keep their order (also when descending).

    >>> import fn_dl.numpy as fnp
    >>> fnp.argsort(fnp.asarray([3, 1, 2])).tolist(), fnp.argsort(fnp.asarray([1, 3, 1, 3]), descending=True).tolist()
    ([1, 2, 0], [1, 3, 0, 2])
    """
    _check_order('argsort', kind, order)
    a, ax = _flat_or_axis('argsort', a, axis)
    n = a.shape[ax]
    pos = sh.iota(index_dtype(n), a.shape, ax)
    if not descending:
        return _sort([a, pos], ax, stable)[1]
    # sort the reversed array stably, then reverse back: descending, with ties in their original order
    idx = sh.rev(_sort([sh.rev(a, (ax,)), pos], ax, stable)[1], (ax,))
    return ew.sub(sh.full(idx.shape, n - 1, idx.dtype), idx)


def lexsort(keys, axis=-1):
    """Indices that sort by several keys; the LAST key is the primary one (as NumPy).

    >>> import fn_dl.numpy as fnp
    >>> first, last = fnp.asarray([1, 2, 1]), fnp.asarray([0, 0, -1])
    >>> fnp.lexsort((first, last)).tolist()
    [2, 0, 1]
    """
    if isinstance(keys, Array):
        keys = [keys[i] for i in range(keys.shape[0])]
    keys = [asarray(k) for k in keys]
    if not keys:
        raise TypeError("lexsort: needs at least one key")
    shape = broadcast_shapes('lexsort', *[k.shape for k in keys])
    if not shape:
        raise ValueError("lexsort: keys must be at least 1-d")
    keys = [broadcast_to_shape(k, shape) for k in reversed(keys)]
    ax = normalize_axis('lexsort', axis, len(shape))
    pos = sh.iota(index_dtype(shape[ax]), shape, ax)
    return _sort(keys + [pos], ax, True, num_keys=len(keys))[-1]


def _rank(x):
    """Each element's position in the stable ascending order of the 1-d x (the inverse of argsort)."""
    return argsort(argsort(x))


def searchsorted(a, v, side='left', sorter=None, *, method='sort'):
    """Indices where `v`'s elements would be inserted into the sorted 1-d `a` to keep it sorted.

    method='sort' ranks a and v together (O((n+m) log(n+m))); 'compare_all' counts the
    comparisons directly (O(n*m), faster for small inputs).

    >>> import fn_dl.numpy as fnp
    >>> a = fnp.asarray([1, 2, 2, 3])
    >>> fnp.searchsorted(a, fnp.asarray([2, 5])).tolist(), fnp.searchsorted(a, 2, side='right').tolist()
    ([1, 4], 3)
    """
    if side not in ('left', 'right'):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    a, v = promote('searchsorted', *_arrays(a, v))
    if a.ndim != 1:
        raise ValueError(f"searchsorted: `a` must be 1-d, got shape {shape_str(a.shape)}")
    if sorter is not None:
        a = take_along_axis(a, asarray(sorter), 0)
    n, m = a.shape[0], v.size
    q = sh.reshape(v, (m,))
    out_dt = index_dtype(n + m)
    if method == 'compare_all':
        cmp = ew.lt if side == 'left' else ew.le
        hits = cmp(sh.broadcast_in_dim(a, (m, n), (1,)), sh.broadcast_in_dim(q, (m, n), (0,)))
        idx = red.reduce_sum(ew.convert_element_type(hits, out_dt), (1,))
    elif method == 'sort':
        # in the stable order of [q, a] ('left') or [a, q] ('right') a query lands before (after) its equals
        # in a; its rank there minus its rank among the queries is the number of a's elements before it
        if side == 'left':
            idx = sh.slice(_rank(sh.concatenate([q, a], 0)), (0,), (m,))
        else:
            idx = sh.slice(_rank(sh.concatenate([a, q], 0)), (n,), (n + m,))
        idx = ew.sub(idx, _rank(q))
    else:
        raise ValueError(f"searchsorted: method must be 'sort' or 'compare_all', got {method!r}")
    return sh.reshape(ew.convert_element_type(idx, dtypes.default_int), v.shape)


def _check_kth(name, a, kth, axis):
    n = a.shape[axis]
    for k in np.atleast_1d(kth):
        if not -n <= int(k) < n:
            raise ValueError(f"{name}: kth {int(k)} is out of bounds for an axis of size {n}")


def partition(a, kth, axis=-1):
    """An array whose `kth` element is where a sort would put it, smaller ones before, larger after.

    Computed as a full sort (a sorted array satisfies the contract for every kth).

    >>> import fn_dl.numpy as fnp
    >>> int(fnp.partition(fnp.asarray([5, 1, 4, 2]), 1)[1])
    2
    """
    a, ax = _flat_or_axis('partition', a, axis)
    _check_kth('partition', a, kth, ax)
    return sort(a, ax)


def argpartition(a, kth, axis=-1):
    """Indices that partition `a` (see `partition`): computed as a stable argsort.

    >>> import fn_dl.numpy as fnp
    >>> int(fnp.argpartition(fnp.asarray([5, 1, 4, 2]), 1)[1])
    3
    """
    a, ax = _flat_or_axis('argpartition', a, axis)
    _check_kth('argpartition', a, kth, ax)
    return argsort(a, ax)


# --- unique ------------------------------------------------------------------------------------

class UniqueAllResult(NamedTuple):
    values: Array
    indices: Array
    inverse_indices: Array
    counts: Array


class UniqueCountsResult(NamedTuple):
    values: Array
    counts: Array


class UniqueInverseResult(NamedTuple):
    values: Array
    inverse_indices: Array


def _concrete_int(name, value, hint):
    """int(value), or an error saying which argument to pass when value is traced (its size is data dependent)."""
    try:
        return int(value)
    except ConcretizationError:
        raise ConcretizationError(
            f"{name}: the size of the result depends on the data, so it is unknown inside jit or vmap; "
            f"pass {hint}") from None


def _fit(x, length, fill):
    """x cut or padded with `fill` (shaped like one entry along axis 0) to `length` entries."""
    n = x.shape[0]
    if length <= n:
        return sh.slice(x, (0,) * x.ndim, (length,) + x.shape[1:])
    pad = sh.broadcast_in_dim(fill, (length - n,) + x.shape[1:], tuple(range(1, x.ndim)))
    return sh.concatenate([x, pad], 0)


def _mask_rows(valid, x, fill):
    """x where `valid` (one flag per entry along axis 0), else `fill`."""
    return ew.select_n(sh.broadcast_in_dim(valid, x.shape, (0,)), sh.broadcast_in_dim(fill, x.shape, tuple(
        range(1, x.ndim))), x)


def _run_starts(scols, equal_nan):
    """True where a sorted row differs from the previous one (NaNs equal each other when equal_nan)."""
    n = scols[0].shape[0]
    differs = None
    for c in scols:
        cur, prev = sh.slice(c, (1,), (n,)), sh.slice(c, (0,), (n - 1,))
        d = ew.ne(cur, prev)
        if equal_nan and dtypes.is_inexact(c.dtype):
            d = ew.bitwise_and(d, ew.bitwise_not(ew.bitwise_and(ew.ne(cur, cur), ew.ne(prev, prev))))
        differs = d if differs is None else ew.bitwise_or(differs, d)
    return sh.concatenate([sh.full((1,), True, dtypes.bool_), differs], 0)


def _unique(name, ar, axis, equal_nan, size, fill_value):
    """(values, indices, inverse, counts) of the unique entries (slices along `axis`) of `ar`."""
    ar = asarray(ar)
    if axis is None:
        moved, ax = sh.reshape(ar, (ar.size,)), None
    else:
        ax = normalize_axis(name, axis, ar.ndim)
        moved = sh.transpose(ar, (ax,) + tuple(i for i in range(ar.ndim) if i != ax))
    n, row_shape = moved.shape[0], moved.shape[1:]
    m = int(np.prod(row_shape, dtype=np.int64))
    if n and not m:
        raise ValueError(f"{name}: the slices along axis {axis} of shape {shape_str(ar.shape)} are empty")
    if size is not None and fill_value is None and not n:
        raise ValueError(f"{name}: an empty input with size={size} needs fill_value= for the padding")
    idt = index_dtype(n)
    empty_idx = sh.full((0,), 0, idt)
    if not n:
        values, index, inverse, counts, n_unique = moved, empty_idx, empty_idx, empty_idx, 0
    else:
        rows = sh.reshape(moved, (n, m))
        cols = [sh.reshape(sh.slice(rows, (0, j), (n, j + 1)), (n,)) for j in range(m)]
        *scols, perm = _sort(cols + [sh.iota(idt, (n,))], 0, True, num_keys=m)
        starts = _run_starts(scols, equal_nan)
        n_unique = red.reduce_sum(ew.convert_element_type(starts, idt), (0,))
        # a stable sort keyed by "not a run start" moves the run starts, in order, to the front
        first = _sort([ew.bitwise_not(starts), *scols, perm, sh.iota(idt, (n,))], 0, True)
        ucols, index, start_pos = first[1:1 + m], first[1 + m], first[2 + m]
        valid = ew.lt(sh.iota(idt, (n,)), sh.broadcast_in_dim(n_unique, (n,), ()))
        # counts: the distance to the next run start (n after the last; entries past the last run count 0)
        start_pos = ew.select_n(valid, sh.full((n,), n, idt), start_pos)
        counts = ew.sub(sh.concatenate([sh.slice(start_pos, (1,), (n,)), sh.full((1,), n, idt)], 0), start_pos)
        # inverse: each sorted element's run number, put back in the original order by sorting on perm
        run = ew.sub(cumsum(ew.convert_element_type(starts, idt)), sh.full((n,), 1, idt))
        inverse = _sort([perm, run], 0, True)[1]
        values = sh.reshape(sh.concatenate([sh.reshape(c, (n, 1)) for c in ucols], 1), (n,) + row_shape)
        index = _mask_rows(valid, index, index[0])
    if size is None:
        length = _concrete_int(name, n_unique, 'size= (a static upper bound; the result is padded with fill_value)')
        fill = None
    else:
        length = int(size)
        fill = values[0] if fill_value is None else sh.broadcast_in_dim(asarray(fill_value, values.dtype),
                                                                         row_shape, ())
        if n:
            values = _mask_rows(valid, values, fill)
    values = _fit(values, length, fill)
    index = _fit(index, length, index[0] if n else sh.full((), 0, idt))
    counts = _fit(counts, length, sh.full((), 0, idt))
    if ax is not None:
        values = sh.transpose(values, tuple(range(1, ax + 1)) + (0,) + tuple(range(ax + 1, ar.ndim)))
    else:
        inverse = sh.reshape(inverse, ar.shape)
    return values, index, inverse, counts


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *, equal_nan=True,
           sorted=True, size=None, fill_value=None):  # noqa: A002
    """The sorted unique elements of `ar` (or unique slices along `axis`), as np.unique.

    The result's length depends on the data: eagerly it is computed; inside jit or
    vmap pass `size=` and the result is cut or padded with `fill_value` (default:
    the smallest unique value; padded counts are 0).

    >>> import fn_dl.numpy as fnp
    >>> vals, counts = fnp.unique(fnp.asarray([3, 1, 3, 2]), return_counts=True)
    >>> vals.tolist(), counts.tolist()
    ([1, 2, 3], [1, 1, 2])
    >>> fnp.unique(fnp.asarray([3, 1, 3]), size=4, fill_value=-1).tolist()
    [1, 3, -1, -1]
    """
    values, index, inverse, counts = _unique('unique', ar, axis, equal_nan, size, fill_value)
    extra = [x for want, x in ((return_index, index), (return_inverse, inverse), (return_counts, counts)) if want]
    return (values, *extra) if extra else values


def unique_values(x, /, *, size=None, fill_value=None):
    """The sorted unique values of `x`, flattened (Array API: NaNs count as distinct).

    >>> import fn_dl.numpy as fnp
    >>> fnp.unique_values(fnp.asarray([[2, 1], [2, 3]])).tolist()
    [1, 2, 3]
    """
    return _unique('unique_values', x, None, False, size, fill_value)[0]


def unique_counts(x, /, *, size=None, fill_value=None):
    """(values, counts) of the unique values of `x` (Array API).

    >>> import fn_dl.numpy as fnp
    >>> fnp.unique_counts(fnp.asarray([2, 1, 2])).counts.tolist()
    [1, 2]
    """
    values, _, _, counts = _unique('unique_counts', x, None, False, size, fill_value)
    return UniqueCountsResult(values, counts)


def unique_inverse(x, /, *, size=None, fill_value=None):
    """(values, inverse_indices): values[inverse_indices] rebuilds `x` (inverse has x's shape).

    >>> import fn_dl.numpy as fnp
    >>> fnp.unique_inverse(fnp.asarray([2, 1, 2])).inverse_indices.tolist()
    [1, 0, 1]
    """
    values, _, inverse, _ = _unique('unique_inverse', x, None, False, size, fill_value)
    return UniqueInverseResult(values, inverse)


def unique_all(x, /, *, size=None, fill_value=None):
    """(values, indices of first occurrences, inverse_indices, counts) of the unique values of `x`.

    >>> import fn_dl.numpy as fnp
    >>> r = fnp.unique_all(fnp.asarray([2, 1, 2]))
    >>> r.values.tolist(), r.indices.tolist(), r.inverse_indices.tolist(), r.counts.tolist()
    ([1, 2], [1, 0], [1, 0, 1], [1, 2])
    """
    return UniqueAllResult(*_unique('unique_all', x, None, False, size, fill_value))


__all__ = ['sort', 'argsort', 'lexsort', 'searchsorted', 'partition', 'argpartition', 'unique', 'unique_values',
           'unique_counts', 'unique_inverse', 'unique_all', 'top_k', 'UniqueAllResult', 'UniqueCountsResult',
           'UniqueInverseResult']
