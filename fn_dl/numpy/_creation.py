"""Array creation: zeros, ones, full, arange, linspace, eye, ... (float32 / int32 by default)."""
from __future__ import annotations

import math

import numpy as np

from fn_dl.core import dtypes
from fn_dl.core.array import Array
from fn_dl.numpy._util import asarray
from fn_dl.ops import elementwise as ew
from fn_dl.ops.shape import broadcast_in_dim, full as _full, iota


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimensions are not allowed: {shape}")
    return shape


def _dtype(dtype, default=dtypes.default_float):
    return default if dtype is None else dtypes.canonicalize(dtype)


def full(shape, fill_value, dtype=None, *, device=None):
    """An array of `shape` filled with `fill_value` (dtype inferred from it when not given).

    >>> import fn_dl.numpy as fnp
    >>> fnp.full((2,), 7).tolist()
    [7, 7]
    """
    shape = _shape(shape)
    if isinstance(fill_value, Array):
        v = fill_value if dtype is None else fill_value.astype(dtype)
        if v.ndim:
            raise ValueError(f"full: fill_value must be a scalar, got shape {v.shape}")
        return broadcast_in_dim(v, shape, ())
    if dtype is None:
        dtype = asarray(fill_value).dtype
    return _full(shape, fill_value, _dtype(dtype))


def zeros(shape, dtype=None, *, device=None):
    """Zeros of `shape` (float32 unless dtype is given).

    >>> import fn_dl.numpy as fnp
    >>> fnp.zeros((2, 3)).shape
    (2, 3)
    """
    return _full(_shape(shape), 0, _dtype(dtype))


def ones(shape, dtype=None, *, device=None):
    """Ones of `shape` (float32 unless dtype is given).

    >>> import fn_dl.numpy as fnp
    >>> fnp.ones(2, dtype=fnp.int8).tolist()
    [1, 1]
    """
    return _full(_shape(shape), 1, _dtype(dtype))


def empty(shape, dtype=None, *, device=None):
    """An array of `shape` (float32 unless dtype is given); its values are zeros, as arrays are immutable.

    >>> import fn_dl.numpy as fnp
    >>> fnp.empty((2, 0)).shape
    (2, 0)
    """
    return zeros(shape, dtype)


def _like_dtype(x, dtype):
    return asarray(x).dtype if dtype is None else dtypes.canonicalize(dtype)


def zeros_like(x, /, dtype=None, *, device=None):
    """Zeros of x's shape and dtype (or `dtype`).

    >>> import fn_dl.numpy as fnp
    >>> fnp.zeros_like(fnp.asarray([1, 2])).tolist()
    [0, 0]
    """
    return _full(asarray(x).shape, 0, _like_dtype(x, dtype))


def ones_like(x, /, dtype=None, *, device=None):
    """Ones of x's shape and dtype (or `dtype`).

    >>> import fn_dl.numpy as fnp
    >>> fnp.ones_like(fnp.asarray([1.5]), dtype=fnp.int32).tolist()
    [1]
    """
    return _full(asarray(x).shape, 1, _like_dtype(x, dtype))


def empty_like(x, /, dtype=None, *, device=None):
    """An array of x's shape and dtype (or `dtype`); zeros, as arrays are immutable.

    >>> import fn_dl.numpy as fnp
    >>> fnp.empty_like(fnp.zeros((2, 3))).shape
    (2, 3)
    """
    return zeros_like(x, dtype=dtype)


def full_like(x, /, fill_value, dtype=None, *, device=None):
    """`fill_value` in x's shape and dtype (or `dtype`).

    >>> import fn_dl.numpy as fnp
    >>> fnp.full_like(fnp.asarray([1, 2]), 2.7).tolist()
    [2, 2]
    """
    return full(asarray(x).shape, fill_value, _like_dtype(x, dtype))


def arange(start, /, stop=None, step=1, dtype=None, *, device=None):
    """Evenly spaced values in [start, stop): int32 for integer arguments, else float32.

    >>> import fn_dl.numpy as fnp
    >>> fnp.arange(4).tolist()
    [0, 1, 2, 3]
    """
    if stop is None:
        start, stop = 0, start
    start, stop, step = (v.item() if isinstance(v, Array) else v for v in (start, stop, step))
    if step == 0:
        raise ValueError("arange: step must not be zero")
    is_int = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
    dt = _dtype(dtype, dtypes.default_int if is_int else dtypes.default_float)
    n = max(0, math.ceil((stop - start) / step))
    # start + i * step, in int64 for integers and float64 for floats: exact, and correctly rounded at the end
    ct = dtypes.int64 if is_int else dtypes.complex128 if dtypes.is_complex(dt) else dtypes.float64
    idx = ew.convert_element_type(iota(dtypes.int64 if is_int else dtypes.float64, (n,)), ct)
    out = ew.add(ew.mul(idx, _full((n,), step, ct)), _full((n,), start, ct))
    return ew.convert_element_type(out, dt)


def linspace(start, stop, /, num=50, endpoint=True, *, dtype=None, device=None, axis=0):
    """`num` evenly spaced values from start to stop (inclusive unless endpoint=False).

    start and stop may be arrays: the samples then run along a new axis `axis`. The dtype defaults to
    float32 (complex64 for complex endpoints, float64 for float64 arrays); integer dtypes round toward
    -inf, as NumPy 2 does.

    >>> import fn_dl.numpy as fnp
    >>> fnp.linspace(0, 1, 5).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> fnp.linspace(fnp.asarray([0.0, 10.0]), 1.0, 3).tolist()
    [[0.0, 10.0], [0.5, 5.5], [1.0, 1.0]]
    """
    from fn_dl.numpy._manipulation import moveaxis
    from fn_dl.numpy._util import broadcast_shapes, broadcast_to_shape, to_dtype, typed
    num = int(num)
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}")
    start, stop = (asarray(v) if isinstance(v, (list, tuple)) else v for v in (start, stop))
    dt = dtypes.to_inexact(dtypes.result_type(typed(start, 'linspace'), typed(stop, 'linspace'))[0]) if dtype is None \
        else dtypes.canonicalize(dtype)
    # integer results are computed in float64, so large endpoints survive
    ct = dt if dtypes.is_inexact(dt) else dtypes.float64
    start, stop = to_dtype('linspace', start, ct), to_dtype('linspace', stop, ct)
    shape = broadcast_shapes('linspace', start.shape, stop.shape)
    start, stop = broadcast_to_shape(start, shape), broadcast_to_shape(stop, shape)
    out_shape = (num,) + shape
    lead = tuple(range(1, len(out_shape)))
    div = num - 1 if endpoint else num
    out = broadcast_in_dim(start, out_shape, lead)
    if div > 0:
        step = ew.div(ew.sub(stop, start), _full(shape, div, ct))
        idx = ew.convert_element_type(iota(dtypes.to_real(ct), out_shape, 0), ct)
        out = ew.add(out, ew.mul(idx, broadcast_in_dim(step, out_shape, lead)))
        if endpoint:  # the last sample is exactly stop
            from fn_dl.ops.shape import concatenate, slice as _slice
            body = _slice(out, (0,) * len(out_shape), (num - 1,) + shape)
            out = concatenate([body, broadcast_in_dim(stop, (1,) + shape, lead)], 0)
    if dtypes.is_integer(dt):
        out = ew.floor_p.bind(out)
    out = ew.convert_element_type(out, dt)
    return moveaxis(out, 0, axis) if shape else out


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None):
    """base ** linspace(start, stop, num): samples evenly spaced on a log scale.

    >>> import fn_dl.numpy as fnp
    >>> fnp.logspace(0, 3, 4).tolist()
    [1.0, 10.0, 100.0, 1000.0]
    """
    from fn_dl.numpy._elementwise import power
    out = power(base, linspace(start, stop, num, endpoint=endpoint))  # float32, or float64 for float64 endpoints
    return out if dtype is None else out.astype(dtype)


def geomspace(start, stop, num=50, endpoint=True, dtype=None):
    """`num` samples from scalars start to stop, evenly spaced on a log scale (a geometric progression);
    start and stop must be nonzero and of one sign.

    >>> import fn_dl.numpy as fnp
    >>> fnp.geomspace(1, 1000, 4).tolist()
    [1.0, 10.0, 100.0, 1000.0]
    >>> fnp.geomspace(-1, -16, 5).tolist()
    [-1.0, -2.0, -4.0, -8.0, -16.0]
    """
    from fn_dl.numpy._elementwise import log10, sign
    from fn_dl.numpy._util import to_dtype, typed
    start, stop = (asarray(v) if isinstance(v, (list, tuple)) else v for v in (start, stop))
    dt = dtypes.to_inexact(dtypes.result_type(typed(start, 'geomspace'), typed(stop, 'geomspace'))[0]) \
        if dtype is None else dtypes.canonicalize(dtype)
    # in double precision (the powers amplify rounding), then rounded once, as NumPy
    ct = dtypes.complex128 if dtypes.is_complex(dt) else dtypes.float64
    start, stop = to_dtype('geomspace', start, ct), to_dtype('geomspace', stop, ct)
    # a geometric progression is 10 ** (an arithmetic one) with the endpoints' common sign
    powers = logspace(log10(ew.abs_p.bind(start)), log10(ew.abs_p.bind(stop)), num, endpoint=endpoint, dtype=ct)
    out = ew.mul(broadcast_in_dim(sign(start), powers.shape, ()), powers)
    if num:  # the endpoints exactly, as NumPy
        from fn_dl.ops.shape import concatenate, slice as _slice
        last = num - 1 if endpoint else num
        parts = [broadcast_in_dim(start, (1,), ()), _slice(out, (1,), (max(last, 1),))]
        if endpoint and num > 1:
            parts.append(broadcast_in_dim(stop, (1,), ()))
        out = concatenate(parts, 0)
    return ew.convert_element_type(out, dt)


def eye(n_rows, n_cols=None, /, k=0, dtype=None, *, device=None):
    """An (n_rows, n_cols) matrix with ones on diagonal k (float32 unless dtype is given).

    >>> import fn_dl.numpy as fnp
    >>> fnp.eye(2, 3, k=1).tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    n_cols = n_rows if n_cols is None else n_cols
    return ew.convert_element_type(ew.eq(_diagonal_offset((n_rows, n_cols), k), _cols((n_rows, n_cols))), _dtype(dtype))


def _cols(shape):
    return iota(dtypes.int32, shape, 1)


def _diagonal_offset(shape, k):
    """row + k over a (rows, cols) grid; k is clipped to the grid, where every offset beyond gives the same
    masks, so it fits int32."""
    k = max(-shape[0], min(int(k), shape[1]))
    return ew.add(iota(dtypes.int32, shape, 0), _full(shape, k, dtypes.int32))


def identity(n, dtype=None):
    """The n x n identity matrix.

    >>> import fn_dl.numpy as fnp
    >>> fnp.identity(2, dtype=fnp.int32).tolist()
    [[1, 0], [0, 1]]
    """
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):  # noqa: N803
    """An (N, M) matrix with ones at and below diagonal k.

    >>> import fn_dl.numpy as fnp
    >>> fnp.tri(2, 3, dtype=fnp.int32).tolist()
    [[1, 0, 0], [1, 1, 0]]
    """
    M = N if M is None else M  # noqa: N806
    return ew.convert_element_type(ew.le(_cols((N, M)), _diagonal_offset((N, M), k)), _dtype(dtype))


def _tri_mask(name, x, k, lower):
    if x.ndim < 2:
        raise ValueError(f"{name}: needs an array of at least 2 dimensions, got shape {x.shape}")
    grid = x.shape[-2:]
    mask = (ew.le if lower else ew.ge)(_cols(grid), _diagonal_offset(grid, k))
    return broadcast_in_dim(mask, x.shape, (x.ndim - 2, x.ndim - 1))


def tril(x, /, k=0):
    """The lower triangle of the last two axes: elements above diagonal k are zeroed.

    >>> import fn_dl.numpy as fnp
    >>> fnp.tril(fnp.ones((2, 2), dtype=fnp.int32)).tolist()
    [[1, 0], [1, 1]]
    """
    x = asarray(x)
    return ew.select_n(_tri_mask('tril', x, k, True), _full(x.shape, 0, x.dtype), x)


def triu(x, /, k=0):
    """The upper triangle of the last two axes: elements below diagonal k are zeroed.

    >>> import fn_dl.numpy as fnp
    >>> fnp.triu(fnp.ones((2, 2), dtype=fnp.int32)).tolist()
    [[1, 1], [0, 1]]
    """
    x = asarray(x)
    return ew.select_n(_tri_mask('triu', x, k, False), _full(x.shape, 0, x.dtype), x)


def meshgrid(*arrays, indexing='xy'):
    """Coordinate grids from 1-d arrays ('xy': Cartesian, 'ij': matrix indexing).

    >>> import fn_dl.numpy as fnp
    >>> [g.tolist() for g in fnp.meshgrid(fnp.asarray([1, 2]), fnp.asarray([5, 6, 7]))]
    [[[1, 2], [1, 2], [1, 2]], [[5, 5], [6, 6], [7, 7]]]
    """
    if indexing not in ('xy', 'ij'):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    arrays = [asarray(a) for a in arrays]
    if any(a.ndim != 1 for a in arrays):
        raise ValueError("meshgrid: inputs must be 1-d")
    shape = [a.shape[0] for a in arrays]
    if indexing == 'xy' and len(arrays) >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    outs = []
    for i, a in enumerate(arrays):
        d = i
        if indexing == 'xy' and len(arrays) >= 2 and i < 2:
            d = 1 - i
        outs.append(broadcast_in_dim(a, tuple(shape), (d,)))
    return outs


def from_dlpack(x, /, *, device=None, copy=None):
    """An Array from any object with __dlpack__ (a NumPy array, a PyTorch tensor, ...).

    >>> import fn_dl.numpy as fnp
    >>> import numpy as np
    >>> fnp.from_dlpack(np.arange(3)).tolist()
    [0, 1, 2]
    """
    return asarray(np.from_dlpack(x))


def frombuffer(buffer, dtype=float, count=-1, offset=0):
    """A 1-d Array read from a bytes-like object, as NumPy reads it.

    >>> import fn_dl.numpy as fnp
    >>> fnp.frombuffer(b'\\x01\\x02', dtype='uint8').tolist()
    [1, 2]
    """
    return asarray(np.frombuffer(buffer, dtype=dtype, count=count, offset=offset))


__all__ = ['full', 'zeros', 'ones', 'empty', 'zeros_like', 'ones_like', 'empty_like', 'full_like', 'arange',
           'linspace', 'logspace', 'geomspace', 'eye', 'identity', 'tri', 'tril', 'triu', 'meshgrid', 'from_dlpack',
           'frombuffer']
