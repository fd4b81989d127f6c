"""Shape manipulation: reshape, transpose, stack, concatenate, split, flip, roll, tile, repeat, ..."""
from __future__ import annotations

import builtins

import numpy as np

from fn_dl.core import dtypes
from fn_dl.numpy._util import asarray, broadcast_shapes, broadcast_to_shape, normalize_axis, normalize_axes, promote
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
    x = asarray(x)
    return sh.reshape(x, (x.size,))


flatten = ravel


def permute_dims(x, /, axes):
    x = asarray(x)
    axes = tuple(normalize_axis('permute_dims', a, x.ndim) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"permute_dims: {axes} is not a permutation of the {x.ndim} axes")
    return sh.transpose(x, axes)


def transpose(x, /, axes=None):
    """Reverse (or permute) the axes."""
    x = asarray(x)
    return sh.transpose(x, tuple(range(x.ndim))[::-1]) if axes is None else permute_dims(x, axes)


def _method_transpose(x, *axes):
    if not axes or axes == (None,):
        return transpose(x)
    return transpose(x, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes)


def matrix_transpose(x, /):
    x = asarray(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: needs at least 2 dimensions, got shape {x.shape}")
    return sh.transpose(x, tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2))


def moveaxis(x, source, destination, /):
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
    x = asarray(x)
    perm = list(range(x.ndim))
    a, b = normalize_axis('swapaxes', axis1, x.ndim), normalize_axis('swapaxes', axis2, x.ndim)
    perm[a], perm[b] = perm[b], perm[a]
    return sh.transpose(x, perm)


def expand_dims(x, /, axis=0):
    x = asarray(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    ndim = x.ndim + len(axes)
    axes = tuple(normalize_axis('expand_dims', a, ndim) for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"expand_dims: repeated axis in {axis}")
    return sh.expand_dims(x, axes)


def squeeze(x, /, axis=None):
    x = asarray(x)
    if axis is None:
        return sh.reshape(x, [s for s in x.shape if s != 1])
    return sh.squeeze(x, normalize_axes('squeeze', axis, x.ndim))


def broadcast_to(x, /, shape):
    x = asarray(x)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if broadcast_shapes('broadcast_to', x.shape, shape) != shape:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    return broadcast_to_shape(x, shape)


def broadcast_arrays(*arrays):
    arrays = [asarray(a) for a in arrays]
    shape = broadcast_shapes('broadcast_arrays', *[a.shape for a in arrays])
    return [broadcast_to_shape(a, shape) for a in arrays]


def concat(arrays, /, axis=0):
    """Join arrays along an existing axis (axis=None flattens them first)."""
    if not arrays:
        raise ValueError("concat: need at least one array")
    arrays = promote('concat', *arrays)
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    ax = normalize_axis('concat', axis, arrays[0].ndim)
    return sh.concatenate(arrays, ax)


def concatenate(arrays, axis=0, dtype=None):
    out = concat(arrays, axis=axis)
    return out if dtype is None else out.astype(dtype)


def stack(arrays, /, axis=0):
    """Join arrays along a new axis."""
    if not arrays:
        raise ValueError("stack: need at least one array")
    arrays = promote('stack', *arrays)
    if builtins.any(a.shape != arrays[0].shape for a in arrays):
        raise ValueError(f"stack: all arrays must have the same shape, got {[a.shape for a in arrays]}")
    ax = normalize_axis('stack', axis, arrays[0].ndim + 1)
    return sh.concatenate([sh.expand_dims(a, (ax,)) for a in arrays], ax)


def vstack(arrays):
    return concat([atleast_2d(a) for a in arrays], axis=0)


def hstack(arrays):
    arrays = [atleast_1d(a) for a in arrays]
    return concat(arrays, axis=0 if arrays[0].ndim == 1 else 1)


def dstack(arrays):
    return concat([atleast_3d(a) for a in arrays], axis=2)


def column_stack(arrays):
    arrays = [asarray(a) for a in arrays]
    return concat([a.reshape(-1, 1) if a.ndim < 2 else a for a in arrays], axis=1)


row_stack = vstack


def atleast_1d(*arys):
    out = [asarray(a) if asarray(a).ndim >= 1 else sh.reshape(asarray(a), (1,)) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    out = []
    for a in map(asarray, arys):
        out.append(a if a.ndim >= 2 else sh.reshape(a, (1,) * (2 - a.ndim) + a.shape))
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys):
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
    """Split into equal sections, or at the given indices."""
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
    x = asarray(x)
    if not isinstance(indices_or_sections, (int, np.integer)):
        return split(x, indices_or_sections, axis)
    n = x.shape[normalize_axis('array_split', axis, x.ndim)]
    k, extra = divmod(n, indices_or_sections)
    sizes = [k + 1] * extra + [k] * (indices_or_sections - extra)
    return split(x, list(np.cumsum(sizes)[:-1]), axis)


def unstack(x, /, *, axis=0):
    x = asarray(x)
    ax = normalize_axis('unstack', axis, x.ndim)
    return tuple(sh.squeeze(_slice_along(x, ax, i, i + 1), (ax,)) for i in range(x.shape[ax]))


def flip(x, /, axis=None):
    x = asarray(x)
    return sh.rev(x, normalize_axes('flip', axis, x.ndim))


def fliplr(x):
    return flip(x, axis=1)


def flipud(x):
    return flip(x, axis=0)


def roll(x, /, shift, axis=None):
    """Rotate elements along axes (flattened when axis is None)."""
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
    """Repeat each element `repeats` times (an int, or one count per element with static counts)."""
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
    """The diagonal of the (axis1, axis2) planes, as the last axis."""
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
    from fn_dl.numpy._reductions import sum as _sum
    return _sum(diagonal(x, offset=offset, axis1=axis1, axis2=axis2), axis=-1, dtype=dtype)


def diag(v, k=0):
    """The k-th diagonal of a matrix, or a matrix with v on its k-th diagonal."""
    from fn_dl.numpy._creation import eye
    from fn_dl.ops.elementwise import select_n
    v = asarray(v)
    if v.ndim == 2:
        return diagonal(v, offset=k)
    if v.ndim != 1:
        raise ValueError(f"diag: input must be 1-d or 2-d, got shape {v.shape}")
    n = v.shape[0] + builtins.abs(k)
    padded = sh.pad(v, asarray(0, v.dtype), [(builtins.max(-k, 0), builtins.max(k, 0), 0)]) if k else v
    mat = sh.broadcast_in_dim(padded, (n, n), (1,) if k >= 0 else (0,))
    return select_n(eye(n, n, k=k, dtype=dtypes.bool_), sh.full((n, n), 0, v.dtype), mat)


def diagflat(v, k=0):
    return diag(ravel(v), k)


def copy(x, /):
    return asarray(x)


def shape(x):
    return asarray(x).shape


def ndim(x):
    return asarray(x).ndim


def size(x, axis=None):
    x = asarray(x)
    return x.size if axis is None else x.shape[axis]


__all__ = ['reshape', 'ravel', 'flatten', 'permute_dims', 'transpose', 'matrix_transpose', 'moveaxis', 'swapaxes',
           'expand_dims', 'squeeze', 'broadcast_to', 'broadcast_arrays', 'concat', 'concatenate', 'stack', 'vstack',
           'hstack', 'dstack', 'column_stack', 'row_stack', 'atleast_1d', 'atleast_2d', 'atleast_3d', 'split',
           'array_split', 'unstack', 'flip', 'fliplr', 'flipud', 'roll', 'tile', 'repeat', 'pad', 'diagonal',
           'trace', 'diag', 'diagflat', 'copy', 'shape', 'ndim', 'size']
