"""Reductions: sum, prod, max, min, mean, var, std, all, any, argmax, argmin, count_nonzero, logsumexp."""
from __future__ import annotations

import builtins

import numpy as np

from fn_dl.core import dtypes
from fn_dl.numpy._util import asarray, normalize_axes, normalize_axis, to_dtype
from fn_dl.ops import elementwise as ew
from fn_dl.ops import reduce as red
from fn_dl.ops.shape import broadcast_in_dim, expand_dims, full, reshape

_LOW = (dtypes.float16, dtypes.bfloat16)


def _keep(x, out, axes, keepdims):
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


def _accumulate(name, prim_fn, x, axis, dtype, keepdims, initial=None, where=None, identity=None):
    x = asarray(x)
    axes = normalize_axes(name, axis, x.ndim)
    out_dt = _sum_dtype(x.dtype) if dtype is None else dtypes.canonicalize(dtype)
    # float16/bfloat16 accumulate in float32, as XLA and JAX do, then round once
    comp_dt = dtypes.float32 if out_dt in _LOW else out_dt
    xc = to_dtype(name, x, comp_dt)
    if where is not None:
        xc = ew.select_n(broadcast_in_dim(to_dtype(name, asarray(where), dtypes.bool_), x.shape,
                                          tuple(range(x.ndim - np.ndim(where), x.ndim)))
                         if asarray(where).shape != x.shape else to_dtype(name, asarray(where), dtypes.bool_),
                         full(x.shape, identity, comp_dt), xc)
    out = prim_fn(xc, axes)
    if initial is not None:
        out = (ew.add if prim_fn is red.reduce_sum else ew.mul)(out, full(out.shape, initial, comp_dt))
    out = to_dtype(name, out, out_dt)
    return _keep(x, out, axes, keepdims)


def sum(x, /, *, axis=None, dtype=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """Sum over `axis` (all axes by default).

    >>> import fn_dl.numpy as fnp
    >>> fnp.sum(fnp.asarray([[1.0, 2.0], [3.0, 4.0]]), axis=0).tolist()
    [4.0, 6.0]
    """
    return _accumulate('sum', red.reduce_sum, x, axis, dtype, keepdims, initial, where, 0)


def prod(x, /, *, axis=None, dtype=None, keepdims=False, initial=None, where=None):
    return _accumulate('prod', red.reduce_prod, x, axis, dtype, keepdims, initial, where, 1)


def _extremum(name, prim_fn, fill, x, axis, keepdims, initial=None, where=None):
    x = asarray(x)
    axes = normalize_axes(name, axis, x.ndim)
    if where is not None:
        if initial is None:
            raise ValueError(f"{name}: `where` needs `initial` (the value for fully masked slices)")
        x = ew.select_n(to_dtype(name, asarray(where), dtypes.bool_), full(x.shape, initial, x.dtype), x)
    if builtins.any(x.shape[a] == 0 for a in axes) and initial is None:
        raise ValueError(f"{name}: zero-size reduction over axis {axis} of shape {x.shape} has no identity; "
                         f"pass initial=")
    out = prim_fn(x, axes)
    if initial is not None:
        out = (ew.max if name == 'max' else ew.min)(out, full(out.shape, initial, out.dtype))
    return _keep(x, out, axes, keepdims)


def max(x, /, *, axis=None, keepdims=False, initial=None, where=None):  # noqa: A001
    return _extremum('max', red.reduce_max, None, x, axis, keepdims, initial, where)


def min(x, /, *, axis=None, keepdims=False, initial=None, where=None):  # noqa: A001
    return _extremum('min', red.reduce_min, None, x, axis, keepdims, initial, where)


amax, amin = max, min


def mean(x, /, *, axis=None, dtype=None, keepdims=False, where=None):
    """Arithmetic mean (integers averaged in float32)."""
    x = asarray(x)
    dt = dtypes.to_inexact(x.dtype) if dtype is None else dtypes.canonicalize(dtype)
    axes = normalize_axes('mean', axis, x.ndim)
    if where is None:
        n = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
        s = sum(to_dtype('mean', x, dt), axis=axes, dtype=dt, keepdims=keepdims)
        return ew.div(s, full(s.shape, n, s.dtype))
    w = to_dtype('mean', asarray(where), dt)
    w = broadcast_in_dim(w, x.shape, tuple(range(x.ndim - w.ndim, x.ndim))) if w.shape != x.shape else w
    s = sum(ew.mul(to_dtype('mean', x, dt), w), axis=axes, keepdims=keepdims)
    return ew.div(s, sum(w, axis=axes, keepdims=keepdims))


def var(x, /, *, axis=None, correction=0.0, keepdims=False, ddof=None, dtype=None, where=None):
    """Variance with `correction` (ddof) subtracted from the count."""
    x = asarray(x)
    if ddof is not None:
        correction = ddof
    dt = dtypes.to_inexact(x.dtype) if dtype is None else dtypes.canonicalize(dtype)
    axes = normalize_axes('var', axis, x.ndim)
    xc = to_dtype('var', x, dt)
    mu = mean(xc, axis=axes, keepdims=True)
    d = ew.sub(xc, broadcast_in_dim(mu, x.shape, tuple(range(x.ndim))))
    sq = ew.real(ew.mul(d, ew.conj(d))) if dtypes.is_complex(dt) else ew.mul(d, d)
    n = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    s = sum(sq, axis=axes, keepdims=keepdims)
    denom = n - correction
    return ew.div(s, full(s.shape, denom if denom > 0 else np.nan, s.dtype)) if denom > 0 else \
        ew.mul(s, full(s.shape, np.nan, s.dtype))


def std(x, /, *, axis=None, correction=0.0, keepdims=False, ddof=None, dtype=None, where=None):
    return ew.sqrt_p.bind(var(x, axis=axis, correction=correction, keepdims=keepdims, ddof=ddof, dtype=dtype))


def all(x, /, *, axis=None, keepdims=False):  # noqa: A001
    x = asarray(x)
    axes = normalize_axes('all', axis, x.ndim)
    b = ew.ne(x, full(x.shape, 0, x.dtype)) if not dtypes.is_bool(x.dtype) else x
    return _keep(x, red.reduce_and(b, axes) if axes else b, axes, keepdims)


def any(x, /, *, axis=None, keepdims=False):  # noqa: A001
    x = asarray(x)
    axes = normalize_axes('any', axis, x.ndim)
    b = ew.ne(x, full(x.shape, 0, x.dtype)) if not dtypes.is_bool(x.dtype) else x
    return _keep(x, red.reduce_or(b, axes) if axes else b, axes, keepdims)


def _arg(name, prim_fn, x, axis, keepdims):
    x = asarray(x)
    if axis is None:
        out = prim_fn(reshape(x, (x.size,)), 0)
        return reshape(out, (1,) * x.ndim) if keepdims else out
    ax = normalize_axis(name, axis, x.ndim)
    out = prim_fn(x, ax) if x.ndim else full((), 0, dtypes.default_int)
    return expand_dims(out, (ax,)) if keepdims and x.ndim else out


def argmax(x, /, *, axis=None, keepdims=False):
    """Index of the largest value (the first one on ties; NaN counts as largest)."""
    return _arg('argmax', red.argmax, x, axis, keepdims)


def argmin(x, /, *, axis=None, keepdims=False):
    return _arg('argmin', red.argmin, x, axis, keepdims)


def count_nonzero(x, /, *, axis=None, keepdims=False):
    x = asarray(x)
    return sum(ew.ne(x, full(x.shape, 0, x.dtype)), axis=axis, keepdims=keepdims, dtype=dtypes.default_int)


def ptp(x, /, *, axis=None, keepdims=False):
    return ew.sub(max(x, axis=axis, keepdims=keepdims), min(x, axis=axis, keepdims=keepdims))


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    a = asarray(a)
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        w_sum = full(avg.shape, a.size // np.prod(avg.shape, dtype=np.int64) if avg.size else 0, avg.dtype)
    else:
        from fn_dl.numpy._elementwise import divide, multiply
        w = asarray(weights)
        if w.shape != a.shape:
            if axis is None or w.ndim != 1:
                raise ValueError(f"average: weights of shape {w.shape} do not fit an array of shape {a.shape}")
            ax = normalize_axis('average', axis, a.ndim)
            w = broadcast_in_dim(w, a.shape, (ax,))
        w_sum = sum(w, axis=axis, keepdims=keepdims)
        avg = divide(sum(multiply(a, w), axis=axis, keepdims=keepdims), w_sum)
    return (avg, w_sum) if returned else avg


def logsumexp(x, /, *, axis=None, keepdims=False, b=None):
    """log(sum(exp(x))) computed stably (the max is subtracted first)."""
    from fn_dl.numpy._elementwise import isfinite, log, where as _where
    x = asarray(x)
    if not dtypes.is_inexact(x.dtype):
        x = to_dtype('logsumexp', x, dtypes.default_float)
    axes = normalize_axes('logsumexp', axis, x.ndim)
    m = ew.stop_gradient_p.bind(red.reduce_max(x, axes) if axes else x)
    m = _where(isfinite(m), m, full(m.shape, 0, m.dtype))
    mb = broadcast_in_dim(m, x.shape, tuple(i for i in range(x.ndim) if i not in axes))
    e = ew.exp(ew.sub(x, mb))
    if b is not None:
        e = ew.mul(e, asarray(b, x.dtype) if asarray(b).shape == x.shape else
                   broadcast_in_dim(asarray(b, x.dtype), x.shape, tuple(range(x.ndim - asarray(b).ndim, x.ndim))))
    out = ew.add(log(red.reduce_sum(e, axes) if axes else e), m)
    return _keep(x, out, axes, keepdims)


__all__ = ['sum', 'prod', 'max', 'min', 'amax', 'amin', 'mean', 'var', 'std', 'all', 'any', 'argmax', 'argmin',
           'count_nonzero', 'ptp', 'average', 'logsumexp']
