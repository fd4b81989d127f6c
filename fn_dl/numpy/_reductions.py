"""Reductions: sum, prod, max, min, mean, var, std, all, any, argmax, argmin, count_nonzero, ptp, average,
logsumexp; with the Array API's accumulation dtypes and NumPy's axis, keepdims, initial and where."""
from __future__ import annotations

import builtins

import numpy as np

from fn_dl.core import dtypes
from fn_dl.numpy._util import asarray, broadcast_shapes, broadcast_to_shape, normalize_axes, normalize_axis, to_dtype
from fn_dl.ops import elementwise as ew
from fn_dl.ops import reduce as red
from fn_dl.ops.shape import broadcast_in_dim, expand_dims, full, reshape

_LOW = (dtypes.float16, dtypes.bfloat16)


def _keep(out, axes, keepdims):
    return expand_dims(out, axes) if keepdims and axes else out


def _sum_dtype(dt):
    """Array API: integer sums accumulate in the default integer of their signedness."""
    if dtypes.is_bool(dt):
        return dtypes.default_int
    if dtypes.is_unsigned(dt):
        return dt if dt.itemsize >= 4 else dtypes.uint32
    if dtypes.is_integer(dt):
        return dt if dt.itemsize >= 4 else dtypes.default_int
    return dt


def _mask(name, where, shape):
    """`where` as a boolean array broadcast to the reduced array's shape."""
    w = to_dtype(name, asarray(where), dtypes.bool_)
    if broadcast_shapes(name, w.shape, shape) != shape:
        raise ValueError(f"{name}: where of shape {w.shape} does not broadcast to the array's shape {shape}")
    return broadcast_to_shape(w, shape)


def _accumulate(name, prim_fn, combine, identity, x, axis, dtype, keepdims, initial, where):
    """sum or prod: reduce with prim_fn, fold `initial` in with `combine`; masked elements are the identity."""
    x = asarray(x)
    axes = normalize_axes(name, axis, x.ndim)
    out_dt = _sum_dtype(x.dtype) if dtype is None else dtypes.canonicalize(dtype)
    # float16/bfloat16 accumulate in float32, as XLA and JAX do, then round once
    comp_dt = dtypes.float32 if out_dt in _LOW else out_dt
    xc = to_dtype(name, x, comp_dt)
    if where is not None:
        xc = ew.select_n(_mask(name, where, x.shape), full(x.shape, identity, comp_dt), xc)
    out = prim_fn(xc, axes)
    if initial is not None:
        out = combine(out, full(out.shape, initial, comp_dt))
    out = to_dtype(name, out, out_dt)
    return _keep(out, axes, keepdims)


def sum(x, /, axis=None, dtype=None, *, keepdims=False, initial=None, where=None):  # noqa: A001
    """Sum over `axis` (all axes by default).

    >>> import fn_dl.numpy as fnp
    >>> fnp.sum(fnp.asarray([[1.0, 2.0], [3.0, 4.0]]), axis=0).tolist()
    [4.0, 6.0]
    """
    return _accumulate('sum', red.reduce_sum, ew.add, 0, x, axis, dtype, keepdims, initial, where)


def prod(x, /, axis=None, dtype=None, *, keepdims=False, initial=None, where=None):
    """Product over `axis` (all axes by default); small integers multiply in int32/uint32, as `sum`.

    >>> import fn_dl.numpy as fnp
    >>> fnp.prod(fnp.asarray([[1, 2], [3, 4]]), axis=1).tolist()
    [2, 12]
    """
    return _accumulate('prod', red.reduce_prod, ew.mul, 1, x, axis, dtype, keepdims, initial, where)


def _extremum(name, prim_fn, pairwise, x, axis, keepdims, initial=None, where=None):
    x = asarray(x)
    axes = normalize_axes(name, axis, x.ndim)
    if where is not None:
        if initial is None:
            raise ValueError(f"{name}: `where` needs `initial` (the value for fully masked slices)")
        x = ew.select_n(_mask(name, where, x.shape), full(x.shape, initial, x.dtype), x)
    if builtins.any(x.shape[a] == 0 for a in axes):
        if initial is None:
            raise ValueError(f"{name}: zero-size reduction over axis {axis} of shape {x.shape} has no identity; "
                             f"pass initial=")
        out = full(tuple(n for i, n in enumerate(x.shape) if i not in axes), initial, x.dtype)
    else:
        out = prim_fn(x, axes)
        if initial is not None:
            out = pairwise(out, full(out.shape, initial, out.dtype))
    return _keep(out, axes, keepdims)


def max(x, /, axis=None, *, keepdims=False, initial=None, where=None):  # noqa: A001
    """The largest element over `axis` (NaN if any is NaN); `initial` also bounds it from below.

    >>> import fn_dl.numpy as fnp
    >>> fnp.max(fnp.asarray([[1, 5], [3, 2]]), axis=1).tolist()
    [5, 3]
    """
    return _extremum('max', red.reduce_max, ew.max, x, axis, keepdims, initial, where)


def min(x, /, axis=None, *, keepdims=False, initial=None, where=None):  # noqa: A001
    """The smallest element over `axis` (NaN if any is NaN); `initial` also bounds it from above.

    >>> import fn_dl.numpy as fnp
    >>> fnp.min(fnp.asarray([[1, 5], [3, 2]]), axis=0).tolist()
    [1, 2]
    """
    return _extremum('min', red.reduce_min, ew.min, x, axis, keepdims, initial, where)


amax, amin = max, min


def _count(name, x, axes, keepdims, where, dt):
    """The number of elements each reduction over `axes` sees: a Python int, or an array with `where`."""
    if where is None:
        return int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    return sum(_mask(name, where, x.shape), axis=axes, dtype=dt, keepdims=keepdims)


def _divide_by_count(s, n, correction=0):
    if isinstance(n, int):
        denom = n - correction
        # NumPy's empty-slice and ddof >= n answers: NaN (it also warns)
        return ew.div(s, full(s.shape, denom, s.dtype)) if denom > 0 else ew.mul(s, full(s.shape, np.nan, s.dtype))
    if correction:
        n = ew.max(ew.sub(n, full(n.shape, correction, n.dtype)), full(n.shape, 0, n.dtype))
    return ew.div(s, n)


def _mean_dtypes(x, dtype):
    """(result dtype, computation dtype): integers average in the default float; float16 and bfloat16 in float32."""
    dt = dtypes.to_inexact(x.dtype) if dtype is None else dtypes.canonicalize(dtype)
    return dt, (dtypes.float32 if dt in _LOW else dt)


def mean(x, /, axis=None, dtype=None, *, keepdims=False, where=None):
    """Arithmetic mean over `axis` (integers are averaged in float32); `where` masks elements out.

    >>> import fn_dl.numpy as fnp
    >>> fnp.mean(fnp.asarray([[1, 2], [3, 5]]), axis=0).tolist()
    [2.0, 3.5]
    """
    x = asarray(x)
    dt, ct = _mean_dtypes(x, dtype)
    axes = normalize_axes('mean', axis, x.ndim)
    s = sum(x, axis=axes, dtype=ct, keepdims=keepdims, where=where)
    out = _divide_by_count(s, _count('mean', x, axes, keepdims, where, dtypes.to_real(ct)))
    return to_dtype('mean', out, dt)


def var(x, /, axis=None, dtype=None, *, correction=0.0, keepdims=False, ddof=None, where=None):
    """Variance with `correction` (NumPy's ddof) subtracted from the count; complex input gives a real variance.

    >>> import fn_dl.numpy as fnp
    >>> fnp.var(fnp.asarray([1.0, 2.0, 3.0, 4.0]), correction=1).item()
    1.6666666...
    """
    x = asarray(x)
    if ddof is not None:
        correction = ddof
    dt, ct = _mean_dtypes(x, dtype)
    axes = normalize_axes('var', axis, x.ndim)
    xc = to_dtype('var', x, ct)
    mu = mean(xc, axis=axes, keepdims=True, where=where)
    d = ew.sub(xc, broadcast_in_dim(mu, x.shape, tuple(range(x.ndim))))
    sq = ew.real(ew.mul(d, ew.conj(d))) if dtypes.is_complex(ct) else ew.mul(d, d)
    s = sum(sq, axis=axes, keepdims=keepdims, where=where)
    out = _divide_by_count(s, _count('var', x, axes, keepdims, where, s.dtype), correction)
    return to_dtype('var', out, dtypes.to_real(dt))


def std(x, /, axis=None, dtype=None, *, correction=0.0, keepdims=False, ddof=None, where=None):
    """Standard deviation: the square root of `var` (same arguments).

    >>> import fn_dl.numpy as fnp
    >>> fnp.std(fnp.asarray([1.0, 3.0])).item()
    1.0
    """
    return ew.sqrt_p.bind(var(x, axis=axis, correction=correction, keepdims=keepdims, ddof=ddof, dtype=dtype,
                              where=where))


def all(x, /, axis=None, *, keepdims=False):  # noqa: A001
    """True where every element over `axis` is nonzero (True for an empty reduction).

    >>> import fn_dl.numpy as fnp
    >>> fnp.all(fnp.asarray([[1, 0], [2, 3]]), axis=1).tolist()
    [False, True]
    """
    x = asarray(x)
    axes = normalize_axes('all', axis, x.ndim)
    b = ew.ne(x, full(x.shape, 0, x.dtype)) if not dtypes.is_bool(x.dtype) else x
    return _keep(red.reduce_and(b, axes) if axes else b, axes, keepdims)


def any(x, /, axis=None, *, keepdims=False):  # noqa: A001
    """True where some element over `axis` is nonzero (False for an empty reduction).

    >>> import fn_dl.numpy as fnp
    >>> fnp.any(fnp.asarray([[0, 0], [0, 3]]), axis=1).tolist()
    [False, True]
    """
    x = asarray(x)
    axes = normalize_axes('any', axis, x.ndim)
    b = ew.ne(x, full(x.shape, 0, x.dtype)) if not dtypes.is_bool(x.dtype) else x
    return _keep(red.reduce_or(b, axes) if axes else b, axes, keepdims)


def _arg(name, prim_fn, x, axis, keepdims):
    x = asarray(x)
    if axis is None:
        out = prim_fn(reshape(x, (x.size,)), 0)
        return reshape(out, (1,) * x.ndim) if keepdims else out
    ax = normalize_axis(name, axis, x.ndim)
    out = prim_fn(x, ax) if x.ndim else full((), 0, dtypes.default_int)
    return expand_dims(out, (ax,)) if keepdims and x.ndim else out


def argmax(x, /, axis=None, *, keepdims=False):
    """Index (int32) of the largest value over `axis`, of the flattened array by default; the first on ties,
    and NaN counts as the largest.

    >>> import fn_dl.numpy as fnp
    >>> fnp.argmax(fnp.asarray([[1, 5, 5], [7, 0, 2]]), axis=1).tolist()
    [1, 0]
    """
    return _arg('argmax', red.argmax, x, axis, keepdims)


def argmin(x, /, axis=None, *, keepdims=False):
    """Index (int32) of the smallest value over `axis`, of the flattened array by default; the first on ties,
    and NaN counts as the smallest.

    >>> import fn_dl.numpy as fnp
    >>> fnp.argmin(fnp.asarray([[1, 5, 1], [7, 0, 2]]), axis=1).tolist()
    [0, 1]
    """
    return _arg('argmin', red.argmin, x, axis, keepdims)


def count_nonzero(x, /, axis=None, *, keepdims=False):
    """The number (int32) of nonzero elements over `axis`.

    >>> import fn_dl.numpy as fnp
    >>> fnp.count_nonzero(fnp.asarray([[1, 0], [2, 3]]), axis=0).tolist()
    [2, 1]
    """
    x = asarray(x)
    return sum(ew.ne(x, full(x.shape, 0, x.dtype)), axis=axis, keepdims=keepdims, dtype=dtypes.default_int)


def ptp(x, /, axis=None, *, keepdims=False):
    """Peak to peak: max - min over `axis`.

    >>> import fn_dl.numpy as fnp
    >>> fnp.ptp(fnp.asarray([[1, 5], [3, 2]]), axis=1).tolist()
    [4, 1]
    """
    return ew.sub(max(x, axis=axis, keepdims=keepdims), min(x, axis=axis, keepdims=keepdims))


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    """The mean weighted by `weights` (1-d weights run along `axis`); `returned` adds the sum of the weights.

    >>> import fn_dl.numpy as fnp
    >>> fnp.average(fnp.asarray([1.0, 2.0, 4.0]), weights=fnp.asarray([2.0, 1.0, 1.0])).item()
    2.0
    """
    a = asarray(a)
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        n = a.size // builtins.max(avg.size, 1)
        return (avg, full(avg.shape, n, avg.dtype)) if returned else avg
    from fn_dl.numpy._elementwise import multiply
    w = asarray(weights)
    dt = dtypes.to_inexact(dtypes.result_type((a.dtype, False), (w.dtype, False))[0])
    a, w = to_dtype('average', a, dt), to_dtype('average', w, dt)
    if w.shape != a.shape:
        if axis is None or w.ndim != 1 or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"average: weights of shape {w.shape} differ from the array's shape {a.shape}; "
                             f"1-d weights need an int axis")
        ax = normalize_axis('average', axis, a.ndim)
        if w.shape[0] != a.shape[ax]:
            raise ValueError(f"average: {w.shape[0]} weights for axis {axis} of length {a.shape[ax]}")
        w = broadcast_in_dim(w, a.shape, (ax,))
    w_sum = sum(w, axis=axis, keepdims=keepdims)
    avg = ew.div(sum(multiply(a, w), axis=axis, keepdims=keepdims), w_sum)
    return (avg, w_sum) if returned else avg


def logsumexp(x, /, axis=None, *, keepdims=False, b=None):
    """log(sum(b * exp(x))) over `axis`, computed stably (the largest term is factored out first).

    >>> import fn_dl.numpy as fnp
    >>> fnp.logsumexp(fnp.asarray([1000.0, 1000.0], dtype=fnp.float64)).item()
    1000.6931471805599
    """
    from fn_dl.numpy._elementwise import isfinite, log
    x = asarray(x)
    if not dtypes.is_inexact(x.dtype):
        x = to_dtype('logsumexp', x, dtypes.default_float)
    axes = normalize_axes('logsumexp', axis, x.ndim)
    # shift by the largest real part: a real shift keeps a complex log on its principal branch
    re = ew.real(x) if dtypes.is_complex(x.dtype) else x
    m = ew.stop_gradient_p.bind(red.reduce_max(re, axes))
    m = ew.select_n(isfinite(m), full(m.shape, 0, m.dtype), m)  # all -inf (or inf, nan): nothing to factor out
    if dtypes.is_complex(x.dtype):
        m = ew.complex(m, full(m.shape, 0, m.dtype))
    e = ew.exp(ew.sub(x, broadcast_in_dim(m, x.shape, tuple(i for i in range(x.ndim) if i not in axes))))
    if b is not None:
        b = to_dtype('logsumexp', asarray(b), x.dtype)
        if broadcast_shapes('logsumexp', b.shape, x.shape) != x.shape:
            raise ValueError(f"logsumexp: b of shape {b.shape} does not broadcast to x's shape {x.shape}")
        e = ew.mul(e, broadcast_to_shape(b, x.shape))
    out = ew.add(log(red.reduce_sum(e, axes)), m)
    return _keep(out, axes, keepdims)


__all__ = ['sum', 'prod', 'max', 'min', 'amax', 'amin', 'mean', 'var', 'std', 'all', 'any', 'argmax', 'argmin',
           'count_nonzero', 'ptp', 'average', 'logsumexp']
