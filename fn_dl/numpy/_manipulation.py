"""Shape manipulation: reshape, transpose, stack, concatenate, split, flip, roll, tile, repeat, ..."""
from __future__ import annotations

import builtins

import numpy as np

from fn_dl.core import dtypes
from fn_dl.numpy._util import (asarray, broadcast_shapes as _broadcast_shapes, broadcast_to_shape, normalize_axes,
                               normalize_axis, promote)
from fn_dl.ops import shape as sh


def reshape(x, /, shape, *, copy=None, order='C'):
    """A view of x's elements in a new shape; one entry may be -1.

    >>> import fn_dl.numpy as fnp
    >>> fnp.reshape(fnp.arange(6), (2, -1)).shape
    (2, 3)
    """
    x = asarray(x)
    if order != 'C':
        raise ValueError("reshape: only order='C' is supported")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise ValueError(f"reshape: at most one -1 in the new shape, got {shape}")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        if known == 0 or x.size % known:
            raise ValueError(f"reshape: cannot reshape an array of {x.size} elements into shape {shape}")
        shape = tuple(x.size // known if s == -1 else s for s in shape)
    return sh.reshape(x, shape)


def _method_reshape(x, *shape, order='C'):
    return reshape(x, shape[0] if len(shape) == 1 else shape, order=order)


def ravel(x, /):
    """The elements as a 1-d array, in row-major order.

    >>> import fn_dl.numpy as fnp
    >>> fnp.ravel(fnp.arange(6).reshape(2, 3)).tolist()
    [0, 1, 2, 3, 4, 5]
    """
    x = asarray(x)
    return sh.reshape(x, (x.size,))


flatten = ravel


def permute_dims(x, /, axes):
    """The axes reordered: axis i of the result is axis axes[i] of x.

    >>> import fn_dl.numpy as fnp
    >>> fnp.permute_dims(fnp.zeros((2, 3, 4)), (2, 0, 1)).shape
    (4, 2, 3)
    """
    x = asarray(x)
    axes = tuple(normalize_axis('permute_dims', a, x.ndim) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"permute_dims: {axes} is not a permutation of the {x.ndim} axes")
    return sh.transpose(x, axes)


def transpose(x, /, axes=None):
    """The axes reversed, or permuted by `axes`.

    >>> import fn_dl.numpy as fnp
    >>> fnp.transpose(fnp.arange(6).reshape(2, 3)).tolist()
    [[0, 3], [1, 4], [2, 5]]
    """
    x = asarray(x)
    return sh.transpose(x, tuple(range(x.ndim))[::-1]) if axes is None else permute_dims(x, axes)


def _method_transpose(x, *axes):
    if not axes or axes == (None,):
        return transpose(x)
    return transpose(x, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes)


def matrix_transpose(x, /):
    """The last two axes swapped (a stack of transposed matrices).

    >>> import fn_dl.numpy as fnp
    >>> fnp.matrix_transpose(fnp.zeros((5, 2, 3))).shape
    (5, 3, 2)
    """
    x = asarray(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: needs at least 2 dimensions, got shape {x.shape}")
    return sh.transpose(x, tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2))


def moveaxis(x, source, destination, /):
    """Axes `source` moved to positions `destination`; the others keep their order.

    >>> import fn_dl.numpy as fnp
    >>> fnp.moveaxis(fnp.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    x = asarray(x)
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of axes")
    src = [normalize_axis('moveaxis', a, x.ndim) for a in src]
    dst = [normalize_axis('moveaxis', a, x.ndim) for a in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"moveaxis: repeated axis in source {source} or destination {destination}")
    order = [n for n in range(x.ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return sh.transpose(x, order)


def swapaxes(x, axis1, axis2, /):
    """Axes axis1 and axis2 exchanged.

    >>> import fn_dl.numpy as fnp
    >>> fnp.swapaxes(fnp.zeros((2, 3, 4)), 0, 2).shape
    (4, 3, 2)
    """
    x = asarray(x)
    perm = list(range(x.ndim))
    a, b = normalize_axis('swapaxes', axis1, x.ndim), normalize_axis('swapaxes', axis2, x.ndim)
    perm[a], perm[b] = perm[b], perm[a]
    return sh.transpose(x, perm)


def expand_dims(x, /, axis=0):
    """New axes of size 1 at `axis` (an int or a tuple: positions in the result).

    >>> import fn_dl.numpy as fnp
    >>> fnp.expand_dims(fnp.zeros((2, 3)), (0, -1)).shape
    (1, 2, 3, 1)
    """
    x = asarray(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    ndim = x.ndim + len(axes)
    axes = tuple(normalize_axis('expand_dims', a, ndim) for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"expand_dims: repeated axis in {axis}")
    return sh.expand_dims(x, axes)


def squeeze(x, /, axis=None):
    """Axes of size 1 removed (all of them, or those in `axis`, which must have size 1).

    >>> import fn_dl.numpy as fnp
    >>> fnp.squeeze(fnp.zeros((1, 3, 1)), axis=0).shape
    (3, 1)
    """
    x = asarray(x)
    if axis is None:
        return sh.reshape(x, [s for s in x.shape if s != 1])
    return sh.squeeze(x, normalize_axes('squeeze', axis, x.ndim))


def broadcast_to(x, /, shape):
    """x broadcast to `shape` (NumPy rules), without copying in eager mode.

    >>> import fn_dl.numpy as fnp
    >>> fnp.broadcast_to(fnp.asarray([1, 2]), (2, 2)).tolist()
    [[1, 2], [1, 2]]
    """
    x = asarray(x)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if _broadcast_shapes('broadcast_to', x.shape, shape) != shape:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    return broadcast_to_shape(x, shape)


def broadcast_shapes(*shapes):
    """The shape that arrays of `shapes` broadcast to.

    >>> import fn_dl.numpy as fnp
    >>> fnp.broadcast_shapes((3, 1), (4,), ())
    (3, 4)
    """
    return _broadcast_shapes('broadcast_shapes', *[(s,) if isinstance(s, (int, np.integer)) else tuple(s)
                                                    for s in shapes])


def broadcast_arrays(*arrays):
    """The arrays broadcast to their common shape.

    >>> import fn_dl.numpy as fnp
    >>> [a.shape for a in fnp.broadcast_arrays(fnp.zeros((3, 1)), fnp.zeros(4))]
    [(3, 4), (3, 4)]
    """
    arrays = [asarray(a) for a in arrays]
    shape = _broadcast_shapes('broadcast_arrays', *[a.shape for a in arrays])
    return [broadcast_to_shape(a, shape) for a in arrays]


def concat(arrays, /, axis=0):
    """Join arrays along an existing axis (axis=None flattens them first); dtypes are promoted.

    >>> import fn_dl.numpy as fnp
    >>> fnp.concat([fnp.asarray([[1, 2]]), fnp.asarray([[3, 4]])], axis=1).tolist()
    [[1, 2, 3, 4]]
    """
    if not arrays:
        raise ValueError("concat: need at least one array")
    arrays = promote('concat', *arrays)
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    ax = normalize_axis('concat', axis, arrays[0].ndim)
    return sh.concatenate(arrays, ax)


def concatenate(arrays, axis=0, dtype=None):
    """NumPy's name for `concat`, with an optional result dtype.

    >>> import fn_dl.numpy as fnp
    >>> fnp.concatenate([fnp.asarray([1]), fnp.asarray([2, 3])], dtype=fnp.float32).tolist()
    [1.0, 2.0, 3.0]
    """
    out = concat(arrays, axis=axis)
    return out if dtype is None else out.astype(dtype)


def stack(arrays, /, axis=0):
    """Join arrays of one shape along a new axis.

    >>> import fn_dl.numpy as fnp
    >>> fnp.stack([fnp.asarray([1, 2]), fnp.asarray([3, 4])], axis=1).tolist()
    [[1, 3], [2, 4]]
    """
    if not arrays:
        raise ValueError("stack: need at least one array")
    arrays = promote('stack', *arrays)
    if builtins.any(a.shape != arrays[0].shape for a in arrays):
        raise ValueError(f"stack: all arrays must have the same shape, got {[a.shape for a in arrays]}")
    ax = normalize_axis('stack', axis, arrays[0].ndim + 1)
    return sh.concatenate([sh.expand_dims(a, (ax,)) for a in arrays], ax)


def vstack(arrays):
    """Join along the first axis (1-d arrays become rows).

    >>> import fn_dl.numpy as fnp
    >>> fnp.vstack([fnp.asarray([1, 2]), fnp.asarray([3, 4])]).tolist()
    [[1, 2], [3, 4]]
    """
    return concat([atleast_2d(a) for a in arrays], axis=0)


def hstack(arrays):
    """Join along the second axis (the first for 1-d arrays).

    >>> import fn_dl.numpy as fnp
    >>> fnp.hstack([fnp.asarray([1, 2]), fnp.asarray([3])]).tolist()
    [1, 2, 3]
    """
    arrays = [atleast_1d(a) for a in arrays]
    return concat(arrays, axis=0 if arrays and arrays[0].ndim == 1 else 1)


def dstack(arrays):
    """Join along the third axis (arrays are made at least 3-d first).

    >>> import fn_dl.numpy as fnp
    >>> fnp.dstack([fnp.asarray([1, 2]), fnp.asarray([3, 4])]).tolist()
    [[[1, 3], [2, 4]]]
    """
    return concat([atleast_3d(a) for a in arrays], axis=2)


def column_stack(arrays):
    """1-d arrays as the columns of a 2-d array (2-d arrays joined along axis 1).

    >>> import fn_dl.numpy as fnp
    >>> fnp.column_stack([fnp.asarray([1, 2]), fnp.asarray([3, 4])]).tolist()
    [[1, 3], [2, 4]]
    """
    arrays = [asarray(a) for a in arrays]
    return concat([a.reshape(-1, 1) if a.ndim < 2 else a for a in arrays], axis=1)


row_stack = vstack


def atleast_1d(*arys):
    """Each array with at least 1 dimension (a list when given several).

    >>> import fn_dl.numpy as fnp
    >>> fnp.atleast_1d(fnp.asarray(5)).shape
    (1,)
    """
    out = [asarray(a) if asarray(a).ndim >= 1 else sh.reshape(asarray(a), (1,)) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    """Each array with at least 2 dimensions, new axes in front.

    >>> import fn_dl.numpy as fnp
    >>> fnp.atleast_2d(fnp.asarray([1, 2])).shape
    (1, 2)
    """
    out = []
    for a in map(asarray, arys):
        out.append(a if a.ndim >= 2 else sh.reshape(a, (1,) * (2 - a.ndim) + a.shape))
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys):
    """Each array with at least 3 dimensions, placed as NumPy's atleast_3d places them.

    >>> import fn_dl.numpy as fnp
    >>> fnp.atleast_3d(fnp.asarray([1, 2])).shape
    (1, 2, 1)
    """
    out = []
    for a in map(asarray, arys):
        if a.ndim == 0:
            a = sh.reshape(a, (1, 1, 1))
        elif a.ndim == 1:
            a = sh.reshape(a, (1,) + a.shape + (1,))
        elif a.ndim == 2:
            a = sh.reshape(a, a.shape + (1,))
        out.append(a)
    return out[0] if len(out) == 1 else out


def _slice_along(x, axis, start, stop, step=1):
    lo, hi, st = [0] * x.ndim, list(x.shape), [1] * x.ndim
    lo[axis], hi[axis], st[axis] = start, stop, step
    return sh.slice(x, lo, hi, st)


def split(x, indices_or_sections, axis=0):
    """Split into `indices_or_sections` equal parts, or at the given (static) indices.

    >>> import fn_dl.numpy as fnp
    >>> [p.tolist() for p in fnp.split(fnp.arange(5), [2, 3])]
    [[0, 1], [2], [3, 4]]
    """
    x = asarray(x)
    ax = normalize_axis('split', axis, x.ndim)
    n = x.shape[ax]
    if isinstance(indices_or_sections, (int, np.integer)):
        if n % indices_or_sections:
            raise ValueError(f"split: axis {axis} of size {n} does not divide into {indices_or_sections} sections; "
                             f"use array_split for unequal parts")
        k = n // indices_or_sections
        bounds = [i * k for i in range(indices_or_sections + 1)]
    else:
        bounds = [0] + [builtins.min(builtins.max(int(i) if i >= 0 else n + int(i), 0), n)
                        for i in indices_or_sections] + [n]
    return [_slice_along(x, ax, a, builtins.max(a, b)) for a, b in zip(bounds[:-1], bounds[1:])]


def array_split(x, indices_or_sections, axis=0):
    """Like `split`, but n parts need not be equal: the first ones get one more.

    >>> import fn_dl.numpy as fnp
    >>> [p.tolist() for p in fnp.array_split(fnp.arange(5), 2)]
    [[0, 1, 2], [3, 4]]
    """
    x = asarray(x)
    if not isinstance(indices_or_sections, (int, np.integer)):
        return split(x, indices_or_sections, axis)
    n = x.shape[normalize_axis('array_split', axis, x.ndim)]
    k, extra = divmod(n, indices_or_sections)
    sizes = [k + 1] * extra + [k] * (indices_or_sections - extra)
    return split(x, list(np.cumsum(sizes)[:-1]), axis)


def unstack(x, /, *, axis=0):
    """The slices along `axis`, as a tuple.

    >>> import fn_dl.numpy as fnp
    >>> [p.tolist() for p in fnp.unstack(fnp.arange(6).reshape(2, 3), axis=1)]
    [[0, 3], [1, 4], [2, 5]]
    """
    x = asarray(x)
    ax = normalize_axis('unstack', axis, x.ndim)
    return tuple(sh.squeeze(_slice_along(x, ax, i, i + 1), (ax,)) for i in range(x.shape[ax]))


def flip(x, /, axis=None):
    """The elements in reverse order along `axis` (all axes by default).

    >>> import fn_dl.numpy as fnp
    >>> fnp.flip(fnp.arange(6).reshape(2, 3), axis=1).tolist()
    [[2, 1, 0], [5, 4, 3]]
    """
    x = asarray(x)
    return sh.rev(x, normalize_axes('flip', axis, x.ndim))


def fliplr(x):
    """Columns reversed (axis 1).

    >>> import fn_dl.numpy as fnp
    >>> fnp.fliplr(fnp.arange(6).reshape(2, 3)).tolist()
    [[2, 1, 0], [5, 4, 3]]
    """
    return flip(x, axis=1)


def flipud(x):
    """Rows reversed (axis 0).

    >>> import fn_dl.numpy as fnp
    >>> fnp.flipud(fnp.arange(6).reshape(2, 3)).tolist()
    [[3, 4, 5], [0, 1, 2]]
    """
    return flip(x, axis=0)


def roll(x, /, shift, axis=None):
    """Rotate elements by `shift` along `axis` (the flattened array when axis is None).

    >>> import fn_dl.numpy as fnp
    >>> fnp.roll(fnp.arange(5), 2).tolist()
    [3, 4, 0, 1, 2]
    """
    x = asarray(x)
    if axis is None:
        return reshape(roll(ravel(x), shift, axis=0), x.shape)
    shifts = (shift,) if isinstance(shift, (int, np.integer)) else tuple(shift)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    if len(shifts) != len(axes):
        raise ValueError("roll: shift and axis must have the same length")
    for s, a in zip(shifts, axes):
        a = normalize_axis('roll', a, x.ndim)
        n = x.shape[a]
        if n == 0:
            continue
        s = int(s) % n
        if s:
            x = sh.concatenate([_slice_along(x, a, n - s, n), _slice_along(x, a, 0, n - s)], a)
    return x


def tile(x, reps):
    """x repeated `reps` times along each axis.

    >>> import fn_dl.numpy as fnp
    >>> fnp.tile(fnp.asarray([1, 2]), (2, 2)).tolist()
    [[1, 2, 1, 2], [1, 2, 1, 2]]
    """
    x = asarray(x)
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    ndim = builtins.max(x.ndim, len(reps))
    x = sh.reshape(x, (1,) * (ndim - x.ndim) + x.shape)
    reps = (1,) * (ndim - len(reps)) + reps
    # broadcast each axis to (reps, size) then merge: one broadcast, one reshape
    shape = []
    dims = []
    for i, (r, s) in enumerate(zip(reps, x.shape)):
        shape += [r, s]
        dims.append(2 * i + 1)
    out = sh.broadcast_in_dim(x, tuple(shape), tuple(dims))
    return sh.reshape(out, tuple(r * s for r, s in zip(reps, x.shape)))


def repeat(x, repeats, /, axis=None):
    """Each element repeated `repeats` times: one count, or one per element along `axis` (static counts).

    >>> import fn_dl.numpy as fnp
    >>> fnp.repeat(fnp.asarray([1, 2, 3]), [2, 0, 1]).tolist()
    [1, 1, 3]
    """
    x = asarray(x)
    if axis is None:
        x, axis = ravel(x), 0
    ax = normalize_axis('repeat', axis, x.ndim)
    if isinstance(repeats, (int, np.integer)):
        r = int(repeats)
        if r < 0:
            raise ValueError(f"repeat: repeats must be non-negative, got {r}")
        shape = x.shape[:ax + 1] + (r,) + x.shape[ax + 1:]
        out = sh.broadcast_in_dim(x, shape, tuple(i for i in range(len(shape)) if i != ax + 1))
        return sh.reshape(out, x.shape[:ax] + (x.shape[ax] * r,) + x.shape[ax + 1:])
    counts = np.asarray(repeats)  # the output shape depends on them, so they must be concrete
    if counts.ndim > 1 or counts.size not in (1, x.shape[ax]):
        raise ValueError(f"repeat: repeats must be one count, or one per element along axis {axis} "
                         f"({x.shape[ax]}), got shape {counts.shape}")
    if counts.size == 1:
        return repeat(x, int(counts.reshape(())), axis=ax)
    idx = np.repeat(np.arange(x.shape[ax]), counts)
    if not idx.size:
        return _slice_along(x, ax, 0, 0)
    from fn_dl.numpy._indexing import take
    return take(x, asarray(idx.astype(np.int32)), axis=ax)


def pad(x, pad_width, mode='constant', constant_values=0):
    """Pad with a constant (mode='constant'), or by 'edge', 'reflect', 'symmetric' or 'wrap'.

    `pad_width` and `constant_values` are a scalar, one (before, after) pair, or one pair per axis.

    >>> import fn_dl.numpy as fnp
    >>> fnp.pad(fnp.asarray([1, 2]), (1, 2), constant_values=9).tolist()
    [9, 1, 2, 9, 9]
    >>> fnp.pad(fnp.asarray([1, 2, 3]), 2, mode='reflect').tolist()
    [3, 2, 1, 2, 3, 2, 1]
    """
    x = asarray(x)
    pw = _per_axis_pairs('pad_width', pad_width, x.ndim).astype(np.int64)
    if (pw < 0).any():
        raise ValueError(f"pad: negative pad widths {pw.tolist()}")
    if mode == 'constant':
        if np.ndim(constant_values) == 0:  # a Python number or a 0-d array (traced ones too)
            return sh.pad(x, asarray(constant_values, x.dtype), [(int(lo), int(hi), 0) for lo, hi in pw])
        # one value per side: pad one side at a time; later axes cover the corners, as in NumPy
        values = _per_axis_pairs('constant_values', constant_values, x.ndim)
        for ax in range(x.ndim):
            for side in (0, 1):
                widths = [(0, 0, 0)] * x.ndim
                widths[ax] = (int(pw[ax, 0]), 0, 0) if side == 0 else (0, int(pw[ax, 1]), 0)
                x = sh.pad(x, asarray(values[ax, side], x.dtype), widths)
        return x
    for ax, (lo, hi) in enumerate(pw):
        lo, hi = int(lo), int(hi)
        n = x.shape[ax]
        if not lo and not hi:
            continue
        if n == 0:
            raise ValueError(f"pad: mode {mode!r} cannot pad an empty axis")
        idx = np.arange(-lo, n + hi)
        if mode == 'edge':
            idx = np.clip(idx, 0, n - 1)
        elif mode == 'wrap':
            idx = idx % n
        elif mode in ('reflect', 'symmetric'):
            period = 2 * n - 2 if mode == 'reflect' else 2 * n
            if period == 0:
                idx = np.zeros_like(idx)
            else:
                idx = idx % period
                idx = np.where(idx >= n, period - idx - (0 if mode == 'reflect' else 1), idx)
        else:
            raise ValueError(f"pad: unknown mode {mode!r}; use 'constant', 'edge', 'reflect', 'symmetric' or 'wrap'")
        from fn_dl.numpy._indexing import take
        x = take(x, asarray(idx.astype(np.int32)), axis=ax)
    return x


def _per_axis_pairs(what, value, ndim):
    """A scalar, a (before, after) pair or one pair per axis, as an (ndim, 2) NumPy array (the values are static)."""
    v = np.asarray(value)
    if v.size == 1:
        v = v.reshape(1, 1)
    try:
        return np.broadcast_to(v.reshape(1, 2) if v.shape == (2,) else v, (ndim, 2))
    except ValueError:
        raise ValueError(f"pad: {what} of shape {v.shape} is neither a scalar, a (before, after) pair nor "
                         f"one pair per axis ({ndim} axes)") from None


def diagonal(x, /, offset=0, axis1=-2, axis2=-1):
    """The `offset` diagonal of the (axis1, axis2) planes, as the last axis.

    The default planes are the last two axes (as fnp.linalg.diagonal; NumPy's default is axes 0 and 1).

    >>> import fn_dl.numpy as fnp
    >>> fnp.diagonal(fnp.arange(9).reshape(3, 3), 1).tolist()
    [1, 5]
    """
    x = asarray(x)
    a1, a2 = normalize_axis('diagonal', axis1, x.ndim), normalize_axis('diagonal', axis2, x.ndim)
    if a1 == a2:
        raise ValueError("diagonal: axis1 and axis2 must differ")
    x = moveaxis(x, (a1, a2), (-2, -1))
    n, m = x.shape[-2:]
    batch = x.shape[:-2]
    length = builtins.max(0, builtins.min(n, m - offset) if offset >= 0 else builtins.min(n + offset, m))
    if length == 0:
        return sh.full(batch + (0,), 0, x.dtype)
    # the diagonal of a row-major matrix is a strided slice of its flattening
    flat = sh.reshape(x, batch + (n * m,))
    start = offset if offset >= 0 else -offset * m
    return _slice_along(flat, flat.ndim - 1, start, start + (length - 1) * (m + 1) + 1, m + 1)


def trace(x, /, offset=0, axis1=0, axis2=1, dtype=None):
    """The sum along the `offset` diagonal of the (axis1, axis2) planes.

    >>> import fn_dl.numpy as fnp
    >>> fnp.trace(fnp.arange(9).reshape(3, 3)).item()
    12
    """
    from fn_dl.numpy._reductions import sum as _sum
    return _sum(diagonal(x, offset=offset, axis1=axis1, axis2=axis2), axis=-1, dtype=dtype)


def diag(v, k=0):
    """The k-th diagonal of a matrix, or a square matrix with the vector v on its k-th diagonal.

    >>> import fn_dl.numpy as fnp
    >>> fnp.diag(fnp.asarray([1, 2]), 1).tolist()
    [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
    """
    from fn_dl.numpy._creation import eye
    from fn_dl.ops.elementwise import select_n
    v = asarray(v)
    if v.ndim == 2:
        return diagonal(v, offset=k)
    if v.ndim != 1:
        raise ValueError(f"diag: input must be 1-d or 2-d, got shape {v.shape}")
    n = v.shape[0] + builtins.abs(k)
    # out[i, i + k] = v[i]: v shifted by |k| along the axis it varies on (columns for k >= 0, rows below)
    padded = sh.pad(v, asarray(0, v.dtype), [(builtins.abs(k), 0, 0)]) if k else v
    mat = sh.broadcast_in_dim(padded, (n, n), (1,) if k >= 0 else (0,))
    return select_n(eye(n, n, k=k, dtype=dtypes.bool_), sh.full((n, n), 0, v.dtype), mat)


def diagflat(v, k=0):
    """A square matrix with the flattened v on its k-th diagonal.

    >>> import fn_dl.numpy as fnp
    >>> fnp.diagflat(fnp.asarray([[1, 2]])).tolist()
    [[1, 0], [0, 2]]
    """
    return diag(ravel(v), k)


def copy(x, /):
    """x as an Array (arrays are immutable, so an Array is returned as it is).

    >>> import fn_dl.numpy as fnp
    >>> fnp.copy(fnp.asarray([1, 2])).tolist()
    [1, 2]
    """
    return asarray(x)


def shape(x):
    """The shape of x, as a tuple.

    >>> import fn_dl.numpy as fnp
    >>> fnp.shape([[1, 2, 3]])
    (1, 3)
    """
    return asarray(x).shape


def ndim(x):
    """The number of dimensions of x.

    >>> import fn_dl.numpy as fnp
    >>> fnp.ndim(fnp.zeros((2, 3)))
    2
    """
    return asarray(x).ndim


def size(x, axis=None):
    """The number of elements of x (or its length along `axis`).

    >>> import fn_dl.numpy as fnp
    >>> fnp.size(fnp.zeros((2, 3))), fnp.size(fnp.zeros((2, 3)), 1)
    (6, 3)
    """
    x = asarray(x)
    return x.size if axis is None else x.shape[axis]


def rollaxis(x, axis, start=0):
    """NumPy's older moveaxis: `axis` moved to just before `start`.

    >>> import fn_dl.numpy as fnp
    >>> fnp.rollaxis(fnp.zeros((2, 3, 4)), 2).shape
    (4, 2, 3)
    """
    x = asarray(x)
    axis = normalize_axis('rollaxis', axis, x.ndim)
    if not -x.ndim <= start <= x.ndim:
        raise ValueError(f"rollaxis: start {start} is out of bounds for an array of rank {x.ndim}")
    start = start + x.ndim if start < 0 else start
    return moveaxis(x, axis, start - 1 if start > axis else start)


def rot90(m, k=1, axes=(0, 1)):
    """m rotated by 90 degrees k times, from the first of `axes` toward the second.

    >>> import fn_dl.numpy as fnp
    >>> fnp.rot90(fnp.asarray([[1, 2], [3, 4]])).tolist()
    [[2, 4], [1, 3]]
    """
    m = asarray(m)
    if len(axes) != 2:
        raise ValueError(f"rot90: axes must be two axes, got {axes}")
    a, b = normalize_axis('rot90', axes[0], m.ndim), normalize_axis('rot90', axes[1], m.ndim)
    if a == b:
        raise ValueError(f"rot90: the two axes must differ, got {axes}")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, a), b)
    return swapaxes(flip(m, b), a, b) if k == 1 else flip(swapaxes(m, a, b), b)


def append(arr, values, axis=None):
    """arr with `values` joined at the end (both flattened when axis is None).

    >>> import fn_dl.numpy as fnp
    >>> fnp.append(fnp.asarray([[1, 2]]), fnp.asarray([[3, 4]]), axis=0).tolist()
    [[1, 2], [3, 4]]
    """
    return concat([asarray(arr), asarray(values)], axis=axis)


def _split_along(name, axis):
    def split_fn(x, indices_or_sections):
        x = asarray(x)
        ax = 0 if name == 'hsplit' and x.ndim == 1 else axis
        if x.ndim <= ax:
            raise ValueError(f"{name}: needs an array of at least {ax + 1} dimensions, got shape {x.shape}")
        return split(x, indices_or_sections, ax)
    split_fn.__name__ = split_fn.__qualname__ = name
    split_fn.__doc__ = f"""`split` along axis {axis}{' (axis 0 for 1-d arrays)' if name == 'hsplit' else ''}.

    >>> import fn_dl.numpy as fnp
    >>> [p.shape for p in fnp.{name}(fnp.zeros((2, 4, 2)), 2)]
    {[(1, 4, 2)] * 2 if axis == 0 else [(2, 2, 2)] * 2 if axis == 1 else [(2, 4, 1)] * 2}
    """
    return split_fn


vsplit, hsplit, dsplit = _split_along('vsplit', 0), _split_along('hsplit', 1), _split_along('dsplit', 2)


def resize(a, new_shape):
    """An array of `new_shape` filled with a's elements in order, repeated as often as needed (NumPy's resize).

    >>> import fn_dl.numpy as fnp
    >>> fnp.resize(fnp.asarray([1, 2, 3]), (2, 4)).tolist()
    [[1, 2, 3, 1], [2, 3, 1, 2]]
    """
    a = ravel(a)
    new_shape = (new_shape,) if isinstance(new_shape, (int, np.integer)) else tuple(int(n) for n in new_shape)
    if builtins.any(n < 0 for n in new_shape):
        raise ValueError(f"resize: negative dimensions in {new_shape}")
    size = int(np.prod(new_shape, dtype=np.int64))
    if a.size == 0 or size == 0:
        return sh.full(new_shape, 0, a.dtype)
    reps = -(-size // a.size)
    return sh.reshape(_slice_along(tile(a, reps), 0, 0, size), new_shape)


def block(arrays):
    """An array assembled from nested lists of blocks: the innermost lists join along the last axis, the
    next ones along the axis before, and so on.

    >>> import fn_dl.numpy as fnp
    >>> a, b = fnp.ones((2, 2), dtype=fnp.int32), fnp.zeros((2, 1), dtype=fnp.int32)
    >>> fnp.block([[a, b], [fnp.zeros((1, 3), dtype=fnp.int32)]]).tolist()
    [[1, 1, 0], [1, 1, 0], [0, 0, 0]]
    """
    def depth(x):
        if isinstance(x, list):
            if not x:
                raise ValueError("block: lists of blocks must not be empty")
            ds = {depth(e) for e in x}
            if len(ds) != 1:
                raise ValueError("block: all the lists must be nested to the same depth")
            return ds.pop() + 1
        return 0

    list_depth = depth(arrays)
    leaves = []

    def collect(x):
        if isinstance(x, list):
            for e in x:
                collect(e)
        else:
            leaves.append(asarray(x))
    collect(arrays)
    ndim = builtins.max([list_depth] + [a.ndim for a in leaves])

    def assemble(x, level):
        if not isinstance(x, list):
            x = asarray(x)
            return sh.reshape(x, (1,) * (ndim - x.ndim) + x.shape)
        return concat([assemble(e, level + 1) for e in x], axis=level - list_depth)

    return assemble(arrays, 0)


__all__ = ['reshape', 'ravel', 'flatten', 'permute_dims', 'transpose', 'matrix_transpose', 'moveaxis', 'swapaxes',
           'expand_dims', 'squeeze', 'broadcast_to', 'broadcast_shapes', 'broadcast_arrays', 'concat', 'concatenate',
           'stack', 'vstack', 'hstack', 'dstack', 'column_stack', 'row_stack', 'atleast_1d', 'atleast_2d', 'atleast_3d',
           'split', 'array_split', 'unstack', 'flip', 'fliplr', 'flipud', 'roll', 'tile', 'repeat', 'pad', 'diagonal',
           'trace', 'diag', 'diagflat', 'copy', 'shape', 'ndim', 'size', 'rollaxis', 'rot90', 'append', 'vsplit',
           'hsplit', 'dsplit', 'resize', 'block']
